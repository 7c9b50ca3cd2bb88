"""
Title: ICD coding of clinical notes on MIMIC-III and MIMIC-IV
Author: the sdl_keras authors
Date created: 2026/11/28
Last modified: 2026/11/29
Description: SDL pre-training of a text encoder on discharge summaries, then a multi-label ICD classifier with the field's metrics.
Accelerator: GPU
"""

"""
## Introduction

Automatic ICD coding assigns the diagnosis and procedure codes of a hospital
admission from its discharge summary: tens of codes out of thousands, most of
them rare. This script reads your own PhysioNet download (NOTEEVENTS,
DIAGNOSES_ICD, PROCEDURES_ICD for MIMIC-III; `hosp/` and `note/` for
MIMIC-IV; `.csv` or `.csv.gz`), with the CAML `*_hadm_ids.csv` splits when
they are in `--splits-dir` (or `--mimic-dir`) and a seeded patient split
otherwise. Nothing of MIMIC ships here: the tests run this script on files
written in MIMIC's real column layout.

For each loss and seed (paired), a CNN text encoder is pre-trained on two
token-level views of each note (span crop, token drop, masking), then a
classifier is trained with BCE; the report has micro/macro F1, AUC, P@5/P@8
and mAP, overall and by code-frequency band.

    python examples/train_mimic.py --mimic-dir DIR [--version iii|iv] [--codes 50|full]
                                   [--icd 9|10] [--splits-dir DIR]
                                   [--encoder cnn|transformer|PRESET_DIR]
                                   [--output results/mimic.json]
"""

"""
## Setup
"""

import argparse
from pathlib import Path

import numpy as np
from _runs import TEXT_METRICS, add_options, add_text_options, run, text_task

from sdl_keras.datasets.mimic import load_mimic_iii, load_mimic_iv
from sdl_keras.two_stage import Split

parser = argparse.ArgumentParser(description="ICD coding on MIMIC-III/IV.")
parser.add_argument("--mimic-dir", type=Path, required=True)
parser.add_argument("--version", default="iii", choices=["iii", "iv"])
parser.add_argument("--codes", default="50", choices=["50", "full"])
parser.add_argument("--icd", type=int, default=9, choices=[9, 10])
parser.add_argument("--splits-dir", type=Path)
add_options(parser, epochs=5, classifier_epochs=20)
add_text_options(parser, max_length=3000)
args = parser.parse_args()

"""
## The notes and their codes

Discharge summaries with their addenda are joined per admission; codes get
their dots back; `--codes 50` keeps the 50 most frequent codes (and the
admissions that carry one of them).
"""

if args.version == "iii":
    data = load_mimic_iii(args.mimic_dir, args.codes, args.splits_dir)
else:
    data = load_mimic_iv(
        args.mimic_dir, args.icd, args.codes, splits_dir=args.splits_dir
    )
train, validation, test = (
    Split(np.asarray(data.texts[name], dtype=object), data.labels[name])
    for name in ("train", "dev", "test")
)
print(
    f"MIMIC-{args.version.upper()}-{args.codes}: {len(data.vocabulary)} codes; "
    f"split {len(train.x)}/{len(validation.x)}/{len(test.x)} "
    f"(listed but unavailable: {data.missing})"
)

"""
## Every loss and seed, paired

The tokenizer is fitted on the training notes; each run starts from the same
initial encoder for a given seed, so the losses are compared pair by pair.
"""

run(
    args, text_task(args, train), train, validation, test, data.vocabulary, TEXT_METRICS
)
