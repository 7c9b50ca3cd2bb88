"""Labelling a file of examples with a saved run, streamed in chunks."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from sdl_keras._files import write_atomically
from sdl_keras.run_directory import SavedRun, scores_rows

OUTPUT_FORMATS = (".jsonl", ".csv")


def predict_file(
    run: SavedRun,
    input_path: str | Path,
    output_path: str | Path,
    top_k: int = 5,
    every_score: bool = False,
    embedding: bool = False,
    chunk_size: int = 10_000,
    progress: bool = True,
) -> str:
    """Writes one output row per example of `input_path` and returns a
    summary line.

    Rows hold the source `line`, the `labels` above their tuned thresholds
    (most probable first), the `scores` of the top `top_k` labels (or of
    every label) and, optionally, the `embedding` (the encoder's features).
    JSONL rows are objects; CSV rows join labels with the run's label
    separator, scores as `label:score` pairs and the embedding with spaces.
    The input is read `chunk_size` examples at a time and the output is
    written beside its target and moved into place when complete.

    Raises:
        ValueError: an unknown output format, or a malformed input row
            (naming the file and line) unless the run skips bad rows.
    """
    import keras

    output_path = Path(output_path)
    if output_path.suffix.lower() not in OUTPUT_FORMATS:
        raise ValueError(
            f"{output_path}: the output must be one of {OUTPUT_FORMATS}; got "
            f"{output_path.suffix!r}."
        )
    if chunk_size < 1 or top_k < 1:
        raise ValueError("`chunk_size` and `top_k` must be ≥ 1.")
    counts = {"rows": 0, "skipped": 0}
    bar = None
    if progress:
        bar = keras.utils.Progbar(_count_lines(input_path), unit_name="example")

    def write(partial: Path) -> None:
        with partial.open("w", encoding="utf-8", newline="") as handle:
            writer = _writer(handle, output_path.suffix.lower(), run, embedding)
            for chunk in run.input_chunks(input_path, chunk_size):
                counts["skipped"] += len(chunk.skipped)
                if not len(chunk):
                    continue
                for row in scores_rows(run, chunk, top_k, every_score, embedding):
                    writer(row)
                counts["rows"] += len(chunk)
                if bar is not None:
                    bar.update(counts["rows"])

    write_atomically(output_path, write)
    skipped = f", skipped {counts['skipped']} bad rows" if counts["skipped"] else ""
    return f"wrote {counts['rows']} predictions to {output_path}{skipped}"


def _count_lines(path: str | Path) -> int | None:
    """Non-blank lines of a JSONL or CSV/TSV file (less the header): the
    progress bar's target, close enough where a CSV field spans lines."""
    path = Path(path)
    if not path.is_file():
        return None
    with path.open("rb") as handle:
        lines = sum(1 for line in handle if line.strip())
    return lines if path.suffix.lower() == ".jsonl" else max(lines - 1, 0)


def _writer(handle, suffix: str, run: SavedRun, embedding: bool):
    if suffix == ".jsonl":
        return lambda row: handle.write(json.dumps(row) + "\n")
    separator = run.config.label_separator
    columns = ["line", "labels", "scores", *(["embedding"] if embedding else [])]
    table = csv.writer(handle)
    table.writerow(columns)

    def write(row: dict) -> None:
        cells = [
            row["line"],
            separator.join(row["labels"]),
            separator.join(f"{name}:{score}" for name, score in row["scores"].items()),
        ]
        if embedding:
            cells.append(" ".join(str(value) for value in row["embedding"]))
        table.writerow(cells)

    return write
