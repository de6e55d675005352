"""The modalities: the kinds of input a model takes, each with its file extensions.

One list for the whole package: the model file's metadata, the command line's
``--modality`` choices and what the server accepts take their values from here.
"""

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")
AUDIO_EXTENSIONS = (".aif", ".aiff", ".au", ".flac", ".mp3", ".oga", ".ogg", ".wav")
TEXT_EXTENSIONS = (".txt",)
EXTENSIONS = {"image": IMAGE_EXTENSIONS, "audio": AUDIO_EXTENSIONS, "text": TEXT_EXTENSIONS}
MODALITIES = tuple(EXTENSIONS)
"""The kinds of input, each with the file extensions that select it."""
