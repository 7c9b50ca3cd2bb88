"""
Title: What the views do to pre-training: a nearest-neighbour probe
Author: the sdl_keras authors
Date created: 2026/11/30
Last modified: 2026/11/30
Description: Pre-train an image task's encoder with SDL under several view and loss settings and score its embeddings by k-nearest neighbours on validation data, epoch by epoch.
Accelerator: None
"""

"""
## Introduction

Fine-tuning moves the whole encoder, so a classifier's test score mixes what
pre-training learnt with what the classifier's own epochs learn (and with
the noise of its thresholds). This probe looks at pre-training alone: after
every few epochs, the encoder's embeddings of the training images label the
validation images by their 10 nearest neighbours (the `knn` reference of
`sdl_keras.references`, cosine), and their validation mAP says how well the
embedding already groups images by their labels. Each setting starts from
the same seeded encoder.

    python examples/pretraining_probe.py --objects fashion --report results/probe/fashion.md
"""

"""
## Setup
"""

import argparse
import dataclasses
from pathlib import Path

import keras
import numpy as np

from sdl_keras.references import reference_report
from sdl_keras.reports import markdown_table
from sdl_keras.run_config import RunConfig
from sdl_keras.tasks import load_task
from sdl_keras.two_stage import Split, pretrain

"""
## The settings compared

Each is `(view options of ImageTask, run options)`: the views of
single-object recipes (zoom-ins to 60% of the side), the default gentle
views, no geometric change at all, and the strong views with the loss's
temperature changed instead.
"""

SETTINGS = {
    "zoom ≤ 40%, shift ≤ 10%": ({"crop_zoom": 0.4, "shift": 0.1}, {}),
    "zoom ≤ 10%, shift ≤ 5% (default)": ({}, {}),
    "no zoom or shift": ({"crop_zoom": 0.0, "shift": 0.0}, {}),
    "zoom ≤ 40%, shift ≤ 10%, τ 0.2": (
        {"crop_zoom": 0.4, "shift": 0.1},
        {"temperature": 0.2},
    ),
}

parser = argparse.ArgumentParser(
    description="A nearest-neighbour probe of pre-training."
)
parser.add_argument("--objects", default="mnist", help="the scenes' objects")
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--every", type=int, default=5, help="probe every N epochs")
parser.add_argument("--limit", type=int, help="at most so many training scenes")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--report", type=Path)
args = parser.parse_args()

"""
## The probe
"""

config = RunConfig(task="scenes", objects=args.objects, limit=args.limit)
task = load_task(config)


def probe(encoder: keras.Model, pipeline) -> float:
    """Validation mAP of the 10 nearest training embeddings' labels."""

    def embeddings(split: Split) -> np.ndarray:
        batches = pipeline.make_dataset(split, "evaluate", 0)
        return np.concatenate([encoder(x, training=False) for x, _ in batches])

    features = [embeddings(task.train), embeddings(task.validation)]
    report = reference_report(
        "knn", task.train, task.validation, task.validation, [*features, features[1]]
    )
    return report["tuned"]["map"]


class Probe(keras.callbacks.Callback):
    """Probes the encoder being pre-trained every `args.every` epochs."""

    def __init__(self, pipeline, found: dict) -> None:
        super().__init__()
        self.pipeline, self.found = pipeline, found

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if (epoch + 1) % args.every == 0:
            # The model is the ContrastiveModel; its encoder is the one trained.
            self.found[epoch + 1] = probe(self.model.encoder, self.pipeline)


epochs = list(range(args.every, args.epochs + 1, args.every))
# The encoder every setting starts from (`pretrain` seeds it the same way);
# the views play no part in probing it.
keras.utils.set_random_seed(args.seed)
untrained = probe(task.pipeline.make_encoder(), task.pipeline)
rows = []
for name, (views, options) in SETTINGS.items():
    pipeline = dataclasses.replace(task.pipeline, **views)
    run = dataclasses.replace(config, pretrain_epochs=args.epochs, **options)
    found = {0: untrained}
    trained = pretrain(
        pipeline.make_encoder,
        task.train,
        run,
        args.seed,
        make_dataset=pipeline.make_dataset,
        callbacks=[Probe(pipeline, found)],
    )
    loss = trained.history["contrastive_loss"]
    rows.append(
        [name, f"{loss[0]:.3f} → {loss[-1]:.3f}"]
        + [f"{found[epoch]:.4f}" for epoch in [0, *epochs]]
    )
    print(" | ".join(rows[-1]), flush=True)

"""
## The table
"""

header = ["setting", "SDL loss", "untrained", *(f"epoch {e}" for e in epochs)]
table = markdown_table(header, rows)
print(table)
if args.report:
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(table + "\n")
