"""SentenceEmbedder(fine_tune="contrastive"): SetFit's first stage as an extractor.

Most tests train the tiny random BERT (fast); one trains the real all-MiniLM-L6-v2 on
review sentences and checks that it learned what the pairs teach.
"""

import json
import pickle

import joblib
import numpy as np
import pytest
from safetensors.numpy import load
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from sktransfer import SentenceEmbedder
from sktransfer.cache import FeatureCache
from sktransfer.text import _contrastive
from sktransfer.text._contrastive import check_training_labels, epoch_batches, sample_pairs
from tests.fresh_process import call_in_fresh_process, run_python
from tests.text.tiny_bert import numpy_forward, tiny_bert_folder, write_tiny_bert

# Two classes whose words the tiny model's vocabulary has.
TEXTS = [
    "a great film",
    "loved the story",
    "fun and good",
    "a good book",
    "great fun",
    "awful plot",
    "boring and bad",
    "hated the actor",
    "a bad movie",
    "boring awful story",
]
LABELS = ["pos"] * 5 + ["neg"] * 5


def tuned(**params):
    settings = {"encoder": tiny_bert_folder(), "fine_tune": "contrastive", "random_state": 0}
    return SentenceEmbedder(**{**settings, **params}).fit(TEXTS, LABELS)


def separation(vectors, labels):
    """Mean cosine of same-class pairs minus that of different-class pairs."""
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = np.asarray(labels)
    cosine = vectors @ vectors.T
    same = labels[:, None] == labels[None, :]
    off_diagonal = ~np.eye(len(labels), dtype=bool)
    return cosine[same & off_diagonal].mean() - cosine[~same].mean()


# -- pairs and batches -------------------------------------------------------------------


def test_pairs_are_balanced_and_labelled_by_class():
    codes = np.array([0, 0, 0, 1, 1, 2, 2])
    left, right, target = sample_pairs(codes, 6, np.random.default_rng(0))
    assert np.array_equal(target, (codes[left] == codes[right]).astype(np.float32))
    assert not np.any(left == right)
    for text in range(len(codes)):
        # 3 same-class and 3 other-class partners each (with replacement).
        assert target[left == text].tolist() == [1.0] * 3 + [0.0] * 3
    # A text alone of its class in the batch has only other-class pairs.
    left, _, target = sample_pairs(np.array([0, 0, 1]), 4, np.random.default_rng(0))
    assert target[left == 2].tolist() == [0.0, 0.0]


def test_batches_cover_every_text_once_per_epoch_and_group_lengths():
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 60, size=200)
    batches = epoch_batches(lengths, 8, rng)
    assert sorted(np.concatenate(batches).tolist()) == list(range(200))
    # Sorted by length inside windows: far less padding than batches in random order.
    padding = sum(lengths[b].max() * len(b) - lengths[b].sum() for b in batches)
    random_order = np.array_split(rng.permutation(200), 25)
    random_padding = sum(lengths[b].max() * len(b) - lengths[b].sum() for b in random_order)
    assert padding < random_padding / 2
    # A lone text left at the end joins the batch before it: still every text once.
    for n in (5, 9, 17):
        batches = epoch_batches(np.arange(n), 2, rng)
        assert sorted(np.concatenate(batches).tolist()) == list(range(n))
        assert min(map(len, batches)) >= 2


@pytest.mark.parametrize(
    "labels, message",
    [
        (["a"] * 4, r"needs 2 or more classes, y has 1 \('a'\)"),
        (["a", "a", "b", "a"], r"class 'b' has 1 document \(document 2\).*label more"),
    ],
)
def test_labels_that_make_no_pairs_are_a_clear_error(labels, message):
    with pytest.raises(ValueError, match=message):
        check_training_labels(labels)
    with pytest.raises(ValueError, match=message):
        SentenceEmbedder(encoder=tiny_bert_folder(), fine_tune=True).fit(TEXTS[:4], labels)


