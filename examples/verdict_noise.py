"""
Title: How often seed noise alone gives a win or a loss
Author: the sdl_keras authors
Date created: 2026/11/30
Last modified: 2026/12/01
Description: The rate at which a paired interval over seeds calls a win or a loss when two rows differ by noise alone, by the number of seeds: a percentile bootstrap and the t interval the tables use.
Accelerator: None
"""

"""
## Introduction

The tables compare SDL with its BCE-only twin seed by seed: the mean
difference, a 95% interval over the seeds and a verdict, a win or a loss
where the interval excludes zero. The first tables used a percentile
bootstrap over the seeds. With few seeds it is narrow: with three, the
smallest resampled mean (every draw the smallest difference) has
probability 1/27, above 2.5%, so the interval excludes zero whenever the
three differences share a sign. The tables now use Student's t interval
(`sdl_keras.reports.paired_interval`). This script draws differences with
no effect (independent normal noise, the same for any spread) and counts
how often each rule calls a win or a loss:

    python examples/verdict_noise.py --seeds 2 3 4 6 10
"""

"""
## Setup
"""

import argparse

import numpy as np

from sdl_keras.reports import paired_interval

"""
## Options
"""

parser = argparse.ArgumentParser(description="Verdicts of noise alone.")
parser.add_argument("--seeds", type=int, nargs="+", default=[2, 3, 4, 6, 10])
parser.add_argument("--trials", type=int, default=2000)
parser.add_argument("--resamples", type=int, default=2000)
args = parser.parse_args()

"""
## Noise through both rules
"""


def percentile_bootstrap(differences: np.ndarray, seed: int) -> tuple[float, float]:
    """95% percentile interval of the mean, resampling the seeds."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(differences), (args.resamples, len(differences)))
    return tuple(np.percentile(differences[picks].mean(axis=1), [2.5, 97.5]))


def false_verdicts(intervals: np.ndarray) -> str:
    win, loss = np.mean(intervals[:, 0] > 0), np.mean(intervals[:, 1] < 0)
    return f"{win:.1%} | {loss:.1%} | {win + loss:.1%}"


rng = np.random.default_rng(0)
print("| seeds | bootstrap: win | loss | either | t: win | loss | either |")
print("|---|---|---|---|---|---|---|")
for seeds in args.seeds:
    noise = rng.normal(size=(args.trials, seeds))
    bootstrap = np.array([percentile_bootstrap(d, t) for t, d in enumerate(noise)])
    student = np.array([paired_interval(d) for d in noise])
    print(f"| {seeds} | {false_verdicts(bootstrap)} | {false_verdicts(student)} |")
