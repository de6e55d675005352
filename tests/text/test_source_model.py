"""Word vectors of a model fitted on source text as the vectors of a target Word2VecEmbedder."""

import joblib
import numpy as np
import pytest
from gensim.test.utils import datapath
from sklearn.base import clone
from sklearn.dummy import DummyClassifier

from sktransfer import DenseHeadClassifier, SequenceClassifier, Word2VecEmbedder
from sktransfer._model_file import save_model

LEE = datapath("lee_background.cor")  # 300 news articles: the source text


@pytest.fixture(scope="module")
def reviews(polarity):
    texts, labels = polarity
    return texts[:60] + texts[-60:], [*labels[:60], *labels[-60:]]


@pytest.fixture(scope="module")
def source(reviews):
    """A SequenceClassifier whose embedding, learned on news text, it fine-tuned on reviews."""
    return SequenceClassifier(
        embedder=Word2VecEmbedder(source_corpus=LEE, vector_size=16, random_state=0),
        trainable_embedding=True,
        lstm_units=8,
        epochs=3,
        early_stopping=False,
        learning_rate=0.05,
        random_state=0,
    ).fit(*reviews)


def target_model(pretrained):
    return SequenceClassifier(
        embedder=Word2VecEmbedder(pretrained=pretrained),
        lstm_units=8,
        epochs=2,
        early_stopping=False,
        random_state=0,
    )


def test_the_fine_tuned_embedding_becomes_the_target_s_vectors(source, reviews):
    fine_tuned = source.embedding_weights_
    learned = source.feature_encoder_.embedding_matrix_
    assert np.abs(fine_tuned[2:] - learned[2:]).max() > 1e-3  # training changed them
    embedder = Word2VecEmbedder(pretrained=source).fit(reviews[0])
    assert embedder.vocabulary_ == source.feature_encoder_.vocabulary_
    np.testing.assert_array_equal(embedder.embedding_matrix_[2:], fine_tuned[2:])
    np.testing.assert_array_equal(embedder.embedding_matrix_[:2], 0)
    # One call: the target classifier clones its embedder, which keeps the fitted source.
    target = target_model(source)
    assert clone(target).embedder.pretrained is source
    target.fit(*reviews)
    np.testing.assert_array_equal(target.embedding_weights_[2:], fine_tuned[2:])


def test_word2vec_vectors_learned_on_source_text(source, reviews):
    news = source.feature_encoder_  # a fitted Word2VecEmbedder with vectors learned on LEE
    embedder = Word2VecEmbedder(pretrained=news, output="sequences").fit(reviews[0])
    np.testing.assert_array_equal(embedder.embedding_matrix_, news.embedding_matrix_)
    tuned = Word2VecEmbedder(pretrained=news, fine_tune=True, random_state=0).fit(reviews[0])
    assert len(tuned.vocabulary_) > len(news.vocabulary_)  # the reviews' words joined


def test_pickled_target_gives_identical_predictions(source, reviews, tmp_path):
    target = target_model(source).fit(*reviews)
    expected = target.predict_proba(reviews[0][:20])
    joblib.dump(target, tmp_path / "target.joblib")
    loaded = joblib.load(tmp_path / "target.joblib")
    np.testing.assert_array_equal(loaded.predict_proba(reviews[0][:20]), expected)


def test_model_file_source_by_reference_then_checksum_error(source, reviews, tmp_path):
    path = save_model(tmp_path / "source.joblib", source, modality="text")
    embedder = Word2VecEmbedder(pretrained=path).fit(reviews[0])
    joblib.dump(embedder, tmp_path / "embedder.joblib")
    assert (tmp_path / "embedder.joblib").stat().st_size < 5_000  # the reference, no vectors
    expected = embedder.transform(reviews[0][:5])
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "embedder.joblib").transform(reviews[0][:5]), expected
    )
    save_model(path, clone(source).set_params(random_state=1).fit(*reviews), modality="text")
    with pytest.raises(ValueError, match=f"pretrained vectors '{path}'.*changed since fit"):
        joblib.load(tmp_path / "embedder.joblib").transform(reviews[0][:5])


def test_sources_that_do_not_fit_say_what_differs(source, reviews, tmp_path):
    audio_file = save_model(
        tmp_path / "audio.joblib", DummyClassifier().fit([[0], [1]], ["a", "b"]), modality="audio"
    )
    cases = [
        (audio_file, "classifies audio, not text"),
        (DenseHeadClassifier(), "is not a SequenceClassifier or Word2VecEmbedder"),
        (SequenceClassifier(), "unfitted SequenceClassifier"),
    ]
    for pretrained, message in cases:
        with pytest.raises(ValueError, match=message):
            Word2VecEmbedder(pretrained=pretrained).fit(reviews[0])
    with pytest.raises(ValueError, match="have 16 dimensions, but vector_size=50"):
        Word2VecEmbedder(pretrained=source, vector_size=50).fit(reviews[0])
