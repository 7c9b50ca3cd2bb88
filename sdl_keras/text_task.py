"""The input pipeline of text: tokenizer, encoder, datasets, saved state."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from sdl_keras.data import text
from sdl_keras.data.label_batches import large_label_form
from sdl_keras.encoders import (
    TermWeighting,
    backbone_text_encoder,
    bag_of_words_text_encoder,
    cnn_text_encoder,
    inverse_document_frequency,
    transformer_text_encoder,
)
from sdl_keras.export import TextPreprocessor
from sdl_keras.input_pipeline import InputPipeline

TOKENIZERS = {
    "vectorization": text.vectorization_tokenizer,
    "wordpiece": text.wordpiece_tokenizer,
}
ENCODERS = ("bow", "cnn", "transformer")
# Word and bigram columns the `bow` tokenizer keeps at least: the linear
# model of the default recipe reads all of them (as many as the
# logistic-regression reference's TF-IDF), the encoder its
# `vocabulary_size` most frequent.
LINEAR_VOCABULARY_SIZE = 50000
VOCABULARY_FILE = "tokenizer_vocabulary.txt"


@dataclasses.dataclass
class TextTask(InputPipeline):
    """Tokenizer, encoder factory and pipelines shared by every run of a task.

    Attributes:
        tokenizer: maps strings to token ids (0 = padding), or to word and
            n-gram counts for the `bow` encoder.
        encoder: `"bow"` (TF-IDF of words and bigrams into an MLP),
            `"cnn"`, `"transformer"` or a keras-hub preset (name or local
            directory), whose own tokenizer is then used.
        max_length: tokens kept per document (sequence encoders).
        batch_size: documents per batch.
        augmentation: makes the views of pre-training (sequence encoders;
            `bow` views drop words instead, by `drop_rate`).
        idf: inverse document frequencies of the `bow` counts.
        num_views: views per document in pre-training.
        encoder_columns: count columns the `bow` encoder reads (the most
            frequent); default: all of them.
        drop_rate: probability that a `bow` view drops a word (or n-gram).
        hidden_layers: hidden layers of the `bow` encoder's MLP.
    """

    kind = "text"

    tokenizer: keras.layers.Layer
    encoder: str
    max_length: int
    batch_size: int
    augmentation: text.TextAugmentation | None
    idf: np.ndarray | None = None
    num_views: int = 2
    encoder_columns: int | None = None
    drop_rate: float = text.BAG_OF_WORDS_DROP_RATE
    hidden_layers: int = 1

    @classmethod
    def build(
        cls,
        train_texts: Sequence[str],
        encoder: str = "bow",
        tokenizer: str = "vectorization",
        vocabulary_size: int = 20000,
        max_length: int = 512,
        batch_size: int = 64,
    ) -> TextTask:
        """Learns the tokenizer's vocabulary (and for `bow` the document
        frequencies) from the training texts, or loads a preset's tokenizer."""
        train_texts = list(train_texts)
        if encoder == "bow":
            vocabulary, frequencies = text.bag_of_words_vocabulary(
                train_texts, max(vocabulary_size, LINEAR_VOCABULARY_SIZE)
            )
            layer = text.bag_of_words_tokenizer_from_vocabulary(vocabulary)
            # Unknown n-grams (column 0) weigh nothing, as in scikit-learn's
            # TF-IDF (which has no such column): the linear model then sees
            # its features.
            idf = np.concatenate(
                [[0.0], inverse_document_frequency(frequencies, len(train_texts))]
            )
            return cls(
                layer,
                encoder,
                max_length,
                batch_size,
                None,
                idf,
                encoder_columns=vocabulary_size,
            )
        if encoder in ENCODERS:
            if tokenizer not in TOKENIZERS:
                raise ValueError(
                    f"`tokenizer` must be one of {sorted(TOKENIZERS)}; "
                    f"received {tokenizer!r}."
                )
            layer = TOKENIZERS[tokenizer](train_texts, vocabulary_size)
        else:
            layer = text.preset_tokenizer(encoder)
        augmentation = text.TextAugmentation(text.mask_token_id(layer))
        return cls(layer, encoder, max_length, batch_size, augmentation)

    def make_encoder(self) -> keras.Model:
        if self.encoder == "bow":
            return bag_of_words_text_encoder(
                self._idf(),
                columns=self.encoder_columns,
                hidden_layers=self.hidden_layers,
            )
        size = text.vocabulary_size(self.tokenizer)
        if self.encoder == "cnn":
            return cnn_text_encoder(size, embedding_dim=64, filters=256, kernel_size=5)
        if self.encoder == "transformer":
            return transformer_text_encoder(size, self.max_length)
        return backbone_text_encoder(self.encoder)

    def linear_features(self) -> keras.Model | None:
        """The sublinear TF-IDF of every count column (the `bow` encoder
        reads the first `encoder_columns` of them)."""
        if self.encoder != "bow":
            return None
        idf = self._idf()
        return keras.Sequential(
            [keras.Input((len(idf),)), TermWeighting(idf)], name="tf_idf"
        )

    def _idf(self) -> np.ndarray:
        if self.idf is None:
            raise ValueError("A `bow` TextTask needs `idf` (see TextTask.build).")
        return self.idf

    def serving_preprocessor(self) -> TextPreprocessor:
        """What `sdl_keras.export.export_for_serving` runs on raw strings
        (refused for keras-hub tokenizers: see `TextPreprocessor`)."""
        return TextPreprocessor(self.tokenizer, self.max_length)

    def make_dataset(self, split, purpose: str, seed: int) -> tf.data.Dataset:
        views = self.num_views if purpose == "pretrain" else 0
        shuffle = purpose != "evaluate"
        # Contrastive batches of many labels never hold [B, L].
        large_labels = purpose == "pretrain" and large_label_form(split.y.shape[1])
        if self.encoder == "bow":
            return text.bag_of_words_dataset(
                list(split.x),
                split.y,
                self.tokenizer,
                self.batch_size,
                num_views=views,
                drop_rate=self.drop_rate,
                shuffle=shuffle,
                seed=seed,
                large_labels=large_labels,
            )
        return text.text_dataset(
            list(split.x),
            split.y,
            self.tokenizer,
            self.max_length,
            self.batch_size,
            num_views=views,
            augmentation=self.augmentation,
            shuffle=shuffle,
            seed=seed,
            large_labels=large_labels,
        )

    def reference_features(self, train, *splits) -> list:
        from sklearn.feature_extraction.text import TfidfVectorizer

        tfidf = TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_features=50000
        ).fit(list(train.x))
        return [tfidf.transform(list(split.x)) for split in (train, *splits)]

    def state(self, directory: Path) -> dict:
        if not isinstance(self.tokenizer, keras.layers.TextVectorization):
            kind = "preset" if self.encoder not in ENCODERS else "wordpiece"
            vocabulary = None if kind == "preset" else self.tokenizer.get_vocabulary()
            config = None
        else:
            kind = "vectorization"
            vocabulary = [str(token) for token in self.tokenizer.get_vocabulary()]
            # Serialized: the `bow` tokenizer's standardize and split are
            # registered functions.
            config = keras.saving.serialize_keras_object(self.tokenizer)["config"]
        if vocabulary is not None:
            (directory / VOCABULARY_FILE).write_text(
                "".join(f"{token}\n" for token in vocabulary), "utf-8"
            )
        return {
            "encoder": self.encoder,
            "max_length": self.max_length,
            "batch_size": self.batch_size,
            "tokenizer": {"type": kind, "config": config},
            "augmentation": None
            if self.augmentation is None
            else dataclasses.asdict(self.augmentation),
            "idf": None if self.idf is None else [float(v) for v in self.idf],
            "num_views": self.num_views,
            "encoder_columns": self.encoder_columns,
            "drop_rate": self.drop_rate,
            "hidden_layers": self.hidden_layers,
        }

    @classmethod
    def from_state(cls, state: dict, directory: Path) -> TextTask:
        kind = state["tokenizer"]["type"]
        if kind == "preset":
            layer = text.preset_tokenizer(state["encoder"])
        else:
            vocabulary = (directory / VOCABULARY_FILE).read_text("utf-8").split("\n")
            vocabulary = vocabulary[:-1]  # the file ends with a newline
            if kind == "vectorization":
                layer = keras.layers.TextVectorization.from_config(
                    state["tokenizer"]["config"]
                )
                layer.set_vocabulary(vocabulary)
            else:
                layer = text.wordpiece_tokenizer_from_vocabulary(vocabulary)
        augmentation = state["augmentation"]
        return cls(
            layer,
            state["encoder"],
            state["max_length"],
            state["batch_size"],
            None if augmentation is None else text.TextAugmentation(**augmentation),
            None if state["idf"] is None else np.asarray(state["idf"], "float32"),
            state.get("num_views", 2),
            state.get("encoder_columns"),
            state.get("drop_rate", cls.drop_rate),
            state.get("hidden_layers", cls.hidden_layers),
        )
