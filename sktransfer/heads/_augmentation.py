"""SpecAugment-style masking of spectrogram images, as training augmentation.

Flips, rotations and zooms make sense for photographs, not for spectrograms,
whose axes are frequency and time. SpecAugment (Park et al., 2019) instead
hides a random band of frequencies and a random stretch of time in each
training example, so that a model cannot lean on any one of them. These
layers do that to images of shape (height, width, channels) whose rows are
frequency bands and whose columns are frames, as ``AudioSpectrogramImages``
draws them. They act only in training, and draw their masks from Keras'
seeded random generators, so that a ``random_state`` repeats them.
"""

import keras

MASKS = {"frequency_mask": 1, "time_mask": 2}
"""Augmentation name to the image axis it masks: rows (frequency) or columns (time)."""
MAX_MASK_FRACTION = 0.2
"""Largest share of the rows or columns one mask hides."""


@keras.saving.register_keras_serializable(package="sktransfer")
class SpectrogramMask(keras.layers.Layer):
    """In training, replace a random band of rows or columns of each image by its mean.

    Each image gets one mask, of a width drawn uniformly from 0 to
    ``max_fraction`` of the axis and a position drawn uniformly along it; the
    masked pixels take the image's mean value of each channel (SpecAugment's
    choice, the same whatever preprocessing the network applies). At
    inference the layer passes images through unchanged.

    Parameters
    ----------
    axis : {1, 2}
        1 masks rows (frequency bands), 2 masks columns (frames).
    max_fraction : float, default=0.2
    seed : int or None, default=None
        Seed of the layer's random generator; None: drawn from Keras' global
        seed (``keras.utils.set_random_seed``).

    Examples
    --------
    >>> import numpy as np
    >>> images = np.arange(2 * 10 * 10 * 3, dtype="float32").reshape(2, 10, 10, 3)
    >>> layer = SpectrogramMask(axis=2, max_fraction=0.5, seed=0)
    >>> masked = keras.ops.convert_to_numpy(layer(images, training=True))
    >>> changed_columns = (masked != images).any(axis=(1, 3))
    >>> bool((changed_columns.sum(axis=1) <= 5).all())
    True
    >>> bool((keras.ops.convert_to_numpy(layer(images, training=False)) == images).all())
    True
    """

    def __init__(self, axis, max_fraction=MAX_MASK_FRACTION, seed=None, **kwargs):
        super().__init__(**kwargs)
        if axis not in (1, 2):
            raise ValueError(f"axis must be 1 (rows) or 2 (columns), got {axis!r}")
        self.axis = axis
        self.max_fraction = max_fraction
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        if not training:
            return inputs
        length = inputs.shape[self.axis]
        batch = keras.ops.shape(inputs)[0]
        max_width = int(length * self.max_fraction)
        width = keras.random.randint((batch, 1), 0, max_width + 1, seed=self.seed_generator)
        room = keras.ops.cast(length - width + 1, "float32")
        draw = keras.random.uniform((batch, 1), seed=self.seed_generator)
        start = keras.ops.cast(keras.ops.floor(draw * room), width.dtype)
        positions = keras.ops.arange(length, dtype=width.dtype)[None, :]
        hidden = keras.ops.logical_and(positions >= start, positions < start + width)
        shape = (-1, length, 1, 1) if self.axis == 1 else (-1, 1, length, 1)
        hidden = keras.ops.reshape(hidden, shape)
        mean = keras.ops.mean(inputs, axis=(1, 2), keepdims=True)
        return keras.ops.where(hidden, mean, inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "max_fraction": self.max_fraction,
            "seed": self.seed,
        }


def spectrogram_masks(chosen):
    """The masking layers of the augmentations ``chosen``, frequency before time."""
    return [SpectrogramMask(axis) for name, axis in MASKS.items() if name in chosen]
