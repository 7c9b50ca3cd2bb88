"""Cheap classical references to place a run against: binary-relevance
logistic regression and k-nearest neighbours on plain features (TF-IDF of
words and bigrams for text, pixels for images, standardised features for
tabular data), with thresholds tuned on validation data like the
classifiers'."""

from __future__ import annotations

import numpy as np
from scipy import sparse, special

from sdl_keras.metrics import mean_average_precision
from sdl_keras.two_stage import Split, scores_report

REFERENCES = ("knn", "logreg")
# Inverse regularisation strengths tried for logistic regression (the
# reference and the default recipe's linear model); the one with the best
# validation mAP is kept. Rare labels want weak regularisation: on every
# text task here validation mAP still rose at 256, the top of the grid until
# 2026-12-04, and is as high or higher at 1,024 (benchmarks/bench_c_search.py).
LOGREG_C = (1.0, 4.0, 16.0, 64.0, 256.0, 1024.0)
# Above this many labels, C is chosen on this many (`c_choice_labels`) and
# every label fitted once: the grid costs a fixed number of fits instead of
# five per label. On HPO level 3 a sample of 64 flipped the near-tie between
# C = 64 and 256 that 128 decides as every label does
# (benchmarks/bench_logreg.py).
C_CHOICE_LABELS = 128
# Memory a liblinear fit takes per stored feature value (a dense value or a
# sparse non-zero): its (index, float64) nodes, 16 bytes measured on dense
# pixels. Every worker process holds its own.
LIBLINEAR_BYTES_PER_VALUE = 16


def reference_report(
    name: str,
    train: Split,
    validation: Split,
    test: Split,
    features: list,
    per_label_thresholds: bool | None = None,
) -> dict:
    """The `run_two_stage`-style report of one reference.

    Args:
        name: `"logreg"` or `"knn"`.
        train, validation, test: the splits (their labels are used).
        features: the feature matrices of the three splits, in that order
            (see `InputPipeline.reference_features`).
        per_label_thresholds: how its thresholds are tuned on validation
            data, as the classifiers' are (see `RunConfig`).
    """
    validation_scores, test_scores = reference_scores(name, train, validation, features)
    return scores_report(
        train,
        validation,
        test,
        validation_scores,
        test_scores,
        per_label_thresholds,
    )


def reference_scores(
    name: str, train: Split, validation: Split, features: list
) -> tuple[np.ndarray, np.ndarray]:
    """The validation and test scores `[N, L]` of one reference, fitted on
    `train` (and, for logistic regression's C, `validation`); arguments as
    `reference_report`'s."""
    if name not in REFERENCES:
        raise ValueError(f"Unknown reference {name!r}; expected one of {REFERENCES}.")
    x_train, x_validation, x_test = features
    score = _knn if name == "knn" else _logreg
    return score(x_train, train.y, x_validation, x_test, validation.y)


def _knn(x_train, y_train, x_validation, x_test, y_validation):
    from sklearn.neighbors import NearestNeighbors

    neighbours = NearestNeighbors(n_neighbors=10, metric="cosine").fit(x_train)

    def scores(x):
        return y_train[neighbours.kneighbors(x, return_distance=False)].mean(1)

    return scores(x_validation), scores(x_test)


def _logreg(x_train, y_train, x_validation, x_test, y_validation):
    weights, bias, _, validation_scores = fit_logistic_regression(
        x_train, y_train, x_validation, y_validation, LOGREG_C
    )
    return validation_scores, special.expit(x_test @ weights + bias)


def fit_logistic_regression(
    x_train,
    y_train: np.ndarray,
    x_validation,
    y_validation: np.ndarray,
    candidates,
    choice_labels: int | None = C_CHOICE_LABELS,
    n_jobs: int = -1,
) -> tuple:
    """One liblinear logistic regression per label, for the inverse
    regularisation strengths in `candidates` from the largest down, until
    validation mAP falls; the C with the best validation mAP is kept. Above
    `choice_labels` labels, C is chosen on that many (see `c_choice_labels`)
    and every label is fitted once, at that C (`None`: the search on every
    label). Labels are fitted in `n_jobs` worker processes (-1: one per
    core), as many as fit in memory (`worker_count`).

    Returns:
        `(kernel [F, L], bias [L], C, validation probabilities [N, L])`; a label
        constant in training gets zero weights and its (clipped) log-odds as
        bias.
    """
    if not candidates:
        raise ValueError("Give at least one regularisation strength in `candidates`.")
    sample_size = _c_sample_size(y_train.shape[1], candidates, choice_labels)
    if sample_size:
        sample = c_choice_labels(y_train, y_validation, sample_size)
        chosen = fit_logistic_regression(
            x_train,
            y_train[:, sample],
            x_validation,
            y_validation[:, sample],
            candidates,
            n_jobs=n_jobs,
        )[2]
        candidates = (chosen,)
    best: tuple = ()
    # Weakest regularisation first, the text tasks' choice and the slowest
    # fits; validation mAP rises to one peak as C falls on every task
    # measured, so the search stops at the first C that scores below the
    # best (on ties the stronger regularisation wins).
    for c in sorted(candidates, reverse=True):
        weights, bias = _per_label(x_train, y_train, c, n_jobs)
        scores = special.expit(x_validation @ weights + bias)
        quality = mean_average_precision(y_validation, scores)
        if best and quality < best[0]:
            break
        best = (quality, weights, bias, c, scores)
    return best[1:]


