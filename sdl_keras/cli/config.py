"""Options of the command line: defaults, a YAML/JSON file, then flags."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sdl_keras.run_config import ConfigError, build

__all__ = ["ConfigError", "build", "read_options"]


def read_options(path: str | os.PathLike) -> dict:
    """The options of a `.json`, `.yaml` or `.yml` file (a mapping)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"Config file not found: {path}.")
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text ({error.reason}).") from None
    if path.suffix == ".json":
        try:
            options = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError(f"{path}: invalid JSON: {error}.") from None
    elif path.suffix in (".yaml", ".yml"):
        import yaml

        try:
            options = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise ConfigError(f"{path}: invalid YAML: {error}") from None
    else:
        raise ConfigError(f"{path}: a config file must be .json, .yaml or .yml.")
    if not isinstance(options, dict):
        raise ConfigError(f"{path}: the config must be a mapping of option: value.")
    return options
