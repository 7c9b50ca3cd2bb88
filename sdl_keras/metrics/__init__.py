"""Multi-label metrics: NumPy functions for evaluation, Keras metrics for fit.

For `fit`, Keras core already has `keras.metrics.F1Score(average="micro")`,
`keras.metrics.AUC(multi_label=True)` and, as a thresholded estimate of macro
mAP, `keras.metrics.AUC(curve="PR", multi_label=True)`; `PrecisionAtK` adds
the ranking metric they lack.
"""

from sdl_keras.metrics.multilabel import (
    BANDS,
    POSITIVE_BANDS,
    SHRINKAGE,
    ThresholdChoice,
    average_precision,
    best_threshold,
    choose_thresholds,
    f1,
    frequency_bands,
    mean_average_precision,
    multilabel_report,
    precision_at_k,
    resampled_mean_average_precision,
    roc_auc,
    threshold_shrinkage,
)
from sdl_keras.metrics.precision_at_k_metric import PrecisionAtK

__all__ = [
    "BANDS",
    "POSITIVE_BANDS",
    "SHRINKAGE",
    "PrecisionAtK",
    "ThresholdChoice",
    "average_precision",
    "best_threshold",
    "choose_thresholds",
    "f1",
    "frequency_bands",
    "mean_average_precision",
    "multilabel_report",
    "precision_at_k",
    "resampled_mean_average_precision",
    "roc_auc",
    "threshold_shrinkage",
]
