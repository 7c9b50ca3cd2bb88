"""
Title: Whose neighbours: the pre-trained space or the fine-tuned one
Author: the sdl_keras authors
Date created: 2026/11/30
Last modified: 2026/12/01
Description: Score the nearest training examples' labels in the encoder's space after SDL pre-training, in the projection SDL trains on, and after fine-tuning, alone and blended with the classifier.
Accelerator: None
"""

"""
## Introduction

The default recipe's neighbour blend (`sdl_keras.neighbour_blend`) reads the
encoder after the classifier fine-tuned it with BCE, and it helps SDL and
BCE-only runs alike. The space SDL itself shapes is the encoder's before
fine-tuning, and the projection head's on top of it. This script trains one
default run (`sdl-keras train` with the task's options and a seed), keeps
every split's features of the encoder as pre-training left it (and their
projections) before fine-tuning moves it, and scores the labels of the
10 nearest training examples (cosine) in each space: alone, on validation
and test mAP, and blended with the classifier by the default rule (the
share validation clearly prefers over the classifier alone):

    python examples/neighbour_spaces.py --task scenes --objects fashion --seed 0
"""

"""
## Setup
"""

import argparse

import keras
import numpy as np

from sdl_keras.linear_blend import chosen_share, fit_linear_blend
from sdl_keras.metrics import mean_average_precision
from sdl_keras.models import NeighbourLabels
from sdl_keras.neighbour_blend import (
    NEIGHBOURS,
    features_and_probabilities,
    neighbour_scores,
)
from sdl_keras.reports import markdown_table
from sdl_keras.run_config import RunConfig
from sdl_keras.tasks import load_task
from sdl_keras.two_stage import train_two_stage

parser = argparse.ArgumentParser(description="Neighbours in three spaces.")
parser.add_argument("--task", default="scenes")
parser.add_argument("--objects", help="the scenes' objects (scenes tasks)")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--limit", type=int)
parser.add_argument("--pretrain-epochs", type=int)
parser.add_argument("--classifier-epochs", type=int)
args = parser.parse_args()

"""
## One default run, with the pre-trained encoder kept
"""


def inputs(split):
    return task.pipeline.make_dataset(split, "evaluate", 0)


class PretrainedFeatures(keras.callbacks.Callback):
    """The encoder's features of every split as pre-training leaves them
    (before fine-tuning moves the shared encoder), and their projections."""

    def on_train_end(self, logs=None) -> None:
        self.spaces: dict[str, dict[str, np.ndarray]] = {
            "pre-trained encoder": {},
            "SDL's projection": {},
        }
        for name, split in splits.items():
            encoded = self.model.encoder.predict(inputs(split), verbose=0)
            projected = self.model.projection_head(encoded)
            self.spaces["pre-trained encoder"][name] = encoded
            self.spaces["SDL's projection"][name] = keras.ops.convert_to_numpy(
                projected
            )


config = RunConfig(
    **{key: value for key, value in vars(args).items() if value is not None}
)
task = load_task(config)
splits = {"train": task.train, "validation": task.validation, "test": task.test}
pretrained = PretrainedFeatures()
classifier = train_two_stage(
    train=task.train,
    validation=task.validation,
    config=config,
    pretrain_callbacks=[pretrained],
    **task.pipeline.run_arguments(),
).classifier
if config.linear_blend is not False:
    fit_linear_blend(classifier, task.pipeline, task.train, task.validation)
scored = {"validation": task.validation, "test": task.test}
fine_tuned = {"train": classifier.encoder.predict(inputs(task.train), verbose=0)}
own = {}
for name, split in scored.items():
    fine_tuned[name], own[name] = features_and_probabilities(classifier, inputs(split))
spaces = {"fine-tuned encoder": fine_tuned, **pretrained.spaces}

"""
## The neighbours in each space, alone and blended
"""

rows = [
    [
        "classifier (and its linear blend)",
        *(f"{mean_average_precision(s.y, own[n]):.4f}" for n, s in scored.items()),
        "",
        "",
    ]
]
for space, features in spaces.items():
    stored = features["train"]
    neighbours = NeighbourLabels(
        len(stored), stored.shape[1], task.train.y.shape[1], NEIGHBOURS
    )
    neighbours.store(stored, task.train.y)
    scores = {name: neighbour_scores(neighbours, features[name]) for name in scored}
    share, _ = chosen_share(
        task.validation.y, own["validation"], scores["validation"], incumbent=0.0
    )
    blended = (1 - share) * own["test"] + share * scores["test"]
    rows.append(
        [
            f"neighbours, {space}",
            *(
                f"{mean_average_precision(s.y, scores[n]):.4f}"
                for n, s in scored.items()
            ),
            f"{share:g}",
            f"{mean_average_precision(task.test.y, blended):.4f}",
        ]
    )
print(
    markdown_table(
        [
            "scores",
            "validation mAP",
            "test mAP",
            "share in the blend",
            "blend test mAP",
        ],
        rows,
    )
)
