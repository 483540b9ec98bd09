"""Output of the operator commands when its reader goes away (`status | head -1`).

Owns: `emit` (print a command's report) and `quiet_stdout`. A reader that stops reading is
not an error of ours: the rest of the output is dropped without a BrokenPipeError traceback,
and the command still exits with the status it means (a monitor piping `status` into `head`
keeps the verdict). Not a command (the leading underscore keeps cli.py from loading it).
Imports: stdlib only.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TextIO


def quiet_stdout() -> None:
    """Point stdout at the null device: later writes and the flush at exit cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        with contextlib.suppress(OSError, ValueError):
            os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


def emit(text: str, *, stream: TextIO | None = None) -> None:
    """Print `text` (to stdout unless `stream`), flushed; a vanished reader is not an error."""
    out = stream if stream is not None else sys.stdout
    try:
        print(text, file=out, flush=True)
    except BrokenPipeError:
        if out is sys.stdout:
            quiet_stdout()
