"""The input pipeline of images: encoder, datasets, saved state."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from sdl_keras.data import images
from sdl_keras.data.label_batches import large_label_form
from sdl_keras.data.view_augmentation import CROP_ZOOM, SHIFT, ViewAugmentation
from sdl_keras.encoders import application_image_encoder, small_cnn_image_encoder
from sdl_keras.export import ImagePreprocessor
from sdl_keras.input_pipeline import InputPipeline


@dataclasses.dataclass(frozen=True)
class ImageTask(InputPipeline):
    """Encoder factory and pipelines shared by every run of a task.

    Attributes:
        image_size: `(height, width)` images are resized to.
        channels: 1 or 3.
        encoder: `"small_cnn"` or a `keras.applications` name of
            `sdl_keras.encoders.image.APPLICATIONS` (RGB only).
        weights: local weights file of an application backbone, or None.
        batch_size: images per batch.
        crop_zoom: the views' largest zoom-in, as a fraction of the side
            (see `ViewAugmentation`).
        shift: the views' largest translation, as a fraction of the side.
        flip: horizontal flips among the view augmentations.
        colour: colour-jitter strength of the views (0: none, the cheapest
            on a CPU).
        num_views: views per image in pre-training.
    """

    kind = "images"
    # Twice the default: with 500 steps SDL ties BCE only on MNIST scenes,
    # with 1,000 it wins there and on Fashion-MNIST scenes, and the
    # pool-first small CNN makes a whole run of 5,040 emoji scenes with
    # 1,000 steps fit 10 minutes on 2 CPU cores (docs/results.md).
    pretrain_steps = 1000

    image_size: Sequence[int]
    channels: int = 3
    encoder: str = "small_cnn"
    weights: str | None = None
    batch_size: int = 64
    crop_zoom: float = CROP_ZOOM
    shift: float = SHIFT
    flip: bool = True
    colour: float = 0.4
    num_views: int = 2

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

    def make_dataset(self, split, purpose: str, seed: int) -> tf.data.Dataset:
        augmentation = ViewAugmentation(
            self.channels,
            crop_zoom=self.crop_zoom,
            shift=self.shift,
            flip=self.flip,
            colour=self.colour,
            seed=seed,
        )
        return images.image_dataset(
            split.x,
            split.y,
            self.image_size,
            self.batch_size,
            num_views=self.num_views if purpose == "pretrain" else 0,
            augmentation=augmentation,
            shuffle=purpose != "evaluate",
            seed=seed,
            channels=self.channels,
            large_labels=purpose == "pretrain" and large_label_form(split.y.shape[1]),
        )

    def reference_features(self, train, *splits) -> list:
        """Pixels in [0, 1], flattened, at the task's size."""
        return [self._pixels(split) for split in (train, *splits)]

    def _pixels(self, split) -> np.ndarray:
        batches = self.make_dataset(split, "evaluate", 0).map(lambda x, _: x)
        pixels = np.concatenate([batch.numpy() for batch in batches])
        return pixels.reshape(len(pixels), -1) / 255.0

    def state(self, directory: Path) -> dict:
        state = dataclasses.asdict(self)
        state["image_size"] = list(self.image_size)
        return state

    @classmethod
    def from_state(cls, state: dict, directory: Path) -> ImageTask:
        return cls(**{**state, "image_size": tuple(state["image_size"])})
