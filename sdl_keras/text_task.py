"""The pieces a text task hands to `run_two_stage`: tokenizer, encoder, data."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import keras
import tensorflow as tf

from sdl_keras.data import text
from sdl_keras.encoders import (
    backbone_text_encoder,
    cnn_text_encoder,
    transformer_text_encoder,
)
from sdl_keras.export import TextPreprocessor
from sdl_keras.two_stage import Split

TOKENIZERS = {
    "vectorization": text.vectorization_tokenizer,
    "wordpiece": text.wordpiece_tokenizer,
}


@dataclasses.dataclass
class TextTask:
    """Tokenizer, encoder factory and pipelines shared by every run of a task.

    Attributes:
        tokenizer: maps strings to token ids (0 = padding).
        encoder: `"cnn"`, `"transformer"` or a keras-hub preset (name or
            local directory), whose own tokenizer is then used.
        max_length: tokens kept per document.
        batch_size: documents per batch.
        augmentation: makes the views of pre-training.
    """

    tokenizer: keras.layers.Layer
    encoder: str
    max_length: int
    batch_size: int
    augmentation: text.TextAugmentation

    @classmethod
    def build(
        cls,
        train_texts: Sequence[str],
        encoder: str = "cnn",
        tokenizer: str = "vectorization",
        vocabulary_size: int = 20000,
        max_length: int = 512,
        batch_size: int = 64,
    ) -> TextTask:
        """Learns the tokenizer's vocabulary from the training texts (for
        `cnn` and `transformer`) or loads the preset's tokenizer."""
        if encoder in ("cnn", "transformer"):
            if tokenizer not in TOKENIZERS:
                raise ValueError(
                    f"`tokenizer` must be one of {sorted(TOKENIZERS)}; "
                    f"received {tokenizer!r}."
                )
            layer = TOKENIZERS[tokenizer](list(train_texts), vocabulary_size)
        else:
            layer = text.preset_tokenizer(encoder)
        augmentation = text.TextAugmentation(text.mask_token_id(layer))
        return cls(layer, encoder, max_length, batch_size, augmentation)

    def make_encoder(self) -> keras.Model:
        size = text.vocabulary_size(self.tokenizer)
        if self.encoder == "cnn":
            return cnn_text_encoder(size, embedding_dim=64, filters=256, kernel_size=5)
        if self.encoder == "transformer":
            return transformer_text_encoder(size, self.max_length)
        return backbone_text_encoder(self.encoder)

    def serving_preprocessor(self) -> TextPreprocessor:
        """What `sdl_keras.export.export_for_serving` runs on raw strings
        (refused for keras-hub tokenizers: see `TextPreprocessor`)."""
        return TextPreprocessor(self.tokenizer, self.max_length)

    def make_dataset(self, split: Split, purpose: str, seed: int) -> tf.data.Dataset:
        return text.text_dataset(
            list(split.x),
            split.y,
            self.tokenizer,
            self.max_length,
            self.batch_size,
            num_views=2 if purpose == "pretrain" else 0,
            augmentation=self.augmentation,
            shuffle=purpose != "evaluate",
            seed=seed,
        )
