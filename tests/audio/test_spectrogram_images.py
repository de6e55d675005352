"""AudioSpectrogramImages on real clips: images, errors, and pipelines through ImageNet Lite0."""

import pickle

import librosa
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, PredefinedSplit
from sklearn.pipeline import make_pipeline

from sktransfer import (
    AudioSpectralFeatures,
    AudioSpectrogramImages,
    FeatureCache,
    FineTuneImageClassifier,
    KerasImageFeatures,
)

from ..conftest import SR, tone
from ..fresh_process import call_in_fresh_process

HOP = 512


def frames_of(path):
    """STFT frames of a file at 22,050 Hz (librosa's centred frames)."""
    return 1 + len(librosa.load(path)[0]) // HOP


@pytest.fixture(scope="module")
def words(spoken_words):
    """8 real spoken words (4 words, 2 voices, one speed) and their labels."""
    paths, labels = spoken_words
    chosen = [i for i, p in enumerate(paths) if ("en-us_" in p or "en-gb_" in p) and "s170" in p]
    return [paths[i] for i in chosen], [labels[i] for i in chosen]


def test_images_have_the_asked_shape_and_pixel_range(words):
    paths, _ = words
    images = AudioSpectrogramImages(n_mels=64, n_frames=40).fit_transform(paths)
    assert images.shape == (len(paths), 64, 40, 3) and images.dtype == np.float32
    assert images.min() == 0.0 and images.max() == 255.0
    assert (images.max(axis=(1, 2, 3)) == 255.0).all()  # each clip's loudest bin is white
    np.testing.assert_array_equal(images[..., 0], images[..., 1])
    np.testing.assert_array_equal(images[..., 0], images[..., 2])


def test_level_is_decibels_below_the_peak_with_the_highest_band_on_top(words):
    path = words[0][0]
    image = AudioSpectrogramImages(n_mels=32, n_frames=16, top_db=60.0).fit_transform([path])[0]
    y, _ = librosa.load(path)
    mel = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=2048, hop_length=HOP, n_mels=32)
    decibels = librosa.power_to_db(mel, ref=np.max, top_db=60.0)[::-1, :16]
    np.testing.assert_allclose(image[..., 0], (decibels + 60.0) / 60.0 * 255.0, atol=1e-3)


def test_delta_channels_are_the_scaled_derivatives(words):
    path = words[0][0]
    n_frames = frames_of(path)
    image = AudioSpectrogramImages(n_mels=32, n_frames=n_frames + 10, channels="deltas")
    image = image.fit_transform([path])[0]
    level = image[:, :n_frames, 0] / 255.0
    delta = librosa.feature.delta(level, width=9, mode="nearest")
    np.testing.assert_allclose(
        image[:, :n_frames, 1], 127.5 + 127.5 * delta / np.abs(delta).max(), atol=2e-3
    )
    assert np.abs(image[..., 1] - 127.5).max() == pytest.approx(127.5)
    assert np.abs(image[..., 2] - 127.5).max() == pytest.approx(127.5)
    np.testing.assert_array_equal(image[:, n_frames:, 0], 0.0)  # padding is silence
    np.testing.assert_array_equal(image[:, n_frames:, 1:], 127.5)


