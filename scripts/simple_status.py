#!/usr/bin/env python3
"""simple_status.py [--json] [--exchange] [--sim] [--data-dir PATH] [--env-file PATH]: the
seed operators' health check.

The same check as `python -m krakenbot status` (krakenbot.app.status_check), for cron jobs and
monitoring: prints the status and exits 0 healthy, 1 degraded, 2 not running, 3 cannot tell.
Run by a Python without krakenbot (the system's, from cron), it runs itself again with the
project's virtual environment (`.venv` next to `scripts/`, as stop_trading.sh does); without
one it says so and exits 3 ("cannot tell"), never 1, which a monitor would read as degraded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXIT_UNKNOWN = 3  # krakenbot.app.exitcodes.StatusExit.UNKNOWN (krakenbot may be missing here)
_AGAIN = "KRAKENBOT_SIMPLE_STATUS_VENV"  # set for the second run: never a loop


def venv_python(root: Path = ROOT) -> Path | None:
    """The project's virtual environment's Python, if there is one."""
    for candidate in (root / ".venv" / "bin" / "python", root / ".venv" / "Scripts" / "python.exe"):
        if candidate.is_file():
            return candidate
    return None


def _with_venv(argv: list[str]) -> int:
    venv = venv_python()
    if venv is None or os.environ.get(_AGAIN):
        where = f"the project's venv {venv}" if venv else f"{sys.executable} (no {ROOT / '.venv'})"
        print(
            f"simple_status.py: cannot tell: krakenbot cannot be imported with {where}; "
            "install it as the README's Quickstart says, or run this script with that Python",
            file=sys.stderr,
        )
        return EXIT_UNKNOWN
    try:
        done = subprocess.run(
            [str(venv), str(Path(__file__).resolve()), *argv],
            env={**os.environ, _AGAIN: "1"},
            check=False,
        )
    except OSError as exc:
        print(f"simple_status.py: cannot tell: cannot run {venv}: {exc}", file=sys.stderr)
        return EXIT_UNKNOWN
    return done.returncode


def main(argv: list[str] | None = None) -> int:
    args_given = sys.argv[1:] if argv is None else argv
    try:
        # Imported here: this Python may not have krakenbot, and that is handled below.
        from krakenbot.commands import status  # noqa: PLC0415
    except ImportError:
        return _with_venv(args_given)
    parser = argparse.ArgumentParser(prog="simple_status.py", description=__doc__)
    status.add_status_arguments(parser)
    args = parser.parse_args(args_given)
    return asyncio.run(status.run(args))


if __name__ == "__main__":
    sys.exit(main())
