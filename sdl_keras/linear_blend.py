"""A convex linear model beside the neural classifier, blended on validation.

On thousands of documents, binary-relevance logistic regression on TF-IDF is
hard to beat: trained to its optimum by a convex solver it ranks rare labels
well, which a network trained by a first-order optimizer with early stopping
does not reach (Adam favours memorising rare n-grams). The default recipe
therefore fits one such model on the pipeline's plain features (the
logistic-regression reference's: scikit-learn's TF-IDF for text,
standardised features for tabular data), folds it into the classifier as a
frozen Keras layer (so the saved and the served model carry it), and gives
it the share of the blended probabilities that validation data clearly
prefer (`chosen_share`) — 0 where it does not help.
"""

from __future__ import annotations

import time

import keras
import numpy as np
from scipy import special

from sdl_keras.metrics import (
    mean_average_precision,
    resampled_mean_average_precision,
)
from sdl_keras.references import (
    LOGREG_C,
    fit_logistic_regression,
    search_values_per_worker,
)

# Shares of the other model tried in a blend (the linear model here, the
# neighbours' label scores in `sdl_keras.neighbour_blend`).
BLEND_SHARES = tuple(step / 10 for step in range(11))
# Unless forced, the linear model is left out where its fits would pass
# more feature values than this through a worker (`search_values_per_worker`):
# about half an hour on this project's 2-core machine (two workers), where
# 10,000 documents of 2,150 words take 0.55e9 a worker and their blend 4
# minutes (`benchmarks/bench_long_documents.py`). MIMIC-III-full (8,922
# codes on 47,723 notes) would take more than a day.
LINEAR_BLEND_BUDGET = 4e9


def fit_linear_blend(
    classifier,
    pipeline,
    train,
    validation,
    per_label_thresholds: bool | None = None,
    budget: float | None = LINEAR_BLEND_BUDGET,
) -> dict:
    """Fits the linear model, picks its share on `validation`, blends it
    into `classifier` (see `MultiLabelClassifier.blend_linear`) and tunes the
    classifier's thresholds again on the blended validation scores.

    Args:
        classifier: the trained `MultiLabelClassifier`.
        pipeline: the run's input pipeline (its `linear_features`).
        train: the training split (the linear model is fitted on it).
        validation: the validation split (its C and share are chosen on it).
        per_label_thresholds: how thresholds are tuned (see `RunConfig`).
        budget: the most feature values a worker may pass through in the
            fits (`search_values_per_worker`); above it nothing is fitted.
            None: no limit.

    Returns:
        What was chosen: `linear_weight`, `linear_c`, the validation mAP of
        the classifier alone, the linear model alone and the blend,
        `values_per_worker` and the `seconds` all this took; only `skipped`
        (why), `values_per_worker` and `seconds` where over `budget`; empty
        where the pipeline has no plain features (images, sequence encoders).
    """
    features = pipeline.linear_features()
    if features is None:
        return {}
    started = time.perf_counter()
    x_train = _features(features, pipeline, train)
    values = search_values_per_worker(x_train, train.y.shape[1], LOGREG_C)
    if budget is not None and values > budget:
        return {
            "skipped": (
                f"its fits would pass {values:.2g} feature values through a "
                f"worker, over the budget of {budget:.2g} "
                f"({train.y.shape[1]} labels, {x_train.nnz} stored values); "
                "--linear-blend fits it anyway"
            ),
            "values_per_worker": values,
            "seconds": time.perf_counter() - started,
        }
    x_validation = _features(features, pipeline, validation)
    validation_inputs = pipeline.make_dataset(validation, "evaluate", 0)
    own = classifier.predict(validation_inputs, verbose=0)
    weights, bias, c, linear = fit_logistic_regression(
        x_train, train.y, x_validation, validation.y, LOGREG_C
    )
    share, quality = chosen_share(validation.y, own, linear)
    shares = {"classifier": 0.0, "linear": 1.0, "blend": share}
    head = keras.layers.Dense(train.y.shape[1], name="linear_head")
    linear_model = keras.Sequential([features, head], name="linear_model")
    head.set_weights([weights.astype("float32"), bias.astype("float32")])
    classifier.blend_linear(linear_model, share)
    classifier.tune_thresholds(
        validation_inputs, validation.y, per_label=per_label_thresholds
    )
    return {
        "linear_weight": share,
        "linear_c": c,
        "validation_map": {name: quality[w] for name, w in shares.items()},
        "values_per_worker": values,
        "seconds": time.perf_counter() - started,
    }


def linear_probabilities(classifier, pipeline, split) -> np.ndarray:
    """The probabilities `[N, L]` of the linear model that `fit_linear_blend`
    folded into `classifier`, alone, on a split: the logistic-regression
    reference without fitting it again."""
    if classifier.linear_model is None:
        raise ValueError("The classifier has no linear model: see `fit_linear_blend`.")
    logits = classifier.linear_model.predict(
        pipeline.make_dataset(split, "evaluate", 0), verbose=0
    )
    return special.expit(logits.astype("float64"))


def chosen_share(
    y_true: np.ndarray,
    classifier_scores: np.ndarray,
    other_scores: np.ndarray,
    confidence: float = 0.9,
    resamples: int = 100,
    incumbent: float | None = None,
) -> tuple[float, dict[float, float]]:
    """Another model's share of a blend with the classifier (0: the
    classifier alone; 1: the other model alone, here the linear model),
    from validation data, and the validation mAP of every share in
    `BLEND_SHARES`.

    The better model alone (by mAP), or the `incumbent` share, is kept
    unless another share beats it in at least `confidence` of `resamples`
    bootstrap resamples of the examples (every share scored on the same
    resamples); of such shares, the best on all the examples. The
    classifier's epoch was chosen on the same data and a few hundred
    examples with a handful of positives per rare label rank near-equal
    blends by chance: on Reuters (334 validation documents) a blend 0.002
    mAP ahead there lost 0.06 test mAP to the linear model alone.

    Args:
        y_true: multi-hot validation labels `[N, L]`.
        classifier_scores: the classifier's probabilities `[N, L]`.
        other_scores: the other model's probabilities `[N, L]`.
        confidence: the share of resamples a blend must win.
        resamples: bootstrap resamples (seeded: the choice is reproducible).
        incumbent: the share kept unless clearly beaten; default: the better
            model alone.

    Returns:
        The chosen share and every share's validation mAP.
    """
    blends = {
        share: (1 - share) * classifier_scores + share * other_scores
        for share in BLEND_SHARES
    }
    quality = {
        share: mean_average_precision(y_true, scores)
        for share, scores in blends.items()
    }
    if incumbent is None:
        incumbent = 1.0 if quality[1.0] > quality[0.0] else 0.0
    rows = np.random.default_rng(0).integers(0, len(y_true), (resamples, len(y_true)))
    resampled = {
        share: resampled_mean_average_precision(y_true, scores, rows)
        for share, scores in blends.items()
    }
    wins = {
        share: int((values > resampled[incumbent]).sum())
        for share, values in resampled.items()
    }
    clear = [share for share, won in wins.items() if won >= confidence * resamples]
    return max(clear, key=quality.__getitem__, default=incumbent), quality


def _features(features: keras.Model, pipeline, split):
    """The plain features of a split, as a sparse matrix (TF-IDF rows are
    mostly zeros: dense, 10,000 documents × 50,000 columns take 2 GB)."""
    from scipy import sparse

    rows = [
        sparse.csr_matrix(np.asarray(features(x, training=False)))
        for x, _ in pipeline.make_dataset(split, "evaluate", 0)
    ]
    return sparse.vstack(rows).tocsr()
