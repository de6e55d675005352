"""What every feature extractor shares: items, fitted weights, cached extraction, on_error.

The audio, image and text extractors differ in what an item is and how its
features are computed, and in nothing else: one base class holds the rest, so
that ``X``, errors, ``on_error``, the feature cache, the fitted attributes and
pickles behave the same way for all of them.
"""

import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils.validation import check_is_fitted

from ._items import as_items, check_items, describe_item
from .cache._keys import module_versions, settings_digest
from .cache._rows import cached_rows

ON_ERROR = ("raise", "nan")
"""The ``on_error`` policies: raise a ValueError naming the item, or give a row of NaN."""


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


class FeatureExtractor(TransformerMixin, BaseEstimator):
    """Base of the extractors: a collection of items in, one row of features per item out.

    It owns what the audio, image and text extractors share, so that they
    behave alike: reading ``X`` into items (``_items``), ``fit`` that records
    ``weights_sha256_``, ``n_features_out_`` and ``feature_names_out_``,
    ``transform`` through the feature cache with the ``on_error`` policy, and
    pickling by reference.

    **Weights and pickles.** Every extractor computes its features with fixed
    *weights*: a network's, word vectors, or a filter bank. ``fit`` records
    their SHA-256. A pickle holds the weights only when they have no other
    source (learned here, random, given as an object) or ``embed_weights`` is
    true; otherwise it holds the parameters that name the source, and the
    first use after loading rebuilds the weights from it and compares the
    checksum, raising a ``ValueError`` rather than computing other numbers.

    Subclasses set ``_noun`` (what an item is) and ``_files`` (whether a
    ``str`` item is a path), and implement ``_numeric_items``, ``_check_item``,
    ``_fit_weights``, ``_load_weights``, ``_weights_digest``,
    ``_feature_names``, ``_output_settings`` and ``_extract``; those with
    weights from a source also ``_weights_source`` and ``_weights_state``.
    """

    _noun = "item"
    _files = True
    _computing_modules = ("numpy",)

    # -- items -------------------------------------------------------------------------

    def _numeric_items(self, X):
        """The items of a numeric array ``X``, or a ValueError giving the shapes allowed."""
        raise ValueError(
            f"X must be a collection of {self._noun}s, got a numeric array of shape {X.shape}"
        )

    def _check_item(self, item):
        """ValueError if ``item`` is unusable in a way seen without reading it."""

    def _items(self, X):
        """``X`` as a sequence of checked items (nothing is read or decoded)."""
        items = as_items(X, self._noun, numeric=self._numeric_items)
        check_items(items, self._noun, self._check_item, files=self._files)
        return items

    def _describe(self, index, item):
        return describe_item(self._noun, index, item, files=self._files)

    # -- fit ---------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Get the weights (load, build or learn them) and check ``X``.

        Parameters
        ----------
        X : collection of items
            As ``transform`` takes them; files are not read unless the
            extractor learns from them.
        y : ignored

        Returns
        -------
        self
        """
        self._fit(self._items(X))
        return self

    def _fit(self, items, **fit_params):
        """Fitted state from ``items``; returns what ``_fit_weights`` returned besides weights.

        ``fit_params`` (the labels of an extractor that learns from them) go to
        ``_fit_weights``.
        """
        for name in ("_weights_in_use", "_embedded_weights"):
            self.__dict__.pop(name, None)
        weights, extra = self._fit_weights(items, **fit_params)
        self._weights_in_use = weights
        self.weights_sha256_ = self._weights_digest(weights)
        names = self._feature_names(weights)
        self.n_features_out_ = len(names)
        self.feature_names_out_ = np.asarray(names, dtype=object)
        return extra

    def _fit_weights(self, items):  # pragma: no cover - abstract
        """``(weights, extra)``: the weights, and anything ``fit_transform`` may reuse."""
        raise NotImplementedError

    # -- weights -----------------------------------------------------------------------

    def _weights(self):
        """The fitted weights: rebuilt from their source (or the pickle) on first use, verified."""
        weights = self.__dict__.get("_weights_in_use")
        if weights is None:
            check_is_fitted(self)
            embedded = self.__dict__.get("_embedded_weights")
            weights = self._load_weights(embedded)
            digest = self._weights_digest(weights)
            if digest != self.weights_sha256_:
                where = (
                    "embedded in the saved model"
                    if embedded is not None
                    else f"from {self._weights_source()}"
                )
                raise ValueError(
                    f"the weights {where} have SHA-256 {digest[:16]}..., "
                    f"but this {type(self).__name__} was fitted with "
                    f"{self.weights_sha256_[:16]}...: they changed since fit. Refit, restore the "
                    "original weights, or save the model with embed_weights=True"
                )
            self._weights_in_use = weights
            self.__dict__.pop("_embedded_weights", None)
        return weights

    def _weights_source(self):
        """Where the weights come from, in words, or None when only a pickle can hold them."""
        return None

    def _weights_state(self, weights):
        """What a pickle holds of ``weights`` when they are embedded (arrays, lists)."""
        return weights

    def __getstate__(self):
        state = dict(super().__getstate__())  # object.__getstate__ gives __dict__ itself
        state.pop("_weights_in_use", None)
        state.pop("_embedded_weights", None)
        fitted = "weights_sha256_" in state
        if fitted and (getattr(self, "embed_weights", False) or self._weights_source() is None):
            state["_embedded_weights"] = self._weights_state(self._weights())
        return state

    # -- transform ---------------------------------------------------------------------

    def transform(self, X):
        """The features of every item; see the class documentation for ``X``.

        Parameters
        ----------
        X : collection of items

        Returns
        -------
        ndarray of shape (n_items, n_features_out_)
        """
        check_is_fitted(self)
        return self._transform_items(self._items(X))

    def _transform_items(self, items):
        weights = self._weights()
        settings = None
        if self.cache is not None:
            settings = settings_digest(
                {
                    "extractor": self._cache_namespace(),
                    "weights_sha256": self.weights_sha256_,
                    "output": self._output_settings(),
                    "versions": module_versions(*self._computing_modules),
                }
            )
        out, failures = cached_rows(
            self.cache,
            settings,
            items,
            lambda indices: self._extract(items, indices, weights),
            files=self._files,
        )
        warn_nan_rows(list(failures.values()), len(items), f"{self._noun}s")
        return out

    def _cache_namespace(self):
        """The name under which rows are cached: the first extractor class in the MRO."""
        for cls in type(self).__mro__:
            if FeatureExtractor in cls.__bases__:
                return cls.__name__
        return type(self).__name__

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        Parameters
        ----------
        input_features : ignored
            Present for API consistency; the inputs are items, not columns.

        Returns
        -------
        ndarray of str, shape (n_features_out_,)
        """
        check_is_fitted(self)
        return self.feature_names_out_.copy()

    # -- ONNX export (see sktransfer._onnx) ---------------------------------------------

    def _onnx_reader_part(self, context, *, samples):
        """An export part that runs this extractor in Python, before the graph.

        For an extractor whose output a later step's graph takes (spectrogram
        images): the runtime rebuilds it from its parameters and checks its
        weights' SHA-256, so that no pickle is needed.
        """
        from ._onnx import OnnxExportError, OnnxPart, TensorSpec, reader_of

        check_is_fitted(self)
        if context.input is not None or context.in_graph:
            raise OnnxExportError("it reads items in Python, so it must be the first step")
        params = self.get_params(deep=False)
        params.update(cache=None, verbose=0)
        settings = {"params": params, "weights_sha256": self.weights_sha256_}
        shape = self._row_shape() if hasattr(self, "_row_shape") else (self.n_features_out_,)
        return OnnxPart(
            output=TensorSpec("float32", (None, *shape)),
            reader=reader_of(type(self), settings),
            samples=samples,
        )

    @classmethod
    def __sktransfer_onnx_reader__(cls, settings, files):
        """The reader of an exported graph: this extractor, rebuilt and verified."""
        return ExtractorReader(cls(**settings["params"]), settings["weights_sha256"])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.allow_nan = False
        return tags


