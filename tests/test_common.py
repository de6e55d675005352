"""scikit-learn's estimator checks on every public sktransfer estimator, and the extractor contract.

``ESTIMATORS`` holds small, fast, seeded instances; ``EXPECTED_FAILED_CHECKS``
lists, per class, each check that cannot apply and why. scikit-learn runs its
checks only on estimators that take 2-D numeric arrays (the ``two_d_array``
input tag); estimators of texts or images get the checks that need no data,
and every extractor is held to one contract on real items of its kind below.
"""

import os
import pickle
import re
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import NotFittedError, SkipTestWarning
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
    AudioSpectralFeatures,
    AudioSpectrogramImages,
    DenseHeadClassifier,
    FeatureCache,
    FineTuneImageClassifier,
    FineTuneTextClassifier,
    KerasImageFeatures,
    SentenceEmbedder,
    SequenceClassifier,
    VGGImageFeatures,
    Word2VecEmbedder,
)

ESTIMATORS = [
    AudioSpectralFeatures(),
    AudioSpectrogramImages(n_mels=16, n_frames=8),
    KerasImageFeatures(input_size=32),
    VGGImageFeatures(weights=None, input_size=32),
    Word2VecEmbedder(vector_size=8, random_state=0),
    SentenceEmbedder(),
    DenseHeadClassifier(
        hidden_layer_sizes=(8,), dropout=0.0, epochs=10, learning_rate=0.03, random_state=0
    ),
    SequenceClassifier(
        embedder=Word2VecEmbedder(vector_size=8, random_state=0),
        conv_filters=4,
        lstm_units=4,
        epochs=2,
        random_state=0,
    ),
    FineTuneImageClassifier(weights=None, input_size=32, epochs=1, random_state=0),
    FineTuneTextClassifier(epochs=1, random_state=0),
]

# scikit-learn's toy tables have rows of 2 to 20 numbers. As waveforms these are far
# shorter than one FFT window (2048 samples), and every such clip is rightly rejected
# with "clip 0 (array of shape (n,)): too short: ...".
_TOY_ROWS_TOO_SHORT = (
    "check_fit_score_takes_y",
    "check_estimators_dtypes",
    "check_pipeline_consistency",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_transformer_data_not_an_array",
    "check_transformer_general",
    "check_transformer_preserve_dtypes",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_dict_unchanged",
    "check_fit_idempotent",
    "check_array_api_input",
)

_CLIP_EXTRACTOR_FAILURES = {
    **{name: "toy rows are shorter than one FFT window" for name in _TOY_ROWS_TOO_SHORT},
    "check_n_features_in": "clips have any length: there is no fixed n_features_in_",
    "check_n_features_in_after_fitting": (
        "clips have any length: there is no fixed n_features_in_"
    ),
    "check_dtype_object": "a 2-D object array is read as a column of paths, not as numbers",
    "check_estimators_empty_data_messages": (
        "an empty clip gets its own message, 'clip 0 (array of shape (0,)): empty: 0 samples'"
    ),
}

