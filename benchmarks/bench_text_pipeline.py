"""Is the text pipeline ever the bottleneck? Step time with it and without.

    python benchmarks/bench_text_pipeline.py           # about three minutes
    python benchmarks/bench_text_pipeline.py --quick

Documents of 3,000 tokens (synthetic: words drawn from a Zipf law over a
20,000-word vocabulary, the length of MIMIC discharge summaries), two views
each, a CNN encoder (CAML-sized: 64-d embedding, 256 filters of width 5) in
ContrastiveModel with SDL. Each round runs one epoch of `fit` fed by the
real `text_dataset` (tokenised once and cached, fresh shuffle and
views every epoch, padded to 3,000, prefetched), then one on the same
batches already tokenised, augmented and held in memory. Reported:
median step times and their ratio (goal ≤ 1.05), and the pipeline's own
throughput in documents per second (first epoch with tokenisation; later
epochs from the cache).
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
from sdl_keras.encoders import cnn_text_encoder
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    rounds, count, batch = (2, 64, 8) if args.quick else (args.rounds, 256, 16)
    rng = np.random.default_rng(0)
    texts, labels = documents(rng, count)

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
    tokenising = throughput(dataset, count)  # the first pass fills the cache
    cached = throughput(dataset, count)

    keras.utils.set_random_seed(0)
    encoder = cnn_text_encoder(text.vocabulary_size(tokenizer), 64, 256, 5)
    model = ContrastiveModel(encoder, ProjectionHead(128, (256,)))
    model.compile(optimizer="adamw", loss=SimilarityDissimilarityLoss())
    medians = time_feeding(model, dataset, rounds)
    report(
        f"{count} documents of {LENGTH} tokens, batch {batch} × 2 views, "
        f"{rounds} rounds",
        medians,
        f"pipeline alone: {tokenising:.0f} documents/s on the first epoch "
        f"(tokenising), {cached:.0f} documents/s from the cache (views made)",
        args.json,
        documents_per_second={"first_epoch": tokenising, "cached": cached},
    )


if __name__ == "__main__":
    main()
