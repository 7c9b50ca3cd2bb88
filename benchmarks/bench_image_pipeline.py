"""Is the image pipeline ever the bottleneck? Step time with it and without.

    python benchmarks/bench_image_pipeline.py           # about five minutes
    python benchmarks/bench_image_pipeline.py --quick

JPEG files on disk (RGB composites of MNIST digits, 96×96), read, decoded and
resized to 64×64 (kept after the first epoch, as `image_dataset` does by
default; and again decoding every file on every epoch), two views each
from `ViewAugmentation` (zoom-crop, shift, flip, colour jitter, grayscale),
a small CNN in ContrastiveModel with SDL. Each round runs one epoch of
`fit` fed by the real `image_dataset`, then one on the same batches already
decoded, augmented and held in memory. Reported: median step
times, the median of each round's ratio (goal ≤ 1.05), the pipeline's
throughput in images per second, uncached and cached, the CPU time a batch
of the cached pipeline takes (what it takes from the step), and what one
view costs in CPU time: Keras's preprocessing layers one by one and in
sequence, against the fused `ViewAugmentation`.
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
from _feeding import cpu_per_batch, report, throughput, time_feeding

from sdl_keras.data import ViewAugmentation, images
from sdl_keras.datasets import scenes
from sdl_keras.encoders import small_cnn_image_encoder
from sdl_keras.losses import SimilarityDissimilarityLoss
from sdl_keras.models import ContrastiveModel, ProjectionHead


def keras_layers(channels: int = 3) -> list[keras.layers.Layer]:
    """The same views from Keras's preprocessing layers, one after another:
    what `ViewAugmentation` fuses."""
    return [
        keras.layers.RandomZoom((-0.4, 0.0), fill_mode="reflect", seed=0),
        keras.layers.RandomTranslation(0.1, 0.1, fill_mode="reflect", seed=0),
        keras.layers.RandomFlip("horizontal", seed=0),
        keras.layers.RandomColorJitter(
            value_range=(0, 255),
            brightness_factor=0.4,
            contrast_factor=0.4,
            saturation_factor=(0.3, 0.7),
            hue_factor=0.1,
            seed=0,
        ),
        keras.layers.RandomGrayscale(0.2, seed=0),
    ]


def layer_costs(batch: int, repeats: int = 30) -> dict[str, float]:
    """CPU seconds (all threads: what competes with a training step on the
    same cores) one view of a batch of 64×64 RGB images takes: each Keras
    layer, the Keras layers in sequence, and the fused layer whole and in
    its two parts (each under `tf.function`, as in a tf.data map)."""
    pixels = tf.random.uniform((batch, 64, 64, 3), 0, 255, seed=0)
    layers = keras_layers()
    candidates = {layer.__class__.__name__: layer for layer in layers}
    candidates["Keras layers in sequence"] = keras.Sequential(layers)
    candidates["ViewAugmentation geometry"] = ViewAugmentation(
        3, colour=0.0, grayscale_rate=0.0, seed=0
    )
    candidates["ViewAugmentation colour"] = ViewAugmentation(
        3, crop_zoom=0.0, shift=0.0, flip=False, seed=0
    )
    candidates["ViewAugmentation"] = ViewAugmentation(3, seed=0)
    makers = {
        name: (lambda x, layer=layer: layer(x, training=True), pixels)
        for name, layer in candidates.items()
    }
    # What image_dataset runs: both views of the batch in one call (one
    # resampling), reported per view; from images padded each time, and from
    # images padded once before the cache (the default pipeline).
    together = ViewAugmentation(3, seed=0)
    padding = together.padding(64, 64)
    makers["ViewAugmentation, two views at once, per view"] = (
        lambda x: together.views(x, 2),
        pixels,
    )
    makers["the same from images padded before the cache, per view"] = (
        lambda x: together.views(x, 2, padding),
        together.pad(pixels),
    )
    costs = {}
    for name, (maker, inputs) in makers.items():
        view = tf.function(maker)
        view(inputs)
        start = time.process_time()
        for _ in range(repeats):
            view(inputs)
        per_call = (time.process_time() - start) / repeats
        costs[name] = per_call / (2 if "per view" in name else 1)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--images", type=int, default=2048, help="images an epoch")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    rounds, count, batch = (
        (2, 128, 32) if args.quick else (args.rounds, args.images, 64)
    )
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
                augmentation=ViewAugmentation(3, seed=0),
                shuffle=True,
                cache=cache,
            )

        uncached = throughput(dataset(cache=False), count)
        cached_dataset = dataset(cache=True)
        throughput(cached_dataset, count)
        cached = throughput(cached_dataset, count)
        cached_cpu = cpu_per_batch(cached_dataset)
        keras.utils.set_random_seed(0)
        model = ContrastiveModel(
            small_cnn_image_encoder((64, 64, 3)), ProjectionHead(128, (256,))
        )
        model.compile(optimizer="adamw", loss=SimilarityDissimilarityLoss())
        # The default pipeline keeps decoded images after the first epoch;
        # decoding every file on every epoch is the hardest case.
        medians = time_feeding(model, dataset(cache=True), rounds)
        every_epoch = time_feeding(model, dataset(cache=False), rounds)
    costs = layer_costs(batch)
    decoding = every_epoch["ratio"]
    report(
        f"{count} JPEG files 96×96 → 64×64, batch {batch} × 2 views, {rounds} "
        "rounds; the default pipeline (decoded images cached, views drawn every "
        "epoch)",
        medians,
        f"pipeline alone (decode + two views): {uncached:.0f} images/s uncached, "
        f"{cached:.0f} images/s cached, {1e3 * cached_cpu:.1f} CPU ms a batch cached",
        args.json,
        images_per_second={"uncached": uncached, "cached": cached},
        cached_cpu_seconds_per_batch=cached_cpu,
        decoding_every_epoch=every_epoch,
        augmentation_seconds_per_view=costs,
    )
    print(
        f"decoding every file on every epoch (cache=False): step "
        f"{1e3 * every_epoch['pipeline']:.1f} ms fed, "
        f"{1e3 * every_epoch['in memory']:.1f} ms from memory, ratio {decoding:.3f}"
    )
    print(f"\none view of a batch of {batch} (64×64 RGB), CPU ms:")
    print("| view maker | CPU ms |\n|---|---|")
    for name, cost in costs.items():
        print(f"| {name} | {1e3 * cost:.1f} |")
    fused = costs["Keras layers in sequence"] / costs["ViewAugmentation"]
    print(f"Keras layers in sequence / ViewAugmentation: {fused:.1f}×")


if __name__ == "__main__":
    main()
