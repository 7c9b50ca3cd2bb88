"""The classical references' scores against scikit-learn and a NumPy loop."""

import numpy as np
import pytest

from sdl_keras.references import LOGREG_C, reference_scores
from sdl_keras.two_stage import Split


def _splits(rng):
    x = rng.normal(size=(180, 6))
    logits = x @ rng.normal(size=(6, 3)) + [0.0, -1.0, -2.0]
    y = (rng.random((180, 3)) < 1 / (1 + np.exp(-logits))).astype("float32")
    splits = [Split(x[i : i + 60], y[i : i + 60]) for i in (0, 60, 120)]
    return splits, [split.x for split in splits]


def test_logreg_scores_are_scikit_learns_at_the_validation_chosen_c():
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score

    (train, validation, test), features = _splits(np.random.default_rng(0))
    validation_scores, test_scores = reference_scores(
        "logreg", train, validation, features
    )

    def fitted(c):
        return [
            LogisticRegression(C=c, solver="liblinear", max_iter=1000).fit(
                train.x, train.y[:, j]
            )
            for j in range(train.y.shape[1])
        ]

    def probabilities(models, x):
        return np.stack([m.predict_proba(x)[:, 1] for m in models], axis=1)

    quality = {
        c: np.mean(
            [
                average_precision_score(validation.y[:, j], column)
                for j, column in enumerate(probabilities(fitted(c), validation.x).T)
            ]
        )
        for c in LOGREG_C
    }
    chosen = fitted(max(quality, key=quality.get))
    np.testing.assert_allclose(
        validation_scores, probabilities(chosen, validation.x), atol=1e-6
    )
    np.testing.assert_allclose(test_scores, probabilities(chosen, test.x), atol=1e-6)


def test_knn_scores_are_the_labels_of_the_ten_nearest_by_cosine():
    (train, validation, test), features = _splits(np.random.default_rng(1))
    validation_scores, test_scores = reference_scores(
        "knn", train, validation, features
    )
    unit = train.x / np.linalg.norm(train.x, axis=1, keepdims=True)
    for x, scores in ((validation.x, validation_scores), (test.x, test_scores)):
        for row, point in enumerate(x):
            similarity = unit @ (point / np.linalg.norm(point))
            nearest = np.argsort(-similarity, kind="stable")[:10]
            np.testing.assert_allclose(scores[row], train.y[nearest].mean(axis=0))


def test_unknown_reference_is_named():
    (train, validation, _), features = _splits(np.random.default_rng(2))
    with pytest.raises(ValueError, match="Unknown reference 'svm'"):
        reference_scores("svm", train, validation, features)
