"""KerasImageFeatures and VGGImageFeatures: inputs, outputs, errors, sharing, persistence.

Most tests use EfficientNet-Lite0 with its real ImageNet weights (shipped by
the lite0 extra) at a small input size, which keeps them fast; the Keras
backbones are built with ``weights=None`` since Keras' own ImageNet download
needs internet.
"""

import os

import joblib
import numpy as np
import pytest
from PIL import Image
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sktransfer import KerasImageFeatures, VGGImageFeatures
from sktransfer.image import _backbones
from sktransfer.image._io import iter_batches

from ..fresh_process import run_python

SIZE = 64  # input size for the fast tests


def lite0(**kw):
    kw.setdefault("input_size", SIZE)
    return KerasImageFeatures(backbone="efficientnet_lite0", **kw)


def random_init(backbone, **kw):
    return KerasImageFeatures(backbone=backbone, weights=None, **kw)


# random_init's "not pretrained" warning is tested once, in test_weights_none_warns.
pytestmark = pytest.mark.filterwarnings(
    "ignore:(KerasImageFeatures|VGGImageFeatures)\\(weights=None\\):UserWarning"
)


@pytest.fixture(scope="module")
def photo():
    """A real photo (scikit-image's astronaut), 512 x 512 RGB."""
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="module")
def image_files(tmp_path_factory, photo):
    """The same photo in every format and mode the transformer reads, plus bad files."""
    root = tmp_path_factory.mktemp("images")
    rgb = Image.fromarray(photo).resize((96, 80))
    files = {}

    def save(name, img, **kw):
        path = root / name
        img.save(path, **kw)
        files[name] = str(path)

    save("rgb.jpg", rgb, quality=95)
    save("rgb.png", rgb)
    save("rgb.bmp", rgb)
    save("rgb.webp", rgb, lossless=True)
    save("rgb.tiff", rgb)
    frames = [rgb.convert("P", palette=Image.Palette.ADAPTIVE), Image.new("P", rgb.size)]
    save("anim.gif", frames[0], save_all=True, append_images=frames[1:])
    save("gray.png", rgb.convert("L"))
    save("gray16.png", Image.fromarray(np.asarray(rgb.convert("L"), np.uint16) * 257))
    rgba = rgb.convert("RGBA")
    rgba.putalpha(255)
    save("rgba.png", rgba)
    save("palette.png", rgb.convert("P", palette=Image.Palette.ADAPTIVE))
    save("cmyk.jpg", rgb.convert("CMYK"), quality=95)
    # The photo stored rotated, with EXIF saying how to turn it upright (6:
    # rotate 90 degrees clockwise to view).
    exif = Image.Exif()
    exif[0x0112] = 6
    save("rotated.jpg", rgb.transpose(Image.Transpose.ROTATE_90), quality=95, exif=exif)
    save("upright.jpg", rgb, quality=95)
    big = Image.fromarray(photo)
    save("big.jpg", big, quality=95)
    (root / "empty.jpg").write_bytes(b"")
    files["empty.jpg"] = str(root / "empty.jpg")
    data = (root / "rgb.jpg").read_bytes()
    (root / "truncated.jpg").write_bytes(data[: len(data) // 3])
    files["truncated.jpg"] = str(root / "truncated.jpg")
    (root / "notes.txt").write_text("not an image\n" * 20)
    files["notes.txt"] = str(root / "notes.txt")
    files["missing.png"] = str(root / "missing.png")
    return files


# --- backbones -------------------------------------------------------------


@pytest.mark.parametrize(
    "backbone, size, n_features",
    [
        ("vgg16", 32, 512),
        ("vgg19", 32, 512),
        ("resnet50", 32, 2048),
        ("mobilenet_v2", 32, 1280),
        ("inception_v3", 75, 2048),
        ("efficientnet_b0", 32, 1280),
        ("efficientnet_lite0", 32, 1280),
    ],
)
def test_backbones_give_their_feature_size(backbone, size, n_features):
    images = np.random.default_rng(0).integers(0, 256, (3, 40, 50, 3), dtype=np.uint8)
    features = random_init(backbone, input_size=size).fit(images)
    out = features.transform(images)
    assert out.shape == (3, n_features) == (3, features.n_features_out_)
    assert out.dtype == np.float32 and np.isfinite(out).all()
    assert _backbones.BACKBONES[backbone].features == n_features


def test_vgg_image_features_defaults_to_vgg16_and_offers_vgg19():
    assert VGGImageFeatures().backbone == "vgg16"
    images = np.zeros((2, 32, 32, 3), np.uint8)
    with pytest.warns(UserWarning, match="not pretrained"):
        out = VGGImageFeatures(
            backbone="vgg19", weights=None, input_size=32, pooling="flatten"
        ).fit(images)
    assert out.transform(images).shape == (2, 512)  # 1 x 1 x 512 at 32 px
    with pytest.raises(ValueError, match="backbone"):
        VGGImageFeatures(backbone="resnet50").fit(images)


def test_flatten_and_layer():
    images = np.zeros((2, 64, 64, 3), np.uint8)
    flat = random_init("vgg16", input_size=64, pooling="flatten").fit(images)
    assert flat.transform(images).shape == (2, 2 * 2 * 512)
    cut = random_init("vgg16", input_size=64, layer="block3_pool", pooling="max").fit(images)
    assert cut.transform(images).shape == (2, 256)
    assert cut.get_feature_names_out()[0] == "vgg16_block3_pool_max_0"
    with pytest.raises(ValueError, match="no layer 'block9_pool'.*block1_conv1"):
        random_init("vgg16", input_size=64, layer="block9_pool").fit(images)


def test_unknown_backbone_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown backbone 'vgg17'.*efficientnet_lite0.*vgg16"):
        KerasImageFeatures(backbone="vgg17").fit(np.zeros((1, 32, 32, 3), np.uint8))


def test_input_size_below_the_backbone_minimum():
    with pytest.raises(ValueError, match="inception_v3.*at least 75x75"):
        random_init("inception_v3", input_size=64).fit(np.zeros((1, 80, 80, 3), np.uint8))


# --- inputs ----------------------------------------------------------------


def test_every_format_and_mode_gives_the_photo(image_files):
    names = [
        "rgb.png",
        "rgb.bmp",
        "rgb.webp",
        "rgb.tiff",
        "rgb.jpg",
        "anim.gif",
        "gray.png",
        "gray16.png",
        "rgba.png",
        "palette.png",
        "cmyk.jpg",
        "rotated.jpg",
        "upright.jpg",
    ]
    features = lite0().fit([image_files[n] for n in names])
    out = dict(zip(names, features.transform([image_files[n] for n in names])))
    reference = out["rgb.png"]

    def similarity(name):
        a, b = out[name], reference
        return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))

    for name in ("rgb.bmp", "rgb.webp", "rgb.tiff"):  # lossless: the same pixels
        np.testing.assert_allclose(out[name], reference, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out["gray16.png"], out["gray.png"])
    np.testing.assert_array_equal(out["rgba.png"], reference)  # opaque alpha
    for name in ("rgb.jpg", "anim.gif", "palette.png", "cmyk.jpg", "rotated.jpg"):
        assert similarity(name) > 0.98, name
    # EXIF orientation honoured: the rotated file reads as the upright photo,
    # unlike the same pixels without their EXIF tag.
    stored = np.asarray(Image.open(image_files["rotated.jpg"]))
    ignored = features.transform(stored[None])[0]
    assert ignored @ reference / np.linalg.norm(ignored) / np.linalg.norm(reference) < 0.9
    gray = np.asarray(Image.open(image_files["gray.png"]))
    np.testing.assert_allclose(out["gray.png"], features.transform([gray])[0], rtol=1e-5, atol=1e-5)


