"""Export for TensorFlow Serving: raw inputs in, labels and embeddings out."""

from sdl_keras.export.export_for_serving import (
    LABELS_FILE,
    WARMUP_FILE,
    export_for_serving,
    non_core_ops,
)
from sdl_keras.export.image_preprocessor import ImagePreprocessor
from sdl_keras.export.local_server import LocalServer, ServingError
from sdl_keras.export.text_preprocessor import TextPreprocessor

__all__ = [
    "LABELS_FILE",
    "WARMUP_FILE",
    "ImagePreprocessor",
    "LocalServer",
    "ServingError",
    "TextPreprocessor",
    "export_for_serving",
    "non_core_ops",
]
