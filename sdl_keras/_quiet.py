"""Keeps TensorFlow's native start-up notices (oneDNN, CUDA, CPU features)
off the command line's terminal unless it runs with `--verbose 2`.

Those lines are written by C++ straight to file descriptor 2 while the
libraries load, before Python's logging exists and whatever
`TF_CPP_MIN_LOG_LEVEL` says, so the only way to hold them back is to point
descriptor 2 elsewhere during the import. Only the command line does that;
a program that imports the library keeps TensorFlow's own behaviour.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import tempfile
from collections.abc import Iterator


def command_line_is_quiet(argv: list[str] | None = None) -> bool:
    """True when this process is `sdl-keras` / `python -m sdl_keras` without
    `--verbose 2`."""
    argv = list(sys.orig_argv if argv is None else argv)
    # The console script runs as `python .../sdl-keras ...`.
    launched = any(os.path.basename(arg) == "sdl-keras" for arg in argv[:2]) or any(
        pair == ("-m", "sdl_keras") for pair in itertools.pairwise(argv)
    )
    verbose = any(
        (arg == "--verbose" and value == "2") or arg == "--verbose=2"
        for arg, value in zip(argv, [*argv[1:], ""], strict=True)
    )
    return launched and not verbose


@contextlib.contextmanager
def native_startup_quieted(quiet: bool) -> Iterator[None]:
    """With `quiet`, descriptor 2 goes to a temporary file for the block;
    what was written there is replayed if the block raises."""
    if not quiet:
        yield
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            os.write(2, captured.read())
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
