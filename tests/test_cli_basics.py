import os
import subprocess
import sys
from pathlib import Path

from krakenbot import __version__
from krakenbot.cli import main


def test_version_via_module() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "krakenbot", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"krakenbot {__version__}"


def test_no_command_is_usage_error() -> None:
    assert main([]) == 2


def _into_a_closed_pipe(cwd: Path, *args: str) -> tuple[int, str]:
    """Run a command whose stdout reader has already gone (as `... | head -1` after its
    first line): exit status and stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KRAKEN_", "DATA_DIR"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "krakenbot", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # long before the interpreter has started and printed anything
    err = proc.stderr.read().decode()
    return proc.wait(timeout=60), err


def test_status_into_a_closed_pipe_keeps_its_verdict_without_a_traceback(
    tmp_path: Path,
) -> None:
    for args in (("status",), ("status", "--json"), ("stop",)):
        code, err = _into_a_closed_pipe(tmp_path, *args)
        assert "Traceback" not in err and "BrokenPipeError" not in err, err
        assert code == (2 if args[0] == "status" else 0), (args, code)  # nothing runs