def test_files_pil_images_and_arrays_agree(image_files):
    path = image_files["rgb.png"]
    pil = Image.open(path)
    pixels = np.asarray(pil.convert("RGB"))
    features = lite0().fit([path])
    reference = features.transform([path])
    np.testing.assert_array_equal(features.transform([pil]), reference)
    for X in ([pixels], pixels[None]):
        np.testing.assert_allclose(features.transform(X), reference, rtol=1e-5, atol=1e-5)
    # Float pixels are resized in float, without rounding to 8 bits.
    for X in ([pixels.astype(np.float32)], pixels[None].astype(np.float64)):
        out = features.transform(X)[0]
        assert out @ reference[0] / np.linalg.norm(out) / np.linalg.norm(reference) > 0.99
    # At the input size, nothing is resized: every form gives the same features.
    small = np.asarray(pil.convert("RGB").resize((SIZE, SIZE)))
    reference = features.transform(small[None])
    for X in (
        [small],
        [small.astype(np.float32)],
        small[None].astype(np.float64),
        [Image.fromarray(small)],
    ):
        np.testing.assert_allclose(features.transform(X), reference, rtol=1e-5, atol=1e-5)


def test_containers_of_paths(image_files):
    from pathlib import Path

    import pandas as pd

    paths = [image_files["rgb.png"], image_files["rgb.jpg"]]
    features = lite0().fit(paths)
    reference = features.transform(paths)
    for X in (
        np.array(paths),
        pd.Series(paths),
        tuple(Path(p) for p in paths),
        np.array(paths, dtype=object),
    ):
        np.testing.assert_array_equal(features.transform(X), reference)


