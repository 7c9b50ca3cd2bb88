"""MS-COCO 2017 multi-label classification: SDL pre-training, classifier, mAP.

    python examples/train_coco.py --coco-dir DIR [--encoder resnet50 --weights W.h5]
    python examples/train_coco.py --tfds-dir DIR  # a prepared tfds coco/2017

From a local COCO download (annotations/instances_{train,val}2017.json and
the image folders) or a prepared tensorflow-datasets coco/2017; nothing is
downloaded. 10% of train2017 is held out for early stopping and thresholds;
val2017 is the test set. Same protocol and output as the other examples.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
from _runs import IMAGE_METRICS, add_options, run

from sdl_keras.datasets.coco import load_coco, load_coco_tfds
from sdl_keras.image_task import ImageTask
from sdl_keras.two_stage import Split


def from_tfds(data_dir: Path, split: str, limit: int | None):
    """Encoded JPEG bytes and labels out of a prepared tfds build."""
    import tensorflow as tf

    dataset, vocabulary = load_coco_tfds(data_dir, split)
    if limit:
        dataset = dataset.take(limit)
    encoded, labels = [], []
    for image, present in dataset:
        encoded.append(tf.io.encode_jpeg(image).numpy())
        labels.append(present.numpy())
    return np.asarray(encoded, dtype=object), np.stack(labels), vocabulary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--coco-dir", type=Path)
    source.add_argument("--tfds-dir", type=Path)
    parser.add_argument("--encoder", default="resnet50")
    parser.add_argument("--weights", help="local .h5 weights of the top-less backbone")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--limit", type=int, help="use only this many images a split")
    add_options(parser, epochs=5, classifier_epochs=15)
    args = parser.parse_args()

    parts = {}
    for split in ("train", "val"):
        if args.coco_dir:
            loaded = load_coco(args.coco_dir, split)
            x, y, vocabulary = (
                np.asarray(loaded.paths),
                loaded.labels,
                loaded.vocabulary,
            )
        else:
            x, y, vocabulary = from_tfds(args.tfds_dir, split, args.limit)
        parts[split] = (x[: args.limit], y[: args.limit]) if args.limit else (x, y)
    (x, y), test = parts["train"], Split(*parts["val"])
    held = len(x) // 10
    order = np.random.default_rng(0).permutation(len(x))
    train = Split(list(x[order[held:]]), y[order[held:]])
    validation = Split(list(x[order[:held]]), y[order[:held]])
    test = Split(list(test.x), test.y)
    print(
        f"COCO 2017: {len(train.x)} train, {len(validation.x)} validation, "
        f"{len(test.x)} test"
    )
    task = ImageTask(
        (args.image_size, args.image_size),
        channels=3,
        encoder=args.encoder,
        weights=args.weights,
        batch_size=args.batch_size,
    )
    run(args, task, train, validation, test, vocabulary, IMAGE_METRICS)


if __name__ == "__main__":
    main()
