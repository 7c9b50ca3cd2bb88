"""What the examples share: options, the run, the output, the saved runs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sdl_keras.reports import summary_table
from sdl_keras.run_config import MULTI_LABEL_LOSSES, RunConfig
from sdl_keras.run_directory import SavedRun
from sdl_keras.tasks import Task, load_task
from sdl_keras.text_task import TextTask
from sdl_keras.two_stage import Split, compare

# What each field reports (a "band/metric" key reads a frequency band).
TEXT_METRICS = [
    "micro_f1",
    "macro_f1",
    "micro_auc",
    "macro_auc",
    "precision_at_5",
    "precision_at_8",
    "map",
    "tail/macro_f1",
]
IMAGE_METRICS = [
    "map",
    "micro_f1",
    "macro_f1",
    "macro_auc",
    "head/macro_f1",
    "medium/macro_f1",
    "tail/macro_f1",
]


def add_options(
    parser: argparse.ArgumentParser, epochs: int, classifier_epochs: int
) -> None:
    parser.add_argument(
        "--losses",
        nargs="+",
        default=["none", "any", "sdl"],
        choices=MULTI_LABEL_LOSSES,
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--pretrain-epochs", type=int, default=epochs)
    parser.add_argument("--classifier-epochs", type=int, default=classifier_epochs)
    parser.add_argument("--temperature", type=float, default=0.1)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--output", type=Path)


def add_text_options(parser: argparse.ArgumentParser, max_length: int) -> None:
    parser.add_argument(
        "--encoder", default="cnn", help="cnn, bow, transformer or a preset"
    )
    parser.add_argument(
        "--tokenizer", default="vectorization", choices=["vectorization", "wordpiece"]
    )
    parser.add_argument("--vocabulary-size", type=int, default=20000)
    parser.add_argument("--max-length", type=int, default=max_length)


def text_task(args: argparse.Namespace, train: Split) -> TextTask:
    return TextTask.build(
        list(train.x),
        args.encoder,
        args.tokenizer,
        args.vocabulary_size,
        args.max_length,
        args.batch_size,
    )


def run(
    args, task, train: Split, validation: Split, test: Split, labels, shown
) -> None:
    """Every loss and seed on the task (a TextTask or ImageTask); prints the
    table of the `shown` metrics, writes every report as JSON."""
    config = RunConfig(
        temperature=args.temperature,
        pretrain_epochs=args.pretrain_epochs,
        classifier_epochs=args.classifier_epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        patience=5,
        monitor="loss",  # as the README's tables were measured
    )
    results = compare(
        [None if name == "none" else name for name in args.losses],
        args.seeds,
        config,
        log=lambda line: print(line, flush=True),
        train=train,
        validation=validation,
        test=test,
        **task.run_arguments(),
    )
    print("\ntest set, thresholds tuned on validation, mean ± std over seeds")
    print(summary_table(results, shown))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        settings = {
            k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()
        }
        document = {"args": settings, "labels": labels.get_config(), "results": results}
        args.output.write_text(json.dumps(document, indent=1))
        print(f"wrote {args.output}")


def add_saved_run_options(parser: argparse.ArgumentParser) -> None:
    """The options of a script that rescores `examples/default_recipe.py`'s
    saved runs: where they are, which SDL runs, which seeds."""
    parser.add_argument("--runs-dir", type=Path, default=Path("results/recipe"))
    parser.add_argument(
        "--sdl-runs",
        default="sdl",
        help="the SDL runs' folder prefix: the default's, or a study's of "
        "examples/default_recipe.py (sdl_joint1: --classification-weight 1)",
    )
    parser.add_argument(
        "--none-runs",
        default="none",
        help="the BCE-only runs' folder prefix: the default's, or an encoder "
        "study's of examples/default_recipe.py (none_depth2: --hidden-layers 2)",
    )
    parser.add_argument("--seeds", type=int, nargs="+", help="these seeds only")


def row_names(sdl_runs: str, none_runs: str = "none") -> dict[str, str]:
    """Run folder prefix → table row, for the SDL runs `sdl_runs` and the
    BCE-only runs `none_runs`."""
    sdl_row = "SDL + classifier (default)" if sdl_runs == "sdl" else f"SDL, {sdl_runs}"
    none_row = "BCE only" if none_runs == "none" else f"BCE only, {none_runs}"
    return {sdl_runs: sdl_row, none_runs: none_row}


def seed_of(directory: Path) -> int:
    """The seed of a run folder `<prefix>_seedN` (a study's prefix has `_`)."""
    return int(directory.name.rpartition("_seed")[2])


def saved_runs(
    runs_dir: Path, task_name: str, prefixes, seeds=None
) -> tuple[dict[str, list[Path]], Task]:
    """The runs `examples/default_recipe.py` saved for one task, by prefix
    (`sdl`, `none`), on the seeds every prefix with runs has (of `seeds`,
    where given), each group in seed order so the groups pair seed by seed;
    and the task they ran on (its splits are every seed's: loaded once)."""
    found = {
        prefix: {
            seed_of(run): run for run in (runs_dir / task_name).glob(f"{prefix}_seed*")
        }
        for prefix in prefixes
    }
    if not any(found.values()):
        raise SystemExit(f"No saved runs under {runs_dir / task_name}.")
    common = set.intersection(*(set(group) for group in found.values() if group))
    if seeds is not None:
        common &= set(seeds)
    runs = {
        prefix: [group[seed] for seed in sorted(common)] if group else []
        for prefix, group in found.items()
    }
    first = next(group[0] for group in runs.values() if group)
    return runs, load_task(SavedRun.load(first).config)
