"""What both models need from an encoder: a functional model to [B, F]."""

from __future__ import annotations

from collections.abc import Sequence

import keras


def functional_encoder(
    encoder: keras.layers.Layer, input_shape: Sequence[int] | None = None
) -> keras.Model:
    """Returns `encoder` as a model with known inputs and a `[B, F]` output.

    A functional or Sequential model that starts with `keras.Input` is used as
    it is; any other layer or model is wrapped around `keras.Input(input_shape)`.
    """
    if not isinstance(encoder, keras.layers.Layer):
        raise ValueError(
            f"`encoder` must be a Keras layer or model; received {encoder!r}."
        )
    if _has_graph(encoder):
        if input_shape is not None:
            known = tuple(encoder.inputs[0].shape[1:])
            if tuple(input_shape) != known:
                raise ValueError(
                    f"`input_shape` {tuple(input_shape)} does not match the "
                    f"encoder's input shape {known}."
                )
        model = encoder
    else:
        if input_shape is None:
            raise ValueError(
                f"The encoder {encoder.name!r} has no known input shape, so its "
                "output dimension is unknown: start it with `keras.Input(...)` "
                "or pass `input_shape=` (the shape of one sample)."
            )
        inputs = keras.Input(tuple(input_shape), name="inputs")
        model = keras.Model(inputs, encoder(inputs), name=f"{encoder.name}_encoder")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(
            "The encoder must have one input and one output; it has "
            f"{len(model.inputs)} and {len(model.outputs)}."
        )
    output_shape = tuple(model.outputs[0].shape)
    if len(output_shape) != 2 or output_shape[-1] is None:
        raise ValueError(
            "The encoder must map a batch to features [B, F] with a known F; "
            f"its output shape is {output_shape} (add pooling or Flatten)."
        )
    return model


def _has_graph(encoder: keras.layers.Layer) -> bool:
    try:
        return bool(encoder.inputs) and bool(encoder.outputs)
    except (AttributeError, ValueError):
        return False


def feature_dim(encoder: keras.Model) -> int:
    return int(encoder.outputs[0].shape[-1])
