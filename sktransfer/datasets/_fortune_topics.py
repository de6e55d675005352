"""Short English texts filed by topic, from Debian's ``fortunes`` package."""

from pathlib import Path

FORTUNE_DIR = "/usr/share/games/fortunes"
FORTUNE_TOPICS = ("computers", "food", "politics", "science", "sports")


def load_fortune_topics(path=None, *, topics=FORTUNE_TOPICS, max_words=60):
    """Quotations, jokes and aphorisms labelled by the topic file they are filed in.

    Debian's ``fortunes`` package (the BSD ``fortune-mod`` data) installs one
    plain-text file per topic in ``/usr/share/games/fortunes``, each a list of
    short texts ("fortunes") separated by lines holding a single ``%``. The
    topic a text was filed under is its label. With the default five topics
    and texts of at most 60 words there are 2,308 texts: computers 849,
    food 173, politics 647, science 530, sports 109 (median 14-19 words).

    Parameters
    ----------
    path : str, path-like or None, default=None
        A folder holding one file of that format per topic, named after the
        topic; None: the package's ``/usr/share/games/fortunes``.
    topics : sequence of str, default=FORTUNE_TOPICS
        The files to read, and so the labels. The ``fortunes`` package also
        has "art", "education", "law", "love", "medicine", "work", among
        others.
    max_words : int or None, default=60
        Leave out texts longer than this many words; None: keep all.

    Returns
    -------
    texts : list of str
        Each text on one line, its runs of white space made single spaces,
        attributions ("-- Author") kept; in the order of ``topics``, then of
        the files. A text filed under two of the topics is left out.
    labels : list of str
        The topic of each text.

    Raises
    ------
    FileNotFoundError
        If a topic's file is missing, with the command that installs it.
    ValueError
        If a file is not UTF-8 text, naming the file and the line, or holds
        no texts.

    Examples
    --------
    >>> texts, labels = load_fortune_topics()
    >>> len(texts), [labels.count(topic) for topic in FORTUNE_TOPICS]
    (2308, [849, 173, 647, 530, 109])
    >>> labels[1669], texts[1669]
    ('science', '1 + 1 = 3, for large values of 1.')
    """
    folder = Path(FORTUNE_DIR if path is None else path)
    by_topic = {}
    for topic in topics:
        file = folder / topic
        if not file.is_file():
            raise FileNotFoundError(
                f"{file} not found: the topic files come with Debian's fortunes package (apt-get install fortunes)"
            )
        by_topic[topic] = _read_fortunes(file)
    count = {}
    for texts in by_topic.values():
        for text in set(texts):
            count[text] = count.get(text, 0) + 1
    texts, labels = [], []
    for topic, found in by_topic.items():
        for text in found:
            if count[text] > 1 or (max_words is not None and len(text.split()) > max_words):
                continue
            texts.append(text)
            labels.append(topic)
    return texts, labels


def _read_fortunes(file):
    """The texts of one fortune file, each on one line."""
    texts, lines = [], []
    with open(file, "rb") as stream:
        for number, raw in enumerate(stream, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ValueError(
                    f"{file}, line {number}: not UTF-8 text ({error.reason} at byte {error.start}), got {raw[:40]!r}"
                ) from None
            if line.strip() == "%":
                texts.append(" ".join(" ".join(lines).split()))
                lines = []
            else:
                lines.append(line)
    texts.append(" ".join(" ".join(lines).split()))
    texts = [text for text in texts if text]
    if not texts:
        raise ValueError(f"{file}: no texts, expected texts separated by lines of a single '%'")
    return texts
