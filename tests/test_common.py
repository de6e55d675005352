"""scikit-learn's estimator checks on every sktransfer estimator.

``ESTIMATORS`` holds small, fast, seeded instances; ``EXPECTED_FAILED_CHECKS``
lists, per class, each check that cannot apply and why. scikit-learn runs its
checks only on estimators that take 2-D numeric arrays (the ``two_d_array``
input tag); estimators of texts or images get the checks that need no data.
"""

import os
import subprocess
import sys
import warnings

import joblib
import pytest
from sklearn.exceptions import SkipTestWarning
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import (
    _yield_all_checks,
    check_do_not_raise_errors_in_init_or_set_params,
    check_estimator_cloneable,
    check_estimator_repr,
    check_estimator_tags_renamed,
    check_estimators_unfitted,
    check_get_params_invariance,
    check_mixin_order,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
    check_valid_tag_types,
    parametrize_with_checks,
)

from sktransfer import (
    DenseHeadClassifier,
    FineTuneImageClassifier,
    SequenceClassifier,
    Word2VecEmbedder,
)

ESTIMATORS = [
    DenseHeadClassifier(hidden_layer_sizes=(8,), dropout=0.0, epochs=10, learning_rate=0.03,
                        random_state=0),
    SequenceClassifier(
        embedder=Word2VecEmbedder(vector_size=8, workers=1, random_state=0),
        conv_filters=4, lstm_units=4, epochs=2, random_state=0,
    ),
    FineTuneImageClassifier(weights=None, input_size=32, epochs=1, random_state=0),
]

EXPECTED_FAILED_CHECKS = {
    "DenseHeadClassifier": {
        "check_sample_weight_equivalence_on_dense_data": (
            "minibatch gradient descent with a random stratified dev split and early stopping "
            "is not equivalent to repeating samples, as for scikit-learn's SGD and MLP estimators"
        ),
    },
}

# The checks that need no input data, run on every estimator.
DATA_FREE_CHECKS = [
    check_estimator_cloneable,
    check_estimator_repr,
    check_no_attributes_set_in_init,
    check_do_not_raise_errors_in_init_or_set_params,
    check_mixin_order,
    check_valid_tag_types,
    check_estimator_tags_renamed,
    check_get_params_invariance,
    check_set_params,
    check_parameters_default_constructible,
    check_estimators_unfitted,
]


def expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


def _check_name(check):
    return getattr(check, "func", check).__name__


def run_with_array_api_enabled(check, estimator, tmp_path):
    """Run ``check(estimator)`` in a fresh process with SciPy's array API support on.

    SciPy reads ``SCIPY_ARRAY_API`` once, when it is first imported.
    """
    saved = tmp_path / "check.joblib"
    joblib.dump((check, estimator), saved)
    script = f"import joblib; check, estimator = joblib.load({str(saved)!r}); check(estimator)"
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-3000:]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check, tmp_path):
    if _check_name(check) == "check_array_api_input" and os.environ.get("SCIPY_ARRAY_API") != "1":
        run_with_array_api_enabled(check, estimator, tmp_path)
    else:
        check(estimator)


def _name(estimator):
    return type(estimator).__name__


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_name)
@pytest.mark.parametrize("check", DATA_FREE_CHECKS, ids=lambda check: check.__name__)
def test_data_free_checks(estimator, check):
    reason = expected_failed_checks(estimator).get(check.__name__)
    if reason:
        pytest.xfail(reason)
    check(_name(estimator), estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_name)
def test_expected_failures_name_checks_that_run(estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkipTestWarning)
        checks = list(_yield_all_checks(estimator, legacy=True))
    names = {_check_name(check) for check in checks}
    names |= {check.__name__ for check in DATA_FREE_CHECKS}
    assert set(expected_failed_checks(estimator)) <= names


@pytest.mark.parametrize(
    "estimator", [e for e in ESTIMATORS if not get_tags(e).input_tags.two_d_array], ids=_name
)
def test_estimators_of_texts_or_images_say_so_in_their_tags(estimator):
    tags = get_tags(estimator).input_tags
    assert tags.string and not tags.two_d_array
    # scikit-learn then runs none of its data checks on them: only the data-free ones apply.
    with pytest.warns(match="Can't test estimator"):
        assert list(_yield_all_checks(estimator, legacy=True)) == []