def test_fine_tuning_without_labels_says_to_pass_them():
    with pytest.raises(ValueError, match=r"learns from labels: call fit\(X, y\)"):
        SentenceEmbedder(encoder=tiny_bert_folder(), fine_tune="contrastive").fit(TEXTS)


def test_parameters_are_validated_in_fit_and_inert_ones_warned():
    with pytest.raises(InvalidParameterError, match="trainable_layers"):
        tuned(trainable_layers=0)
    with pytest.raises(InvalidParameterError, match="fine_tune"):
        tuned(fine_tune="setfit")
    with pytest.warns(UserWarning, match="epochs has no effect with fine_tune=False"):
        SentenceEmbedder(encoder=tiny_bert_folder(), epochs=3).fit(TEXTS)


# -- what training does ------------------------------------------------------------------


def test_training_pulls_texts_of_a_class_together():
    frozen = SentenceEmbedder(encoder=tiny_bert_folder()).fit(TEXTS)
    embedder = tuned(epochs=8, learning_rate=1e-2)
    before = separation(frozen.transform(TEXTS), LABELS)
    after = separation(embedder.transform(TEXTS), LABELS)
    assert after > before + 0.2, (before, after)
    assert embedder.training_loss_[-1] < embedder.training_loss_[0]


def test_pairs_labelled_the_wrong_way_push_classes_apart(monkeypatch):
    """The check above would catch a sampler that swaps same and different: this shows it."""

    def swapped(codes, n_pairs, rng):
        left, right, target = sample_pairs(codes, n_pairs, rng)
        return left, right, 1.0 - target

    monkeypatch.setattr(_contrastive, "sample_pairs", swapped)
    frozen = SentenceEmbedder(encoder=tiny_bert_folder()).fit(TEXTS)
    embedder = tuned(epochs=8, learning_rate=1e-2)
    assert separation(embedder.transform(TEXTS), LABELS) < separation(
        frozen.transform(TEXTS), LABELS
    )


def test_transform_computes_with_the_tuned_weights_and_exports_them():
    embedder = tuned(trainable_layers=1)
    exported = embedder.__sktransfer_export__("sentence_encoder")
    state = load(exported.files["model.safetensors"])
    ids = embedder._weights().token_ids(TEXTS, embedder.max_length_)
    expected = np.stack([numpy_forward(state, row) for row in ids])
    np.testing.assert_allclose(embedder.transform(TEXTS), expected, atol=1e-5)
    frozen = SentenceEmbedder(encoder=tiny_bert_folder()).fit(TEXTS).transform(TEXTS)
    assert np.abs(embedder.transform(TEXTS) - frozen).max() > 1e-3
    # Only the top layer learned: the embeddings and layer 0 are the pretrained ones.
    pretrained = load(open(f"{tiny_bert_folder()}/model.safetensors", "rb").read())
    changed = {n for n in state if not np.array_equal(state[n], pretrained.get(n))}
    assert changed and all(name.startswith("encoder.layer.1.") for name in changed)
    assert embedder.n_trainable_encoder_weights_ == sum(state[n].size for n in changed)
    assert SentenceEmbedder().fit(TEXTS[:1]).__sktransfer_export__("sentence_encoder") is (
        NotImplemented
    )


def test_a_tuned_encoder_is_the_source_of_a_next_stage():
    embedder = tuned()
    nxt = SentenceEmbedder(encoder=embedder).fit(TEXTS)
    np.testing.assert_array_equal(nxt.transform(TEXTS), embedder.transform(TEXTS))


def test_random_state_repeats_a_fit_and_another_gives_another():
    first, again, other = tuned(), tuned(), tuned(random_state=1)
    assert np.array_equal(first.transform(TEXTS), again.transform(TEXTS))
    assert first.weights_sha256_ == again.weights_sha256_
    assert np.array_equal(first.training_loss_, again.training_loss_)
    assert not np.allclose(first.transform(TEXTS), other.transform(TEXTS))


