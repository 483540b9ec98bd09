"""The operator documents stay true: .env.example covers every setting, README commands exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from settings_env import isolate

from krakenbot.cli import build_parser
from krakenbot.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]


def _example_names() -> list[str]:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return [line.split("=", 1)[0] for line in text.splitlines() if re.match(r"^[A-Z_]+=", line)]


def test_env_example_lists_every_setting_once() -> None:
    names = _example_names()
    assert sorted(names) == sorted(name.upper() for name in Settings.model_fields)


def test_env_example_holds_the_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)
    from_example = load_settings(ROOT / ".env.example")
    assert from_example.masked() == load_settings().masked()


def _readme_commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.findall(r"python -m krakenbot ([^`|&\n]+)", text)
    return [shlex.split(cmd.replace("PATH", "some/path")) for cmd in found]


def test_readme_documents_only_commands_that_exist() -> None:
    commands = _readme_commands()
    assert ["config", "check"] in commands
    parser = build_parser()
    for argv in commands:
        if argv in (["--version"], ["..."]):
            continue
        args = parser.parse_args(argv)
        assert callable(args.handler), argv