def test_sklearn_contract():
    from sklearn.exceptions import NotFittedError

    features = VGGImageFeatures(backbone="vgg19", pooling="max", input_size=48)
    assert clone(features).get_params() == features.get_params()
    assert features.get_params()["backbone"] == "vgg19"
    with pytest.raises(NotFittedError):
        features.transform(np.zeros((1, 48, 48, 3), np.uint8))
    with pytest.raises(ValueError, match="pooling"):
        lite0(pooling="avg").fit(np.zeros((1, SIZE, SIZE, 3), np.uint8))
    with pytest.raises(ValueError, match="input_size"):
        lite0(input_size=(64, 64, 3)).fit(np.zeros((1, SIZE, SIZE, 3), np.uint8))


def test_grayscale_arrays_and_rgba_arrays(photo):
    gray = np.asarray(Image.fromarray(photo).convert("L").resize((SIZE, SIZE)))
    features = lite0().fit(gray[None])
    as_rgb = features.transform(np.repeat(gray[None, ..., None], 3, axis=3))
    np.testing.assert_array_equal(features.transform(gray[None]), as_rgb)  # (N, H, W)
    np.testing.assert_array_equal(features.transform([gray]), as_rgb)  # (H, W) item
    np.testing.assert_array_equal(features.transform(gray[None, ..., None]), as_rgb)
    rgb = np.repeat(gray[..., None], 3, axis=2)
    rgba = np.dstack([rgb, np.full(gray.shape, 255, np.uint8)])
    np.testing.assert_array_equal(features.transform(rgba[None]), as_rgb)
    transparent = rgba.copy()
    transparent[..., 3] = 0  # laid over white
    white = features.transform(np.full((1, SIZE, SIZE, 3), 255, np.uint8))
    np.testing.assert_array_equal(features.transform(transparent[None]), white)


def test_differently_sized_arrays_and_resize_policies(photo):
    wide = photo[100:300]  # 200 x 512
    tall = photo[:, 200:300]  # 512 x 100
    for resize in ("stretch", "center_crop", "pad"):
        features = lite0(resize=resize).fit([wide, tall])
        out = features.transform([wide, tall, photo])
        assert out.shape == (3, 1280) and np.isfinite(out).all()
    # center_crop of a square photo is the stretch of it; pad of a wide one
    # leaves black bands.
    crop = lite0(resize="center_crop").fit([photo]).transform([photo])
    np.testing.assert_array_equal(crop, lite0().fit([photo]).transform([photo]))
    stretch = lite0().fit([wide]).transform([wide])
    pad = lite0(resize="pad").fit([wide]).transform([wide])
    assert not np.allclose(stretch, pad)


def test_resize_geometry():
    from sktransfer.image._io import _fit

    img = Image.fromarray(np.arange(40 * 20, dtype=np.uint8).reshape(20, 40))  # 40 wide, 20 tall
    assert _fit(img, (10, 10), "stretch").size == (10, 10)
    crop = np.asarray(_fit(img, (10, 10), "center_crop"))
    assert crop.shape == (10, 10)
    padded = np.asarray(_fit(Image.fromarray(np.full((20, 40), 200, np.uint8)), (10, 10), "pad"))
    assert (padded[:2] == 0).all() and (padded[-2:] == 0).all() and (padded[3:7] == 200).all()


def test_large_jpeg_decodes_at_reduced_scale_to_nearly_the_same_features(image_files, photo):
    features = lite0().fit([image_files["big.jpg"]])
    from_file = features.transform([image_files["big.jpg"]])[0]
    from_array = features.transform([photo])[0]
    cosine = from_file @ from_array / np.linalg.norm(from_file) / np.linalg.norm(from_array)
    assert cosine > 0.97


def test_pandas_output_and_feature_names():
    images = np.zeros((2, SIZE, SIZE, 3), np.uint8)
    features = lite0().set_output(transform="pandas").fit(images)
    frame = features.transform(images)
    assert list(frame.columns) == [f"efficientnet_lite0_mean_{i}" for i in range(1280)]
    assert frame.shape == (2, 1280)


