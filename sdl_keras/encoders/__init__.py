"""Encoders mapping raw inputs to features `[B, F]`."""

from sdl_keras.encoders.masked_pooling import MaskedPooling1D
from sdl_keras.encoders.text import (
    backbone_text_encoder,
    cnn_text_encoder,
    transformer_text_encoder,
)

__all__ = [
    "MaskedPooling1D",
    "backbone_text_encoder",
    "cnn_text_encoder",
    "transformer_text_encoder",
]
