"""Encoders mapping raw inputs to features `[B, F]`."""

from sdl_keras.encoders.image import (
    application_image_encoder,
    small_cnn_image_encoder,
)
from sdl_keras.encoders.masked_pooling import MaskedPooling1D
from sdl_keras.encoders.term_weighting import TermWeighting, inverse_document_frequency
from sdl_keras.encoders.text import (
    backbone_text_encoder,
    bag_of_words_text_encoder,
    cnn_text_encoder,
    transformer_text_encoder,
)

__all__ = [
    "MaskedPooling1D",
    "TermWeighting",
    "application_image_encoder",
    "backbone_text_encoder",
    "bag_of_words_text_encoder",
    "cnn_text_encoder",
    "inverse_document_frequency",
    "small_cnn_image_encoder",
    "transformer_text_encoder",
]
