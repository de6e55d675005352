"""The feature cache: each item's features computed once, on disk or in object storage.

``FeatureCache`` is the public class (every extractor's ``cache=`` takes one
or a folder); the private modules hold how a row's key is made (``_keys``)
and where rows are kept (``_store``: a local folder or an fsspec URL).
"""

from ._feature_cache import FeatureCache

# Its public name in messages (the ``cache`` parameter's constraint error) and in pickles.
FeatureCache.__module__ = __name__

__all__ = ["FeatureCache"]
