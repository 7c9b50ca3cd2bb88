"""The labels of the nearest training examples beside the classifier, blended
on validation.

A contrastive loss shapes the encoder's space so that examples sharing
labels lie close; the mean labels of an input's nearest training examples
in that space are label scores of their own, which a sigmoid head trained
by BCE does not read. The default recipe stores the training examples'
features and labels in the classifier (`sdl_keras.models.NeighbourLabels`,
so the saved and the served model carry them) and gives their scores the
share of the blended probabilities that validation data clearly prefer
over the classifier alone (`sdl_keras.linear_blend.chosen_share`) — 0
where they do not help, and then nothing is stored.
"""

from __future__ import annotations

import time

import keras
import numpy as np

from sdl_keras.linear_blend import chosen_share
from sdl_keras.models import NeighbourLabels
from sdl_keras.models._encoders import feature_dim

# Neighbours a score averages over, as in the k-nearest-neighbours reference.
NEIGHBOURS = 10
# The stored features (float32) and labels (a byte each) travel in the saved
# and served model: above this size the blend is not tried.
MAX_STORED_BYTES = 256_000_000
# Queries scored at once: each holds its similarity to every stored example.
QUERY_BATCH = 1024


def fit_neighbour_blend(
    classifier,
    pipeline,
    train,
    validation,
    per_label_thresholds: bool | None = None,
) -> dict:
    """Stores the training examples' encoder features and labels, picks the
    neighbours' share on `validation`, blends them into `classifier` (see
    `MultiLabelClassifier.blend_neighbours`) where the share is above 0 and
    then tunes the classifier's thresholds again on the blended validation
    scores. Fitted again, the old neighbours are removed first.

    Returns:
        What was chosen: `neighbour_weight`, `k`, the validation mAP of the
        classifier alone, the neighbours alone and the blend, and the
        `seconds` all this took; empty where the training set has no more
        than `NEIGHBOURS` examples or its features and labels would take
        more than `MAX_STORED_BYTES`.
    """
    count, num_labels = train.y.shape
    dimension = feature_dim(classifier.encoder)
    if count <= NEIGHBOURS or count * (4 * dimension + num_labels) > MAX_STORED_BYTES:
        return {}
    started = time.perf_counter()

    def inputs(split):
        return pipeline.make_dataset(split, "evaluate", 0)

    refitted = classifier.neighbours is not None
    classifier.remove_neighbours()  # weighed against the classifier alone
    neighbours = NeighbourLabels(
        count, dimension, num_labels, NEIGHBOURS, name="neighbours"
    )
    neighbours.store(classifier.encoder.predict(inputs(train), verbose=0), train.y)
    features, own = features_and_probabilities(classifier, inputs(validation))
    nearest = neighbour_scores(neighbours, features)
    # The classifier stays unless the neighbours, alone or blended, clearly
    # beat it: on a saturated validation set (8×8 digit scenes, mAP 0.998)
    # the neighbours alone ranked a hair ahead and lost on test.
    share, quality = chosen_share(validation.y, own, nearest, incumbent=0.0)
    if share > 0:
        classifier.blend_neighbours(neighbours, share)
    if share > 0 or refitted:  # the scores changed
        classifier.tune_thresholds(
            inputs(validation), validation.y, per_label=per_label_thresholds
        )
    return {
        "neighbour_weight": share,
        "k": NEIGHBOURS,
        "validation_map": {
            "classifier": quality[0.0],
            "neighbours": quality[1.0],
            "blend": quality[share],
        },
        "seconds": time.perf_counter() - started,
    }


def features_and_probabilities(classifier, dataset) -> tuple[np.ndarray, np.ndarray]:
    """The encoder features `[N, F]` and the probabilities `[N, L]` (with
    every blend the classifier holds) of `classifier` for every batch of
    `dataset`, from one pass; `dataset` yields inputs or `(inputs, labels)`."""
    passes = [
        classifier.features_and_probabilities(
            keras.utils.unpack_x_y_sample_weight(batch)[0]
        )
        for batch in dataset
    ]
    features, probabilities = (
        np.concatenate([keras.ops.convert_to_numpy(part[i]) for part in passes])
        for i in (0, 1)
    )
    return features, probabilities


def neighbour_scores(neighbours: NeighbourLabels, features) -> np.ndarray:
    """The label scores `[N, L]` of `neighbours` for `features` `[N, F]`,
    `QUERY_BATCH` rows at a time."""
    features = np.asarray(features)
    return np.concatenate(
        [
            np.asarray(neighbours(features[start : start + QUERY_BATCH]))
            for start in range(0, len(features), QUERY_BATCH)
        ]
    ).reshape(-1, neighbours.num_labels)
