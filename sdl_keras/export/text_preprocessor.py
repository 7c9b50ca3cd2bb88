"""Raw strings to token ids inside a served graph."""

from __future__ import annotations

import keras
import tensorflow as tf

from sdl_keras.data import text


class TextPreprocessor(tf.Module):
    """Tokenises a batch of raw strings as the training pipeline did
    (`sdl_keras.data.text.text_dataset`): same tokenizer, truncation to
    `max_length`, padding with 0; or word counts as
    `sdl_keras.data.text.bag_of_words_dataset` makes them.

    Only `keras.layers.TextVectorization` (core TensorFlow ops) is accepted:
    keras-hub tokenizers run tensorflow-text ops, which stock TensorFlow
    Serving does not have, so a graph holding them would not load there.

    Args:
        tokenizer: the `TextVectorization` layer the model was trained with
            (`sdl_keras.data.text.vectorization_tokenizer`).
        max_length: tokens kept per document.
        fixed_length: pad every request to `max_length` (for encoders built
            for one sequence length); else to the longest document.

    Examples:

    >>> tokenizer = keras.layers.TextVectorization(
    ...     vocabulary=["fever", "cough", "rash"], ragged=True
    ... )
    >>> preprocessor = TextPreprocessor(tokenizer, max_length=2)
    >>> preprocessor(tf.constant(["Cough and fever", "rash"])).numpy().tolist()
    [[3, 1], [4, 0]]
    """

    input_name = "text"

    def __init__(
        self,
        tokenizer: keras.layers.TextVectorization,
        max_length: int,
        fixed_length: bool = False,
    ) -> None:
        super().__init__(name="text_preprocessor")
        if not isinstance(tokenizer, keras.layers.TextVectorization):
            raise ValueError(
                f"Cannot serve {type(tokenizer).__module__}."
                f"{type(tokenizer).__name__}: keras-hub / tensorflow-text "
                "tokenizers run ops that stock TensorFlow Serving lacks, so "
                "the export would fail to load there. Train the model with "
                "`sdl_keras.data.text.vectorization_tokenizer` (core "
                "TextVectorization, `tokenizer='vectorization'`) to export it."
            )
        if int(max_length) != max_length or max_length < 1:
            raise ValueError(f"`max_length` must be an integer ≥ 1; got {max_length}.")
        self.tokenizer = tokenizer
        self.max_length = int(max_length)
        self.fixed_length = bool(fixed_length)

    @property
    def input_signature(self) -> tf.TensorSpec:
        """A batch of UTF-8 strings, one document each."""
        return tf.TensorSpec([None], tf.string, name=self.input_name)

    def __call__(self, texts: tf.Tensor) -> tf.Tensor:
        """int32 token ids `[B, T]`, T ≥ 1 (a batch of empty documents
        still gives the encoder one padding position), or the float32 counts
        `[B, V]` of a bag-of-words tokenizer."""
        if text.is_bag_of_words(self.tokenizer):
            return tf.cast(self.tokenizer(texts), "float32")
        ids = text.token_ids(self.tokenizer, texts, self.max_length)
        if self.fixed_length:
            return ids.to_tensor(shape=[None, self.max_length])
        ids = ids.to_tensor()
        return tf.pad(ids, [[0, 0], [0, tf.maximum(1 - tf.shape(ids)[1], 0)]])
