"""`sdl-keras`: train, evaluate, export, compare and demo from the shell."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import signal
import sys
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import tensorflow as tf

from sdl_keras._files import staged_directory, write_json, write_text
from sdl_keras.cli.config import build, read_options
from sdl_keras.cli.grid import PROFILES, GridConfig, run_grid
from sdl_keras.run_config import ConfigError, RunConfig
from sdl_keras.tasks import Task

# Smallest schedule that still shows every step: the demo in CI.
# The demo's data and schedule, over the default recipe.
DEMO_PROFILES: dict[str, dict] = {
    # The first 5,000 HPO definitions: about five minutes on two CPU cores.
    "cpu": {"limit": 5000},
    # All 15,817.
    "full": {},
    # Seconds: the machinery end to end.
    "ci": {"limit": 1500, "pretrain_epochs": 1, "classifier_epochs": 2},
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.verbose < 2:
        # TensorFlow's Python-side log (retracing notices and the like).
        tf.get_logger().setLevel("ERROR")
    _exit_cleanly_on_sigterm()
    warnings.showwarning = _show_warning
    try:
        args.command(args)
    except (ValueError, OSError) as error:
        # Bad options, files and data: the library's errors name the problem.
        print(f"sdl-keras {args.name}: error: {error}", file=sys.stderr)
        return 2
    return 0


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"sdl-keras: warning: {message}", file=sys.stderr)


def _exit_cleanly_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so that staging files are removed."""

    def terminate(number, frame):
        raise SystemExit(128 + number)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, terminate)


def train_command(args) -> Path | None:
    from sdl_keras.distributed import cluster_strategy, is_chief

    # Under a TF_CONFIG cluster every worker runs this same command; the
    # strategy is made first, before TensorFlow runs anything.
    strategy = cluster_strategy()
    config = _run_config(args)
    if not is_chief(strategy):
        _pretrain_with_the_chief(config, strategy, args.verbose)
        return None
    output = args.output_dir or Path("results/train") / (
        f"{config.task}_{config.loss}_seed{config.seed}"
    )
    with staged_directory(output, args.overwrite) as staging:
        train_run(config, staging, verbose=args.verbose, strategy=strategy)
    print(f"wrote {output}")
    return output


def _pretrain_with_the_chief(config: RunConfig, strategy, verbose: int) -> None:
    """A worker other than the chief: loads the same task, pre-trains with the
    chief, writes nothing."""
    from sdl_keras.tasks import load_task
    from sdl_keras.two_stage import pretrain

    task = load_task(config)
    pretrain(
        train=task.train,
        config=config,
        seed=config.seed,
        verbose=0,
        strategy=strategy,
        **task.pipeline.run_arguments(),
    )
    if verbose:
        print("pre-trained with the chief; the chief writes the run")


