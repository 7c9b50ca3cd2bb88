"""Summaries of evaluation reports: lookup, mean ± std, paired differences."""

import numpy as np
import pytest

from sdl_keras.reports import (
    mean_cells,
    mean_std,
    paired_bootstrap,
    paired_cells,
    report_value,
)


def report(micro: float, tail: float | None = None) -> dict:
    bands = {} if tail is None else {"tail": {"macro_f1": tail}}
    return {"tuned": {"micro_f1": micro, "bands": bands}}


def test_lookup_and_mean_cells():
    runs = [report(0.5, 0.1), report(0.7, 0.3)]
    assert report_value(runs[0], "tail/macro_f1") == 0.1
    assert np.isnan(report_value(report(0.5), "tail/macro_f1"))
    spread = np.std([0.5, 0.7], ddof=1)
    assert mean_cells(runs, ["micro_f1", "tail/macro_f1"]) == [
        f"0.6000 ± {spread:.4f}",
        f"0.2000 ± {spread:.4f}",
    ]
    assert mean_std([np.nan, np.nan]) == "n/a" and mean_std([0.25]) == "0.2500"


def test_paired_cells_subtract_seed_by_seed():
    runs = [report(0.60), report(0.62), report(0.64), report(0.66)]
    baseline = [report(0.50), report(0.52), report(0.54), report(0.56)]
    (cell,) = paired_cells(runs, baseline, ["micro_f1"])
    # A constant gap of +0.1: the interval is that value and every seed wins.
    assert cell == "+0.1000 [+0.1000, +0.1000] (4/4) win"
    (cell,) = paired_cells(baseline, runs, ["micro_f1"])
    assert cell == "-0.1000 [-0.1000, -0.1000] (0/4) loss"
    (single,) = paired_cells(runs[:1], baseline[:1], ["micro_f1"])
    assert single == "+0.1000 (1/1) one seed"
    with pytest.raises(ValueError):
        paired_cells(runs, baseline[:2], ["micro_f1"])
    low, high = paired_bootstrap([0.1, -0.1, 0.1, -0.1])
    assert low < 0 < high
