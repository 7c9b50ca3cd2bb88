"""Cheap classical references to place a run against: binary-relevance
logistic regression and k-nearest neighbours on plain features (TF-IDF of
words and bigrams for text, pixels for images, standardised features for
tabular data), with thresholds tuned on validation data like the
classifiers'."""

from __future__ import annotations

import numpy as np

from sdl_keras.metrics import mean_average_precision
from sdl_keras.two_stage import Split, scores_report

REFERENCES = ("knn", "logreg")
# Inverse regularisation strengths tried for logistic regression; the one
# with the best validation mAP is kept.
LOGREG_C = (1.0, 4.0, 16.0)


def reference_report(
    name: str, train: Split, validation: Split, test: Split, features: list
) -> dict:
    """The `run_two_stage`-style report of one reference.

    Args:
        name: `"logreg"` or `"knn"`.
        train, validation, test: the splits (their labels are used).
        features: the feature matrices of the three splits, in that order
            (see `InputPipeline.reference_features`).
    """
    if name not in REFERENCES:
        raise ValueError(f"Unknown reference {name!r}; expected one of {REFERENCES}.")
    x_train, x_validation, x_test = features
    score = _knn if name == "knn" else _logreg
    validation_scores, test_scores = score(
        x_train, train.y, x_validation, x_test, validation.y
    )
    return scores_report(train, validation, test, validation_scores, test_scores)


def _knn(x_train, y_train, x_validation, x_test, y_validation):
    from sklearn.neighbors import NearestNeighbors

    neighbours = NearestNeighbors(n_neighbors=10, metric="cosine").fit(x_train)

    def scores(x):
        return y_train[neighbours.kneighbors(x, return_distance=False)].mean(1)

    return scores(x_validation), scores(x_test)


def _logreg(x_train, y_train, x_validation, x_test, y_validation):
    from sklearn.linear_model import LogisticRegression

    present = np.flatnonzero(y_train.any(0) & ~y_train.all(0))
    best = None
    for c in LOGREG_C:
        models = {
            j: LogisticRegression(C=c, max_iter=1000, solver="liblinear").fit(
                x_train, y_train[:, j]
            )
            for j in present
        }

        def scores(x, models=models):
            found = np.tile(y_train.mean(0), (x.shape[0], 1))  # constant labels
            for j, model in models.items():
                found[:, j] = model.predict_proba(x)[:, 1]
            return found

        validation_scores = scores(x_validation)
        quality = mean_average_precision(y_validation, validation_scores)
        if best is None or quality > best[0]:
            best = (quality, validation_scores, scores(x_test))
    return best[1], best[2]
