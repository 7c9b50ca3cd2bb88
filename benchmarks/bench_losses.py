"""Forward+backward time of every loss, side by side in one run, as ratios.

    python benchmarks/bench_losses.py            # full table (a few minutes)
    python benchmarks/bench_losses.py --quick    # smaller, for a smoke run

Each round times every contender once, in turn, so machine noise hits all of
them alike; the table reports medians over rounds. Labels at 8,922 follow a
Zipf law with ~15 labels a sample, like MIMIC-III-full ICD codes; at 100,000
a Zipf law with 5 labels a sample. From 1,024 labels on, SDL is also timed on
the large-label form ("SDL sparse": a `tf.SparseTensor`, built outside the
timed step). Peak memory is the peak resident set of a fresh process running
one step at that batch size; the queue's label memory is the size of a built
ContrastiveModel's label variable.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np
import tensorflow as tf

from sdl_keras import losses
from sdl_keras.models import ContrastiveModel

LOSSES = {
    "ALL": losses.ALLSupConLoss,
    "ANY": losses.ANYSupConLoss,
    "Jaccard": losses.JaccardSupConLoss,
    "MulSupCon": losses.MulSupConLoss,
    "SDL": losses.SimilarityDissimilarityLoss,
}
CONFIGS = [
    (256, 128, 20),
    (1024, 128, 100),
    (1024, 128, 8922),
    (1024, 128, 100_000),
    (4096, 128, 100),
]
QUICK_CONFIGS = [(256, 128, 20), (512, 128, 100), (512, 128, 8922)]
GIB = 1024**3
MIB = 1024**2
QUEUE_KEYS, QUEUE_LABELS, QUEUE_SLOTS = 65_536, 8922, 64


def make_labels(rng, batch: int, num_labels: int) -> np.ndarray:
    labels = np.zeros((batch, num_labels), "float32")
    if num_labels > 1000:
        frequency = 1.0 / np.arange(1, num_labels + 1)
        frequency /= frequency.sum()
        for row in labels:
            count = 5 if num_labels > 10_000 else rng.integers(5, 26)
            row[rng.choice(num_labels, count, False, frequency)] = 1.0
    else:
        for row in labels:
            row[rng.choice(num_labels, rng.integers(1, 6), replace=False)] = 1.0
    return labels


def queue_label_megabytes() -> float:
    """Label memory of a 65,536-key queue at 8,922 labels, as built."""
    import keras

    encoder = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
    model = ContrastiveModel(
        encoder,
        num_labels=QUEUE_LABELS,
        queue_size=QUEUE_KEYS,
        max_labels=QUEUE_SLOTS,
    )
    return model.queue_labels.numpy().nbytes / MIB


def floor_step(labels, embeddings, temperature=0.07):
    """The bare similarity matmul with its log-sum-exp: no labels at all."""
    z = tf.math.l2_normalize(embeddings, axis=-1)
    logits = tf.matmul(z, z, transpose_b=True) / temperature
    return tf.reduce_mean(tf.reduce_logsumexp(logits, axis=1))


def per_anchor_sdl(labels, embeddings, temperature=0.07):
    """SDL written the straightforward way: one anchor at a time."""
    z = tf.math.l2_normalize(embeddings, axis=-1)
    sizes = tf.reduce_sum(labels, axis=1)
    batch = tf.shape(z)[0]

    def anchor_loss(i):
        shared = tf.linalg.matvec(labels, labels[i])
        weights = shared / sizes[i] / (1.0 + sizes - shared)
        weights = tf.where((shared > 0) & (tf.range(batch) != i), weights, 0.0)
        logits = tf.linalg.matvec(z, z[i]) / temperature
        logits = tf.where(tf.range(batch) == i, -1e9, logits)
        log_prob = logits - tf.reduce_logsumexp(logits)
        count = tf.reduce_sum(tf.cast(weights > 0, tf.float32))
        return tf.math.divide_no_nan(-tf.reduce_sum(weights * log_prob), count), count

    anchor, count = tf.map_fn(
        anchor_loss, tf.range(batch), fn_output_signature=(tf.float32, tf.float32)
    )
    return tf.math.divide_no_nan(
        tf.reduce_sum(anchor), tf.reduce_sum(tf.cast(count > 0, tf.float32))
    )


def train_step(loss_fn):
    @tf.function
    def step(labels, embeddings):
        with tf.GradientTape() as tape:
            tape.watch(embeddings)
            value = loss_fn(labels, embeddings)
        return value, tape.gradient(value, embeddings)

    return step


def time_side_by_side(steps: dict, labels, embeddings, rounds: int) -> dict:
    def label_form(name):
        return sparse_labels if name == "SDL sparse" else labels

    sparse_labels = tf.sparse.from_dense(labels)
    for name, step in steps.items():
        for _ in range(2):
            step(label_form(name), embeddings)[1].numpy()
    times = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            step(label_form(name), embeddings)[1].numpy()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def peak_memory(batch: int, dim: int, num_labels: int) -> float:
    """Peak RSS in GiB of a fresh process running one SDL step."""
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--peak-child",
            str(batch),
            str(dim),
            str(num_labels),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def run_peak_child(batch: int, dim: int, num_labels: int) -> None:
    rng = np.random.default_rng(0)
    labels = tf.constant(make_labels(rng, batch, num_labels))
    embeddings = tf.constant(rng.normal(size=(batch, dim)).astype("float32"))
    train_step(losses.SDL())(labels, embeddings)[1].numpy()
    # VmHWM starts afresh at exec; ru_maxrss would carry the parent's peak.
    with open("/proc/self/status") as status:
        peak_kib = next(
            int(line.split()[1]) for line in status if line.startswith("VmHWM")
        )
    print(peak_kib * 1024 / GIB)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    configs = QUICK_CONFIGS if args.quick else CONFIGS
    rounds = 5 if args.quick else args.rounds
    rng = np.random.default_rng(0)
    results = {"machine": f"{os.cpu_count()} CPUs", "tensorflow": tf.__version__}
    rows = []
    for batch, dim, num_labels in configs:
        labels = tf.constant(make_labels(rng, batch, num_labels))
        embeddings = tf.constant(rng.normal(size=(batch, dim)).astype("float32"))
        steps = {name: train_step(cls()) for name, cls in LOSSES.items()}
        steps["floor"] = train_step(floor_step)
        if num_labels >= 1024:
            steps["SDL sparse"] = train_step(losses.SDL())
        if batch <= 1024 and num_labels <= 10_000:
            steps["per-anchor SDL"] = train_step(per_anchor_sdl)
        times = time_side_by_side(steps, labels, embeddings, rounds)
        rows.append(
            {
                "batch": batch,
                "dim": dim,
                "labels": num_labels,
                "ms": {name: 1000 * seconds for name, seconds in times.items()},
            }
        )
        print(
            f"B={batch} D={dim} L={num_labels}: "
            + ", ".join(f"{name} {1000 * t:.1f} ms" for name, t in times.items()),
            flush=True,
        )
    results["rows"] = rows

    print(
        "\n| B | D | L | " + " | ".join(LOSSES) + " | SDL sparse | floor | SDL/ANY "
        "| SDL/floor | per-anchor/SDL |"
    )
    print("|---" * (len(LOSSES) + 8) + "|")
    for row in rows:
        ms = row["ms"]
        per_anchor = ms.get("per-anchor SDL")
        print(
            f"| {row['batch']} | {row['dim']} | {row['labels']} | "
            + " | ".join(f"{ms[name]:.1f}" for name in LOSSES)
            + (f" | {ms['SDL sparse']:.1f}" if "SDL sparse" in ms else " | -")
            + f" | {ms['floor']:.1f} | {ms['SDL'] / ms['ANY']:.2f} | "
            f"{ms['SDL'] / ms['floor']:.2f} | "
            + (f"{per_anchor / ms['SDL']:.1f}" if per_anchor else "-")
            + " |"
        )

    big_batch = configs[1][0]
    baseline = next(
        r["ms"]["SDL"] for r in rows if (r["batch"], r["labels"]) == (big_batch, 100)
    )
    print()
    for row in rows:
        if row["batch"] == big_batch and row["labels"] > 1000:
            for form in ("SDL", "SDL sparse"):
                ratio = row["ms"][form] / baseline
                results[f"{form.replace(' ', '_')}_{row['labels']}_over_100"] = ratio
                print(
                    f"{form} at {row['labels']:,} labels / SDL at 100 labels "
                    f"(B={big_batch}): {ratio:.2f}"
                )
    megabytes = queue_label_megabytes()
    dense_megabytes = QUEUE_KEYS * QUEUE_LABELS * 4 / MIB
    results.update(queue_label_mib=megabytes, dense_queue_label_mib=dense_megabytes)
    print(
        f"Label memory of a {QUEUE_KEYS:,}-key queue at {QUEUE_LABELS:,} labels: "
        f"{megabytes:.1f} MiB (max_labels={QUEUE_SLOTS}); as float32 multi-hot "
        f"rows it would take {dense_megabytes:,.0f} MiB"
    )

    if not args.quick:
        sizes = [1024, 2048, 4096, 8192]
        peaks = {b: peak_memory(b, 128, 100) for b in sizes}
        # Resident memory grows as a + c·B² (the [B, B] matrices dominate).
        c, a = np.polyfit(np.square(sizes, dtype="float64"), list(peaks.values()), 1)
        largest = int(np.sqrt((8.0 - a) / c)) if c > 0 else None
        results.update(peak_gib=peaks, largest_batch_8gib=largest)
        print(
            "\nPeak resident memory of one SDL step (GiB): "
            + ", ".join(f"B={b}: {g:.2f}" for b, g in peaks.items())
        )
        print(f"Largest batch in 8 GiB (fitted a + c·B²): about {largest}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--peak-child":
        run_peak_child(*map(int, sys.argv[2:5]))
    else:
        main()
