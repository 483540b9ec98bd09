"""Test helper: run settings code in an empty directory with no krakenbot variables set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from krakenbot.config import Settings

# A valid base64 secret of the shape Kraken issues (64 random bytes); fake, for tests only.
FAKE_SECRET = (
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
)
FAKE_KEY = "FAKEKEYa1b2c3d4e5f6g7h8i9j0kLmNoPqRsTuVwXyZ0123456789ab"


def isolate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """chdir to `tmp_path` (so no stray .env is read) and unset every settings variable."""
    monkeypatch.chdir(tmp_path)
    names = {name.upper() for name in Settings.model_fields}
    for key in list(os.environ):
        if key.upper() in names:
            monkeypatch.delenv(key)
    return tmp_path