def test_batches_give_the_same_features_as_one_pass(photo):
    images = [
        np.asarray(Image.fromarray(photo).rotate(a).resize((SIZE, SIZE))) for a in range(0, 70, 10)
    ]
    one = lite0(batch_size=32).fit(images).transform(images)
    np.testing.assert_allclose(
        lite0(batch_size=3, n_jobs=2).fit(images).transform(images), one, rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(
        lite0(batch_size=2).fit(images).transform(np.stack(images)), one, rtol=1e-5, atol=1e-5
    )


def test_verbose_shows_progress(capsys):
    images = np.zeros((3, SIZE, SIZE, 3), np.uint8)
    lite0(verbose=1).fit(images).transform(images)
    assert "image features" in capsys.readouterr().err


def test_memory_is_bounded_by_the_batch_not_by_the_number_of_images():
    """Decoding runs ahead of inference by a few batches, never the whole input."""
    decoded = []

    class Images:
        def __len__(self):
            return 1000

        def __getitem__(self, i):
            decoded.append(i)
            return np.zeros((8, 8, 3), np.uint8)

    seen = 0
    for _start, batch, failures in iter_batches(
        Images(), target=(8, 8), policy="stretch", batch_size=10, n_workers=4
    ):
        seen += len(batch)
        assert len(decoded) <= seen + 3 * 10  # at most 3 batches beyond the consumer
        assert batch.shape == (10, 8, 8, 3) and not failures
    assert seen == 1000


def test_the_consumer_decodes_what_no_thread_has_started():
    """A batch the threads are behind on is finished by the caller, from its end."""
    import threading

    main = threading.current_thread()
    started, helped = threading.Event(), threading.Event()
    decoded_by = {}

    class Images:
        def __len__(self):
            return 4

        def __getitem__(self, i):
            decoded_by[i] = threading.current_thread() is main
            if decoded_by[i]:
                assert started.wait(timeout=10)
                helped.set()
            elif i == 0:  # the only thread is held on the first image
                started.set()
                assert helped.wait(timeout=10), "the caller waited instead of decoding"
            return np.full((8, 8, 3), i, np.uint8)

    ((start, batch, failures),) = iter_batches(
        Images(), target=(8, 8), policy="stretch", batch_size=4, n_workers=1
    )
    assert start == 0 and not failures
    np.testing.assert_array_equal(batch[:, 0, 0, 0], [0, 1, 2, 3])
    assert decoded_by == {0: False, 1: True, 2: True, 3: True}


def test_errors_come_in_order_whoever_decodes(image_files):
    """Two bad files in a batch: the first one is named, as on any thread."""
    paths = [image_files["rgb.png"], image_files["empty.jpg"], image_files["truncated.jpg"]]
    for n_jobs in (1, 2):
        with pytest.raises(ValueError, match=r"image 1 .*empty\.jpg.*the file is empty"):
            lite0(n_jobs=n_jobs).fit(paths[:1]).transform(paths)


# --- bad input -------------------------------------------------------------


@pytest.mark.parametrize(
    "name, message",
    [
        ("missing.png", "no such file"),
        ("empty.jpg", "the file is empty \\(0 bytes\\)"),
        ("truncated.jpg", "cannot decode.*truncated"),
        ("notes.txt", "not an image file"),
    ],
)
def test_bad_files_are_named(image_files, name, message):
    paths = [image_files["rgb.png"], image_files[name]]
    features = lite0().fit(paths)
    with pytest.raises(ValueError, match=f"^image 1 \\('.*{name}'\\): {message}"):
        features.transform(paths)
    with pytest.warns(UserWarning, match=f"1 of 2 images gave NaN.*{name}"):
        out = lite0(on_error="nan").fit(paths).transform(paths)
    assert np.isfinite(out[0]).all() and np.isnan(out[1]).all()


def test_bad_arrays_are_named():
    good = np.zeros((SIZE, SIZE, 3), np.float32)
    nan = good.copy()
    nan[3, 4, 1] = np.nan
    features = lite0().fit([good])
    with pytest.raises(ValueError, match="image 1 \\(array of shape.*NaN"):
        features.transform([good, nan])
    with pytest.raises(ValueError, match="image 1 \\(array of shape.*NaN"):
        features.transform(np.stack([good, nan]))  # the batch fast path too
    with pytest.raises(ValueError, match="image 2 \\(array of shape \\(5, 5, 5\\)\\).*channels"):
        features.transform([good, good, np.zeros((5, 5, 5))])
    with pytest.raises(ValueError, match="image 0 \\(array of shape \\(0, 5, 3\\)\\).*empty"):
        features.transform([np.zeros((0, 5, 3))])
    with pytest.raises(ValueError, match="image 0 \\(int\\)"):
        features.transform([3])
    with pytest.raises(ValueError, match="shape \\(2, 3\\).*4-D"):
        features.transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="shape \\(1, 2, 3, 4, 5\\)"):
        features.transform(np.zeros((1, 2, 3, 4, 5)))
    with pytest.raises(ValueError, match="single str"):
        features.transform("photo.jpg")


