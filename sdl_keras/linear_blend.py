"""A convex linear model beside the neural classifier, blended on validation.

On thousands of documents, binary-relevance logistic regression on TF-IDF is
hard to beat: trained to its optimum by a convex solver it ranks rare labels
well, which a network trained by a first-order optimizer with early stopping
does not reach (Adam favours memorising rare n-grams). The default recipe
therefore fits one such model on the pipeline's plain features (TF-IDF of the
same tokenizer for text, standardised features for tabular data), folds it
into the classifier as a frozen Keras layer (so the saved and the served model
carry it), and gives it the share of the blended probabilities that scores
best on validation data — 0 where it does not help.
"""

from __future__ import annotations

import keras
import numpy as np

from sdl_keras.metrics import mean_average_precision
from sdl_keras.references import LOGREG_C, fit_logistic_regression

# Shares of the linear model tried in the blend.
LINEAR_WEIGHTS = tuple(step / 10 for step in range(11))


def fit_linear_blend(
    classifier,
    pipeline,
    train,
    validation,
    per_label_thresholds: bool | None = None,
) -> dict:
    """Fits the linear model, picks its share on `validation`, blends it
    into `classifier` (see `MultiLabelClassifier.blend_linear`) and tunes the
    classifier's thresholds again on the blended validation scores.

    Returns:
        What was chosen: `linear_weight`, `linear_c` and the validation mAP
        of the classifier alone, the linear model alone and the blend; empty
        where the pipeline has no plain features (images, sequence encoders).
    """
    features = pipeline.linear_features()
    if features is None:
        return {}
    x_train, x_validation = (
        _features(features, pipeline, s) for s in (train, validation)
    )
    validation_inputs = pipeline.make_dataset(validation, "evaluate", 0)
    own = classifier.predict(validation_inputs, verbose=0)
    weights, bias, c, linear = fit_logistic_regression(
        x_train, train.y, x_validation, validation.y, LOGREG_C
    )
    linear_quality = mean_average_precision(validation.y, linear)
    blends = {
        share: mean_average_precision(validation.y, (1 - share) * own + share * linear)
        for share in LINEAR_WEIGHTS
    }
    share = chosen_share(blends)
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
        "validation_map": {
            "classifier": blends[0.0],
            "linear": linear_quality,
            "blend": blends[share],
        },
    }


def chosen_share(blends: dict[float, float], tolerance: float = 1e-3) -> float:
    """The linear model's share, from the validation mAP of each blend
    (share 0: the classifier alone; 1: the linear model alone): of the shares
    within `tolerance` of the best, the one nearest the better model alone.
    A blend must clearly beat that model to be kept: a small validation set
    ranks near-equal blends by chance."""
    top = max(blends.values())
    alone = 1.0 if blends[1.0] > blends[0.0] else 0.0
    near_top = [
        share for share, quality in blends.items() if quality >= top - tolerance
    ]
    return min(near_top, key=lambda share: abs(share - alone))


def _features(features: keras.Model, pipeline, split):
    """The plain features of a split, as a sparse matrix (TF-IDF rows are
    mostly zeros: dense, 10,000 documents × 50,000 columns take 2 GB)."""
    from scipy import sparse

    rows = [
        sparse.csr_matrix(np.asarray(features(x, training=False)))
        for x, _ in pipeline.make_dataset(split, "evaluate", 0)
    ]
    return sparse.vstack(rows).tocsr()
