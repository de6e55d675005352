"""Run the README's two Python examples, as written, on small generated data.

The README's examples use ``wav_paths``, ``jpeg_paths`` and ``labels`` without
saying where they come from; this script writes 10 WAV clips (two pitches) and
10 JPEG images (two patterns) to a temporary folder, defines those names, and
executes the README's ``python`` code blocks in order in one namespace. Used by
``scripts/check_wheel.sh`` to check an installed wheel; prints each example's
cross-validation scores and which sktransfer it ran.
"""

import re
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from PIL import Image

README = Path(__file__).resolve().parents[1] / "README.md"
SR = 22050


def python_blocks(readme):
    """The ``python`` code blocks of the README, in order."""
    return re.findall(r"^```python\n(.*?)^```", readme.read_text(), flags=re.S | re.M)


def write_data(folder):
    """10 WAV clips and 10 JPEG images, 5 of each class; returns wav paths, jpeg paths, labels."""
    rng = np.random.default_rng(0)
    labels = [0, 1] * 5
    wav_paths, jpeg_paths = [], []
    t = np.arange(SR // 2) / SR
    for i, label in enumerate(labels):
        freq = (220.0, 880.0)[label] * (1 + 0.02 * i)
        clip = 0.4 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(t.size)
        wav_paths.append(str(folder / f"clip{i}.wav"))
        sf.write(wav_paths[-1], clip.astype(np.float32), SR)
        stripes = np.zeros((64, 64), dtype=np.float32)
        if label:
            stripes[:, ::8] = 1.0  # vertical stripes
        else:
            stripes[::8, :] = 1.0  # horizontal stripes
        pixels = 255 * np.clip(stripes + 0.2 * rng.random((64, 64)), 0, 1)
        jpeg_paths.append(str(folder / f"image{i}.jpg"))
        Image.fromarray(pixels.astype(np.uint8)).convert("RGB").save(jpeg_paths[-1])
    return wav_paths, jpeg_paths, labels


def main():
    blocks = python_blocks(README)
    if len(blocks) != 2:
        sys.exit(f"expected the README's 2 python examples, found {len(blocks)}")
    with tempfile.TemporaryDirectory() as folder:
        wav_paths, jpeg_paths, labels = write_data(Path(folder))
        namespace = {"wav_paths": wav_paths, "jpeg_paths": jpeg_paths, "labels": labels}
        for number, block in enumerate(blocks, 1):
            *setup, last = block.strip().splitlines()
            exec("\n".join(setup), namespace)  # the example up to its last line
            scores = eval(last, namespace)  # its last line: cross_val_score(...)
            print(f"README example {number}: cross-validation accuracy {np.round(scores, 3)}")
    import sktransfer

    print(f"sktransfer {sktransfer.__version__} from {Path(sktransfer.__file__).parent}")


if __name__ == "__main__":
    main()