# Keras' own save_weights trips numpy 2's __array__ deprecation, once per variable.
@pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy:DeprecationWarning"
)
def test_weights_files(tmp_path):
    images = np.random.default_rng(1).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    network = _backbones.feature_network(
        _backbones.BACKBONES["efficientnet_lite0"], "imagenet", (32, 32), None, "mean"
    )
    weights = tmp_path / "lite0.weights.h5"
    network.model.save_weights(weights)
    model_file = tmp_path / "lite0.keras"
    network.model.save(model_file)
    reference = lite0(input_size=32).fit(images).transform(images)
    for path in (weights, str(model_file)):
        np.testing.assert_allclose(
            lite0(input_size=32, weights=path).fit(images).transform(images),
            reference,
            rtol=1e-5,
            atol=1e-6,
        )
    from sktransfer.image._lite0 import shipped_weights_path

    np.testing.assert_array_equal(
        lite0(input_size=32, weights=shipped_weights_path()).fit(images).transform(images),
        reference,
    )
    with pytest.raises(
        ValueError, match=f"weights file {weights} does not fit backbone 'mobilenet_v2'"
    ):
        KerasImageFeatures(backbone="mobilenet_v2", weights=weights, input_size=32).fit(images)
    with pytest.raises(ValueError, match="lite0.keras does not fit backbone 'vgg16'.*block1_conv1"):
        KerasImageFeatures(backbone="vgg16", weights=model_file, input_size=32).fit(images)
    with pytest.raises(ValueError, match="does not exist"):
        KerasImageFeatures(backbone="vgg16", weights=tmp_path / "nope.h5").fit(images)


# --- laziness, sharing, persistence ----------------------------------------


def test_init_is_light_and_clones_share_one_network(monkeypatch):
    builds = []
    real = _backbones.FeatureNetwork

    def counting(*args, **kwargs):
        builds.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(_backbones, "FeatureNetwork", counting)
    _backbones.clear_cache()
    features = lite0(input_size=48)
    assert builds == []  # nothing built in __init__
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (12, 48, 48, 3), dtype=np.uint8)
    y = np.arange(12) % 2
    search = GridSearchCV(
        make_pipeline(features, LogisticRegression()),
        {"logisticregression__C": [0.1, 1.0, 10.0]},
        cv=2,
    )
    search.fit(X, y)
    assert len(builds) == 1  # 7 fits, one network
    clone(features).fit(X)
    assert len(builds) == 1


def test_fitted_pipeline_survives_joblib_into_a_fresh_process(tmp_path, photo):
    images = np.stack(
        [
            np.asarray(Image.fromarray(photo).rotate(a).resize((SIZE, SIZE)))
            for a in (0, 90, 180, 270)
        ]
    )
    labels = np.array([0, 1, 0, 1])
    model = make_pipeline(lite0(), LogisticRegression()).fit(images, labels)
    features = model[0].transform(images)
    model_path = tmp_path / "model.joblib"
    joblib.dump(model, model_path)
    assert os.path.getsize(model_path) < 100_000  # parameters, not the network
    np.save(tmp_path / "images.npy", images)
    code = (
        "import joblib, numpy as np, sys\n"
        f"model = joblib.load({str(model_path)!r})\n"
        f"images = np.load({str(tmp_path / 'images.npy')!r})\n"
        f"np.save({str(tmp_path / 'out.npy')!r}, model[0].transform(images))\n"
        f"np.save({str(tmp_path / 'proba.npy')!r}, model.predict_proba(images))\n"
    )
    run_python("-c", code)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), features, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        np.load(tmp_path / "proba.npy"), model.predict_proba(images), rtol=1e-5, atol=1e-6
    )


def test_weights_none_warns():
    with pytest.warns(UserWarning, match="randomly initialised.*not pretrained"):
        KerasImageFeatures(backbone="efficientnet_lite0", weights=None, input_size=32).fit(
            np.zeros((1, 32, 32, 3), np.uint8)
        )
