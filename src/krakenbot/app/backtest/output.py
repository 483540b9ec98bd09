"""Where a backtest's files go, written so that nothing half-written looks like a result.

Owns: `OutputError` (the `--out` folder cannot be used: exit 2), `prepare` (checked before
the run; the files are written into a hidden sibling folder), `publish` (renamed into place
whole when everything is written; a previous backtest's folder there is replaced) and
`discard` (a run that failed leaves nothing), `write_json` (sorted keys: the same document
gives the same bytes). File names: `result.json`, `ledger.db`, `report.html`.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

RESULT, LEDGER, REPORT = "result.json", "ledger.db", "report.html"


class OutputError(Exception):
    """The output folder cannot be used (exit 2)."""


def prepare(out: Path) -> Path:
    """Check `out` and make the hidden folder the run writes into."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out}: that is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / RESULT).is_file():
        raise OutputError(
            f"--out {out}: the folder holds other files; name a new or empty folder "
            "(or one a previous backtest wrote, which is replaced)"
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        work = out.parent / f".{out.name}.partial-{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
    except OSError as exc:
        raise OutputError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None
    return work


def publish(work: Path, out: Path) -> None:
    """Move the finished folder into place (replacing a previous backtest's)."""
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, old)
        os.replace(work, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(work, out)


def discard(work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)


def write_json(path: Path, doc: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")


__all__ = [
    "LEDGER",
    "REPORT",
    "RESULT",
    "OutputError",
    "discard",
    "prepare",
    "publish",
    "write_json",
]
