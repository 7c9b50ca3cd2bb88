"""The multi-label supervised contrastive loss family."""

from sdl_keras.losses.all_supcon_loss import ALLSupConLoss
from sdl_keras.losses.any_supcon_loss import ANYSupConLoss
from sdl_keras.losses.jaccard_supcon_loss import JaccardSupConLoss
from sdl_keras.losses.mulsupcon_loss import MulSupConLoss
from sdl_keras.losses.similarity_dissimilarity_loss import SimilarityDissimilarityLoss
from sdl_keras.losses.supcon_loss import SupConLoss
from sdl_keras.losses.weighted_supcon import (
    masked_anchor_losses,
    reduce_anchor_losses,
    weighted_supcon_loss,
)
from sdl_keras.losses.weighted_supcon_loss import WeightedSupConLoss

SDL = SimilarityDissimilarityLoss

# The loss of each weight scheme, by the scheme's name.
LOSSES: dict[str, type[WeightedSupConLoss]] = {
    "supcon": SupConLoss,
    "all": ALLSupConLoss,
    "any": ANYSupConLoss,
    "jaccard": JaccardSupConLoss,
    "mulsupcon": MulSupConLoss,
    "sdl": SimilarityDissimilarityLoss,
}

__all__ = [
    "LOSSES",
    "SDL",
    "ALLSupConLoss",
    "ANYSupConLoss",
    "JaccardSupConLoss",
    "MulSupConLoss",
    "SimilarityDissimilarityLoss",
    "SupConLoss",
    "WeightedSupConLoss",
    "masked_anchor_losses",
    "reduce_anchor_losses",
    "weighted_supcon_loss",
]
