"""Image encoders: pixels `[B, H, W, C]` in [0, 255] → features `[B, F]`."""

from __future__ import annotations

from collections.abc import Sequence

import keras

# name → (constructor, preprocessing applied before it)
APPLICATIONS = {
    "resnet50": (
        keras.applications.ResNet50,
        keras.applications.resnet50.preprocess_input,
    ),
    "efficientnetv2b0": (keras.applications.EfficientNetV2B0, None),
    "mobilenetv3small": (keras.applications.MobileNetV3Small, None),
}


def small_cnn_image_encoder(
    input_shape: Sequence[int],
    widths: Sequence[int] = (32, 64, 128),
    name: str = "small_cnn_image_encoder",
) -> keras.Model:
    """Conv-MaxPool-BatchNorm-ReLU blocks, then global average pooling:
    trains in minutes on a CPU."""
    inputs = keras.Input(tuple(input_shape), name="pixels")
    x = keras.layers.Rescaling(1 / 255)(inputs)
    for width in widths:
        x = keras.layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
        # Pooling first: batch normalisation and ReLU (monotone per channel
        # where the scale is positive, so they commute with the max) run on a
        # quarter of the values; Keras's unfused batch norm on the full map
        # was half of a training step on a CPU.
        x = keras.layers.MaxPooling2D()(x)
        # Momentum 0.9: the inference statistics settle within tens of steps,
        # which short CPU runs need (0.99 leaves them near their start).
        x = keras.layers.BatchNormalization(momentum=0.9)(x)
        x = keras.layers.ReLU()(x)
    outputs = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, outputs, name=name)


def application_image_encoder(
    name: str,
    input_shape: Sequence[int],
    weights: str | None = None,
) -> keras.Model:
    """A `keras.applications` backbone without its top, average-pooled.

    Args:
        name: `"resnet50"`, `"efficientnetv2b0"` or `"mobilenetv3small"`.
        input_shape: `(H, W, 3)`.
        weights: `None` (random) or the path of a local weights file for
            the top-less backbone; nothing is downloaded.
    """
    if name not in APPLICATIONS:
        raise ValueError(f"`name` must be one of {sorted(APPLICATIONS)}; got {name!r}.")
    if weights is not None and not str(weights).endswith(".h5"):
        raise ValueError(
            f"`weights` must be None or a local .h5 weights file; got {weights!r} "
            "(downloads are not attempted)."
        )
    constructor, preprocess = APPLICATIONS[name]
    backbone = constructor(
        include_top=False, weights=None, input_shape=tuple(input_shape), pooling="avg"
    )
    if weights is not None:
        backbone.load_weights(weights)
    inputs = keras.Input(tuple(input_shape), name="pixels")
    x = inputs if preprocess is None else preprocess(inputs)
    return keras.Model(inputs, backbone(x), name=f"{name}_encoder")
