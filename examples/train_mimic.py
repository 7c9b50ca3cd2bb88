"""ICD coding on MIMIC-III or MIMIC-IV: SDL pre-training, classifier, metrics.

    python examples/train_mimic.py --mimic-dir DIR [--version iii|iv] [--codes 50|full]
                                   [--icd 9|10] [--splits-dir DIR]
                                   [--encoder cnn|transformer|PRESET_DIR]
                                   [--output results/mimic.json]

Needs the user's own PhysioNet download (NOTEEVENTS, DIAGNOSES_ICD,
PROCEDURES_ICD for III; hosp/ and note/ for IV), read as .csv or .csv.gz.
With the CAML `*_hadm_ids.csv` files in --splits-dir (or --mimic-dir) the
standard splits are used, else a seeded patient split. Same protocol and
output as examples/train_hpo.py: each loss and seed paired, micro/macro F1,
AUC, P@5/P@8, mAP, by frequency band, written as JSON.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
from _runs import TEXT_METRICS, add_options, add_text_options, run, text_task

from sdl_keras.datasets.mimic import load_mimic_iii, load_mimic_iv
from sdl_keras.two_stage import Split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mimic-dir", type=Path, required=True)
    parser.add_argument("--version", default="iii", choices=["iii", "iv"])
    parser.add_argument("--codes", default="50", choices=["50", "full"])
    parser.add_argument("--icd", type=int, default=9, choices=[9, 10])
    parser.add_argument("--splits-dir", type=Path)
    add_options(parser, epochs=5, classifier_epochs=20)
    add_text_options(parser, max_length=3000)
    args = parser.parse_args()

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
    run(
        args,
        text_task(args, train),
        train,
        validation,
        test,
        data.vocabulary,
        TEXT_METRICS,
    )


if __name__ == "__main__":
    main()
