"""Input pipelines and the label vocabulary."""

from sdl_keras.data.label_vocabulary import LabelVocabulary

__all__ = ["LabelVocabulary"]
