"""tf.data pipelines for multi-label text: tokenise, truncate, make views, batch.

Tokenisers are Keras layers that map strings to ragged token ids:
`vectorization_tokenizer` (core `keras.layers.TextVectorization`, whose graph
TensorFlow Serving runs as it is), `wordpiece_tokenizer` (a keras-hub
WordPiece vocabulary learnt offline from the training texts) or
`preset_tokenizer` (a local keras-hub preset directory). Id 0 is padding in
all three. `bag_of_words_tokenizer` maps strings to n-gram counts instead,
with scikit-learn's tokens and columns (`bag_of_words_vocabulary`).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from sdl_keras.data.label_batches import (
    PAD_LABEL,
    batch_examples,
    check_labels,
    label_dataset,
    to_large_label_form,
)
from sdl_keras.data.prefetching import prefetched

_WORDPIECE_RESERVED = ["[PAD]", "[UNK]", "[MASK]"]


def vectorization_tokenizer(
    texts: Sequence[str], vocabulary_size: int = 20000
) -> keras.layers.TextVectorization:
    """Lower-cased, punctuation-stripped words; ids 0 = padding, 1 = unknown."""
    tokenizer = keras.layers.TextVectorization(
        max_tokens=vocabulary_size, output_mode="int", ragged=True
    )
    tokenizer.adapt(tf.data.Dataset.from_tensor_slices(list(texts)).batch(1024))
    return tokenizer


# Characters of a word in scikit-learn's default token pattern
# (`(?u)\b\w\w+\b`): Unicode letters, digits and the underscore.
_NOT_WORD_CHARACTERS = r"[^\pL\pN_]+"


@keras.saving.register_keras_serializable(package="sdl_keras")
def lower_words(texts: tf.Tensor) -> tf.Tensor:
    """Lower-cased texts in which every run of characters other than
    letters, digits and `_` is one space."""
    lowered = tf.strings.lower(texts, encoding="utf-8")
    return tf.strings.regex_replace(lowered, _NOT_WORD_CHARACTERS, " ")


@keras.saving.register_keras_serializable(package="sdl_keras")
def split_long_words(texts: tf.Tensor) -> tf.RaggedTensor:
    """The words of two characters or more of each text."""
    words = tf.strings.split(texts)
    return tf.ragged.boolean_mask(words, tf.strings.length(words, "UTF8_CHAR") >= 2)


def bag_of_words_vocabulary(
    texts: Sequence[str],
    vocabulary_size: int = 20000,
    ngrams: int = 2,
    min_document_frequency: int = 2,
) -> tuple[list[str], np.ndarray]:
    """The words and word n-grams (up to `ngrams` words) that scikit-learn's
    `CountVectorizer(ngram_range=(1, ngrams), min_df=...,
    max_features=vocabulary_size)` keeps, most frequent first, and how many
    of `texts` hold each: the same tokens (words of two or more letters,
    digits or `_`, lower-cased) and the same columns (of the n-grams in at
    least `min_document_frequency` of `texts`, the `vocabulary_size` most
    frequent)."""
    occurrences: Counter[bytes] = Counter()
    documents: Counter[bytes] = Counter()
    for batch in tf.data.Dataset.from_tensor_slices(list(texts)).batch(1024):
        grams = tf.strings.ngrams(
            split_long_words(lower_words(batch)), (*range(1, ngrams + 1),), " "
        )
        for row in grams.to_list():
            occurrences.update(row)
            documents.update(set(row))
    # Terms in alphabetical order, then a sort by frequency: ties fall as
    # in scikit-learn's `max_features`.
    terms = sorted(t for t, n in documents.items() if n >= min_document_frequency)
    if not terms:
        raise ValueError(
            f"No word or n-gram occurs in {min_document_frequency} or more of the "
            f"{len(texts)} training texts: a bag of words needs texts that share "
            "words."
        )
    counts = np.array([occurrences[t] for t in terms], "int64")
    kept = np.argsort(-counts)[:vocabulary_size]  # as max_features cuts
    frequencies = np.array([documents[terms[i]] for i in kept], "float64")
    return [terms[i].decode("utf-8") for i in kept], frequencies


def bag_of_words_tokenizer(
    texts: Sequence[str],
    vocabulary_size: int = 20000,
    ngrams: int = 2,
    min_document_frequency: int = 2,
) -> keras.layers.TextVectorization:
    """Counts of the n-grams `bag_of_words_vocabulary` keeps. Float
    `[B, 1 + vocabulary_size]`: column 0 counts unknown n-grams."""
    vocabulary, _ = bag_of_words_vocabulary(
        texts, vocabulary_size, ngrams, min_document_frequency
    )
    return bag_of_words_tokenizer_from_vocabulary(vocabulary, ngrams)


def bag_of_words_tokenizer_from_vocabulary(
    vocabulary: Sequence[str], ngrams: int = 2
) -> keras.layers.TextVectorization:
    """The tokenizer of `bag_of_words_tokenizer` with a known vocabulary."""
    tokenizer = keras.layers.TextVectorization(
        standardize=lower_words,
        split=split_long_words,
        ngrams=ngrams,
        output_mode="count",
    )
    tokenizer.set_vocabulary(list(vocabulary))
    return tokenizer


def is_bag_of_words(tokenizer) -> bool:
    """Whether `tokenizer` gives counts (`bag_of_words_tokenizer`) rather
    than token ids."""
    if not isinstance(tokenizer, keras.layers.TextVectorization):
        return False
    return tokenizer.get_config()["output_mode"] == "count"


def wordpiece_tokenizer(texts: Sequence[str], vocabulary_size: int = 20000):
    """A keras-hub WordPiece tokenizer with a vocabulary learnt from `texts`
    (offline): ids 0 = [PAD], 1 = [UNK], 2 = [MASK]."""
    import keras_hub

    vocabulary = keras_hub.tokenizers.compute_word_piece_vocabulary(
        tf.data.Dataset.from_tensor_slices(list(texts)).batch(1024),
        vocabulary_size,
        lowercase=True,
        strip_accents=True,
        reserved_tokens=_WORDPIECE_RESERVED,
    )
    return wordpiece_tokenizer_from_vocabulary(vocabulary)


def wordpiece_tokenizer_from_vocabulary(vocabulary: Sequence[str]):
    """The WordPiece tokenizer of `wordpiece_tokenizer` with a known vocabulary."""
    import keras_hub

    return keras_hub.tokenizers.WordPieceTokenizer(
        list(vocabulary), lowercase=True, strip_accents=True, oov_token="[UNK]"
    )


def preset_tokenizer(preset: str):
    """The tokenizer of a local keras-hub preset directory (or preset name)."""
    import keras_hub

    return keras_hub.tokenizers.Tokenizer.from_preset(preset)


def mask_token_id(tokenizer) -> int:
    """The id that masking writes: the tokenizer's mask token, else its
    unknown token."""
    for token in ("[MASK]", "<mask>", "[UNK]", "<unk>"):
        try:
            return int(tokenizer.token_to_id(token))
        except (KeyError, ValueError, AttributeError, tf.errors.OpError):
            continue
    if isinstance(tokenizer, keras.layers.TextVectorization):
        return 1  # TextVectorization's out-of-vocabulary id
    raise ValueError(f"{tokenizer!r} has neither a mask nor an unknown token.")


def vocabulary_size(tokenizer) -> int:
    """Number of token ids (an encoder's embedding size)."""
    return int(tokenizer.vocabulary_size())


def token_ids(tokenizer, texts: tf.Tensor, max_length: int) -> tf.RaggedTensor:
    """Ragged int32 ids `[B, None]` of a batch of strings, truncated to the
    first `max_length` tokens: what pipelines and served models feed encoders."""
    return tf.cast(tokenizer(texts)[:, :max_length], "int32")


# A word stays in both of two views with probability 0.8² = 64%.
BAG_OF_WORDS_DROP_RATE = 0.2


def bag_of_words_dataset(
    texts: Sequence[str],
    labels: np.ndarray,
    tokenizer: keras.layers.TextVectorization,
    batch_size: int,
    num_views: int = 0,
    drop_rate: float = BAG_OF_WORDS_DROP_RATE,
    shuffle: bool = False,
    seed: int = 0,
    large_labels: bool = False,
) -> tf.data.Dataset:
    """Batches of `(counts, labels)`: float32 counts `[B, V]` of a
    `bag_of_words_tokenizer`, or with `num_views` ≥ 1, `[B, views, V]`
    views in which each word (and n-gram) is dropped with probability
    `drop_rate`, drawn afresh every epoch.

    Texts are tokenised once, on the first epoch, and their nonzero counts
    kept in memory (8 bytes an n-gram present: 120 MB for 10,000 documents
    of 2,000 words), as `text_dataset` keeps token ids: tokenising long
    documents every epoch took as long as the training step.

    `labels` are multi-hot `[N, L]`, dense or a SciPy sparse matrix; with
    `large_labels` the batches carry them in the large-label form (see
    `text_dataset`).
    """
    labels = check_labels(labels, len(texts))
    if not 0.0 <= drop_rate < 1.0:
        raise ValueError(f"`drop_rate` must be in [0, 1); got {drop_rate}.")
    columns = vocabulary_size(tokenizer)
    counts = (
        tf.data.Dataset.from_tensor_slices(list(texts))
        .batch(512)
        .map(
            lambda batch: _nonzero_counts(tokenizer(batch)),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        .unbatch()
        # Unbatched ragged rows carry a ragged spec; as tensors they pad.
        .map(lambda present, count: (tf.identity(present), tf.identity(count)))
    )
    dataset = tf.data.Dataset.zip(counts, label_dataset(labels, large_labels)).cache()
    if shuffle:
        dataset = dataset.shuffle(
            min(len(texts), 10_000), seed=seed, reshuffle_each_iteration=True
        )
    # Padding is column 0 with count 0: it adds nothing.
    dataset = batch_examples(
        dataset, batch_size, large_labels, padded_shapes=([None], [None])
    ).map(
        lambda nonzero, y: (_dense_counts(nonzero[0], nonzero[1], columns), y),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    if num_views:
        seeds = tf.data.Dataset.random(
            seed=seed, rerandomize_each_iteration=True
        ).batch(2)

        def drop_words(counts, y, pair):
            seed_pair = tf.cast(pair % (2**31 - 1), "int32")
            kept = [
                tf.random.stateless_uniform(
                    tf.shape(counts), tf.stack([seed_pair[0], seed_pair[1] + v])
                )
                >= drop_rate
                for v in range(num_views)
            ]
            return tf.stack([tf.where(k, counts, 0.0) for k in kept], axis=1), y

        dataset = tf.data.Dataset.zip(dataset, seeds).map(
            lambda element, pair: drop_words(element[0], element[1], pair),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    if large_labels:
        dataset = to_large_label_form(dataset, labels.shape[1])
    batches = -(-len(texts) // batch_size)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
    return prefetched(dataset)


def _nonzero_counts(counts: tf.Tensor) -> tuple[tf.RaggedTensor, tf.RaggedTensor]:
    """Dense counts `[B, V]` as each row's present columns (int32) and their
    float32 counts, ragged `[B, None]`."""
    present = tf.where(counts > 0)
    rows, nrows = present[:, 0], tf.shape(counts, out_type="int64")[0]
    return (
        tf.RaggedTensor.from_value_rowids(
            tf.cast(present[:, 1], "int32"), rows, nrows=nrows
        ),
        tf.RaggedTensor.from_value_rowids(
            tf.cast(tf.gather_nd(counts, present), "float32"), rows, nrows=nrows
        ),
    )


def _dense_counts(present: tf.Tensor, counts: tf.Tensor, columns: int) -> tf.Tensor:
    """`[B, columns]` float32 counts from padded `[B, k]` columns and counts."""
    batch = tf.shape(present)[0]
    rows = tf.broadcast_to(tf.range(batch)[:, None], tf.shape(present))
    return tf.scatter_nd(
        tf.stack([rows, present], axis=-1), counts, tf.stack([batch, columns])
    )


@dataclasses.dataclass(frozen=True)
class TextAugmentation:
    """Random edits that turn one token sequence into a view.

    In order: keep a random contiguous span of `crop_fraction` of the tokens,
    drop each remaining token with probability `drop_rate`, then replace each
    with `mask_id` with probability `mask_rate`. Padding never appears inside
    a sequence, and a view keeps at least one token.

    Attributes:
        mask_id: id written by masking (see `mask_token_id`).
        mask_rate: probability of masking a token.
        drop_rate: probability of dropping a token.
        crop_fraction: share of the sequence kept by the span crop, in (0, 1].
    """

    mask_id: int
    mask_rate: float = 0.15
    drop_rate: float = 0.1
    crop_fraction: float = 0.9

    def __post_init__(self) -> None:
        for name in ("mask_rate", "drop_rate"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(
                    f"`{name}` must be in [0, 1); got {getattr(self, name)}."
                )
        if not 0.0 < self.crop_fraction <= 1.0:
            raise ValueError(
                f"`crop_fraction` must be in (0, 1]; got {self.crop_fraction}."
            )

    def __call__(self, ids: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        """A view of the 1-D `ids`, deterministic for the `[2]` int `seed`."""
        seeds = tf.random.experimental.stateless_split(seed, 3)
        length = tf.shape(ids)[0]
        keep = tf.maximum(
            1,
            tf.cast(
                tf.math.ceil(self.crop_fraction * tf.cast(length, "float32")), "int32"
            ),
        )
        start = tf.random.stateless_uniform(
            [], seeds[0], maxval=tf.maximum(length - keep, 0) + 1, dtype="int32"
        )
        ids = ids[start : start + keep]
        kept = tf.random.stateless_uniform(tf.shape(ids), seeds[1]) >= self.drop_rate
        # If every token drew "drop", the first one stays.
        first = tf.equal(tf.range(tf.shape(ids)[0]), 0)
        kept = kept | (first & ~tf.reduce_any(kept))
        ids = tf.boolean_mask(ids, kept)
        masked = tf.random.stateless_uniform(tf.shape(ids), seeds[2]) < self.mask_rate
        return tf.where(masked, tf.cast(self.mask_id, ids.dtype), ids)


def text_dataset(
    texts: Sequence[str],
    labels: np.ndarray,
    tokenizer,
    max_length: int,
    batch_size: int,
    num_views: int = 0,
    augmentation: TextAugmentation | None = None,
    shuffle: bool = False,
    seed: int = 0,
    bucket_boundaries: Sequence[int] | None = None,
    cache: bool = True,
    drop_remainder: bool = False,
    fixed_length: bool = False,
    large_labels: bool = False,
) -> tf.data.Dataset:
    """Batches of `(token_ids, labels)` for training or evaluation.

    Texts are tokenised once (in batches) and truncated to `max_length`,
    then cached; each epoch reshuffles (seeded) and draws fresh views.

    Args:
        texts: documents.
        labels: multi-hot `[N, L]`, dense or a SciPy sparse matrix.
        tokenizer: a layer from this module's tokenizer functions.
        max_length: tokens kept from the start of each document.
        batch_size: documents per batch.
        num_views: 0 for `token_ids` `[B, T]`; V ≥ 1 for `[B, V, T]`, each
            view drawn by `augmentation` (V views for `ContrastiveModel`).
        augmentation: the view maker; required with views.
        shuffle: reshuffle every epoch (seeded).
        seed: seeds shuffling and views.
        bucket_boundaries: with them, documents are batched with others of
            similar length (fewer padded positions); else padded per batch.
        cache: keep the tokenised documents in memory after the first epoch.
        drop_remainder: drop a last, smaller batch.
        fixed_length: pad every batch to `max_length`: one static shape, so
            a compiled step is traced once (else padded per batch).
        large_labels: carry labels in the large-label form: each document
            keeps its label indices, each batch is a `tf.SparseTensor`
            `[B, L]` (for `ContrastiveModel` with thousands of labels).

    Returns:
        A `tf.data.Dataset`, padded with 0 to the longest sequence of each
        batch, prefetched.
    """
    labels = check_labels(labels, len(texts))
    if max_length < 1 or batch_size < 1:
        raise ValueError("`max_length` and `batch_size` must be ≥ 1.")
    documents = tf.data.Dataset.from_tensor_slices(list(texts))
    tokens = (
        documents.batch(512)
        .map(
            lambda batch: token_ids(tokenizer, batch, max_length),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        .unbatch()
        # Unbatched ragged rows carry a ragged spec; as tensors they pad.
        .map(tf.identity)
    )
    dataset = tf.data.Dataset.zip(tokens, label_dataset(labels, large_labels))
    if cache:
        dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(
            min(len(texts), 10_000), seed=seed, reshuffle_each_iteration=True
        )
    if num_views:
        if augmentation is None:
            raise ValueError("Views need an `augmentation` (see TextAugmentation).")
        seeds = tf.data.Dataset.random(
            seed=seed, rerandomize_each_iteration=True
        ).batch(2)
        dataset = tf.data.Dataset.zip(dataset, seeds).map(
            lambda element, pair: (
                _views(element[0], pair, num_views, augmentation),
                element[1],
            ),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    length = max_length if fixed_length else None
    sequence_shape = [num_views, length] if num_views else [length]
    if bucket_boundaries:
        dataset = dataset.bucket_by_sequence_length(
            lambda ids, _: tf.shape(ids)[-1],
            list(bucket_boundaries),
            [batch_size] * (len(bucket_boundaries) + 1),
            padded_shapes=(sequence_shape, [None]),
            padding_values=(None, PAD_LABEL if large_labels else None),
            drop_remainder=drop_remainder,
        )
    else:
        dataset = batch_examples(
            dataset,
            batch_size,
            large_labels,
            drop_remainder,
            padded_shapes=sequence_shape,
        )
        # Known length: Keras shows progress and ends epochs without a warning.
        batches = len(texts) // batch_size
        if not drop_remainder and len(texts) % batch_size:
            batches += 1
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
    if large_labels:
        dataset = to_large_label_form(dataset, labels.shape[1])
    return prefetched(dataset)


def _views(ids, pair, num_views: int, augmentation: TextAugmentation):
    """`[V, T]`: V augmented views, padded to the longest of them."""
    seed = tf.cast(pair % (2**31 - 1), "int32")
    views = [
        augmentation(ids, tf.stack([seed[0], seed[1] + v])) for v in range(num_views)
    ]
    longest = tf.reduce_max([tf.shape(view)[0] for view in views])
    padded = [tf.pad(view, [[0, longest - tf.shape(view)[0]]]) for view in views]
    return tf.ensure_shape(tf.stack(padded), [num_views, None])
