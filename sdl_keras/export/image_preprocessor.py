"""Encoded image bytes to pixels inside a served graph."""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

from sdl_keras.data import images


class ImagePreprocessor(tf.Module):
    """Decodes and resizes a batch of encoded images as the training pipeline
    did (`sdl_keras.data.images.image_dataset`): float32 pixels in [0, 255].

    Args:
        image_size: `(height, width)` the model takes.
        channels: 1 or 3, decoded from every image whatever its own count.

    Examples:

    >>> png = tf.io.encode_png(tf.zeros([4, 6, 3], "uint8"))
    >>> ImagePreprocessor((2, 2))(tf.stack([png, png])).shape
    TensorShape([2, 2, 2, 3])
    """

    input_name = "image_bytes"

    def __init__(self, image_size: Sequence[int], channels: int = 3) -> None:
        super().__init__(name="image_preprocessor")
        if len(image_size) != 2 or min(image_size) < 1:
            raise ValueError(f"`image_size` must be (height, width); got {image_size}.")
        if channels not in (1, 3):
            raise ValueError(f"`channels` must be 1 or 3; got {channels}.")
        self.image_size = tuple(int(side) for side in image_size)
        self.channels = channels

    @property
    def input_signature(self) -> tf.TensorSpec:
        """A batch of encoded images (JPEG, PNG, GIF, BMP), one per string."""
        return tf.TensorSpec([None], tf.string, name=self.input_name)

    def __call__(self, data: tf.Tensor) -> tf.Tensor:
        """float32 pixels `[B, height, width, channels]`."""
        return tf.map_fn(
            lambda one: images.resize_image(
                images.decode_image(one, self.channels), self.image_size
            ),
            data,
            fn_output_signature=tf.TensorSpec(
                [*self.image_size, self.channels], tf.float32
            ),
        )
