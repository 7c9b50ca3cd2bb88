"""The `sdl-keras` command line."""

from sdl_keras.cli.main import main

__all__ = ["main"]
