"""The ``on_error="nan"`` policy shared by the extractors."""

import warnings


def warn_nan_rows(messages, n_items, noun):
    """One UserWarning listing every item that became a row of NaN.

    Parameters
    ----------
    messages : sequence of str
        One message per failed item, each naming it (``"clip 3 ('a.wav'): ..."``).
    n_items : int
        Items in the call.
    noun : str
        What the items are, plural (``"clips"``, ``"images"``).
    """
    if messages:
        warnings.warn(
            f"{len(messages)} of {n_items} {noun} gave NaN features (on_error='nan'): "
            + "; ".join(messages),
            UserWarning,
            stacklevel=3,
        )