# Logical devices must be configured before TensorFlow initialises: a fresh process.
TWO_REPLICAS = """
import contextlib
import json
import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from sktransfer._keras._distribution import as_strategy
from sktransfer.text import _contrastive
from sktransfer.text._bert import SentenceEncoder, read_model_files
from tests.text.tiny_bert import tiny_bert_folder

files = read_model_files(tiny_bert_folder())
texts = ["a great film", "fun and good", "great fun", "awful plot", "boring and bad", "bad"]
codes = np.array([0, 0, 0, 1, 1, 1])
left, right = (a.ravel().astype("int32") for a in np.meshgrid(np.arange(6), np.arange(6)))


def train(strategy):
    # Every replica gets the whole batch and every pair: the same update as one device.
    with strategy.scope() if strategy else contextlib.nullcontext():
        encoder = SentenceEncoder(files)
    for layer in encoder.model.layers:  # no dropout, so that both runs see the same network
        for sub in (layer, getattr(layer, "_dropout_layer", None)):
            if sub is not None and hasattr(sub, "rate"):
                sub.rate = 0.0
    replicas = strategy.num_replicas_in_sync if strategy else 1
    _contrastive.epoch_batches = lambda lengths, size, rng: [np.arange(6)] * replicas
    same = lambda c: (c[left] == c[right]).astype("float32")  # noqa: E731
    _contrastive.sample_pairs = lambda c, n, rng: (left, right, same(c))
    trainer = _contrastive.ContrastiveTrainer(
        encoder.model, pad_id=0, precision="float32", strategy=strategy
    )
    losses = trainer.fit(
        encoder.token_ids(texts, 32), codes, n_pairs=2, batch_size=6, epochs=4,
        learning_rate=1e-2, warmup_fraction=0.0, rng=np.random.default_rng(0),
    )
    return losses, [np.asarray(w) for w in encoder.model.get_weights()]


one, one_weights = train(None)
two, two_weights = train(as_strategy("mirrored"))
print(json.dumps({
    "replicas": as_strategy("mirrored").num_replicas_in_sync,
    "losses": [one, two],
    "largest_difference": max(float(np.abs(a - b).max()) for a, b in zip(one_weights, two_weights)),
    "largest_step": max(float(np.abs(a - b).max()) for a, b in zip(one_weights, SentenceEncoder(files).model.get_weights())),
}))
"""