def _c_sample_size(labels: int, candidates, choice_labels: int | None) -> int:
    """How many labels `fit_logistic_regression` chooses C on before fitting
    every label at it; 0 where it searches C on every label."""
    if choice_labels and len(candidates) > 1 and labels > choice_labels:
        return choice_labels
    return 0


def c_choice_labels(
    y_train: np.ndarray, y_validation: np.ndarray, count: int = C_CHOICE_LABELS
) -> np.ndarray:
    """The `count` labels (indices, ascending) that logistic regression's C
    is chosen on when there are more: spread evenly over the
    training-frequency ranking, so rare labels, which want weak
    regularisation, weigh as much as in the mean over all labels; only labels
    that vary in training and have a validation positive can score a C."""
    eligible = np.flatnonzero(
        y_train.any(axis=0) & ~y_train.all(axis=0) & y_validation.any(axis=0)
    )
    ranked = eligible[np.argsort(-y_train[:, eligible].sum(axis=0), kind="stable")]
    if len(ranked) <= count:
        return np.sort(ranked)
    spread = np.linspace(0, len(ranked) - 1, count).round().astype(int)
    return np.sort(ranked[spread])


def _per_label(x, y: np.ndarray, c: float, n_jobs: int) -> tuple:
    from sklearn.linear_model import LogisticRegression
    from sklearn.multioutput import MultiOutputClassifier

    weights = np.zeros((x.shape[1], y.shape[1]), "float32")
    bias = special.logit(np.clip(y.mean(axis=0), 1e-4, 1 - 1e-4))
    varying = np.flatnonzero(y.any(axis=0) & ~y.all(axis=0))
    if not len(varying):
        return weights, bias
    # liblinear is single-threaded: labels are fitted in worker processes.
    # Threads contend instead: on TF-IDF, two were slower than one
    # (benchmarks/bench_logreg.py times processes, threads and one).
    models = MultiOutputClassifier(
        LogisticRegression(C=c, solver="liblinear", max_iter=1000),
        n_jobs=worker_count(x, n_jobs),
    ).fit(x, y[:, varying])
    weights[:, varying] = np.stack([m.coef_[0] for m in models.estimators_], axis=1)
    bias[varying] = [m.intercept_[0] for m in models.estimators_]
    return weights, bias


def search_values_per_worker(
    x,
    labels: int,
    candidates,
    choice_labels: int | None = C_CHOICE_LABELS,
    n_jobs: int = -1,
) -> float:
    """The feature values a worker passes through in the fits that
    `fit_logistic_regression` makes at least on features `x` (the C search
    stops after two C at the earliest): a liblinear fit's cost grows with
    the values it holds, so this is its time up to a rate per value
    (`benchmarks/bench_long_documents.py` reports both)."""
    values = x.nnz if sparse.issparse(x) else np.size(x)
    searched = min(2, len(candidates))
    sample_size = _c_sample_size(labels, candidates, choice_labels)
    # On a sample: C searched there, then every label fitted once.
    fits = sample_size * searched + labels if sample_size else labels * searched
    return float(values) * fits / worker_count(x, n_jobs)


def worker_count(x, n_jobs: int = -1, available_bytes: int | None = None) -> int:
    """Worker processes for fitting labels on features `x`: `n_jobs` (-1:
    one per core), fewer where their liblinear copies of `x` would take more
    than half of `available_bytes` (default: the memory available now).
    Dense pixels of 5,000 48×48 colour scenes take 0.55 GB a worker."""
    import psutil
    from joblib import effective_n_jobs

    if available_bytes is None:
        available_bytes = psutil.virtual_memory().available
    values = x.nnz if sparse.issparse(x) else np.size(x)
    fitting = available_bytes // 2 // max(1, LIBLINEAR_BYTES_PER_VALUE * values)
    return int(max(1, min(effective_n_jobs(n_jobs), fitting)))
