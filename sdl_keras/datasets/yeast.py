"""MULAN Yeast (2,417 genes, 103 features, 14 functional classes).

The data ships inside the `river` package (`pip install --no-deps
river==0.26.1`), so it loads with no network.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np

from sdl_keras.datasets._package_data import package_file

NUM_FEATURES = 103
NUM_LABELS = 14


def yeast_path() -> Path:
    """The Yeast CSV shipped inside `river`."""
    return package_file("river", "datasets", "yeast.csv.gz", version="0.26.1")


def load_yeast(path: str | Path | None = None):
    """Reads the Yeast CSV (`Att1..Att103, Class1..Class14` columns).

    Args:
        path: a `.csv` or `.csv.gz` file in that layout; defaults to the copy
            inside `river`.

    Returns:
        `(features, labels, label_names)`: float32 `[N, 103]`, float32
        multi-hot `[N, 14]` and the 14 class names.
    """
    path = Path(path) if path is not None else yeast_path()
    if not path.is_file():
        raise FileNotFoundError(f"No Yeast data file at {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or len(header) != NUM_FEATURES + NUM_LABELS:
            raise ValueError(
                f"{path}: expected a header of {NUM_FEATURES + NUM_LABELS} "
                f"columns (Att1..Att{NUM_FEATURES}, Class1..Class{NUM_LABELS})."
            )
        rows = []
        for line_number, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise ValueError(
                    f"{path}, line {line_number}: {len(row)} columns, "
                    f"expected {len(header)}."
                )
            try:
                values = [float(value) for value in row]
            except ValueError as error:
                raise ValueError(f"{path}, line {line_number}: {error}") from None
            if any(v not in (0.0, 1.0) for v in values[NUM_FEATURES:]):
                raise ValueError(
                    f"{path}, line {line_number}: class columns must be 0 or 1."
                )
            rows.append(values)
    data = np.asarray(rows, dtype="float32")
    return data[:, :NUM_FEATURES], data[:, NUM_FEATURES:], header[NUM_FEATURES:]


def split_yeast(features, labels, num_train: int = 1500, seed: int = 0):
    """The MULAN split sizes (1,500 train, the rest test), drawn with a seed."""
    order = np.random.default_rng(seed).permutation(len(features))
    train, test = order[:num_train], order[num_train:]
    return (features[train], labels[train]), (features[test], labels[test])
