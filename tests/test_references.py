"""The classical references' scores against scikit-learn and a NumPy loop."""

import joblib
import numpy as np
import pytest
from scipy import sparse

from sdl_keras import references
from sdl_keras.metrics import mean_average_precision
from sdl_keras.references import LOGREG_C, reference_scores
from sdl_keras.two_stage import Split


def _splits(rng):
    x = rng.normal(size=(180, 6))
    logits = x @ rng.normal(size=(6, 3)) + [0.0, -1.0, -2.0]
    y = (rng.random((180, 3)) < 1 / (1 + np.exp(-logits))).astype("float32")
    splits = [Split(x[i : i + 60], y[i : i + 60]) for i in (0, 60, 120)]
    return splits, [split.x for split in splits]


def _searched(quality: dict) -> float:
    """The C the search keeps from each C's validation mAP: it runs down from
    the largest C and stops at the first below the best so far."""
    best = None
    for c in sorted(quality, reverse=True):
        if best is not None and quality[c] < quality[best]:
            break
        best = c
    return best


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
    chosen = fitted(_searched(quality))
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


def test_c_choice_labels_spread_over_the_frequency_ranking():
    from sdl_keras.references import c_choice_labels

    # Label j has 20 - j training positives (label 3: all 40; label 7: none);
    # label 5 has no validation positive.
    y_train = (np.arange(40)[:, None] < 20 - np.arange(12)).astype("float32")
    y_train[:, 3], y_train[:, 7] = 1.0, 0.0
    y_validation = np.ones((5, 12), "float32")
    y_validation[:, 5] = 0.0
    eligible = [0, 1, 2, 4, 6, 8, 9, 10, 11]  # most frequent first
    assert c_choice_labels(y_train, y_validation, 9).tolist() == eligible
    # Four of nine ranked: ranks 0, 3 (2.67 rounded), 5 (5.33) and 8.
    assert c_choice_labels(y_train, y_validation, 4).tolist() == [0, 4, 8, 11]


def test_many_labels_choose_c_on_a_sample_then_fit_every_label_at_it():
    from sdl_keras.references import c_choice_labels, fit_logistic_regression

    rng = np.random.default_rng(3)
    x = rng.normal(size=(240, 5))
    logits = x @ rng.normal(size=(5, 12)) * rng.uniform(0.2, 3, 12) - 1.5
    y = (rng.random((240, 12)) < 1 / (1 + np.exp(-logits))).astype("float32")
    (x_train, x_validation), (y_train, y_validation) = (
        (x[:160], x[160:]),
        (
            y[:160],
            y[160:],
        ),
    )
    candidates = (0.01, 0.1, 1.0)
    sample = c_choice_labels(y_train, y_validation, 4)
    every = {
        c: fit_logistic_regression(
            x_train, y_train, x_validation, y_validation, (c,), None
        )
        for c in candidates
    }
    # Labels are fitted independently: the sample's C is the best on its
    # columns of the fits of every label.
    expected = _searched(
        {
            c: mean_average_precision(y_validation[:, sample], every[c][3][:, sample])
            for c in candidates
        }
    )
    weights, bias, c, scores = fit_logistic_regression(
        x_train, y_train, x_validation, y_validation, candidates, 4
    )
    assert c == expected
    np.testing.assert_allclose(weights, every[c][0], atol=1e-6)
    np.testing.assert_allclose(bias, every[c][1], atol=1e-6)
    np.testing.assert_allclose(scores, every[c][3], atol=1e-6)
    # Worker processes split the labels between them, not the fits (their
    # BLAS may sum in another order: equal to rounding).
    arguments = (x_train, y_train, x_validation, y_validation, candidates, 4)
    one, two = (fit_logistic_regression(*arguments, n_jobs=n) for n in (1, 2))
    assert one[2] == two[2]
    for alone, shared in zip(one, two, strict=True):
        np.testing.assert_allclose(alone, shared, rtol=1e-6, atol=1e-9)


def test_c_search_runs_down_from_the_largest_and_stops_when_map_falls(monkeypatch):
    (train, validation, _), _ = _splits(np.random.default_rng(0))
    fitted: list[float] = []
    fit = references._per_label

    def recorded(x, y, c, n_jobs):
        fitted.append(c)
        return fit(x, y, c, n_jobs)

    # Scripted validation mAP a C: a tie at 64 and 16, a fall at 4, and a
    # higher peak at 1 that the search never reaches.
    quality = {256.0: 0.5, 64.0: 0.7, 16.0: 0.7, 4.0: 0.6, 1.0: 0.9}
    monkeypatch.setattr(references, "_per_label", recorded)
    monkeypatch.setattr(
        references, "mean_average_precision", lambda y, s: quality[fitted[-1]]
    )
    weights, bias, c, scores = references.fit_logistic_regression(
        train.x, train.y, validation.x, validation.y, (16.0, 1.0, 256.0, 4.0, 64.0)
    )
    assert fitted == [256.0, 64.0, 16.0, 4.0]
    assert c == 16.0  # the tie goes to the stronger regularisation
    expected_weights, expected_bias = fit(train.x, train.y, 16.0, 1)
    np.testing.assert_allclose(weights, expected_weights, atol=1e-6)
    np.testing.assert_allclose(bias, expected_bias, atol=1e-6)
    np.testing.assert_allclose(
        scores, 1 / (1 + np.exp(-(validation.x @ weights + bias))), rtol=1e-6
    )


def test_worker_count_fits_the_liblinear_copies_in_half_the_memory():
    dense = np.ones((100, 10), "float32")  # 1,000 values: 16,000 bytes a worker
    per_worker = references.LIBLINEAR_BYTES_PER_VALUE * dense.size
    assert references.worker_count(dense, 8, available_bytes=2 * 3 * per_worker) == 3
    assert references.worker_count(dense, 8, available_bytes=2 * 20 * per_worker) == 8
    # Never none, however little memory is left.
    assert references.worker_count(dense, 8, available_bytes=10) == 1
    # Sparse features count their non-zeros.
    tfidf = sparse.random(1000, 1000, density=0.001, format="csr", random_state=0)
    assert tfidf.nnz == 1000
    assert references.worker_count(tfidf, 8, available_bytes=2 * 3 * per_worker) == 3
    # -1 is one per core, as joblib counts them; the memory here fits them.
    assert references.worker_count(dense, -1) == joblib.cpu_count()
