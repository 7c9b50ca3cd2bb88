"""Text encoders: token ids `[B, T]` (0 = padding) → features `[B, F]`."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from sdl_keras.encoders.masked_pooling import MaskedPooling1D
from sdl_keras.encoders.term_weighting import TermWeighting


def _token_ids(max_length: int | None) -> keras.KerasTensor:
    return keras.Input((max_length,), dtype="int32", name="token_ids")


def bag_of_words_text_encoder(
    idf: Sequence[float] | np.ndarray,
    hidden_dim: int = 512,
    dropout: float = 0.5,
    input_dropout: float = 0.5,
    columns: int | None = None,
    hidden_layers: int = 1,
    name: str = "bag_of_words_text_encoder",
) -> keras.Model:
    """Word and n-gram counts `[B, V]` (`sdl_keras.data.text.
    bag_of_words_tokenizer`) → sublinear TF-IDF → dropout → Dense(ReLU) →
    dropout (as many times as `hidden_layers`): strong on thousands of short
    documents, and served with core TensorFlow ops.

    Args:
        idf: inverse document frequency of each count column, `[V]`.
        hidden_dim: width of each hidden layer (the last one's output is the
            features).
        dropout: dropout after each hidden layer.
        input_dropout: dropout on the TF-IDF values (drops words).
        columns: read only the first `columns` count columns (the most
            frequent n-grams of a `TextVectorization` vocabulary); the
            tokenizer may know more for a linear model beside the encoder.
            Default: all.
        hidden_layers: Dense(ReLU) layers, each followed by dropout.
    """
    if int(hidden_layers) < 1:
        raise ValueError(
            f"`hidden_layers` must be at least 1; received {hidden_layers}."
        )
    counts = keras.Input((len(idf),), dtype="float32", name="counts")
    columns = len(idf) if columns is None else min(columns, len(idf))
    read = counts if columns == len(idf) else counts[:, :columns]
    x = TermWeighting(idf[:columns], name="tf_idf")(read)
    x = keras.layers.Dropout(input_dropout)(x)
    for index in range(int(hidden_layers)):
        layer = "hidden" if index == 0 else f"hidden_{index + 1}"
        x = keras.layers.Dense(hidden_dim, activation="relu", name=layer)(x)
        x = keras.layers.Dropout(dropout)(x)
    return keras.Model(counts, x, name=name)


def cnn_text_encoder(
    vocabulary_size: int,
    embedding_dim: int = 100,
    filters: int = 500,
    kernel_size: int = 10,
    dropout: float = 0.2,
    name: str = "cnn_text_encoder",
) -> keras.Model:
    """CAML's convolutional base (Mullenbach et al. 2018): embedding, one
    convolution with tanh, max-pooling over the real tokens."""
    token_ids = _token_ids(None)
    real = ops.not_equal(token_ids, 0)
    x = keras.layers.Embedding(vocabulary_size, embedding_dim, name="embedding")(
        token_ids
    )
    # Zero vectors at padding: windows at a document's end then see what a
    # "same" convolution pads with, however much padding the batch has.
    x = x * ops.cast(real, x.dtype)[..., None]
    x = keras.layers.Dropout(dropout)(x)
    x = keras.layers.Conv1D(
        filters, kernel_size, padding="same", activation="tanh", name="convolution"
    )(x)
    features = MaskedPooling1D("max", name="pool")(x, real)
    return keras.Model(token_ids, features, name=name)


def transformer_text_encoder(
    vocabulary_size: int,
    max_length: int,
    hidden_dim: int = 128,
    num_layers: int = 2,
    num_heads: int = 4,
    intermediate_dim: int = 256,
    dropout: float = 0.1,
    name: str = "transformer_text_encoder",
) -> keras.Model:
    """A small Transformer from keras-hub layers (token + position embedding,
    encoder blocks with the padding mask), mean-pooled over real tokens."""
    import keras_hub

    token_ids = _token_ids(None)
    padding_mask = ops.not_equal(token_ids, 0)
    x = keras_hub.layers.TokenAndPositionEmbedding(
        vocabulary_size, max_length, hidden_dim, name="embedding"
    )(token_ids)
    for index in range(num_layers):
        x = keras_hub.layers.TransformerEncoder(
            intermediate_dim, num_heads, dropout=dropout, name=f"block_{index}"
        )(x, padding_mask=padding_mask)
    features = MaskedPooling1D("mean", name="pool")(x, padding_mask)
    return keras.Model(token_ids, features, name=name)


def backbone_text_encoder(
    preset, pooling: str = "mean", name: str = "backbone_text_encoder"
) -> keras.Model:
    """A keras-hub backbone (BERT, RoBERTa, ... : a preset name, a local
    preset directory or a built `Backbone`), pooled over real tokens.

    Padding is id 0 only for vocabularies that put [PAD] there (BERT); the
    backbone's own padding id is used when it declares one."""
    import keras_hub

    backbone = (
        preset
        if isinstance(preset, keras_hub.models.Backbone)
        else keras_hub.models.Backbone.from_preset(preset)
    )
    input_names = {tensor.name.split(":")[0] for tensor in backbone.inputs}
    if "token_ids" not in input_names or "padding_mask" not in input_names:
        raise ValueError(
            f"{backbone.name} does not take token_ids and padding_mask; "
            f"its inputs are {sorted(input_names)}."
        )
    token_ids = _token_ids(None)
    padding_mask = ops.not_equal(token_ids, 0)
    inputs = {"token_ids": token_ids, "padding_mask": padding_mask}
    if "segment_ids" in input_names:
        inputs["segment_ids"] = ops.zeros_like(token_ids)
    outputs = backbone(inputs)
    sequence = outputs["sequence_output"] if isinstance(outputs, dict) else outputs
    features = MaskedPooling1D(pooling, name="pool")(sequence, padding_mask)
    return keras.Model(token_ids, features, name=name)
