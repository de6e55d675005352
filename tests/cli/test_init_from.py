"""``sktransfer fit TARGET --init-from SOURCE_MODEL`` end to end on real image files."""

import numpy as np
import pytest
from PIL import Image
from sklearn.dummy import DummyClassifier

from sktransfer._model_file import load_model, save_model
from sktransfer.cli import main
from sktransfer.datasets import FASHION_MNIST_CLASSES, load_fashion_mnist


def image_folder(root, classes, per_class=8):
    """Real Fashion-MNIST test images of ``classes``, as 32x32 PNG files, one folder per class."""
    images, labels = load_fashion_mnist("test")
    for index in classes:
        folder = root / FASHION_MNIST_CLASSES[index]
        folder.mkdir(parents=True)
        for k, i in enumerate(np.flatnonzero(labels == index)[:per_class]):
            Image.fromarray(images[i]).resize((32, 32)).save(folder / f"{k:02d}.png")
    return root


def fit(capsys, *argv):
    status = main(["fit", *map(str, argv), "--epochs", "2", "--random-state", "0", "--quiet"])
    return status, capsys.readouterr()


@pytest.fixture(scope="module")
def source_model(tmp_path_factory):
    """A model file of a FineTuneImageClassifier fitted on 3 source classes at 32x32."""
    root = tmp_path_factory.mktemp("source")
    out = root / "source.joblib"
    argv = ["fit", image_folder(root / "data", (0, 1, 2)), "--out", out, "--input-size", "32"]
    argv += ["--trainable-layers", "1", "--epochs", "2", "--random-state", "0", "--quiet"]
    assert main([str(a) for a in argv]) == 0
    return out


def test_target_features_come_from_the_source_model_file(source_model, tmp_path, capsys):
    target = image_folder(tmp_path / "target", (7, 8, 9))
    out = tmp_path / "target.joblib"
    status, captured = fit(capsys, target, "--out", out, "--init-from", source_model)
    assert status == 0, captured.err
    pipeline = load_model(out).pipeline
    features = pipeline.named_steps["features"]
    assert features.weights == str(source_model) and features.input_size == 32
    # The backbone by reference: the file holds the dense head, not the 13 MB of weights.
    assert out.stat().st_size < source_model.stat().st_size / 3
    assert main(["predict", str(out), str(target), "--out", str(tmp_path / "p.csv")]) == 0
    rows = (tmp_path / "p.csv").read_text().splitlines()
    assert len(rows) == 1 + 24 and rows[0] == "input,prediction"


def test_a_source_of_another_modality_or_kind_is_refused(source_model, tmp_path, capsys):
    (tmp_path / "t.csv").write_text("text,label\n" + "good film,pos\nbad film,neg\n" * 6)
    status, captured = fit(
        capsys, tmp_path / "t.csv", "--out", tmp_path / "m.joblib", "--init-from", source_model
    )
    assert status == 1
    assert "classifies image, but the data are text" in captured.err
    dummy = save_model(
        tmp_path / "d.joblib", DummyClassifier().fit([[0], [1]], ["a", "b"]), modality="text"
    )
    status, captured = fit(
        capsys, tmp_path / "t.csv", "--out", tmp_path / "m.joblib", "--init-from", dummy
    )
    assert status == 1
    assert "ends in a DummyClassifier, which has nothing to start a model from" in captured.err
