"""
Title: Multi-object images: SDL pre-training on MS-COCO
Author: the sdl_keras authors
Date created: 2026/11/28
Last modified: 2026/11/29
Description: An image encoder pre-trained with SDL on two views of each COCO image, then an 80-label classifier.
Accelerator: GPU
"""

"""
## Introduction

MS-COCO 2017 images carry the objects they show as labels: 80 categories,
about 2.9 an image. This script reads your own copy, either the annotation
JSON files beside the image folders (`--coco-dir`) or a prepared
tensorflow-datasets build of `coco/2017` (`--tfds-dir`; it never downloads).
The tests run it on a directory in COCO's real layout with small real JPEGs.

The official validation set is the test set here; a tenth of the training
images is held out for early stopping and the thresholds. For each loss and
seed (paired), the encoder (ResNet50 by default, weights from a local `.h5`
or none; `small_cnn` for minutes on a CPU) is pre-trained on two views of
each image, then a classifier is trained with BCE.

    python examples/train_coco.py --coco-dir DIR | --tfds-dir DIR
                                  [--encoder resnet50|small_cnn] [--weights H5]
                                  [--image-size 224] [--limit N]
"""

"""
## Setup
"""

import argparse
from pathlib import Path

import numpy as np
import tensorflow as tf
from _runs import IMAGE_METRICS, add_options, run

from sdl_keras.datasets.coco import load_coco, load_coco_tfds
from sdl_keras.image_task import ImageTask
from sdl_keras.two_stage import Split

parser = argparse.ArgumentParser(description="SDL on MS-COCO 2017.")
source = parser.add_mutually_exclusive_group(required=True)
source.add_argument("--coco-dir", type=Path)
source.add_argument("--tfds-dir", type=Path)
parser.add_argument("--encoder", default="resnet50")
parser.add_argument("--weights", help="local .h5 weights of the top-less backbone")
parser.add_argument("--image-size", type=int, default=224)
parser.add_argument("--limit", type=int, help="use only this many images a split")
add_options(parser, epochs=5, classifier_epochs=15)
args = parser.parse_args()

"""
## The images and their labels

From annotation files the inputs are image paths, decoded in the pipeline;
from a tfds build they are re-encoded JPEG bytes, so both go through the
same decoding the exported model does.
"""


def from_tfds(data_dir: Path, split: str, limit: int | None):
    dataset, vocabulary = load_coco_tfds(data_dir, split)
    if limit:
        dataset = dataset.take(limit)
    encoded, labels = [], []
    for image, present in dataset:
        encoded.append(tf.io.encode_jpeg(image).numpy())
        labels.append(present.numpy())
    return np.asarray(encoded, dtype=object), np.stack(labels), vocabulary


parts = {}
for split in ("train", "val"):
    if args.coco_dir:
        loaded = load_coco(args.coco_dir, split)
        x, y, vocabulary = np.asarray(loaded.paths), loaded.labels, loaded.vocabulary
    else:
        x, y, vocabulary = from_tfds(args.tfds_dir, split, args.limit)
    parts[split] = (x[: args.limit], y[: args.limit]) if args.limit else (x, y)
(x, y), (x_test, y_test) = parts["train"], parts["val"]
held = len(x) // 10
order = np.random.default_rng(0).permutation(len(x))
train = Split(list(x[order[held:]]), y[order[held:]])
validation = Split(list(x[order[:held]]), y[order[:held]])
test = Split(list(x_test), y_test)
print(
    f"COCO 2017: {len(train.x)} train, {len(validation.x)} validation, "
    f"{len(test.x)} test"
)

"""
## Every loss and seed, paired
"""

task = ImageTask(
    (args.image_size, args.image_size),
    channels=3,
    encoder=args.encoder,
    weights=args.weights,
    batch_size=args.batch_size,
)
run(args, task, train, validation, test, vocabulary, IMAGE_METRICS)