def train_run(
    config: RunConfig,
    output: Path,
    verbose: int = 1,
    task: Task | None = None,
    strategy=None,
) -> Path:
    """Trains one run into `output`: a directory that stands alone (see
    `sdl_keras.run_directory`), with the report, plots and TensorBoard logs,
    and the logistic-regression reference in the same table. `task`: the
    task `config` names, already loaded (runs that differ only in their
    loss share it); loaded here otherwise. `strategy`: what pre-training runs
    under (a `MultiWorkerMirroredStrategy` on the chief of a cluster)."""
    import keras

    from sdl_keras import linear_blend
    from sdl_keras.cli import plots
    from sdl_keras.linear_blend import fit_linear_blend, linear_probabilities
    from sdl_keras.neighbour_blend import fit_neighbour_blend
    from sdl_keras.references import reference_report
    from sdl_keras.run_directory import save_run
    from sdl_keras.tasks import load_task
    from sdl_keras.two_stage import (
        classifier_report,
        scores_report,
        train_two_stage,
    )

    if task is None:
        task = load_task(config)
    if verbose:
        for note in task.notes:
            print(note)
    logs = output / "tensorboard"
    trained = train_two_stage(
        train=task.train,
        validation=task.validation,
        config=config,
        verbose=verbose,
        pretrain_callbacks=[keras.callbacks.TensorBoard(str(logs / "pretrain"))],
        classifier_callbacks=[keras.callbacks.TensorBoard(str(logs / "classifier"))],
        strategy=strategy,
        **task.pipeline.run_arguments(),
    )
    blends: dict[str, dict] = {"linear_blend": {}, "neighbour_blend": {}}
    # The linear model's budget holds unless the flag asks for it.
    budget = None if config.linear_blend else linear_blend.LINEAR_BLEND_BUDGET
    linear_fit = functools.partial(fit_linear_blend, budget=budget)
    for name, fit, share, detail, label in (
        ("linear_blend", linear_fit, "linear_weight", "linear_c", "C"),
        ("neighbour_blend", fit_neighbour_blend, "neighbour_weight", "k", "k"),
    ):
        if getattr(config, name) is not False:
            blends[name] = fit(
                trained.classifier,
                task.pipeline,
                task.train,
                task.validation,
                per_label_thresholds=config.per_label_thresholds,
            )
        chosen = blends[name]
        if verbose and "skipped" in chosen:
            print(f"{name.replace('_', ' ')} left out: {chosen['skipped']}")
        elif verbose and chosen:
            print(
                f"{name.replace('_', ' ')}: share {chosen[share]}, {label} "
                f"{chosen[detail]} (validation mAP "
                + ", ".join(f"{k} {v:.4f}" for k, v in chosen["validation_map"].items())
                + f"; {chosen['seconds']:.0f} s)"
            )
    blend = blends["linear_blend"]
    save_run(
        output,
        config,
        trained.classifier,
        task.vocabulary,
        task.label_names,
        task.pipeline,
    )
    history = {
        "pretrain": _plain(trained.pretrain_history),
        "classifier": _plain(trained.classifier_history),
    }
    write_json(output / "history.json", history)
    make_dataset = task.pipeline.run_arguments().get("make_dataset")
    reports = {
        config.loss: classifier_report(
            trained.classifier, task.train.y.sum(axis=0), task.test, make_dataset
        )
        | {
            "pretrain_seconds": trained.pretrain_seconds,
            "seconds": trained.seconds,
            "classifier_epochs_run": len(trained.classifier_history["loss"]),
            **blends,
        }
    }
    if config.reference is not False and "linear_c" in blend:
        # The blend's linear model is the reference, fitted on the same
        # features with the same C: scored, not fitted a second time.
        reports["logreg (reference)"] = scores_report(
            task.train,
            task.validation,
            task.test,
            linear_probabilities(trained.classifier, task.pipeline, task.validation),
            linear_probabilities(trained.classifier, task.pipeline, task.test),
            config.per_label_thresholds,
        )
    elif config.reference:
        started = time.perf_counter()
        features = task.pipeline.reference_features(
            task.train, task.validation, task.test
        )
        reports["logreg (reference)"] = reference_report(
            "logreg",
            task.train,
            task.validation,
            task.test,
            features,
            config.per_label_thresholds,
        ) | {"seconds": time.perf_counter() - started}
        if verbose:
            print(
                "logistic-regression reference: "
                f"{reports['logreg (reference)']['seconds']:.0f} s"
            )
    _write_results(output, reports, task.notes)
    print(f"\n{_table(reports)}\n")
    plots.training_curves({config.loss: history}, output / "plots" / "training.png")
    plots.band_f1(
        {name: report["tuned"] for name, report in reports.items()},
        output / "plots" / "band_f1.png",
    )
    return output


def evaluate_command(args) -> None:
    import numpy as np

    from sdl_keras.run_directory import SavedRun
    from sdl_keras.two_stage import classifier_report

    run = SavedRun.load(args.run_dir)
    if args.test_file:
        test, notes = run.labelled_split(args.test_file)
    else:
        from sdl_keras.tasks import load_task

        test, notes = load_task(run.config).test, []
    for note in notes:
        print(note)
    report = classifier_report(
        run.classifier,
        np.asarray(run.vocabulary.counts, "float64"),
        test,
        run.pipeline.make_dataset,
    )
    write_json(args.run_dir / "evaluation.json", report | {"notes": notes})
    print(_table({run.config.loss: report}))
    print(f"wrote {args.run_dir / 'evaluation.json'}")


def export_command(args) -> Path:
    from sdl_keras.export import export_for_serving
    from sdl_keras.run_directory import SavedRun

    run = SavedRun.load(args.run_dir)
    preprocessor = run.pipeline.serving_preprocessor()
    if preprocessor is None:
        raise ConfigError(
            f"The {run.config.task} task has no raw input form to serve (feature "
            "vectors); export a text or image run."
        )
    path = export_for_serving(
        run.classifier,
        args.base_dir or args.run_dir / "export",
        preprocessor,
        run.label_names,
        version=args.version,
        top_k=run.config.top_k,
        overwrite=args.overwrite,
    )
    print(f"exported {path}")
    return path


