"""``sktransfer fit``, ``predict`` and ``evaluate`` end to end on real files."""

import csv
import json
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
from PIL import Image

from sktransfer import FeatureCache, __version__
from sktransfer import _model_file as model_file
from sktransfer.cli import main
from sktransfer.cli._labelled_data import read_labelled_data
from sktransfer.cli._recipes import build_pipeline, parameter_grid

from ..fresh_process import run_command

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def lstm_units_of(model_path):
    """The units of the LSTM layer of a saved text model's Keras model."""
    import keras

    head = model_file.load_model(model_path).pipeline.named_steps["head"]
    (lstm,) = [layer for layer in head.model_.layers if isinstance(layer, keras.layers.LSTM)]
    return lstm.units


def run(capsys, *argv):
    """``sktransfer argv...`` in process: exit status, stdout, stderr."""
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def image_model(image_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("image_model") / "fashion.joblib"
    status = main(
        [
            "fit",
            str(image_folder),
            "--out",
            str(out),
            "--input-size",
            "32",
            "--head-size",
            "64",
            "--epochs",
            "30",
            "--random-state",
            "0",
            "--quiet",
        ]
    )
    assert status == 0
    return out


def test_fit_writes_the_model_and_a_valid_report(image_model, image_folder):
    report = image_model.with_name("fashion-report")
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["sktransfer_version"] == __version__ and metrics["modality"] == "image"
    assert (metrics["n_examples"], metrics["n_classes"]) == (36, 3)
    assert metrics["evaluation"] == "held-out split"
    assert metrics["n_train"] + metrics["n_test"] == 36 and metrics["n_test"] >= 7
    # Trousers, sandals and sneakers through ImageNet features: well above chance (1/3).
    assert metrics["accuracy"] >= 0.75
    assert set(metrics["per_class"]) == {"Trouser", "Sandal", "Sneaker"}
    assert sum(row["support"] for row in metrics["per_class"].values()) == metrics["n_test"]
    assert all(0 <= row["recall"] <= 1 for row in metrics["per_class"].values())
    assert 0 < metrics["fit_seconds"] <= metrics["total_seconds"]
    assert 1 <= metrics["best_epoch"] <= metrics["epochs_trained"] <= 30
    params = json.loads((report / "params.json").read_text())
    assert params["pipeline"] == [
        ["features", "KerasImageFeatures"],
        ["head", "DenseHeadClassifier"],
    ]
    assert params["parameters"]["features__input_size"] == 32
    assert params["parameters"]["head__hidden_layer_sizes"] == [64]
    for name in ("confusion_matrix.png", "training_curve.png"):
        assert (report / name).read_bytes()[:8] == PNG_MAGIC
        assert Image.open(report / name).size[0] > 400
    saved = model_file.load_model(image_model)
    assert saved.classes == ["Sandal", "Sneaker", "Trouser"] and saved.modality == "image"


def test_predict_matches_the_saved_pipeline(image_model, image_folder, tmp_path, capsys):
    inputs = [image_folder / "Sandal", image_folder / "Trouser" / "00.png"]
    status, out, err = run(
        capsys, "predict", image_model, *inputs, "--proba", "--out", tmp_path / "out.csv", "--quiet"
    )
    assert (status, out, err) == (0, "", "")
    with open(tmp_path / "out.csv", newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == ["input", "prediction", "proba_Sandal", "proba_Sneaker", "proba_Trouser"]
    paths = [row[0] for row in rows[1:]]
    assert paths == [str(p) for p in sorted((image_folder / "Sandal").glob("*.png"))] + [
        str(inputs[1])
    ]
    # The documented file layout: metadata, then the pipeline, two joblib pickles.
    with open(image_model, "rb") as stream:
        metadata = joblib.load(stream)
        pipeline = joblib.load(stream)
    assert metadata["format"] == "sktransfer-model" and metadata["classes"] == [
        "Sandal",
        "Sneaker",
        "Trouser",
    ]
    assert [row[1] for row in rows[1:]] == pipeline.predict(paths).tolist()
    proba = np.array([row[2:] for row in rows[1:]], dtype=float)
    np.testing.assert_allclose(proba, pipeline.predict_proba(paths), atol=1e-5)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-4)

    status, out, _ = run(capsys, "predict", image_model, inputs[1], "--quiet")
    assert status == 0 and out.splitlines() == ["input,prediction", f"{inputs[1]},{rows[-1][1]}"]


def test_evaluate_prints_accuracy_and_the_per_class_report(
    image_model, image_folder, tmp_path, capsys
):
    status, out, _ = run(
        capsys,
        "evaluate",
        image_model,
        image_folder,
        "--quiet",
        "--confusion-matrix",
        tmp_path / "cm.png",
    )
    assert status == 0
    lines = out.splitlines()
    accuracy = float(lines[0].split()[1])
    assert lines[0] == f"accuracy {accuracy:.3f} on 36 examples" and accuracy >= 0.75
    assert lines[1].split() == ["class", "precision", "recall", "f1", "support"]
    assert [line.split()[0] for line in lines[2:5]] == ["Sandal", "Sneaker", "Trouser"]
    assert [int(line.split()[-1]) for line in lines[2:5]] == [12, 12, 12]
    assert (tmp_path / "cm.png").read_bytes()[:8] == PNG_MAGIC


def test_console_script_predicts(image_model, image_folder):
    script = Path(sys.executable).with_name("sktransfer")
    image = image_folder / "Sneaker" / "03.png"
    result = run_command([script, "predict", image_model, image, "--quiet"])
    header, row = result.stdout.splitlines()
    assert header == "input,prediction" and row.startswith(f"{image},")
    assert row.split(",")[1] in ("Sandal", "Sneaker", "Trouser")


def test_audio_grid_search_chooses_the_head(spoken_words, tmp_path, capsys):
    words = Path(spoken_words[0][0]).parent.parent  # 4 words x 6 voices x 2 speeds
    out = tmp_path / "words.joblib"
    status, stdout, _ = run(
        capsys,
        "fit",
        words,
        "--out",
        out,
        "--grid",
        "--head-size",
        "none",
        "--epochs",
        "30",
        "--n-jobs",
        "1",
        "--random-state",
        "0",
        "--quiet",
        "--report",
        tmp_path / "report",
        "--cache",
        tmp_path / "features",
    )
    assert status == 0
    # 3 folds x 2 candidates, the refit and the held-out scoring: each clip extracted once.
    cache = FeatureCache(tmp_path / "features")
    assert cache.stats()["misses"] == cache.stats()["rows"] == 48
    assert model_file.load_model(out).pipeline.get_params()["features__cache"] is None
    params = json.loads((tmp_path / "report" / "params.json").read_text())
    grid = params["grid"]
    assert grid["param_grid"] == {"head__hidden_layer_sizes": [[]], "head__dropout": [0.0, 0.5]}
    assert len(grid["candidates"]) == 2 and grid["best_params"]["head__dropout"] in (0.0, 0.5)
    assert grid["best_score"] == max(c["mean_score"] for c in grid["candidates"])
    assert params["parameters"]["head__dropout"] == grid["best_params"]["head__dropout"]
    assert f"best parameters: {{'head__dropout': {grid['best_params']['head__dropout']}" in stdout
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert metrics["modality"] == "audio" and metrics["n_examples"] == 48
    # 10 clips held out, of voices and speeds the head also heard; chance is 0.25.
    assert metrics["n_test"] == 10 and metrics["accuracy"] >= 0.7, metrics

    # A model of spoken words refuses images, naming the file.
    status, _, err = run(capsys, "predict", out, words / "yes", Path(__file__))
    assert status == 1
    assert f"'{Path(__file__)}' is not a supported file" in err


def test_audio_through_the_pretrained_network_on_spectrograms(audio_folder, tmp_path, capsys):
    out = tmp_path / "words.joblib"
    status, _, _ = run(
        capsys,
        "fit",
        audio_folder,
        "--out",
        out,
        "--audio-features",
        "pretrained",
        "--input-size",
        "64",
        "--head-size",
        "8",
        "--epochs",
        "5",
        "--random-state",
        "0",
        "--quiet",
        "--report",
        tmp_path / "report",
        "--cache",
        tmp_path / "features",
    )
    assert status == 0
    params = json.loads((tmp_path / "report" / "params.json").read_text())
    steps = [step_class for _, step_class in params["pipeline"]]
    assert steps == ["AudioSpectrogramImages", "KerasImageFeatures", "DenseHeadClassifier"]
    assert params["parameters"]["features__input_size"] == 64
    pipeline = model_file.load_model(out).pipeline
    assert pipeline.get_params()["features__cache"] is None
    assert pipeline.get_params()["spectrogram__cache"] is None
    status, stdout, _ = run(capsys, "predict", out, audio_folder / "yes", "--quiet")
    assert status == 0
    rows = stdout.strip().splitlines()
    assert rows[0] == "input,prediction" and len(rows) == 1 + 4
    assert all(row.rsplit(",", 1)[1] in ("yes", "no", "stop") for row in rows[1:])

    # The model as the source of another: the same features, its backbone, size and hidden layer.
    target = tmp_path / "target.joblib"
    argv = ["fit", audio_folder, "--out", target, "--init-from", out, "--epochs", "2", "--quiet"]
    status, _, err = run(capsys, *argv)
    assert status == 1
    assert "learned from pretrained audio features, but this fit uses spectral ones" in err
    status, _, err = run(capsys, *argv, "--audio-features", "pretrained")
    assert status == 0, err
    params = model_file.load_model(target).pipeline.get_params()
    assert params["features__input_size"] == 64 and params["head__init_from"] == str(out)
    assert params["head__hidden_layer_sizes"] == (8,)


def test_fine_tuning_on_spectrograms_masks_them():
    pipeline = build_pipeline("audio", audio_features="pretrained", trainable_layers=3)
    assert [name for name, _ in pipeline.steps] == ["spectrogram", "head"]
    head = pipeline.named_steps["head"]
    assert type(head).__name__ == "FineTuneImageClassifier" and head.trainable_layers == 3
    assert head.augmentation == ("frequency_mask", "time_mask") and head.input_size == 128
    grid = parameter_grid("audio", trainable_layers=[0, 3])
    assert grid["head__trainable_layers"] == [0, 3]


def test_text_csv_cross_validated_then_used_on_texts_and_files(polarity_files, tmp_path, capsys):
    out = tmp_path / "reviews.joblib"
    status, stdout, _ = run(
        capsys,
        "fit",
        polarity_files / "reviews.csv",
        "--out",
        out,
        "--cv",
        "2",
        "--lstm-units",
        "8",
        "--epochs",
        "3",
        "--random-state",
        "0",
        "--quiet",
    )
    assert status == 0
    metrics = json.loads((tmp_path / "reviews-report" / "metrics.json").read_text())
    assert metrics["modality"] == "text" and metrics["evaluation"] == "2-fold cross-validation"
    assert len(metrics["cv_scores"]) == 2 and all(0 <= s <= 1 for s in metrics["cv_scores"])
    assert metrics["accuracy_mean"] == pytest.approx(np.mean(metrics["cv_scores"]))
    # Out-of-fold predictions of all 40 reviews make the confusion matrix and accuracy.
    assert sum(row["support"] for row in metrics["per_class"].values()) == 40
    assert metrics["accuracy"] == pytest.approx(metrics["accuracy_mean"], abs=0.03)
    assert f"cross-validated accuracy {metrics['accuracy_mean']:.3f}" in stdout
    params = json.loads((tmp_path / "reviews-report" / "params.json").read_text())
    assert params["parameters"]["head__lstm_units"] == 8 and lstm_units_of(out) == 8

    lines_file = tmp_path / "more.txt"
    lines_file.write_text("a gripping, beautiful film\n\nboring and far too long\n")
    status, stdout, _ = run(capsys, "predict", out, "what a delight", lines_file, "--quiet")
    rows = list(csv.reader(stdout.splitlines()))
    assert status == 0 and [row[0] for row in rows] == [
        "input",
        "what a delight",
        f"{lines_file}:1",
        f"{lines_file}:3",
    ]
    assert {row[1] for row in rows[1:]} <= {"neg", "pos"}

    status, stdout, _ = run(capsys, "evaluate", out, polarity_files / "folder", "--quiet")
    assert status == 0 and stdout.startswith("accuracy ") and " on 40 examples" in stdout


def test_text_grid_search_with_the_given_lstm_units(polarity_files, tmp_path, capsys):
    out = tmp_path / "reviews.joblib"
    status, stdout, _ = run(
        capsys,
        "fit",
        polarity_files / "folder",
        "--out",
        out,
        "--grid",
        "--lstm-units",
        "6",
        "--epochs",
        "1",
        "--n-jobs",
        "1",
        "--random-state",
        "0",
        "--quiet",
    )
    assert status == 0
    grid = json.loads((tmp_path / "reviews-report" / "params.json").read_text())["grid"]
    assert grid["param_grid"] == {
        "head__lstm_units": [6],
        "head__trainable_embedding": [False, True],
    }
    assert len(grid["candidates"]) == 2 and grid["best_params"]["head__lstm_units"] == 6
    assert lstm_units_of(out) == 6
    assert "best parameters: {'head__lstm_units': 6, 'head__trainable_embedding': " in stdout


def test_csv_of_relative_paths_reads_like_the_folder(image_folder, tmp_path):
    import shutil

    shutil.copytree(image_folder, tmp_path / "images")
    files = sorted((tmp_path / "images").glob("*/*.png"))
    (tmp_path / "labels.csv").write_text(
        "label,path\n"
        + "".join(f"{p.parent.name},images/{p.parent.name}/{p.name}\n" for p in files)
    )
    from_csv, from_folder = (
        read_labelled_data(tmp_path / "labels.csv"),
        read_labelled_data(tmp_path / "images"),
    )
    assert from_csv.modality == from_folder.modality == "image"
    assert from_csv.items == from_folder.items == [str(p) for p in files]
    assert from_csv.labels == from_folder.labels


def write_tone(path, hertz, seconds=0.25, rate=16000):
    """A sine tone as a 16-bit mono WAV file."""
    import wave

    t = np.arange(int(seconds * rate)) / rate
    samples = (0.5 * 32767 * np.sin(2 * np.pi * hertz * t)).astype("<i2")
    with wave.open(str(path), "wb") as stream:
        stream.setnchannels(1)
        stream.setsampwidth(2)
        stream.setframerate(rate)
        stream.writeframes(samples.tobytes())


def tone_folder(clips):
    """Two classes of three tones each, low and high, as WAV files; returns the folder."""
    for label, hertz in (("low", 220), ("high", 880)):
        (clips / label).mkdir(parents=True)
        for k in range(3):
            write_tone(clips / label / f"{k}.wav", hertz * (1 + k / 10))
    return clips


def _version_saved_by(tmp_path, monkeypatch, version):
    from sklearn.dummy import DummyClassifier

    monkeypatch.setattr(model_file, "__version__", version)
    path = model_file.save_model(
        tmp_path / "old.joblib", DummyClassifier().fit([[0], [1]], ["a", "b"]), modality="audio"
    )
    monkeypatch.undo()
    return path


@pytest.mark.parametrize(
    "case",
    [
        "missing data",
        "unknown file",
        "empty folder",
        "one example",
        "not a model",
        "incompatible version",
        "wrong modality",
        "bad csv header",
        "loose file",
        "head size of a text model",
        "lstm units of an image model",
        "lstm units of an audio model",
        "lstm units repeated without grid",
        "audio features of images",
        "freeze depth of spectral audio features",
    ],
)
def test_user_errors_give_one_line_and_status_1(case, image_folder, tmp_path, capsys, monkeypatch):
    data = tmp_path / "data"
    for label in ("cat", "dog"):
        (data / label).mkdir(parents=True)
        for k in range(3):
            Image.new("RGB", (8, 8), (k * 40, 0, 0)).save(data / label / f"{k}.png")
    model = tmp_path / "m.joblib"
    if case == "missing data":
        argv, message = (
            ["fit", tmp_path / "nowhere", "--out", model],
            f"'{tmp_path / 'nowhere'}' does not exist",
        )
    elif case == "unknown file":
        (data / "dog" / "notes.docx").write_text("x")
        argv = ["fit", data, "--out", model]
        message = f"'{data / 'dog' / 'notes.docx'}' is not a supported file: its extension '.docx'"
    elif case == "empty folder":
        (tmp_path / "empty" / ".hidden").mkdir(parents=True)
        argv, message = ["fit", tmp_path / "empty", "--out", model], "holds no examples"
    elif case == "one example":
        for k in (1, 2):
            (data / "dog" / f"{k}.png").unlink()
        argv = ["fit", data, "--out", model]
        message = "class 'dog' in"
    elif case == "not a model":
        model.write_bytes(b"this is no pickle")
        argv, message = (
            ["predict", model, data / "cat"],
            f"'{model}' is not an sktransfer model file",
        )
    elif case == "incompatible version":
        old = _version_saved_by(tmp_path, monkeypatch, "7.3.1")
        argv = ["evaluate", old, data]
        message = f"'{old}' was saved by sktransfer 7.3.1, which is incompatible with this sktransfer {__version__}"
    elif case == "wrong modality":
        old = _version_saved_by(tmp_path, monkeypatch, __version__)
        argv = ["evaluate", old, data]
        message = f"'{data}' holds image data, but the model '{old}' classifies audio"
    elif case == "bad csv header":
        (tmp_path / "t.csv").write_text("review,sentiment\ngood,pos\n")
        argv = ["fit", tmp_path / "t.csv", "--out", model]
        message = "has the header 'review,sentiment': expected the columns 'path,label'"
    elif case == "head size of a text model":
        (tmp_path / "t.csv").write_text("text,label\n" + "good film,pos\nbad film,neg\n" * 3)
        argv = ["fit", tmp_path / "t.csv", "--out", model, "--head-size", "64"]
        message = (
            "--head-size is for the dense heads of image and audio models; a text model's "
            "head is an LSTM: give --lstm-units"
        )
    elif case == "lstm units repeated without grid":
        (tmp_path / "t.csv").write_text("text,label\n" + "good film,pos\nbad film,neg\n" * 3)
        argv = [
            "fit",
            tmp_path / "t.csv",
            "--out",
            model,
            "--lstm-units",
            "8",
            "--lstm-units",
            "16",
        ]
        message = (
            "--head-size, --lstm-units and --trainable-layers take several values only with --grid"
        )
    elif case == "lstm units of an image model":
        argv = ["fit", data, "--out", model, "--lstm-units", "32"]
        message = "--lstm-units is for text data, not image: give --head-size"
    elif case == "audio features of images":
        argv = ["fit", data, "--out", model, "--audio-features", "pretrained"]
        message = "--audio-features is for audio data, not image"
    elif case == "freeze depth of spectral audio features":
        clips = tone_folder(tmp_path / "clips")
        argv = ["fit", clips, "--out", model, "--trainable-layers", "2"]
        message = (
            "--trainable-layers is for image data and --audio-features pretrained, "
            "not audio with spectral features"
        )
    elif case == "lstm units of an audio model":
        clips = tone_folder(tmp_path / "clips")
        argv = ["fit", clips, "--out", model, "--lstm-units", "32", "--grid"]
        message = "--lstm-units is for text data, not audio: give --head-size"
    else:
        (data / "stray.png").write_bytes((data / "cat" / "0.png").read_bytes())
        argv, message = ["fit", data, "--out", model], "lies directly in"
    status, out, err = run(capsys, *argv)
    assert status == 1 and out == ""
    last = err.splitlines()[-1]  # after any progress lines
    assert last.startswith(f"sktransfer {argv[0]}: error: ") and "Traceback" not in err
    assert message in last
    if case == "one example":
        assert (
            "has only 1 example: a held-out split and early stopping needs at least 3 per class"
            in err
        )
    assert not model.exists() or case == "not a model"


@pytest.mark.parametrize("value", ["0", "-3", "8,4", "many"])
def test_lstm_units_must_be_a_positive_integer(value, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["fit", str(tmp_path), "--out", str(tmp_path / "m.joblib"), "--lstm-units", value])
    assert exit_.value.code == 2
    assert (
        f"argument --lstm-units: {value!r} is not a number of LSTM units" in capsys.readouterr().err
    )


@pytest.mark.parametrize("features", ["sentence", "contrastive", "fine-tuned"])
def test_text_features_choose_the_sentence_encoder(features, polarity_files, tmp_path, capsys):
    out = tmp_path / "reviews.joblib"
    extra = {
        "fine-tuned": ["--trainable-layers", "0"],
        "contrastive": ["--trainable-layers", "1", "--head-size", "none"],
    }.get(features, ["--head-size", "none"])
    status, _, _ = run(
        capsys,
        "fit",
        polarity_files / "reviews.csv",
        "--out",
        out,
        "--text-features",
        features,
        *extra,
        "--epochs",
        "3",
        "--random-state",
        "0",
        "--quiet",
    )
    assert status == 0
    pipeline = model_file.load_model(out).pipeline
    expected = {
        "sentence": ["SentenceEmbedder", "DenseHeadClassifier"],
        "contrastive": ["SentenceEmbedder", "DenseHeadClassifier"],
    }.get(features, ["FineTuneTextClassifier"])
    assert [type(step).__name__ for step in pipeline.named_steps.values()] == expected
    if features == "contrastive":
        embedder = pipeline.named_steps["features"]
        assert (embedder.fine_tune, embedder.trainable_layers) == ("contrastive", 1)
        assert embedder.n_training_pairs_ > 0 and embedder.base_weights_sha256_
    status, stdout, _ = run(capsys, "predict", out, "what a delight", "--quiet")
    assert status == 0 and stdout.splitlines()[1].split(",")[1] in ("neg", "pos")
    with pytest.raises(SystemExit):
        run(capsys, "fit", polarity_files / "reviews.csv", "--text-features", "bogus")
