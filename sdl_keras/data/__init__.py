"""Input pipelines, the view maker of images and the label vocabulary."""

from sdl_keras.data.label_vocabulary import LabelVocabulary
from sdl_keras.data.view_augmentation import ViewAugmentation

__all__ = ["LabelVocabulary", "ViewAugmentation"]
