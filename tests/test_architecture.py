"""Guards the import rules of shared/DESIGN.md: pure layers stay pure, lower never imports higher.

Each top-level unit of `krakenbot` (a module or a sub-package) may import only the units
listed for it. I/O libraries are allowed only in the shells (net, store, sim, app, commands).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "krakenbot"

BASE = {"errors", "clock", "domain"}
ALLOWED: dict[str, set[str]] = {
    "__init__": set(),
    "errors": set(),
    "clock": set(),
    "domain": {"errors", "domain"},
    "kraken": BASE | {"kraken"},
    "resilience": BASE | {"resilience"},
    "strategy": BASE | {"strategy", "resilience"},
    "risk": BASE | {"risk", "resilience"},
    "ports": BASE,
    "orders": BASE | {"orders", "risk", "strategy", "ports", "resilience"},
    "net": BASE | {"net", "kraken", "resilience", "ports"},
    "store": BASE | {"store", "ports"},
    "engine": BASE | {"engine", "strategy", "risk", "orders", "ports", "resilience", "paper"},
    "paper": BASE | {"paper", "ports", "sim", "orders", "risk"},
    "sim": BASE | {"sim"},
    "marketdata": BASE | {"marketdata", "kraken", "net"},
    "backtest": BASE | {"backtest"},
}
# Composition root and operator surface: may import anything.
ANYTHING = {"app", "cli", "config", "logs", "commands", "__main__", "lock", "status"}

IO_LIBS = {"aiohttp", "websockets", "aiosqlite", "sqlite3", "requests", "psutil", "pyarrow"}
IO_ALLOWED = {"net", "store", "sim", "app", "commands", "lock", "status", "cli", "marketdata"}
# Pure decision modules inside otherwise-async packages.
PURE_FILES = {
    "orders/reconcile.py",
    "orders/fsm.py",
    "marketdata/ranges.py",
    "marketdata/candles.py",
}


def _unit(path: Path, root: Path = SRC) -> str:
    rel = path.relative_to(root)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
    return found


def _violations(root: Path = SRC) -> list[str]:
    problems: list[str] = []
    for path in sorted(root.rglob("*.py")):
        unit = _unit(path, root)
        rel = path.relative_to(root).as_posix()
        for name, line in _imports(path):
            top = name.split(".")[0]
            if top in IO_LIBS and (unit not in IO_ALLOWED or rel in PURE_FILES):
                problems.append(f"{rel}:{line} imports I/O library {name}")
            if top != "krakenbot" or unit in ANYTHING:
                continue
            parts = name.split(".")
            if len(parts) < 2:
                continue
            target = parts[1]
            allowed = ALLOWED.get(unit)
            if allowed is None:
                problems.append(f"{rel}: unit {unit!r} has no import rule in this test")
                break
            if target not in allowed:
                problems.append(f"{rel}:{line} ({unit}) may not import krakenbot.{target}")
    return problems


def test_import_rules_hold() -> None:
    assert _violations() == []


def test_rules_catch_a_violation(tmp_path: Path) -> None:
    # A probe tree of its own: writing into src/ would race the other test workers' scans.
    (tmp_path / "domain").mkdir()
    bad = tmp_path / "domain" / "_arch_probe.py"
    bad.write_text("import aiohttp\nfrom krakenbot.net import x\n", encoding="utf-8")
    found = _violations(tmp_path)
    assert any("_arch_probe.py:1 imports I/O library aiohttp" in p for p in found)
    assert any("_arch_probe.py:2 (domain) may not import krakenbot.net" in p for p in found)
