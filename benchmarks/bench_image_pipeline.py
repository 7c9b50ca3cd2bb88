"""Is the image pipeline ever the bottleneck? Step time with it and without.

    python benchmarks/bench_image_pipeline.py           # about two minutes
    python benchmarks/bench_image_pipeline.py --quick

JPEG files on disk (RGB composites of MNIST digits, 96×96), read, decoded and
resized to 64×64 on every epoch (no cache: the hardest case), two views each
from `view_augmentation` (zoom-crop, shift, flip, colour jitter, grayscale),
a small CNN in ContrastiveModel with SDL. Each round runs one epoch of
`train_on_batch` fed by the real `image_dataset`, then the same steps on
batches already decoded, augmented and held in memory. Reported: median step
times, their ratio (goal ≤ 1.05), the pipeline's throughput in images per
second, uncached and cached, and what each augmentation layer costs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import tensorflow as tf
from _feeding import report, throughput, time_feeding

from sdl_keras.data import images
from sdl_keras.datasets import scenes
from sdl_keras.encoders import small_cnn_image_encoder
from sdl_keras.losses import SimilarityDissimilarityLoss
from sdl_keras.models import ContrastiveModel, ProjectionHead


def layer_costs(batch: int, repeats: int = 10) -> dict[str, float]:
    """Seconds each layer of `view_augmentation` takes for one view of a
    batch of 64×64 RGB images (where the pipeline's CPU time goes)."""
    pixels = tf.random.uniform((batch, 64, 64, 3), 0, 255, seed=0)
    costs = {}
    for layer in images.view_augmentation(3, seed=0).layers:
        layer(pixels, training=True)
        start = time.perf_counter()
        for _ in range(repeats):
            layer(pixels, training=True)
        costs[layer.__class__.__name__] = (time.perf_counter() - start) / repeats
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    rounds, count, batch = (2, 128, 32) if args.quick else (args.rounds, 512, 64)
    config = scenes.SceneConfig(canvas=96, grid=2, max_objects=3, jitter=6)
    pixels, labels = scenes.compose(*scenes.load_instances("mnist"), count, config)
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for index, image in enumerate(pixels):
            path = Path(folder) / f"{index}.jpg"
            rgb = tf.image.grayscale_to_rgb(tf.convert_to_tensor(image))
            path.write_bytes(tf.io.encode_jpeg(rgb).numpy())
            paths.append(str(path))

        def dataset(cache: bool) -> tf.data.Dataset:
            return images.image_dataset(
                paths,
                labels,
                (64, 64),
                batch,
                num_views=2,
                augmentation=images.view_augmentation(3, seed=0),
                shuffle=True,
                cache=cache,
            )

        uncached = throughput(dataset(cache=False), count)
        cached_dataset = dataset(cache=True)
        throughput(cached_dataset, count)
        cached = throughput(cached_dataset, count)
        keras.utils.set_random_seed(0)
        model = ContrastiveModel(
            small_cnn_image_encoder((64, 64, 3)), ProjectionHead(128, (256,))
        )
        model.compile(optimizer="adamw", loss=SimilarityDissimilarityLoss())
        medians = time_feeding(model, dataset(cache=False), rounds)
    costs = layer_costs(batch)
    report(
        f"{count} JPEG files 96×96 → 64×64, batch {batch} × 2 views, {rounds} rounds",
        medians,
        f"pipeline alone (decode + two views): {uncached:.0f} images/s uncached, "
        f"{cached:.0f} images/s cached",
        args.json,
        images_per_second={"uncached": uncached, "cached": cached},
        augmentation_seconds_per_view=costs,
    )
    print(
        f"one view of a batch of {batch}: "
        + ", ".join(f"{name} {1e3 * cost:.1f} ms" for name, cost in costs.items())
    )


if __name__ == "__main__":
    main()