def predict_command(args) -> Path:
    from sdl_keras.predict import predict_file
    from sdl_keras.run_directory import SavedRun

    run = SavedRun.load(args.run_dir)
    summary = predict_file(
        run,
        args.input,
        args.output,
        top_k=args.top_k or run.config.top_k,
        every_score=args.all_scores,
        embedding=args.embedding,
        chunk_size=args.chunk_size,
        progress=args.verbose > 0,
    )
    print(summary)
    return args.output


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
    with staged_directory(args.output_dir, args.overwrite) as staging:
        summary = _demo(args, staging)
    minutes = (time.perf_counter() - started) / 60
    print(f"demo finished in {minutes:.1f} min; wrote {args.output_dir}:\n{summary}")


def _demo(args, output: Path) -> str:
    """Writes the demo into `output`; returns the list of what it wrote."""
    import keras

    from sdl_keras.cli import plots
    from sdl_keras.export import LocalServer, export_for_serving
    from sdl_keras.tasks import load_task
    from sdl_keras.two_stage import evaluation_inputs

    options = DEMO_PROFILES[args.profile]
    reports, histories, classifiers = {}, {}, {}
    # One split and one fitted pipeline for the three runs: they differ only
    # in their loss.
    task = load_task(build(RunConfig, {**options, "task": "hpo"}))
    for loss in ("sdl", "any", "none"):
        config = build(
            RunConfig,
            {**options, "task": "hpo", "loss": loss, "reference": loss == "none"},
        )
        stages = "BCE only" if loss == "none" else f"{loss} pre-training, classifier"
        print(f"\n== {stages} ==")
        run = train_run(config, output / "runs" / loss, args.verbose, task)
        metrics = json.loads((run / "metrics.json").read_text())
        reports.update({name: metrics[name] for name in metrics if name != "notes"})
        histories[loss] = json.loads((run / "history.json").read_text())
        classifiers[loss] = keras.saving.load_model(run / "classifier.keras")
    figures = output / "plots"
    plots.training_curves(histories, figures / "training.png")
    plots.band_f1({k: r["tuned"] for k, r in reports.items()}, figures / "band_f1.png")
    plots.pair_weights_by_relation(
        task.train.y, ["any", "jaccard", "sdl"], figures / "pair_weights.png"
    )
    test_inputs = evaluation_inputs(task.test, task.pipeline.make_dataset, 0)
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
        task.pipeline.serving_preprocessor(),
        task.label_names,
        version=1,
        overwrite=args.overwrite,
        warmup_inputs=[str(text) for text in task.test.x[:4]],
    )
    request = {"instances": [str(text) for text in task.test.x[:2]]}
    status, response = LocalServer(output / "export", "hpo").rest_predict(request)
    write_json(output / "request.json", request)
    write_json(output / "response.json", response)
    _write_results(output, reports, task.notes)
    print(f"\n{_table(reports)}\n")
    first = response["predictions"][0] if status == 200 else response
    top = ", ".join(
        f"{name} {score:.2f}"
        for name, score in zip(
            first["top_k_labels"], first["top_k_scores"], strict=True
        )
    )
    return (
        f"  results.md, metrics.json     test metrics of sdl, any, none (BCE only), "
        "logistic regression\n"
        f"  runs/<loss>/                 complete runs: classifier, labels, pipeline, "
        "history, tensorboard/\n"
        f"  plots/                       training, band_f1, pair_weights, embeddings "
        f"(anchor labels {[task.label_names[j] for j in anchor]})\n"
        f"  export/1/                    SavedModel for TensorFlow Serving\n"
        f"  request.json, response.json  a REST request and its answer: {top}"
    )


def _write_results(output: Path, reports: dict, notes: list[str]) -> None:
    write_json(output / "metrics.json", reports | {"notes": notes})
    write_text(output / "results.md", _table(reports) + "\n")


def _table(reports: dict) -> str:
    from sdl_keras.cli.grid import BAND_METRICS, METRICS
    from sdl_keras.reports import summary_table

    return summary_table(
        {name: [report] for name, report in reports.items()},
        [*METRICS, "micro_auc", "precision_at_5", *BAND_METRICS],
    )


