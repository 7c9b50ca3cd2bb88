"""
Title: How often seed noise alone gives a win or a loss
Author: the sdl_keras authors
Date created: 2026/11/30
Last modified: 2026/11/30
Description: The rate at which the tables' paired bootstrap over seeds calls a win or a loss when two rows differ by noise alone, by the number of seeds.
Accelerator: None
"""

"""
## Introduction

The tables compare SDL with its BCE-only twin seed by seed: the mean
difference, its 95% percentile bootstrap interval over the seeds
(`sdl_keras.reports.paired_bootstrap`) and a verdict, a win or a loss where
the interval excludes zero. With few seeds that interval is narrow: with
three, the smallest resampled mean (every draw the smallest difference) has
probability 1/27, above 2.5%, so the interval excludes zero whenever the three
differences share a sign. This script draws differences with no effect
(independent normal noise, the same for any spread) and counts how often the
verdict is a win and how often a loss:

    python examples/verdict_noise.py --seeds 2 3 4 6 10
"""

"""
## Setup
"""

import argparse

import numpy as np

from sdl_keras.reports import paired_bootstrap

"""
## Options
"""

parser = argparse.ArgumentParser(description="Verdicts of noise alone.")
parser.add_argument("--seeds", type=int, nargs="+", default=[2, 3, 4, 6, 10])
parser.add_argument("--trials", type=int, default=2000)
parser.add_argument("--resamples", type=int, default=2000)
args = parser.parse_args()

"""
## Noise through the verdict
"""

rng = np.random.default_rng(0)
print("| seeds | win | loss | either | nominal |")
print("|---|---|---|---|---|")
for seeds in args.seeds:
    intervals = np.array(
        [
            paired_bootstrap(rng.normal(size=seeds), args.resamples, seed=trial)
            for trial in range(args.trials)
        ]
    )
    win, loss = np.mean(intervals[:, 0] > 0), np.mean(intervals[:, 1] < 0)
    print(f"| {seeds} | {win:.1%} | {loss:.1%} | {win + loss:.1%} | 5.0% |")