def test_short_clips_are_padded_tiled_or_centred_and_long_ones_cropped(words):
    path = words[0][0]
    n = frames_of(path)
    whole = AudioSpectrogramImages(n_mels=16, n_frames=n).fit_transform([path])[0]
    assert whole.max() == 255.0

    def image(n_frames, fit_frames):
        extractor = AudioSpectrogramImages(n_mels=16, n_frames=n_frames, fit_frames=fit_frames)
        return extractor.fit_transform([path])[0]

    padded = image(2 * n + 3, "pad")
    np.testing.assert_array_equal(padded[:, :n], whole)
    np.testing.assert_array_equal(padded[:, n:], 0.0)
    tiled = image(2 * n + 3, "tile")
    np.testing.assert_array_equal(tiled[:, :n], whole)
    np.testing.assert_array_equal(tiled[:, n : 2 * n], whole)
    np.testing.assert_array_equal(tiled[:, 2 * n :], whole[:, :3])
    centred = image(n + 4, "center")
    np.testing.assert_array_equal(centred[:, 2 : n + 2], whole)
    np.testing.assert_array_equal(centred[:, [0, 1, n + 2, n + 3]], 0.0)
    for policy, start in (("pad", 0), ("tile", 0), ("center", (n - 10) // 2)):
        np.testing.assert_array_equal(image(10, policy), whole[:, start : start + 10])


def bad_clips(audio_files):
    return {
        "empty": audio_files["empty.wav"],
        "silent": audio_files["silent.wav"],
        "too short": audio_files["short.wav"],
        "undecodable": audio_files["corrupt.wav"],
        "missing": audio_files["missing.wav"],
        "NaN": np.full(4096, np.nan, dtype=np.float32),
    }


def error_message(extractor, good, bad):
    with pytest.raises(ValueError) as error:
        extractor.fit([good]).transform([good, bad])
    return str(error.value)


def test_bad_clips_are_refused_as_by_the_spectral_features(audio_files):
    good = audio_files["a440.wav"]
    for problem, bad in bad_clips(audio_files).items():
        message = error_message(AudioSpectrogramImages(n_mels=16, n_frames=8), good, bad)
        assert message.startswith("clip 1 "), problem
        assert message == error_message(AudioSpectralFeatures(), good, bad), problem
    lenient = AudioSpectrogramImages(n_mels=16, n_frames=8, on_error="nan").fit([good])
    with pytest.warns(UserWarning, match=r"^1 of 2 clips gave NaN features.*silent: all"):
        out = lenient.transform([good, audio_files["silent.wav"]])
    assert np.isnan(out[1]).all() and np.isfinite(out[0]).all()


def test_changed_filter_banks_are_refused_after_loading(audio_files):
    extractor = AudioSpectrogramImages(n_mels=16, n_frames=8).fit([audio_files["a440.wav"]])
    extractor.weights_sha256_ = "0" * 64
    loaded = pickle.loads(pickle.dumps(extractor))
    with pytest.raises(ValueError, match=r"librosa's filter banks have SHA-256 .* changed since"):
        loaded.transform([audio_files["a440.wav"]])


def test_output_stays_an_array_and_a_pipeline_can_still_give_pandas(words):
    paths, _ = words
    images = AudioSpectrogramImages(n_mels=32, n_frames=16)
    assert images.set_output(transform="pandas") is images
    assert isinstance(images.fit_transform(paths), np.ndarray)
    pipeline = make_pipeline(images, KerasImageFeatures(input_size=32))
    frame = pipeline.set_output(transform="pandas").fit_transform(paths)
    assert isinstance(frame, pd.DataFrame) and frame.shape == (len(paths), 1280)
    assert frame.columns[0] == "efficientnet_lite0_mean_0"


def test_lite0_pipeline_caches_both_steps_and_pickles(spoken_words, tmp_path):
    paths, labels = spoken_words
    cache = FeatureCache(tmp_path / "cache")

    def pipeline():
        return make_pipeline(
            AudioSpectrogramImages(n_mels=32, n_frames=32, cache=cache),
            KerasImageFeatures(input_size=32, cache=cache),
            LogisticRegression(max_iter=2000),
        )

    model = pipeline().fit(paths, labels)
    assert (cache.hits, cache.misses) == (0, 2 * len(paths))
    predictions = model.predict(paths)
    assert (cache.hits, cache.misses) == (2 * len(paths), 2 * len(paths))
    assert np.mean(predictions == np.asarray(labels)) > 0.9  # training accuracy
    refit = pipeline().fit(paths, labels)
    assert cache.hits == 4 * len(paths) and cache.misses == 2 * len(paths)
    np.testing.assert_array_equal(refit.predict(paths), predictions)
    fresh = call_in_fresh_process(model, "predict_proba", paths, tmp_path)
    np.testing.assert_allclose(fresh, model.predict_proba(paths), rtol=1e-5, atol=1e-6)


def test_fine_tuning_on_spectrograms_grid_searches_the_freeze_depth(spoken_words):
    paths, labels = spoken_words[0][::2], spoken_words[1][::2]
    images = AudioSpectrogramImages(n_mels=32, n_frames=32).fit_transform(paths)

    def head(**params):
        return FineTuneImageClassifier(
            input_size=32,
            augmentation=("time_mask", "frequency_mask"),
            freeze_epochs=1,
            epochs=2,
            early_stopping=False,
            random_state=0,
            **params,
        )

    search = GridSearchCV(
        make_pipeline(head()),
        {"finetuneimageclassifier__trainable_layers": [0, 3]},
        cv=PredefinedSplit(np.arange(len(paths)) % 2 - 1),  # one split: every other clip
        refit=False,
    ).fit(images, labels)
    assert search.best_params_["finetuneimageclassifier__trainable_layers"] in (0, 3)
    assert search.cv_results_["mean_test_score"].shape == (2,)
    reuses = []

    class Recording(FineTuneImageClassifier):
        def _train_head_on_activations(self, *args, **kwargs):
            reuses.append(args)
            return super()._train_head_on_activations(*args, **kwargs)

    first = Recording(**head(trainable_layers=3).get_params()).fit(images, labels)
    # The masks change what the frozen backbone sees: its output is never reused.
    assert reuses == []
    again = head(trainable_layers=3).fit(images, labels)
    assert first.n_trainable_backbone_weights_ > 0
    np.testing.assert_array_equal(first.predict_proba(images), again.predict_proba(images))
    # The masks act in training only: predicting twice gives the same numbers.
    np.testing.assert_array_equal(first.predict_proba(images), first.predict_proba(images))


def test_masking_is_refused_with_the_known_augmentations_listed():
    with pytest.raises(ValueError, match=r"unknown augmentation \['time_warp'\].*'time_mask'"):
        FineTuneImageClassifier(augmentation=("time_warp",)).fit(
            np.zeros((4, 32, 32, 3), np.uint8), [0, 1, 0, 1]
        )


def test_a_tone_image_is_bright_at_its_band_only():
    image = AudioSpectrogramImages(n_mels=64, n_frames=20).fit_transform([tone(1000)])[0]
    band_of_peak = int(np.argmax(image[:, 10, 0]))
    mel_freqs = librosa.mel_frequencies(n_mels=64, fmax=SR / 2)[::-1]
    assert abs(mel_freqs[band_of_peak] - 1000) < 150
    assert image[:, 10, 0].max() > 250 and np.median(image[:, 10, 0]) < 128
