"""The per-user state directory: where every krakenbot of this user on this machine meets.

Owns: `state_dir_for` (pure: environment, platform and home in, path out) and
`user_state_dir` (the same for this process). Two things live there because they must not
depend on the working directory or on DATA_DIR: the registry of running daemons
(app/registry.py: how `stop` and `status` find a daemon from any folder) and the per-key
nonce/rate state (net/nonce_store.py: one nonce sequence per API key, whatever DATA_DIR each
process uses). Locations: `KRAKENBOT_STATE_DIR` when set (tests set it to a temporary
folder); else Linux and other POSIX `$XDG_STATE_HOME/krakenbot` or
`~/.local/state/krakenbot` (XDG Base Directory spec: a relative XDG_STATE_HOME is invalid
and ignored); Windows `%LOCALAPPDATA%\\krakenbot`; macOS
`~/Library/Application Support/krakenbot`. The variable is read from the process
environment only, never from `.env`: a `.env` is found through the working directory, which
is exactly what this directory must not depend on.
Imports: stdlib only.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

STATE_DIR_ENV = "KRAKENBOT_STATE_DIR"
APP_NAME = "krakenbot"


def state_dir_for(environ: Mapping[str, str], platform: str, home: Path) -> Path:
    """The per-user state directory for this environment (an absolute path)."""
    override = environ.get(STATE_DIR_ENV, "").strip()
    if override:
        return Path(os.path.abspath(os.path.expanduser(override)))
    if platform == "win32":
        local = environ.get("LOCALAPPDATA", "").strip()
        base = Path(local) if local else home / "AppData" / "Local"
        return base / APP_NAME
    if platform == "darwin":
        return home / "Library" / "Application Support" / APP_NAME
    xdg = environ.get("XDG_STATE_HOME", "").strip()
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / APP_NAME
    return home / ".local" / "state" / APP_NAME


def user_state_dir() -> Path:
    """This process's per-user state directory (not created here)."""
    return state_dir_for(os.environ, sys.platform, Path.home())
