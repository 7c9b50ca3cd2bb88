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


def paired_interval(
    differences: ArrayLike, confidence: float = 0.95
) -> tuple[float, float]:
    """Student-t interval of the mean paired difference over seeds.

    Of the same size at any count of seeds where the differences are normal:
    noise alone puts 0 outside a 95% interval 5% of the time. A percentile
    bootstrap over the seeds is too narrow with few of them — over three
    seeds it excludes 0 whenever the three differences share a sign, a
    quarter of the time by chance (`examples/verdict_noise.py`).

    Args:
        differences: one paired difference per seed, at least two.
        confidence: the interval's coverage, in (0, 1).

    Returns:
        `(low, high)`.
    """
    from scipy import stats

    array = np.asarray(differences, "float64")
    if array.ndim != 1 or len(array) < 2:
        raise ValueError(
            f"An interval needs at least two paired differences, got {array.size}."
        )
    if not 0 < confidence < 1:
        raise ValueError(f"`confidence` must be in (0, 1); received {confidence}.")
    quantile = stats.t.ppf((1 + confidence) / 2, df=len(array) - 1)
    half_width = quantile * array.std(ddof=1) / np.sqrt(len(array))
    return float(array.mean() - half_width), float(array.mean() + half_width)


def paired_difference(differences: ArrayLike) -> str:
    """`mean [95% t interval] (seeds ahead/seeds) verdict`: a win or a loss
    where the interval (`paired_interval`) excludes 0, else a tie."""
    array = np.asarray(differences, "float64")
    ahead = f"({int((array > 0).sum())}/{len(array)})"
    if len(array) == 1:
        return f"{array[0]:+.4f} {ahead} one seed"
    low, high = paired_interval(array)
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