def _plain(history: dict) -> dict:
    return {key: [float(value) for value in values] for key, values in history.items()}


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
        description="Multi-label supervised contrastive learning (SDL) for Keras: "
        "train on your own files or the built-in tasks, evaluate, predict, export.",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, function, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=help,
            description=help,
            formatter_class=_HelpFormatter,
        )
        sub.set_defaults(command=function, name=name)
        sub.add_argument(
            "--verbose",
            type=int,
            default=1,
            choices=[0, 1, 2],
            help="0 quiet, 1 progress bars, 2 one line per epoch and "
            "TensorFlow's own log (start-up notices, retracing warnings)",
        )
        return sub

    train = command(
        "train",
        train_command,
        "Pre-train, train and evaluate one run; the run directory stands alone.",
    )
    train.add_argument("--config", type=Path, help="a .yaml/.yml/.json of options")
    _run_options(train)
    _output_options(train)

    evaluate = command(
        "evaluate",
        evaluate_command,
        "Evaluate a trained run on a labelled file, or on its task's test split.",
    )
    evaluate.add_argument("run_dir", type=Path, help="a directory written by train")
    evaluate.add_argument(
        "--test-file", type=Path, help="labelled examples in the training format"
    )

    predict = command(
        "predict",
        predict_command,
        "Label the examples of a file with a trained run, streamed in chunks.",
    )
    predict.add_argument("run_dir", type=Path, help="a directory written by train")
    predict.add_argument("input", type=Path, help="examples (labels not needed)")
    predict.add_argument(
        "--output", type=Path, required=True, help="a .jsonl or .csv to write"
    )
    predict.add_argument(
        "--top-k", type=int, help="scores shown per example (default: the run's)"
    )
    predict.add_argument(
        "--all-scores", action="store_true", help="every label's score, not the top k"
    )
    predict.add_argument(
        "--embedding", action="store_true", help="add the encoder's features"
    )
    predict.add_argument(
        "--chunk-size", type=int, default=10_000, help="examples read at a time"
    )

    export = command(
        "export", export_command, "Export a trained run for TensorFlow Serving."
    )
    export.add_argument("run_dir", type=Path, help="a directory written by train")
    export.add_argument("--base-dir", type=Path, help="default: RUN_DIR/export")
    export.add_argument("--version", type=int, help="default: the next free one")
    export.add_argument(
        "--overwrite", action="store_true", help="replace an existing version"
    )

    compare = command("compare", compare_command, "Run the paired experiment grid.")
    compare.add_argument("--config", type=Path, help="grid options (.yaml/.json)")
    compare.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        help="cpu (default without --config), full or ci; a --config overrides it",
    )
    compare.add_argument("--seeds", type=int, nargs="+", help="paired seeds")
    compare.add_argument(
        "--output-dir",
        type=Path,
        default=Path("results/compare"),
        help="where the grid's cells, tables and plots go (a rerun resumes)",
    )

    demo = command("demo", demo_command, "The offline HPO demo, start to finish.")
    demo.add_argument(
        "--profile",
        choices=list(DEMO_PROFILES),
        default="cpu",
        help="cpu: the first 5,000 definitions, about five minutes on two CPU "
        "cores; full: all 15,817; ci: a tiny run",
    )
    _output_options(demo, Path("results/demo"))
    return parser


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, once, and none for options without one."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if "(default:" in (action.help or "") or action.default in (None, False):
            return action.help or ""
        return super()._get_help_string(action) or ""


def _run_options(parser: argparse.ArgumentParser) -> None:
    """One flag per `RunConfig` option, its help, default and choices taken
    from `RunConfig` itself. Flags default to None: unset ones leave the
    config file's value (or the default) in place."""
    from sdl_keras import run_config
    from sdl_keras.tasks import task_names

    helps = run_config.option_help()
    defaults = RunConfig()
    choices = {"task": task_names(), **run_config.CHOICES}
    for field in dataclasses.fields(RunConfig):
        flag = f"--{field.name.replace('_', '-')}"
        default = getattr(defaults, field.name)
        text = helps[field.name]
        if default is not None:
            text = f"{text} (default: {default})"
        if isinstance(default, bool) or str(field.type).startswith("bool"):
            parser.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=None, help=text
            )
            continue
        kind = {"int": int, "float": float}.get(str(field.type).split(" ")[0], str)
        parser.add_argument(
            flag,
            type=kind,
            choices=choices.get(field.name),
            metavar=None if field.name in choices else field.name.upper(),
            help=text,
        )


def _output_options(parser, default: Path | None = None) -> None:
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=default,
        help="where the run goes (default: results/train/TASK_LOSS_seedSEED)"
        if default is None
        else "where the results go",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace existing results"
    )


if __name__ == "__main__":
    raise SystemExit(main())
