"""`sdl-keras`: train, evaluate, export, compare and demo from the shell."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from sdl_keras._files import (
    check_output_directory,
    staged_directory,
    write_atomically,
    write_json,
    write_text,
)
from sdl_keras.cli.config import ConfigError, RunConfig, build, read_options
from sdl_keras.cli.grid import PROFILES, GridConfig, run_grid

# Smallest schedule that still shows every step: the demo in CI.
CI_DEMO = {"limit": 1500, "pretrain_epochs": 1, "classifier_epochs": 2}


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _exit_cleanly_on_sigterm()
    try:
        args.command(args)
    except (ValueError, OSError) as error:
        # Bad options, files and data: the library's errors name the problem.
        print(f"sdl-keras {args.name}: error: {error}", file=sys.stderr)
        return 2
    return 0


def _exit_cleanly_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so that staging files are removed."""

    def terminate(number, frame):
        raise SystemExit(128 + number)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, terminate)


def train_command(args) -> Path:
    config = _run_config(args)
    output = args.output_dir or Path("results/train") / (
        f"{config.task}_{config.loss}_seed{config.seed}"
    )
    check_output_directory(output, args.overwrite)
    with staged_directory(output, args.overwrite) as staging:
        train_run(config, staging, verbose=args.verbose)
    print(f"wrote {output}")
    return output


def train_run(config: RunConfig, output: Path, verbose: int = 1) -> Path:
    """Trains one run into `output`: config, classifier, history, metrics,
    markdown table, plots, TensorBoard logs."""
    import keras

    from sdl_keras.cli import plots
    from sdl_keras.cli.tasks import check_loss_fits_task, load_task
    from sdl_keras.two_stage import train_two_stage

    task = load_task(config)
    check_loss_fits_task(config.loss, task)
    logs = output / "tensorboard"
    trained = train_two_stage(
        train=task.train,
        validation=task.validation,
        config=config.two_stage_config(),
        seed=config.seed,
        verbose=verbose,
        pretrain_callbacks=[keras.callbacks.TensorBoard(str(logs / "pretrain"))],
        classifier_callbacks=[keras.callbacks.TensorBoard(str(logs / "classifier"))],
        **task.run_arguments,
    )
    write_atomically(output / "classifier.keras", trained.classifier.save)
    history = {
        "pretrain": _plain(trained.pretrain_history),
        "classifier": _plain(trained.classifier_history),
    }
    write_json(output / "history.json", history)
    report = _evaluate(task, trained.classifier, config.seed) | {
        "pretrain_seconds": trained.pretrain_seconds,
        "seconds": trained.seconds,
    }
    _write_results(output, config, {config.loss: report})
    plots.training_curves({config.loss: history}, output / "plots" / "training.png")
    plots.band_f1({config.loss: report["tuned"]}, output / "plots" / "band_f1.png")
    return output


def evaluate_command(args) -> None:
    from sdl_keras.cli.tasks import load_task

    config = _saved_config(args.run_dir)
    classifier = _saved_classifier(args.run_dir)
    report = _evaluate(load_task(config), classifier, config.seed)
    write_json(args.run_dir / "evaluation.json", report)
    print(_table({config.loss: report}))
    print(f"wrote {args.run_dir / 'evaluation.json'}")


def export_command(args) -> Path:
    from sdl_keras.cli.tasks import load_task
    from sdl_keras.export import export_for_serving

    config = _saved_config(args.run_dir)
    task = load_task(config)
    if task.serving_preprocessor is None:
        raise ConfigError(
            f"The {config.task} task has no raw input form to serve (feature "
            "vectors); export a text or image run."
        )
    classifier = _saved_classifier(args.run_dir)
    path = export_for_serving(
        classifier,
        args.base_dir or args.run_dir / "export",
        task.serving_preprocessor(),
        task.label_names,
        version=args.version,
        top_k=config.top_k,
        overwrite=args.overwrite,
    )
    print(f"exported {path}")
    return path


