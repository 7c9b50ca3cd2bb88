"""sdl_keras: multi-label supervised contrastive learning for Keras 3."""

from sdl_keras import losses, relations

__version__ = "0.1.0"

__all__ = ["__version__", "losses", "relations"]
