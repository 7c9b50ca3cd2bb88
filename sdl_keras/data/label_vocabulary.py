"""Label names ↔ indices, with training frequencies; saved as JSON."""

from __future__ import annotations

import collections
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np


class LabelVocabulary:
    """The labels of a task: code ↔ column index, with frequencies and names.

    Every place that names labels (datasets, metrics by band, exported
    models) goes through one of these, so a column index always means the
    same code.

    Args:
        codes: the label codes, in column order; unique strings.
        counts: training frequency of each code (for frequency bands).
        names: optional human-readable name of each code.

    Examples:

    >>> vocabulary = LabelVocabulary.from_label_sets([{"401.9"}, {"401.9", "38.93"}])
    >>> vocabulary.codes
    ['401.9', '38.93']
    >>> vocabulary.encode([{"38.93"}]).tolist()
    [[0.0, 1.0]]
    >>> vocabulary.decode([[1, 1]])
    [['401.9', '38.93']]
    """

    def __init__(
        self,
        codes: Sequence[str],
        counts: Sequence[int] | None = None,
        names: Sequence[str] | None = None,
    ) -> None:
        codes = [str(code) for code in codes]
        if len(set(codes)) != len(codes):
            repeated = [c for c, n in collections.Counter(codes).items() if n > 1]
            raise ValueError(f"Label codes must be unique; repeated: {repeated[:5]}.")
        for field, values in (("counts", counts), ("names", names)):
            if values is not None and len(values) != len(codes):
                raise ValueError(
                    f"`{field}` must have one entry per code ({len(codes)}); "
                    f"received {len(values)}."
                )
        self.codes = codes
        self.counts = None if counts is None else [int(count) for count in counts]
        self.names = None if names is None else [str(name) for name in names]
        self._index = {code: index for index, code in enumerate(codes)}

    @classmethod
    def from_label_sets(
        cls,
        label_sets: Iterable[Iterable[str]],
        max_labels: int | None = None,
        min_count: int = 1,
        names: dict[str, str] | None = None,
    ) -> LabelVocabulary:
        """Codes by falling frequency (ties by code), keeping the `max_labels`
        most frequent with at least `min_count` occurrences."""
        counter = collections.Counter(code for labels in label_sets for code in labels)
        ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
        kept = [(code, count) for code, count in ranked if count >= min_count]
        kept = kept[:max_labels] if max_labels is not None else kept
        return cls(
            [code for code, _ in kept],
            [count for _, count in kept],
            None if names is None else [names.get(code, code) for code, _ in kept],
        )

    def __len__(self) -> int:
        return len(self.codes)

    def __contains__(self, code: str) -> bool:
        return code in self._index

    def index(self, code: str) -> int:
        if code not in self._index:
            raise KeyError(f"Unknown label {code!r}.")
        return self._index[code]

    def encode(
        self, label_sets: Iterable[Iterable[str]], unknown: str = "error"
    ) -> np.ndarray:
        """Multi-hot float32 `[N, L]`. `unknown`: `"error"` or `"ignore"` for
        codes outside the vocabulary."""
        if unknown not in ("error", "ignore"):
            raise ValueError(f"`unknown` must be 'error' or 'ignore'; got {unknown!r}.")
        rows = []
        for number, labels in enumerate(label_sets):
            row = np.zeros(len(self.codes), "float32")
            for code in labels:
                if code in self._index:
                    row[self._index[code]] = 1.0
                elif unknown == "error":
                    raise ValueError(
                        f"Row {number}: label {code!r} is not in the vocabulary."
                    )
            rows.append(row)
        return np.stack(rows) if rows else np.zeros((0, len(self.codes)), "float32")

    def decode(self, multi_hot) -> list[list[str]]:
        """The codes of each row of a 0/1 matrix `[N, L]`."""
        matrix = np.asarray(multi_hot)
        if matrix.ndim != 2 or matrix.shape[1] != len(self.codes):
            raise ValueError(
                f"Expected a [N, {len(self.codes)}] matrix; received {matrix.shape}."
            )
        return [[self.codes[j] for j in np.flatnonzero(row)] for row in matrix]

    def get_config(self) -> dict:
        return {"codes": self.codes, "counts": self.counts, "names": self.names}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.get_config(), indent=1))

    @classmethod
    def load(cls, path: str | Path) -> LabelVocabulary:
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"No label vocabulary at {path}.")
        try:
            config = json.loads(path.read_text())
            return cls(**config)
        except (json.JSONDecodeError, TypeError) as error:
            raise ValueError(
                f"{path} is not a saved LabelVocabulary: {error}"
            ) from None