def test_two_replicas_given_the_same_batch_train_as_one_device():
    """Each replica's gradients are summed and scaled, as Keras does: with the same batch on
    both replicas, mirrored training takes one device's steps (to float rounding)."""
    result = json.loads(run_python("-c", TWO_REPLICAS).stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2
    np.testing.assert_allclose(*result["losses"], rtol=1e-5)
    assert result["largest_step"] > 0.01  # the weights moved...
    assert result["largest_difference"] < 1e-4  # ...by the same steps


def test_distributed_training_on_one_replica_matches_one_device():
    np.testing.assert_allclose(
        tuned(distribution="mirrored").transform(TEXTS), tuned().transform(TEXTS), atol=1e-5
    )


# -- cache, pickles, pipelines ----------------------------------------------------------


def test_the_cache_keeps_tuned_rows_apart_from_frozen_ones_and_other_fits(tmp_path):
    cache = FeatureCache(tmp_path / "cache")
    frozen = SentenceEmbedder(encoder=tiny_bert_folder(), cache=cache).fit(TEXTS)
    frozen_rows = frozen.transform(TEXTS)  # the cache now holds every text's frozen row
    for seed in (0, 1):
        embedder = tuned(random_state=seed)
        expected = embedder.transform(TEXTS)
        cached = clone(embedder).set_params(cache=cache)
        cached.__dict__.update(
            {k: v for k, v in embedder.__dict__.items() if k.endswith("_") or k[0] == "_"}
        )
        got = cached.transform(TEXTS)
        np.testing.assert_array_equal(got, expected)
        assert np.abs(got - frozen_rows).max() > 1e-3
        np.testing.assert_array_equal(cached.transform(TEXTS), expected)  # from the cache


def test_a_pickle_holds_the_changed_weights_and_checks_the_pretrained_files(tmp_path):
    folder = write_tiny_bert(tmp_path / "bert")
    embedder = SentenceEmbedder(
        encoder=folder, fine_tune="contrastive", trainable_layers=1, random_state=0
    ).fit(TEXTS, LABELS)
    state = embedder.__getstate__()["_embedded_weights"]
    assert sorted(state) == ["tuned"]
    assert state["tuned"] and all(n.startswith("encoder.layer.1.") for n in state["tuned"])
    restored = pickle.loads(pickle.dumps(embedder))
    np.testing.assert_array_equal(restored.transform(TEXTS), embedder.transform(TEXTS))
    write_tiny_bert(folder, seed=1)  # the pretrained files change after pickling
    with pytest.raises(ValueError, match="pretrained encoder's files .* changed since fit"):
        pickle.loads(pickle.dumps(embedder)).transform(TEXTS)
    embedded = embedder.set_params(embed_weights=True)
    assert sorted(embedded.__getstate__()["_embedded_weights"]) == ["base", "tuned"]


def test_a_saved_tuned_pipeline_predicts_the_same_in_a_fresh_process(tmp_path):
    pipeline = make_pipeline(
        SentenceEmbedder(encoder=tiny_bert_folder(), fine_tune=True, random_state=0),
        LogisticRegression(),
    ).fit(TEXTS, LABELS)
    got = call_in_fresh_process(pipeline, "predict_proba", TEXTS, tmp_path)
    np.testing.assert_array_equal(got, pipeline.predict_proba(TEXTS))
    joblib.dump(pipeline, tmp_path / "again.joblib")
    assert np.array_equal(
        joblib.load(tmp_path / "again.joblib").predict_proba(TEXTS), pipeline.predict_proba(TEXTS)
    )


def test_grid_search_chooses_between_frozen_and_tuned():
    pipeline = make_pipeline(
        SentenceEmbedder(encoder=tiny_bert_folder(), random_state=0), LogisticRegression()
    )
    search = GridSearchCV(
        pipeline,
        {"sentenceembedder__fine_tune": [False, "contrastive"]},
        cv=2,
        error_score="raise",
    ).fit(TEXTS, LABELS)
    assert len(search.cv_results_["mean_test_score"]) == 2
    assert search.best_estimator_.predict(TEXTS).shape == (len(TEXTS),)


# -- the real encoder -------------------------------------------------------------------


def centroid_margins(embedder, X_train, y_train, X, y):
    """For each text of ``X``: its cosine to its class's centroid (of ``X_train``) minus the
    largest to another class's centroid."""
    train, vectors = embedder.transform(X_train), embedder.transform(X)
    classes = np.unique(y_train)
    centroids = np.stack([train[y_train == c].mean(axis=0) for c in classes])
    cosine = vectors @ (centroids / np.linalg.norm(centroids, axis=1, keepdims=True)).T
    own = np.searchsorted(classes, y)
    others = np.where(np.arange(len(classes)) == own[:, None], -np.inf, cosine)
    return cosine[np.arange(len(y)), own] - others.max(axis=1)


def test_minilm_learns_to_pull_unseen_review_sentences_towards_their_class(polarity):
    """Trained on 8 sentences per polarity, held-out sentences move towards their class."""
    texts, labels = polarity
    rng = np.random.default_rng(0)
    train = np.concatenate(
        [rng.choice(np.flatnonzero(labels == c), 8, replace=False) for c in ("neg", "pos")]
    )
    held_out = np.setdiff1d(np.arange(len(texts)), train)[::4]
    X, y = [texts[i] for i in train], labels[train]
    unseen = [texts[i] for i in held_out]
    before = centroid_margins(SentenceEmbedder().fit(X), X, y, unseen, labels[held_out])
    tuned = SentenceEmbedder(fine_tune="contrastive", random_state=0).fit(X, y)
    after = centroid_margins(tuned, X, y, unseen, labels[held_out])
    # Measured: mean margin 0.006 -> 0.061, nearer their own class 50% -> 63%.
    assert after.mean() > before.mean() + 0.01, (before.mean(), after.mean())
    assert (after > 0).mean() > (before > 0).mean() + 0.05
