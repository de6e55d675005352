"""The labelled movie-review sentences that come with gensim."""


def load_polarity(path=None):
    """Movie-review sentences labelled positive or negative, from gensim's test data.

    gensim ships ``pang_lee_polarity.cor``: 200 sentences of Pang and Lee's
    sentence polarity data (100 positive, 100 negative), one a line, each
    after a ``__label__pos`` or ``__label__neg`` tag, lower-cased and
    tokenized, encoded in cp1252.

    Parameters
    ----------
    path : str, path-like or None, default=None
        A file in that format; None: the one inside the installed gensim.

    Returns
    -------
    texts : list of str
    labels : list of str
        "pos" or "neg".

    Raises
    ------
    ValueError
        If a line lacks the ``__label__`` tag, naming the file and the line.

    Examples
    --------
    >>> texts, labels = load_polarity()
    >>> len(texts), labels.count("pos")
    (200, 100)
    >>> labels[0], texts[0]
    ('neg', 'simplistic , silly and tedious .')
    """
    if path is None:
        from gensim.test.utils import datapath

        path = datapath("pang_lee_polarity.cor")
    texts, labels = [], []
    with open(path, encoding="cp1252") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            tag, _, text = line.strip().partition(" ")
            if not tag.startswith("__label__") or not text:
                raise ValueError(
                    f"{path}, line {number}: expected '__label__<label> <text>', got {line[:40]!r}"
                )
            labels.append(tag.removeprefix("__label__"))
            texts.append(text)
    return texts, labels
