"""Summaries of evaluation reports: lookup, mean ± std, paired differences."""

import numpy as np
import pytest

from sdl_keras.reports import (
    mean_cells,
    mean_std,
    paired_cells,
    paired_interval,
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
    # +0.05, -0.03, +0.04: ahead on two seeds of three, and a tie.
    mixed = [report(0.55), report(0.65), report(0.60)]
    (cell,) = paired_cells(runs[:3], mixed, ["micro_f1"])
    assert cell.startswith("+0.0200 [") and cell.endswith("] (2/3) tie")


def test_paired_interval_is_the_t_formula():
    # Quantiles of Student's t (0.975) from a printed table: 2 and 7 degrees
    # of freedom.
    for differences, quantile in (
        ([0.03, -0.01, 0.02], 4.302653),
        ([0.02, 0.01, 0.03, 0.0, 0.025, 0.015, 0.005, 0.02], 2.364624),
    ):
        mean = sum(differences) / len(differences)
        variance = sum((d - mean) ** 2 for d in differences) / (len(differences) - 1)
        half_width = quantile * (variance / len(differences)) ** 0.5
        low, high = paired_interval(differences)
        assert low == pytest.approx(mean - half_width, abs=1e-7)
        assert high == pytest.approx(mean + half_width, abs=1e-7)
    assert paired_interval([0.01, 0.01]) == pytest.approx((0.01, 0.01))
    with pytest.raises(ValueError, match="at least two paired differences, got 1"):
        paired_interval([0.1])
    with pytest.raises(ValueError, match="`confidence` must be in \\(0, 1\\)"):
        paired_interval([0.1, 0.2], confidence=95)
    # A 90% interval sits inside the 95% one.
    narrow, wide = (paired_interval([0.03, -0.01, 0.02], c) for c in (0.9, 0.95))
    assert wide[0] < narrow[0] < narrow[1] < wide[1]


@pytest.mark.parametrize("seeds", [2, 3, 6])
def test_noise_alone_gets_a_verdict_five_percent_of_the_time(seeds):
    rng = np.random.default_rng(seeds)
    intervals = np.array([paired_interval(rng.normal(size=seeds)) for _ in range(4000)])
    verdicts = np.mean((intervals[:, 0] > 0) | (intervals[:, 1] < 0))
    assert 0.04 < verdicts < 0.06
