"""AudioSpectralFeatures as a scikit-learn transformer: inputs, errors, API contract."""

import pickle
import warnings
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
import pytest
from joblib import parallel_config
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sktransfer import AudioSpectralFeatures

from ..conftest import SR, tone
from ..fresh_process import transform_in_fresh_process


def fit_transform(X, **params):
    return AudioSpectralFeatures(**params).fit_transform(X)


# -- output shape and names --------------------------------------------------------------


def test_default_columns_are_the_193_recipe_features():
    names = AudioSpectralFeatures().fit([tone(440)]).get_feature_names_out()
    assert len(names) == 193
    assert names[0] == "mfcc_mean_0" and names[39] == "mfcc_mean_39"
    assert names[40] == "chroma_mean_0" and names[52] == "mel_mean_0"
    assert names[180] == "contrast_mean_0" and names[187] == "tonnetz_mean_0"
    assert names[-1] == "tonnetz_mean_5"


def test_stats_and_blocks_shape_the_columns(audio_files):
    features = AudioSpectralFeatures(
        blocks=("contrast", "mfcc"), n_mfcc=13, stats=("mean", "std", "min", "max")
    )
    X = features.fit_transform([audio_files["a440.wav"]])
    names = features.get_feature_names_out()
    assert X.shape == (1, (7 + 13) * 4) == (1, len(names))
    assert names[0] == "contrast_mean_0" and names[7] == "contrast_std_0"
    assert names[28] == "mfcc_mean_0" and names[-1] == "mfcc_max_12"
    mean, std, low, high = X[0, 28:41], X[0, 41:54], X[0, 54:67], X[0, 67:80]
    assert np.all(std > 0) and np.all(low <= mean) and np.all(mean <= high)
    # Each statistic of a block agrees with the plain single-statistic run.
    only_mean = fit_transform([audio_files["a440.wav"]], blocks=("mfcc",), n_mfcc=13)
    np.testing.assert_array_equal(only_mean[0], mean)


def test_set_output_pandas(audio_files):
    features = AudioSpectralFeatures(blocks=("tonnetz",)).set_output(transform="pandas")
    frame = features.fit_transform(pd.Series([audio_files["a440.wav"], audio_files["c523.ogg"]]))
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == [f"tonnetz_mean_{i}" for i in range(6)]
    assert frame.shape == (2, 6)


# -- the forms X can take ----------------------------------------------------------------


