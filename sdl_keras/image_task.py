"""The pieces an image task hands to `run_two_stage`: encoder and data."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import keras
import tensorflow as tf

from sdl_keras.data import images
from sdl_keras.encoders import application_image_encoder, small_cnn_image_encoder
from sdl_keras.export import ImagePreprocessor
from sdl_keras.two_stage import Split


@dataclasses.dataclass(frozen=True)
class ImageTask:
    """Encoder factory and pipelines shared by every run of a task.

    Attributes:
        image_size: `(height, width)` images are resized to.
        channels: 1 or 3.
        encoder: `"small_cnn"` or a `keras.applications` name of
            `sdl_keras.encoders.image.APPLICATIONS` (RGB only).
        weights: local weights file of an application backbone, or None.
        batch_size: images per batch.
        flip: horizontal flips among the view augmentations.
    """

    image_size: Sequence[int]
    channels: int = 3
    encoder: str = "small_cnn"
    weights: str | None = None
    batch_size: int = 64
    flip: bool = True

    def make_encoder(self) -> keras.Model:
        shape = (*self.image_size, self.channels)
        if self.encoder == "small_cnn":
            return small_cnn_image_encoder(shape)
        if self.channels != 3:
            raise ValueError(
                f"{self.encoder} takes RGB images; channels={self.channels}."
            )
        return application_image_encoder(self.encoder, shape, self.weights)

    def serving_preprocessor(self) -> ImagePreprocessor:
        """What `sdl_keras.export.export_for_serving` runs on image bytes."""
        return ImagePreprocessor(self.image_size, self.channels)

    def make_dataset(self, split: Split, purpose: str, seed: int) -> tf.data.Dataset:
        augmentation = images.view_augmentation(
            self.channels, flip=self.flip, seed=seed
        )
        return images.image_dataset(
            split.x,
            split.y,
            self.image_size,
            self.batch_size,
            num_views=2 if purpose == "pretrain" else 0,
            augmentation=augmentation,
            shuffle=purpose != "evaluate",
            seed=seed,
            channels=self.channels,
        )
