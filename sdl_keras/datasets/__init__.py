"""Datasets that load offline from installed packages or a user's files."""

from sdl_keras.datasets.yeast import load_yeast

__all__ = ["load_yeast"]
