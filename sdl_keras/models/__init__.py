"""Models: contrastive pre-training and the multi-label classifier."""

from sdl_keras.models.contrastive_model import ContrastiveModel
from sdl_keras.models.multi_label_classifier import MultiLabelClassifier
from sdl_keras.models.neighbour_labels import NeighbourLabels
from sdl_keras.models.projection_head import ProjectionHead

__all__ = [
    "ContrastiveModel",
    "MultiLabelClassifier",
    "NeighbourLabels",
    "ProjectionHead",
]
