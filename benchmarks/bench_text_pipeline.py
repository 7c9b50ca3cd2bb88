"""Is the text pipeline ever the bottleneck? Step time with it and without.

    python benchmarks/bench_text_pipeline.py                 # about three minutes
    python benchmarks/bench_text_pipeline.py --encoder bow   # about four
    python benchmarks/bench_text_pipeline.py --quick

Documents of 3,000 tokens (synthetic: words drawn from a Zipf law over a
20,000-word vocabulary, the length of MIMIC discharge summaries), two views
each, in ContrastiveModel with SDL. `--encoder cnn` (CAML-sized: 64-d
embedding, 256 filters of width 5, batches of 16) is fed by the real
`text_dataset` (tokenised once and cached, fresh shuffle and views every
epoch, padded to 3,000, prefetched); `--encoder bow` (the default recipe's:
TF-IDF of words and bigrams into an MLP, batches of 128) by the real
`bag_of_words_dataset` (word and bigram counts, a fresh shuffle and fresh
dropped words every epoch). Each round runs one epoch of `fit` fed by the
pipeline, then one on the same batches already tokenised, augmented and
held in memory. Reported: median step times and their ratio (goal ≤ 1.05),
and the pipeline's own throughput in documents per second (first epoch with
tokenisation; later epochs from the cache).
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
from _feeding import report, throughput, time_feeding

from sdl_keras.data import text
from sdl_keras.encoders import (
    bag_of_words_text_encoder,
    cnn_text_encoder,
    inverse_document_frequency,
)
from sdl_keras.losses import SimilarityDissimilarityLoss
from sdl_keras.models import ContrastiveModel, ProjectionHead

LENGTH, WORDS, LABELS = 3000, 20000, 50


def documents(rng, count: int) -> tuple[list[str], np.ndarray]:
    frequency = 1.0 / np.arange(1, WORDS + 1)
    frequency /= frequency.sum()
    vocabulary = np.array([f"w{i}" for i in range(WORDS)])
    texts = [
        " ".join(vocabulary[rng.choice(WORDS, LENGTH, p=frequency)])
        for _ in range(count)
    ]
    labels = (rng.random((count, LABELS)) < 0.1).astype("float32")
    return texts, labels


def pipeline_and_encoder(
    encoder: str, texts: list[str], labels: np.ndarray, batch: int
) -> tuple:
    """The real pipeline of `encoder` with two views, and a fresh encoder."""
    if encoder == "bow":
        vocabulary, frequencies = text.bag_of_words_vocabulary(texts, 50000)
        tokenizer = text.bag_of_words_tokenizer_from_vocabulary(vocabulary)
        idf = np.concatenate(
            [[0.0], inverse_document_frequency(frequencies, len(texts))]
        )
        dataset = text.bag_of_words_dataset(
            texts, labels, tokenizer, batch, 2, shuffle=True, seed=0
        )
        return dataset, bag_of_words_text_encoder(idf, columns=WORDS)
    tokenizer = text.vectorization_tokenizer(texts, WORDS)
    augmentation = text.TextAugmentation(text.mask_token_id(tokenizer))
    dataset = text.text_dataset(
        texts,
        labels,
        tokenizer,
        LENGTH,
        batch,
        2,
        augmentation,
        shuffle=True,
        seed=0,
        fixed_length=True,
    )
    return dataset, cnn_text_encoder(text.vocabulary_size(tokenizer), 64, 256, 5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--encoder",
        choices=("cnn", "bow"),
        default="cnn",
        help="a token CNN, or the default recipe's bag of words (default: cnn)",
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    batch = {"cnn": 16, "bow": 128}[args.encoder]
    rounds, count = (2, 4 * batch) if args.quick else (args.rounds, 16 * batch)
    rng = np.random.default_rng(0)
    texts, labels = documents(rng, count)

    keras.utils.set_random_seed(0)
    dataset, encoder = pipeline_and_encoder(args.encoder, texts, labels, batch)
    tokenising = throughput(dataset, count)  # the first pass fills the cache
    cached = throughput(dataset, count)
    model = ContrastiveModel(encoder, ProjectionHead(128, (256,)))
    model.compile(optimizer="adamw", loss=SimilarityDissimilarityLoss())
    medians = time_feeding(model, dataset, rounds)
    report(
        f"{count} documents of {LENGTH} tokens, batch {batch} × 2 views, "
        f"{args.encoder} encoder, {rounds} rounds",
        medians,
        f"pipeline alone: {tokenising:.0f} documents/s on the first epoch "
        f"(tokenising), {cached:.0f} documents/s from the cache (views made)",
        args.json,
        documents_per_second={"first_epoch": tokenising, "cached": cached},
    )


if __name__ == "__main__":
    main()
