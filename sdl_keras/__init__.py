"""sdl_keras: multi-label supervised contrastive learning for Keras 3.

Importing the package registers every class it saves (losses, models, layers,
metrics), so `keras.saving.load_model` reads its `.keras` files in safe mode
after `import sdl_keras` alone.
"""

from sdl_keras._quiet import command_line_is_quiet, native_startup_quieted

with native_startup_quieted(command_line_is_quiet()):
    from sdl_keras import encoders, losses, metrics, models, relations

__version__ = "0.1.0"

__all__ = ["__version__", "encoders", "losses", "metrics", "models", "relations"]
