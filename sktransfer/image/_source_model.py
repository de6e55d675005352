"""A fine-tuned image model of a source task as the backbone of a target model.

``KerasImageFeatures(weights=...)`` and ``FineTuneImageClassifier(weights=...)``
take, besides ImageNet and weights files, a fitted ``FineTuneImageClassifier``
(or a fitted pipeline ending in one, or the model file ``sktransfer fit``
wrote of it): its backbone, without the classifier on top, gives the target's
starting weights. ``build_base`` loads a :class:`SourceBackbone` into a freshly
built backbone of the same name; the target's ``layer`` and ``pooling`` then
apply as to any weights. The source is read through the export protocol
(kind ``"backbone"``, see ``sktransfer._source_models``), so this module needs
no head class.
"""

from .._source_models import is_source_model, source_model
from ..cache._keys import array_digest
from ._backbones import file_identity


class SourceBackbone:
    """The backbone weights of a fitted ``FineTuneImageClassifier``, for ``build_base``.

    Attributes
    ----------
    description : str
        The source, in words.
    cache_key : hashable
        Identity of the weights for the shared network cache: the model
        file's path, size and modification time, or the weights' SHA-256.
    """

    def __init__(self, source):
        self.description = source.description
        self._values = source.export.weights
        if source.path is not None:
            self.cache_key = file_identity(source.path)
        else:
            self.cache_key = ("source", array_digest(self._values))

    def load_into(self, model):
        """Set the weights of ``model``, a backbone built with the source's name."""
        shapes = [tuple(w.shape) for w in model.weights]
        given = [tuple(v.shape) for v in self._values]
        if shapes != given:
            raise ValueError(
                f"the backbone of {self.description} has weights of other shapes than "
                f"{model.name!r} built here; fit the source with the same backbone"
            )
        model.set_weights(self._values)


def source_backbone(weights, backbone, input_size, owner):
    """``weights`` as a :class:`SourceBackbone` when it names a source model, else None.

    Parameters
    ----------
    weights : the ``weights`` parameter
    backbone : Backbone
        The target's backbone; the source must have the same.
    input_size : (height, width)
        The target's input size; the source must have been trained at it.
    owner : str
        The target's class name, for messages.
    """
    if not is_source_model(weights):
        return None
    source = source_model(
        weights,
        parameter="weights",
        owner=owner,
        kind="backbone",
        expected=("FineTuneImageClassifier",),
        # Spectrogram images of audio go through the same networks.
        modality=("image", "audio"),
    )
    name, size = source.export.name, source.export.input_size
    if name != backbone.name:
        raise ValueError(
            f"{owner}(weights=...): {source.description} fine-tuned backbone "
            f"{name!r}, but this {owner} has backbone={backbone.name!r}; set "
            f"backbone={name!r}"
        )
    if tuple(size) != tuple(input_size):
        raise ValueError(
            f"{owner}(weights=...): {source.description} was trained on {size[0]}x{size[1]} "
            f"images, but this {owner} takes {input_size[0]}x{input_size[1]}; set "
            f"input_size={size if size[0] != size[1] else size[0]!r}"
        )
    return SourceBackbone(source)
