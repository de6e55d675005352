"""The modalities: the kinds of input a model takes, each with its file extensions.

One list for the whole package: the model file's metadata, the command line's
``--modality`` choices and what the server accepts take their values from here.
Each estimator that takes inputs of one modality says so in its class
attribute ``_sktransfer_modality`` (``"image"``, ``"audio"`` or ``"text"``),
which :func:`modality_of` reads: no caller needs to know the classes.
"""

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")
AUDIO_EXTENSIONS = (".aif", ".aiff", ".au", ".flac", ".mp3", ".oga", ".ogg", ".wav")
TEXT_EXTENSIONS = (".txt",)
EXTENSIONS = {"image": IMAGE_EXTENSIONS, "audio": AUDIO_EXTENSIONS, "text": TEXT_EXTENSIONS}
MODALITIES = tuple(EXTENSIONS)
"""The kinds of input, each with the file extensions that select it."""


def modality_of(estimator):
    """What ``estimator`` (or a pipeline's first step) takes, or None when it does not say.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktransfer import AudioSpectralFeatures
    >>> modality_of(make_pipeline(AudioSpectralFeatures(), LogisticRegression()))
    'audio'
    >>> modality_of(LogisticRegression()) is None
    True
    """
    first = estimator.steps[0][1] if hasattr(estimator, "steps") else estimator
    return getattr(first, "_sktransfer_modality", None)
