"""scripts/simple_status.py run by a Python that does not have krakenbot (cron's system
Python): it uses the project's virtual environment, or exits 3 ("cannot tell") — never 1,
which monitors read as "degraded", and never a ModuleNotFoundError traceback."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "simple_status.py"
BARE = Path(getattr(sys, "_base_executable", sys.executable))  # the interpreter under the venv

pytestmark = pytest.mark.skipif(os.name != "posix", reason="a POSIX shell stands in for the venv")


def _bare_python_lacks_krakenbot() -> bool:
    probe = subprocess.run(
        [str(BARE), "-I", "-c", "import krakenbot"], check=False, capture_output=True
    )
    return probe.returncode != 0


def _project(tmp_path: Path, *, venv: bool) -> Path:
    """A checkout: scripts/simple_status.py and, if asked, a .venv whose python is ours."""
    root = tmp_path / "project"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPT, root / "scripts" / "simple_status.py")
    if venv:
        python = root / ".venv" / "bin" / "python"
        python.parent.mkdir(parents=True)
        python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
        python.chmod(python.stat().st_mode | stat.S_IXUSR)
    return root


def _run(root: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KRAKEN_", "PYTHON"))}
    env["KRAKENBOT_STATE_DIR"] = os.environ["KRAKENBOT_STATE_DIR"]  # the test's own
    script = root / "scripts" / "simple_status.py"
    return subprocess.run(
        [str(BARE), "-I", str(script), "--json"],
        check=False,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.skipif(not _bare_python_lacks_krakenbot(), reason="the bare Python has krakenbot")
def test_outside_the_venv_it_runs_with_the_projects_venv(tmp_path: Path) -> None:
    done = _run(_project(tmp_path, venv=True), cwd=tmp_path)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 2, done.stdout + done.stderr  # the real check: not running
    assert '"running": false' in done.stdout


@pytest.mark.skipif(not _bare_python_lacks_krakenbot(), reason="the bare Python has krakenbot")
def test_without_krakenbot_nor_a_venv_it_cannot_tell(tmp_path: Path) -> None:
    done = _run(_project(tmp_path, venv=False), cwd=tmp_path)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 3, done.stdout + done.stderr
    assert "cannot tell" in done.stderr
