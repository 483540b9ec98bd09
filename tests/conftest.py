"""Shared pytest configuration.

Every test gets its own per-user state directory (KRAKENBOT_STATE_DIR: the registry of
running daemons and the per-key nonce state, app/statedir.py), so no test ever reads or
writes the real one in the home directory, and daemons of different tests never see each
other. The variable is also set for the whole session before any test or fixture runs, so
a process started outside a test function inherits a temporary folder too.

Hypothesis runs without its per-example deadline: the suite runs in parallel on small shared
machines, where one slow example is load, not a defect (a property that cannot hold still
fails on its counterexample).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("krakenbot", deadline=None)
settings.load_profile("krakenbot")

DATA = Path(__file__).parent / "data"
STATE_DIR_ENV = "KRAKENBOT_STATE_DIR"  # krakenbot.app.statedir.STATE_DIR_ENV

_SESSION_STATE = tempfile.mkdtemp(prefix="krakenbot-test-state-")
os.environ[STATE_DIR_ENV] = _SESSION_STATE
atexit.register(shutil.rmtree, _SESSION_STATE, True)


@pytest.fixture(autouse=True)
def krakenbot_state_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """This test's per-user state directory (exported to every process it starts)."""
    path = tmp_path_factory.mktemp("state")
    monkeypatch.setenv(STATE_DIR_ENV, str(path))
    return path
