"""Writing results so that a kill never leaves a half-written file or a run
directory that mixes two runs."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

_STAGING = ".staging-"
_RETIRED = ".retired-"


def write_atomically(path: str | os.PathLike, write: Callable[[Path], object]) -> None:
    """Calls `write(temporary_path)`, then moves the file to `path` in one
    step: readers see the old file or the whole new one, never a part.

    The temporary name keeps `path`'s suffix (Keras needs `.keras`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        write(partial)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def write_json(path: str | os.PathLike, value) -> None:
    """`value` as indented JSON, written atomically."""
    text = json.dumps(value, indent=1)
    write_atomically(path, lambda partial: partial.write_text(text, "utf-8"))


def write_text(path: str | os.PathLike, text: str) -> None:
    write_atomically(path, lambda partial: partial.write_text(text, "utf-8"))


def check_output_directory(target: str | os.PathLike, overwrite: bool) -> Path:
    """`target` as a path, refused if it is a file or (without `overwrite`)
    a directory that already holds something."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"{target} is a file, not a directory.")
    if target.exists() and any(target.iterdir()) and not overwrite:
        raise FileExistsError(
            f"{target} already holds results; pass --overwrite or another --output-dir."
        )
    return target


@contextlib.contextmanager
def staged_directory(target: str | os.PathLike, overwrite: bool) -> Iterator[Path]:
    """Yields an empty directory beside `target` to write into; when the block
    ends without an error it replaces `target` (the old one, if any, is
    removed), otherwise it is deleted and `target` stays as it was.

    Raises:
        NotADirectoryError: `target` is a file.
        FileExistsError: `target` holds something and `overwrite` is False.
    """
    target = check_output_directory(target, overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_stagings(target)
    staging: Path | None = None
    try:
        # A kill between making the directory and naming it would leave it
        # behind; so would one that interrupts its removal.
        with _signals_deferred():
            staging = Path(
                tempfile.mkdtemp(
                    prefix=f".{target.name}{_STAGING}{os.getpid()}-",
                    dir=target.parent,
                )
            )
        yield staging
        _swap_into_place(staging, target)
    finally:
        if staging is not None:
            with _signals_deferred():
                remove_tree(staging)


def remove_tree(path: Path, attempts: int = 10) -> None:
    """Deletes `path` (nothing if it is gone), again while a writer that
    outlived its owner's unwinding (a run's TensorBoard event thread) still
    adds files to it; the staging, retired and export directories all go
    this way."""
    for _ in range(attempts):
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            return
        time.sleep(0.1)


def _swap_into_place(staging: Path, target: Path) -> None:
    retired = target.with_name(f".{target.name}{_RETIRED}{os.getpid()}")
    with _signals_deferred():
        if target.exists():
            target.rename(retired)
        staging.rename(target)
    remove_tree(retired)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """SIGINT/SIGTERM wait until the block is done (main thread only), so
    that the two renames of a swap happen together."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {
        number: signal.signal(number, lambda number, _: received.append(number))
        for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for pending in received:
            signal.raise_signal(pending)


def _remove_abandoned_stagings(target: Path) -> None:
    """Deletes staging and retired directories of `target` that killed
    processes left behind."""
    for kind in (_STAGING, _RETIRED):
        prefix = f".{target.name}{kind}"
        for path in target.parent.glob(f"{prefix}*"):
            pid = path.name.removeprefix(prefix).split("-")[0]
            if pid.isdigit() and not _alive(int(pid)):
                remove_tree(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
