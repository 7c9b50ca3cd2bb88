"""Reading and summarising evaluation reports: one lookup, one mean ± std,
one paired comparison and one Markdown table for every results file."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike


def report_value(report: dict, key: str) -> float:
    """The `key` entry of a report's tuned-threshold metrics; a key
    `band/metric` reads a head/medium/tail band. NaN where undefined (e.g.
    P@5 with fewer than 5 labels)."""
    found = report["tuned"]
    if "/" in key:
        band, key = key.split("/")
        found = found.get("bands", {}).get(band, {})
    value = found.get(key)
    return np.nan if value is None else float(value)


def mean_std(values: ArrayLike) -> str:
    """`mean ± std` over seeds (sample std), the value itself for one seed,
    `n/a` when every value is undefined."""
    array = np.asarray(values, "float64")
    if np.isnan(array).all():
        return "n/a"
    if len(array) == 1:
        return f"{array[0]:.4f}"
    return f"{np.nanmean(array):.4f} ± {np.nanstd(array, ddof=1):.4f}"


def paired_bootstrap(
    differences: ArrayLike, resamples: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """95% percentile interval of the mean paired difference, resampling
    seeds with replacement."""
    array = np.asarray(differences, "float64")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(array), size=(resamples, len(array)))
    means = array[picks].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def paired_difference(differences: ArrayLike) -> str:
    """`mean [95% bootstrap interval] (seeds ahead/seeds) verdict`: a win or
    a loss where the interval excludes 0, else a tie. With few seeds the
    interval is too narrow: with three it excludes 0 whenever all three
    differences share a sign, which noise alone gives a quarter of the
    time (`examples/verdict_noise.py`)."""
    array = np.asarray(differences, "float64")
    ahead = f"({int((array > 0).sum())}/{len(array)})"
    if len(array) == 1:
        return f"{array[0]:+.4f} {ahead} one seed"
    low, high = paired_bootstrap(array)
    verdict = "win" if low > 0 else "loss" if high < 0 else "tie"
    return f"{array.mean():+.4f} [{low:+.4f}, {high:+.4f}] {ahead} {verdict}"


def mean_cells(runs: Sequence[dict], keys: Sequence[str]) -> list[str]:
    """`mean_std` over `runs` of each key's `report_value`."""
    return [mean_std([report_value(run, key) for run in runs]) for key in keys]


def paired_cells(
    runs: Sequence[dict], baseline: Sequence[dict], keys: Sequence[str]
) -> list[str]:
    """`paired_difference` of each key: `runs` minus `baseline`, seed by seed
    (the two lists in the same seed order)."""
    return [
        paired_difference(
            [
                report_value(run, key) - report_value(base, key)
                for run, base in zip(runs, baseline, strict=True)
            ]
        )
        for key in keys
    ]


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table of string cells."""
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def summary_table(results: dict[str, list[dict]], keys: Sequence[str]) -> str:
    """Markdown: one row per name, `mean_std` over its runs of each key."""
    return markdown_table(
        ["loss", *keys],
        [[name, *mean_cells(runs, keys)] for name, runs in results.items()],
    )
