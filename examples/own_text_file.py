"""
Title: Multi-label classification of your own texts
Author: the sdl_keras authors
Date created: 2026/11/28
Last modified: 2026/11/29
Description: From a JSONL file of labelled texts to a saved, servable run, step by step.
Accelerator: None
"""

"""
## Introduction

`sdl-keras train --task text --train-file notes.jsonl` does in one command
what this script does step by step, so you can change any step. The file has
one `{"text": ..., "labels": [...]}` object a line; a row with no labels is
kept as unlabelled. The run:

1. reads the file, holds out validation and test sets (stratified by labels)
   and fits the input pipeline on the training texts;
2. pre-trains a bag-of-words encoder with the Similarity-Dissimilarity Loss
   on two views of each document, then fine-tunes a classifier with BCE,
   keeping its best epoch on validation mAP;
3. blends in a logistic regression on the same TF-IDF, with the share that
   scores best on validation data, and tunes the thresholds;
4. saves a run directory that `sdl-keras evaluate|predict|export` read.

    python examples/own_text_file.py notes.jsonl --output-dir runs/notes
"""

"""
## Setup
"""

import argparse
from pathlib import Path

from sdl_keras.linear_blend import fit_linear_blend
from sdl_keras.reports import summary_table
from sdl_keras.run_config import RunConfig
from sdl_keras.run_directory import save_run
from sdl_keras.tasks import load_task
from sdl_keras.two_stage import classifier_report, train_two_stage

parser = argparse.ArgumentParser(description="Train on your own labelled texts.")
parser.add_argument("train_file", type=Path, help="JSONL: text and labels a line")
parser.add_argument("--output-dir", type=Path, default=Path("runs/own_text"))
parser.add_argument("--pretrain-epochs", type=int, default=5)
parser.add_argument("--classifier-epochs", type=int, default=30)
args = parser.parse_args()

"""
## The task

One `RunConfig` holds every option of a run (each is also a flag of
`sdl-keras train`, with the same default). `load_task` reads the file, splits
it and fits the text pipeline; its notes say what was read and held out.
"""

config = RunConfig(
    task="text",
    train_file=str(args.train_file),
    pretrain_epochs=args.pretrain_epochs,
    classifier_epochs=args.classifier_epochs,
)
task = load_task(config)
print("\n".join(task.notes))

"""
## Pre-training and the classifier

`run_arguments` gives the two stages what the pipeline knows: how to build a
fresh encoder, and how to batch a split for pre-training (with views),
training and evaluation.
"""

trained = train_two_stage(
    train=task.train,
    validation=task.validation,
    config=config,
    **task.pipeline.run_arguments(),
)

"""
## The linear part

On a few thousand documents a logistic regression solved exactly ranks rare
labels well; the blend keeps whichever share of it validation data prefers
(0 when it does not help), as a frozen layer of the saved model.
"""

blend = fit_linear_blend(trained.classifier, task.pipeline, task.train, task.validation)
print(f"linear share of the blend: {blend['linear_weight']}")

"""
## Test metrics and the run directory
"""

report = classifier_report(
    trained.classifier,
    task.train.y.sum(axis=0),  # frequency bands from training counts
    task.test,
    task.pipeline.make_dataset,
)
print(summary_table({"sdl": [report]}, ["micro_f1", "macro_f1", "map"]))
save_run(
    args.output_dir,
    config,
    trained.classifier,
    task.vocabulary,
    task.label_names,
    task.pipeline,
)
print(f"wrote {args.output_dir}")
