"""docs/api.md is generated from the docstrings and must be current."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "api_reference.py"


def _script():
    spec = importlib.util.spec_from_file_location("api_reference", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_api_page_is_up_to_date():
    script = _script()
    assert script.API_PAGE.read_text() == script.render(), (
        "docs/api.md is out of date: run .venv/bin/python scripts/api_reference.py"
    )


def test_api_page_covers_the_public_api():
    import sktransfer
    from sktransfer import datasets, plots

    text = _script().render()
    for name in sktransfer.__all__:
        if name != "__version__":
            assert f"### `sktransfer.{name}`" in text
    for function in ("make_spoken_words", "load_fashion_mnist"):
        assert f"### `sktransfer.datasets.{function}`" in text and hasattr(datasets, function)
    for function in ("plot_confusion_matrix", "plot_training_curve", "plot_learning_curve"):
        assert f"### `sktransfer.plots.{function}`" in text and hasattr(plots, function)
    assert "### `sktransfer.cli.load_model`" in text
    assert (
        "```python\nsktransfer.plots.plot_training_curve(history, path, *, title='Training curve', "
        "best_epoch=None)\n```" in text
    )
    assert text.count("```") % 2 == 0  # every code block is closed