def compare_command(args) -> None:
    # A profile is the base a config file overrides; alone, the default is cpu.
    profile = args.profile or (None if args.config else "cpu")
    options = dict(PROFILES[profile]) if profile else {}
    if args.config:
        options.update(read_options(args.config))
    if args.seeds:
        options["seeds"] = args.seeds
    grid = build(GridConfig, options, str(args.config or f"profile {profile}"))
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "grid.json").write_text(
        json.dumps(dataclasses.asdict(grid), indent=1)
    )
    started = time.perf_counter()
    run_grid(grid, args.output_dir, log=lambda line: print(line, flush=True))
    print((args.output_dir / "results.md").read_text())
    print(f"wrote {args.output_dir} in {(time.perf_counter() - started) / 60:.1f} min")


def demo_command(args) -> None:
    """HPO text: SDL, ANY and BCE-only runs, their comparison and figures,
    the SDL classifier exported and asked one request."""
    started = time.perf_counter()
    check_output_directory(args.output_dir, args.overwrite)
    with staged_directory(args.output_dir, args.overwrite) as staging:
        summary = _demo(args, staging)
    minutes = (time.perf_counter() - started) / 60
    print(f"demo finished in {minutes:.1f} min; wrote {args.output_dir}:\n{summary}")


def _demo(args, output: Path) -> str:
    """Writes the demo into `output`; returns the list of what it wrote."""
    import keras

    from sdl_keras.cli import plots
    from sdl_keras.cli.tasks import load_task
    from sdl_keras.export import LocalServer, export_for_serving
    from sdl_keras.two_stage import evaluation_inputs

    options = CI_DEMO if args.profile == "ci" else {}
    reports, histories, classifiers = {}, {}, {}
    for loss in ("sdl", "any", "none"):
        config = build(RunConfig, {**options, "task": "hpo", "loss": loss})
        stages = "BCE only" if loss == "none" else f"{loss} pre-training, classifier"
        print(f"\n== {stages} ==")
        run = train_run(config, output / "runs" / loss, verbose=args.verbose)
        reports[loss] = json.loads((run / "metrics.json").read_text())[loss]
        histories[loss] = json.loads((run / "history.json").read_text())
        classifiers[loss] = keras.saving.load_model(run / "classifier.keras")
    task = load_task(config)
    figures = output / "plots"
    plots.training_curves(histories, figures / "training.png")
    plots.band_f1({k: r["tuned"] for k, r in reports.items()}, figures / "band_f1.png")
    plots.pair_weights_by_relation(
        task.train.y, ["any", "jaccard", "sdl"], figures / "pair_weights.png"
    )
    test_inputs = evaluation_inputs(task.test, task.run_arguments["make_dataset"], 0)
    embeddings = {
        loss: classifiers[loss].encoder.predict(test_inputs, verbose=0)
        for loss in ("sdl", "any")
    }
    _, anchor = plots.embedding_maps(
        embeddings, task.test.y, figures / "embeddings.png"
    )
    export_for_serving(
        classifiers["sdl"],
        output / "export",
        task.serving_preprocessor(),
        task.label_names,
        version=1,
        overwrite=args.overwrite,
        warmup_inputs=[str(text) for text in task.test.x[:4]],
    )
    request = {"instances": [str(text) for text in task.test.x[:2]]}
    status, response = LocalServer(output / "export", "hpo").rest_predict(request)
    write_json(output / "request.json", request)
    write_json(output / "response.json", response)
    _write_results(output, config, reports)
    print(f"\n{_table(reports)}\n")
    first = response["predictions"][0] if status == 200 else response
    top = ", ".join(
        f"{name} {score:.2f}"
        for name, score in zip(
            first["top_k_labels"], first["top_k_scores"], strict=True
        )
    )
    return (
        f"  results.md, metrics.json     test metrics of sdl, any, none (BCE only)\n"
        f"  runs/<loss>/                 classifier.keras, history, tensorboard/\n"
        f"  plots/                       training, band_f1, pair_weights, embeddings "
        f"(anchor labels {[task.label_names[j] for j in anchor]})\n"
        f"  export/1/                    SavedModel for TensorFlow Serving\n"
        f"  request.json, response.json  a REST request and its answer: {top}"
    )


