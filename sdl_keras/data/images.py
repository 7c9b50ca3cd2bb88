"""tf.data pipelines for multi-label images: decode, resize, make views, batch.

Images come as an array `[N, H, W, C]`, as file paths or as encoded bytes
(JPEG, PNG, ...). Batches hold float32 pixels in [0, 255] (what
`keras.applications` backbones expect; the encoders of `sdl_keras.encoders`
rescale themselves), with their multi-hot labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from sdl_keras.data.label_batches import (
    batch_examples,
    check_labels,
    label_dataset,
    to_large_label_form,
)
from sdl_keras.data.prefetching import prefetched
from sdl_keras.data.view_augmentation import ViewAugmentation


def decode_image(data: tf.Tensor, channels: int) -> tf.Tensor:
    """uint8 `[H, W, channels]` from encoded bytes (JPEG, PNG, GIF's first
    frame, BMP)."""
    return tf.io.decode_image(data, channels=channels, expand_animations=False)


def resize_image(image: tf.Tensor, image_size: Sequence[int]) -> tf.Tensor:
    """float32 pixels in [0, 255], resized (bilinear) to `(height, width)`."""
    return tf.image.resize(tf.cast(image, "float32"), tuple(image_size))


def image_dataset(
    images,
    labels: np.ndarray,
    image_size: Sequence[int],
    batch_size: int,
    num_views: int = 0,
    augmentation: keras.layers.Layer | None = None,
    shuffle: bool = False,
    seed: int = 0,
    channels: int = 3,
    cache: bool = True,
    drop_remainder: bool = False,
    large_labels: bool = False,
) -> tf.data.Dataset:
    """Batches of `(pixels, labels)` for training or evaluation.

    Args:
        images: uint8/float array `[N, H, W, C]`, or N file paths, or N
            encoded images (bytes).
        labels: multi-hot `[N, L]`, dense or a SciPy sparse matrix.
        image_size: `(height, width)` every image is resized to.
        batch_size: images per batch.
        num_views: 0 for pixels `[B, H, W, C]`; V ≥ 1 for `[B, V, H, W, C]`,
            each view drawn by `augmentation` (a fresh draw every epoch).
        augmentation: the view maker (e.g. `ViewAugmentation`); required
            with views.
        shuffle: reshuffle every epoch (seeded).
        seed: seeds shuffling.
        channels: channels decoded from files or bytes.
        cache: keep decoded, resized images in memory after the first epoch.
        drop_remainder: drop a last, smaller batch.
        large_labels: carry labels in the large-label form (a
            `tf.SparseTensor` `[B, L]` a batch; see `text.text_dataset`).
    """
    labels = check_labels(labels, len(images))
    height, width = (int(side) for side in image_size)
    if isinstance(images, np.ndarray):
        if images.ndim != 4:
            raise ValueError(
                f"An image array must be [N, H, W, C]; got {images.shape}."
            )
        pixels = tf.data.Dataset.from_tensor_slices(images)
    else:
        images = list(images)
        are_paths = bool(images) and isinstance(images[0], (str, Path))
        if are_paths:
            missing = [str(path) for path in images if not Path(path).exists()]
            if missing:
                raise FileNotFoundError(
                    f"{len(missing)} image files not found, e.g. {missing[:3]}."
                )
            images = [str(path) for path in images]
        sources = tf.data.Dataset.from_tensor_slices(images)
        if are_paths:
            sources = sources.map(tf.io.read_file, num_parallel_calls=tf.data.AUTOTUNE)
        pixels = sources.map(
            lambda data: decode_image(data, channels),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    pixels = pixels.map(
        lambda image: resize_image(image, (height, width)),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    if num_views and augmentation is None:
        raise ValueError("Views need an `augmentation` (see ViewAugmentation).")
    padding = (0, 0)
    if num_views and isinstance(augmentation, ViewAugmentation):
        # Padded once, before the cache, rather than every batch of every
        # epoch (ViewAugmentation.views then pads nothing).
        padding = augmentation.padding(height, width)
        pixels = pixels.map(augmentation.pad, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = tf.data.Dataset.zip(pixels, label_dataset(labels, large_labels))
    if cache:
        dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(min(labels.shape[0], 10_000), seed=seed)
    dataset = batch_examples(dataset, batch_size, large_labels, drop_remainder)
    if large_labels:
        dataset = to_large_label_form(dataset, labels.shape[1])
    if num_views:
        dataset = dataset.map(
            lambda batch, y: (_views(augmentation, batch, num_views, padding), y),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return prefetched(dataset)


def _views(augmentation: keras.layers.Layer, batch, num_views: int, padding):
    """`[B, V, H, W, C]`: V views of a batch, in one call where the layer
    makes several at once (`ViewAugmentation.views`, on images it padded)."""
    if any(padding):
        return augmentation.views(batch, num_views, padding)
    if hasattr(augmentation, "views"):
        return augmentation.views(batch, num_views)
    return tf.stack([augmentation(batch, training=True) for _ in range(num_views)], 1)