EXPECTED_FAILED_CHECKS = {
    "AudioSpectralFeatures": _CLIP_EXTRACTOR_FAILURES,
    "AudioSpectrogramImages": _CLIP_EXTRACTOR_FAILURES,
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


# -- the extractors: one contract, checked on real items ----------------------------------
#
# scikit-learn's checks feed 2-D tables of numbers. The image and text extractors take
# collections of images and documents, and say so in their tags (two_d_array=False), so
# scikit-learn runs only its cloning check on them. The tests below hold every extractor to
# the same contract on real items of its own kind instead.

SR = 22050


def _tone(freq, seconds=0.25):
    t = np.arange(int(seconds * SR)) / SR
    return (0.4 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _images(n, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (32, 40, 3), dtype=np.uint8) for _ in range(n)]


def _audio_case():
    good = [_tone(220), _tone(330), _tone(440)]
    return AudioSpectralFeatures(), good, np.zeros(SR // 4, np.float32), r"silent"


def _spectrogram_case():
    good = [_tone(220), _tone(330), _tone(440)]
    estimator = AudioSpectrogramImages(n_mels=16, n_frames=8)
    return estimator, good, np.zeros(SR // 4, np.float32), r"silent"


def _lite0_case():
    return (
        KerasImageFeatures(backbone="efficientnet_lite0", input_size=32),
        _images(3),
        "missing.png",
        r"no such file",
    )


def _vgg_case():
    return (
        VGGImageFeatures(weights=None, input_size=32),
        _images(3, seed=1),
        "missing.png",
        r"no such file",
    )


def _text_case():
    good = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog met"]
    return Word2VecEmbedder(vector_size=8, random_state=0), good, "", r"empty, no tokens"


def _sentence_case():
    from tests.text.tiny_bert import tiny_bert_folder

    good = ["the cat sat on the mat", "a great movie", "the plot was boring"]
    return SentenceEmbedder(encoder=tiny_bert_folder()), good, None, r"missing \(None\)"


EXTRACTOR_CASES = {
    "AudioSpectralFeatures": _audio_case,
    "AudioSpectrogramImages": _spectrogram_case,
    "KerasImageFeatures": _lite0_case,
    "VGGImageFeatures": _vgg_case,
    "Word2VecEmbedder": _text_case,
    "SentenceEmbedder": _sentence_case,
}
NOUNS = {
    "AudioSpectralFeatures": "clip",
    "AudioSpectrogramImages": "clip",
    "KerasImageFeatures": "image",
    "VGGImageFeatures": "image",
    "Word2VecEmbedder": "document",
    "SentenceEmbedder": "document",
}
extractor_cases = pytest.mark.parametrize("name", sorted(EXTRACTOR_CASES))
IMAGE_OUTPUTS = ("AudioSpectrogramImages",)
"""Extractors whose output is images (4-D), which no DataFrame holds: see their own tests."""


def _case(name):
    estimator, good, bad, reason = EXTRACTOR_CASES[name]()
    return estimator, good, bad, reason, NOUNS[name]


def _fit(estimator, X):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*randomly initialised.*", category=UserWarning)
        return estimator.fit(X)


def _object_array(items):
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


@extractor_cases
def test_fit_sets_the_attributes_every_extractor_has(name):
    estimator, good, _, _, _ = _case(name)
    assert _fit(estimator, good) is estimator
    out = estimator.transform(good)
    assert out.dtype == np.float32 and len(out) == len(good)
    assert out[0].size == estimator.n_features_out_  # images: values of each flattened image
    names = estimator.get_feature_names_out()
    assert len(names) == estimator.n_features_out_ == len(set(names))
    assert re.fullmatch(r"[0-9a-f]{64}", estimator.weights_sha256_)
    np.testing.assert_array_equal(_fit(clone(estimator), good).transform(good), out)
    with pytest.raises(NotFittedError):
        clone(estimator).transform(good)
    with pytest.raises(NotFittedError):
        clone(estimator).get_feature_names_out()


@extractor_cases
def test_every_container_of_the_same_items_gives_the_same_rows(name):
    estimator, good, _, _, _ = _case(name)
    expected = _fit(estimator, good).transform(good)
    for X in (
        tuple(good),
        _object_array(good),
        pd.Series(_object_array(good)),
        pd.DataFrame({"items": _object_array(good)}),
        _object_array(good)[:, None],
    ):
        np.testing.assert_array_equal(estimator.transform(X), expected)


@extractor_cases
def test_what_is_not_a_collection_of_items_is_refused_alike(name):
    estimator, good, _, _, noun = _case(name)
    _fit(estimator, good)
    with pytest.raises(ValueError, match=rf"^X must be a collection of {noun}s, got a single"):
        estimator.transform(good[0] if isinstance(good[0], str) else "one.file")
    with pytest.raises(TypeError, match=rf"^X is a sparse matrix, but {noun}s are not sparse"):
        estimator.transform(sparse.csr_matrix(np.ones((2, 3))))
    with pytest.raises(ValueError, match=rf"^X holds no {noun}s: at least one is required$"):
        estimator.transform([])
    two_columns = pd.DataFrame({"a": _object_array(good), "b": _object_array(good)})
    with pytest.raises(ValueError, match=rf"^X must be a 1-D collection of {noun}s"):
        estimator.transform(two_columns)


@extractor_cases
def test_a_bad_item_is_named_or_becomes_a_nan_row(name):
    estimator, good, bad, reason, noun = _case(name)
    X = [good[0], bad, *good[1:]]
    expected = _fit(clone(estimator), good).transform(good)
    with pytest.raises(ValueError, match=rf"^{noun} 1\b.*: {reason}"):
        _fit(clone(estimator), good).transform(X)
    lenient = _fit(clone(estimator).set_params(on_error="nan"), good)
    with pytest.warns(
        UserWarning,
        match=rf"^1 of {len(X)} {noun}s gave NaN features "
        rf"\(on_error='nan'\): {noun} 1\b.*: {reason}",
    ):
        out = lenient.transform(X)
    assert np.isnan(out[1]).all()
    np.testing.assert_array_equal(np.delete(out, 1, axis=0), expected)


@pytest.mark.parametrize("name", sorted(set(EXTRACTOR_CASES) - set(IMAGE_OUTPUTS)), ids=str)
def test_set_output_names_the_columns(name):
    estimator, good, _, _, _ = _case(name)
    frame = _fit(estimator.set_output(transform="pandas"), good).transform(good)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(estimator.get_feature_names_out())


@extractor_cases
def test_pickles_hold_weights_only_without_another_source(name):
    estimator, good, _, _, _ = _case(name)
    expected = _fit(estimator, good).transform(good)
    has_source = estimator._weights_source() is not None
    state = estimator.__getstate__()
    assert ("_embedded_weights" in state) is not has_source
    loaded = pickle.loads(pickle.dumps(estimator))
    assert "_weights_in_use" not in vars(loaded)
    np.testing.assert_array_equal(loaded.transform(good), expected)
    if "embed_weights" in estimator.get_params():
        embedded = pickle.loads(
            pickle.dumps(_fit(clone(estimator).set_params(embed_weights=True), good))
        )
        assert "_embedded_weights" in vars(embedded)
        np.testing.assert_array_equal(embedded.transform(good), expected)


@extractor_cases
def test_a_cache_gives_the_same_rows_once(name, tmp_path):
    estimator, good, _, _, _ = _case(name)
    expected = _fit(estimator, good).transform(good)
    cache = FeatureCache(tmp_path)
    cached = _fit(clone(estimator).set_params(cache=cache), good)
    np.testing.assert_array_equal(cached.transform(good), expected)
    np.testing.assert_array_equal(cached.transform(good), expected)
    assert (cache.misses, cache.hits) == (len(good), len(good))