def _evaluate(task, classifier, seed: int) -> dict:
    from sdl_keras.two_stage import classifier_report

    make_dataset = task.run_arguments.get("make_dataset")
    return classifier_report(classifier, task.train, task.test, make_dataset, seed)


def _write_results(output: Path, config: RunConfig, reports: dict) -> None:
    write_json(output / "config.json", dataclasses.asdict(config))
    write_json(output / "metrics.json", reports)
    write_text(output / "results.md", _table(reports) + "\n")


def _table(reports: dict) -> str:
    from sdl_keras.cli.grid import BAND_METRICS, METRICS
    from sdl_keras.two_stage import summary_table

    return summary_table(
        {name: [report] for name, report in reports.items()},
        [*METRICS, "micro_auc", "precision_at_5", *BAND_METRICS],
    )


def _plain(history: dict) -> dict:
    return {key: [float(value) for value in values] for key, values in history.items()}


def _saved_config(run_dir: Path) -> RunConfig:
    for name in ("config.json", "classifier.keras"):
        if not (run_dir / name).exists():
            raise FileNotFoundError(
                f"{run_dir / name} not found: give a directory written by "
                "`sdl-keras train`."
            )
    path = run_dir / "config.json"
    try:
        options = json.loads(path.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"{path} is not a valid config file: {error}.") from None
    if not isinstance(options, dict):
        raise ConfigError(f"{path} is not a valid config file: not a JSON object.")
    return build(RunConfig, options, str(path))


def _saved_classifier(run_dir: Path):
    import keras

    import sdl_keras  # noqa: F401  (registers the package's saved classes)

    path = run_dir / "classifier.keras"
    try:
        return keras.saving.load_model(path)
    except Exception as error:  # Keras raises many kinds for a damaged file.
        first_line = next(iter(str(error).splitlines()), "")
        raise ConfigError(
            f"{path} cannot be loaded (damaged or incomplete): "
            f"{type(error).__name__}: {first_line}"
        ) from None


def _run_config(args) -> RunConfig:
    options = read_options(args.config) if args.config else {}
    source = str(args.config) if args.config else "flags"
    flags = {
        field.name: getattr(args, field.name)
        for field in dataclasses.fields(RunConfig)
        if getattr(args, field.name) is not None
    }
    return build(RunConfig, {**options, **flags}, source)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sdl-keras",
        description="Multi-label supervised contrastive learning (SDL) for Keras.",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, function, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(command=function, name=name)
        return sub

    train = command("train", train_command, "Pre-train, train and evaluate one run.")
    train.add_argument("--config", type=Path, help="a .yaml/.yml/.json of options")
    for field in dataclasses.fields(RunConfig):
        kind = {"int": int, "float": float}.get(str(field.type).split(" ")[0], str)
        train.add_argument(f"--{field.name.replace('_', '-')}", type=kind)
    _output_options(train)

    evaluate = command(
        "evaluate", evaluate_command, "Evaluate a trained run on its test split."
    )
    evaluate.add_argument("run_dir", type=Path)

    export = command(
        "export", export_command, "Export a trained run for TensorFlow Serving."
    )
    export.add_argument("run_dir", type=Path)
    export.add_argument("--base-dir", type=Path, help="default: RUN_DIR/export")
    export.add_argument("--version", type=int)
    export.add_argument("--overwrite", action="store_true")

    compare = command("compare", compare_command, "Run the paired experiment grid.")
    compare.add_argument("--config", type=Path, help="grid options (.yaml/.json)")
    compare.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        help="cpu (default without --config), full or ci; a --config overrides it",
    )
    compare.add_argument("--seeds", type=int, nargs="+")
    compare.add_argument("--output-dir", type=Path, default=Path("results/compare"))

    demo = command("demo", demo_command, "The offline HPO demo, start to finish.")
    demo.add_argument("--profile", choices=["full", "ci"], default="full")
    _output_options(demo, Path("results/demo"))
    return parser


def _output_options(parser, default: Path | None = None) -> None:
    parser.add_argument("--output-dir", type=Path, default=default)
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2])


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    raise SystemExit(main())