class ExtractorReader:
    """An extractor run in Python before an exported graph, batch by batch.

    Parameters
    ----------
    extractor : FeatureExtractor
        Unfitted, with the exported one's parameters.
    weights_sha256 : str
        The exported extractor's ``weights_sha256_``; weights that differ
        (another librosa, say) are a ``ValueError`` rather than other numbers.
    batch_size : int, default=32
        Items per batch given to the graph.
    """

    def __init__(self, extractor, weights_sha256, batch_size=32):
        weights = extractor._load_weights(None)
        digest = extractor._weights_digest(weights)
        if digest != weights_sha256:
            raise ValueError(
                f"the weights from {extractor._weights_source()} have SHA-256 {digest[:16]}..., "
                f"but the exported {type(extractor).__name__} had {weights_sha256[:16]}...: "
                "export the model again with this environment"
            )
        extractor.weights_sha256_ = digest
        self.extractor, self.weights, self.batch_size = extractor, weights, batch_size

    def batches(self, X):
        """``(start, rows, failures)`` of the items of ``X``, failures by absolute index."""
        items = self.extractor._items(X)
        for start in range(0, len(items), self.batch_size):
            indices = np.arange(start, min(len(items), start + self.batch_size))
            rows, failures = self.extractor._extract(items, indices, self.weights)
            yield start, rows, failures
