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

# Inverse regularisation strengths tried; the best on validation mAP is kept.
LINEAR_C = (4.0, 16.0, 64.0)
# Shares of the linear model tried in the blend.
LINEAR_WEIGHTS = tuple(step / 10 for step in range(11))


def fit_linear_blend(classifier, pipeline, train, validation) -> dict:
    """Fits the linear model, picks its share on `validation` and blends it
    into `classifier` (see `MultiLabelClassifier.blend_linear`).

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
    best = None
    for c in LINEAR_C:
        weights, bias = _logistic_regression(x_train, train.y, c)
        logits = x_validation @ weights + bias
        linear = 1.0 / (1.0 + np.exp(-logits))
        quality = mean_average_precision(validation.y, linear)
        if best is None or quality > best[0]:
            best = (quality, c, weights, bias, linear)
    linear_quality, c, weights, bias, linear = best
    blends = {
        share: mean_average_precision(validation.y, (1 - share) * own + share * linear)
        for share in LINEAR_WEIGHTS
    }
    # The smallest share within 0.001 of the best: the classifier keeps what
    # the linear model does not clearly improve.
    top = max(blends.values())
    share = min(s for s, quality in blends.items() if quality >= top - 1e-3)
    head = keras.layers.Dense(train.y.shape[1], name="linear_head")
    linear_model = keras.Sequential([features, head], name="linear_model")
    head.set_weights([weights.astype("float32"), bias.astype("float32")])
    classifier.blend_linear(linear_model, share)
    return {
        "linear_weight": share,
        "linear_c": c,
        "validation_map": {
            "classifier": blends[0.0],
            "linear": linear_quality,
            "blend": blends[share],
        },
    }


def _features(features: keras.Model, pipeline, split):
    """The plain features of a split, as a sparse matrix (TF-IDF rows are
    mostly zeros: dense, 10,000 documents × 20,000 columns take 800 MB)."""
    from scipy import sparse

    rows = [
        sparse.csr_matrix(np.asarray(features(x, training=False)))
        for x, _ in pipeline.make_dataset(split, "evaluate", 0)
    ]
    return sparse.vstack(rows).tocsr()


def _logistic_regression(x, y: np.ndarray, c: float) -> tuple:
    """Kernel `[F, L]` and bias `[L]` of one logistic regression per label;
    a label constant in training gets its log-odds as bias."""
    from sklearn.linear_model import LogisticRegression

    num_labels = y.shape[1]
    weights = np.zeros((x.shape[1], num_labels))
    prior = np.clip(y.mean(axis=0), 1e-4, 1 - 1e-4)
    bias = np.log(prior / (1 - prior))
    for j in np.flatnonzero(y.any(axis=0) & ~y.all(axis=0)):
        model = LogisticRegression(C=c, solver="liblinear", max_iter=1000)
        model.fit(x, y[:, j])
        weights[:, j] = model.coef_[0]
        bias[j] = model.intercept_[0]
    return weights, bias