def test_waveforms_paths_and_tables_give_the_same_rows(audio_files):
    path = audio_files["a440.wav"]
    y, _ = librosa.load(path, sr=None)
    from_path = fit_transform([Path(path)])
    np.testing.assert_array_equal(fit_transform([y]), from_path)
    np.testing.assert_array_equal(fit_transform(np.stack([y, y])), np.vstack([from_path] * 2))
    np.testing.assert_array_equal(fit_transform(pd.DataFrame({"path": [path]})), from_path)
    np.testing.assert_array_equal(fit_transform(np.array([[path]], dtype=object)), from_path)
    # Clips of different lengths in one list, paths and waveforms mixed.
    mixed = fit_transform([y[: SR // 2], path])
    np.testing.assert_array_equal(mixed[1], from_path[0])
    np.testing.assert_array_equal(mixed[0], fit_transform([y[: SR // 2]])[0])


def test_input_sr_resamples_like_loading_the_file(audio_files):
    path = audio_files["a440_44k.flac"]
    y44, sr = librosa.load(path, sr=None)
    assert sr == 44100
    np.testing.assert_array_equal(fit_transform([y44], input_sr=44100), fit_transform([path]))


def test_stereo_file_is_mixed_to_mono(audio_files):
    channels, _ = librosa.load(audio_files["stereo.wav"], sr=None, mono=False)
    assert channels.shape == (2, SR)
    mono = channels.mean(axis=0)
    np.testing.assert_array_equal(fit_transform([audio_files["stereo.wav"]]), fit_transform([mono]))
    assert not np.allclose(fit_transform([channels[0]]), fit_transform([mono]))


def test_offset_and_duration_select_the_same_excerpt_for_files_and_waveforms(audio_files):
    path = audio_files["a440.wav"]
    y, _ = librosa.load(path, sr=None)
    excerpt = fit_transform([path], offset=0.25, duration=0.5)
    np.testing.assert_array_equal(excerpt, fit_transform([y[SR // 4 : SR // 4 + SR // 2]]))
    np.testing.assert_array_equal(excerpt, fit_transform([y], offset=0.25, duration=0.5))
    assert not np.array_equal(excerpt, fit_transform([path]))


@pytest.mark.parametrize("X", ["a.wav", 3, np.zeros((2, 3, 4))])
def test_x_that_is_not_a_collection_of_clips_is_rejected(X):
    with pytest.raises(ValueError, match="X must be a collection of clips"):
        AudioSpectralFeatures().fit(X)


# -- bad clips ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, message",
    [
        ("missing.wav", r"file not found"),
        ("corrupt.wav", r"cannot decode audio"),
        ("empty.wav", r"empty: 0 samples"),
        ("silent.wav", r"silent: all 22050 samples \(1\.000 s at 22050 Hz\) are zero"),
        (
            "short.wav",
            r"too short: 1102 samples \(0\.050 s at 22050 Hz\), fewer than one FFT window",
        ),
    ],
)
def test_bad_file_is_named_in_the_error(audio_files, name, message):
    X = [audio_files["a440.wav"], audio_files[name]]
    features = AudioSpectralFeatures().fit(X)
    with pytest.raises(ValueError, match=rf"^clip 1 \('{audio_files[name]}'\): {message}"):
        features.transform(X)


@pytest.mark.parametrize(
    "waveform, message",
    [
        (
            np.r_[tone(440), np.nan].astype(np.float32),
            r"contains NaN or infinite samples \(first at sample 22050\)",
        ),
        (
            np.r_[np.inf, tone(440)].astype(np.float32),
            r"contains NaN or infinite samples \(first at sample 0\)",
        ),
        (
            np.zeros((2, SR), dtype=np.float32),
            r"expected a 1-D waveform, got an array of shape \(2, 22050\)",
        ),
        (
            (tone(440) * 32767).astype(np.int16),
            r"expected floating-point samples in \[-1, 1\], got dtype int16; divide 16-bit PCM by 32768",
        ),
        (np.zeros(0, dtype=np.float32), r"empty: 0 samples"),
        (b"not audio", r"expected a file path or a 1-D waveform, got bytes"),
    ],
)
def test_bad_waveform_is_named_in_the_error(waveform, message):
    with pytest.raises(ValueError, match=rf"^clip 1( \(array of shape \([\d, ]*\)\))?: {message}"):
        fit_transform([tone(440), waveform])


def test_on_error_nan_fills_bad_rows_and_lists_them(audio_files):
    good = [audio_files["a440.wav"], audio_files["c523.ogg"]]
    X = [good[0], audio_files["corrupt.wav"], np.zeros(SR, np.float32), good[1]]
    with pytest.warns(UserWarning, match=r"2 of 4 clips gave NaN features") as record:
        out = fit_transform(X, on_error="nan")
    message = str(record[0].message)
    assert f"clip 1 ('{audio_files['corrupt.wav']}'): cannot decode audio" in message
    assert "clip 2 (array of shape (22050,)): silent" in message
    assert np.isnan(out[[1, 2]]).all()
    np.testing.assert_array_equal(out[[0, 3]], fit_transform(good))


def test_no_warning_when_every_clip_is_fine(audio_files):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_transform([audio_files["a440.wav"]], on_error="nan")


# -- parameters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"blocks": ("mfcc", "pitch")}, ValueError, "blocks must be"),
        ({"blocks": ()}, ValueError, "blocks must be"),
        ({"stats": ("mean", "mean")}, ValueError, "stats must be"),
        ({"stats": ("median",)}, ValueError, "stats must be"),
        ({"n_mfcc": 60, "n_mels": 40}, ValueError, "n_mfcc=60 exceeds n_mels=40"),
        ({"hop_length": 4096}, ValueError, "hop_length=4096 exceeds n_fft=2048"),
        ({"n_fft": 0}, InvalidParameterError, "n_fft"),
        ({"on_error": "skip"}, InvalidParameterError, "on_error"),
        ({"duration": 0}, InvalidParameterError, "duration"),
        ({"sr": 22050.5}, InvalidParameterError, "sr"),
    ],
)
def test_invalid_parameters_fail_in_fit_not_init(params, error, message):
    features = AudioSpectralFeatures(**params)  # __init__ only stores
    assert features.get_params()[next(iter(params))] == next(iter(params.values()))
    with pytest.raises(error, match=message):
        features.fit([tone(440)])


def test_n_mfcc_and_hop_length_change_the_numbers(audio_files):
    path = [audio_files["a440.wav"]]
    base = fit_transform(path, blocks=("mfcc",), n_mfcc=20)
    np.testing.assert_array_equal(fit_transform(path, blocks=("mfcc",), n_mfcc=13), base[:, :13])
    assert not np.allclose(fit_transform(path, blocks=("mfcc",), n_mfcc=20, hop_length=256), base)


def test_unfitted_transform_raises():
    with pytest.raises(NotFittedError):
        AudioSpectralFeatures().transform([tone(440)])
    with pytest.raises(NotFittedError):
        AudioSpectralFeatures().get_feature_names_out()


def test_clone_and_params_round_trip():
    features = AudioSpectralFeatures(blocks=("mfcc",), n_mfcc=13, stats=("mean", "std"), n_jobs=2)
    copy = clone(features)
    assert copy.get_params() == features.get_params()
    copy.set_params(n_mfcc=20)
    assert copy.n_mfcc == 20 and features.n_mfcc == 13


# -- parallelism and progress ------------------------------------------------------------


def test_n_jobs_gives_the_same_rows_in_the_same_order(spoken_words):
    paths = spoken_words[0][:10]
    expected = fit_transform(paths)
    np.testing.assert_array_equal(fit_transform(paths, n_jobs=2), expected)  # threads
    with parallel_config(backend="loky"):
        np.testing.assert_array_equal(fit_transform(paths, n_jobs=2), expected)


def test_errors_from_parallel_workers_name_the_clip(audio_files):
    X = [audio_files["a440.wav"]] * 5 + [audio_files["corrupt.wav"]]
    with pytest.raises(ValueError, match=r"^clip 5 \('.*corrupt.wav'\): cannot decode"):
        fit_transform(X, n_jobs=2)


def test_verbose_shows_a_progress_bar(audio_files, capsys):
    fit_transform([audio_files["a440.wav"]] * 3, verbose=1, blocks=("mfcc",))
    err = capsys.readouterr().err
    assert "audio features" in err and "3/3" in err


# -- persistence and model selection -----------------------------------------------------


def test_joblib_round_trip_in_a_fresh_process(audio_files, tmp_path):
    features = AudioSpectralFeatures(blocks=("mfcc", "contrast"), stats=("mean", "max"))
    X = [audio_files["a440.wav"], audio_files["e330.mp3"]]
    expected = features.fit_transform(X)
    assert expected.shape == (2, 94)
    np.testing.assert_array_equal(transform_in_fresh_process(features, X, tmp_path), expected)
    assert pickle.loads(pickle.dumps(features)).get_params() == features.get_params()


def spoken_word_pipeline():
    return Pipeline(
        [
            ("features", AudioSpectralFeatures()),
            ("scale", StandardScaler()),
            ("classify", LogisticRegression(max_iter=2000)),
        ]
    )


def test_pipeline_separates_spoken_words(spoken_words):
    paths, labels = spoken_words
    cv = StratifiedKFold(4, shuffle=True, random_state=0)
    scores = cross_val_score(spoken_word_pipeline(), paths, labels, cv=cv)
    # Four words, six voices, two speeds; chance is 0.25.
    assert scores.mean() >= 0.85, scores


def test_grid_search_over_an_extractor_parameter(spoken_words):
    paths, labels = spoken_words
    search = GridSearchCV(
        spoken_word_pipeline(),
        {"features__blocks": [("tonnetz",), ("mfcc", "chroma", "mel", "contrast", "tonnetz")]},
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
    )
    search.fit(paths, labels)
    # Six tonal-centroid dimensions alone separate the words less well than all 193.
    scores = search.cv_results_["mean_test_score"]
    assert scores[1] > scores[0] and scores[1] >= 0.9, scores
    assert search.best_params_["features__blocks"][0] == "mfcc"
    assert search.predict(paths[:4]).tolist() == labels[:4]
