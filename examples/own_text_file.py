"""Your own labelled texts, from Python: what `sdl-keras train --task text`
does, step by step.

A JSONL file, one `{"text": ..., "labels": [...]}` a line, becomes a task
(splits, label vocabulary, fitted input pipeline); the two stages train on
it; a logistic regression is blended in on validation data; the run is saved
as a directory that `sdl-keras evaluate|predict|export` read.

    python examples/own_text_file.py notes.jsonl --output-dir runs/notes
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sdl_keras.linear_blend import fit_linear_blend
from sdl_keras.reports import summary_table
from sdl_keras.run_config import RunConfig
from sdl_keras.run_directory import save_run
from sdl_keras.tasks import load_task
from sdl_keras.two_stage import classifier_report, train_two_stage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train_file", type=Path)
    parser.add_argument("--output-dir", type=Path, default=Path("runs/own_text"))
    parser.add_argument("--pretrain-epochs", type=int, default=5)
    parser.add_argument("--classifier-epochs", type=int, default=30)
    args = parser.parse_args()

    # One config for the whole run; every option of `sdl-keras train` is a
    # field, with the same defaults.
    config = RunConfig(
        task="text",
        train_file=str(args.train_file),
        pretrain_epochs=args.pretrain_epochs,
        classifier_epochs=args.classifier_epochs,
    )
    task = load_task(config)  # validation and test held out (stratified)
    print("\n".join(task.notes))

    trained = train_two_stage(
        train=task.train,
        validation=task.validation,
        config=config,
        **task.pipeline.run_arguments(),  # make_encoder, make_dataset
    )
    # Also tunes the thresholds again on the blended validation scores.
    blend = fit_linear_blend(
        trained.classifier, task.pipeline, task.train, task.validation
    )
    print(f"linear share of the blend: {blend['linear_weight']}")

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


if __name__ == "__main__":
    main()
