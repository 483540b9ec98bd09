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
    # The backtest drives the live engine core against its own venue (pure: no I/O).
    "backtest": BASE | {"backtest", "engine", "strategy", "risk", "orders", "paper"},
}
# Composition root and operator surface: may import anything.
ANYTHING = {
    "app",
    "cli",
    "config",
    "config_fields",
    "logs",
    "commands",
    "__main__",
    "lock",
    "status",
}

IO_LIBS = {"aiohttp", "websockets", "aiosqlite", "sqlite3", "requests", "psutil", "pyarrow"}
IO_ALLOWED = {"net", "store", "sim", "app", "commands", "lock", "status", "cli", "marketdata"}
# Pure decision modules inside otherwise-async packages.
PURE_FILES = {
    "orders/reconcile.py",
    "orders/fsm.py",
    "store/orderjournal_codec.py",
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


# ---------------------------------------------------------------- the engine core (issue 14)
# The synchronous core and everything it imports (transitively, outside `if TYPE_CHECKING:`)
# must not reach an I/O library or asyncio, nor read a clock: time comes from the events.
CORE_ROOTS = ("engine/core.py",)
NO_ASYNC = IO_LIBS | {"asyncio", "time", "krakenbot.clock"}
CLOCK_CALLS = {"now_ns", "monotonic_ns", "time_ns", "monotonic", "perf_counter", "now"}
CLOCK_CALLS |= {"today", "utcnow", "time", "sleep"}


def _runtime_imports(tree: ast.Module) -> list[tuple[str, int]]:
    """Imports that run (not those under `if TYPE_CHECKING:`)."""
    found: list[tuple[str, int]] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                found.extend((alias.name, node.lineno) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((node.module, node.lineno))
                # `from krakenbot.orders import bulk_cancel` imports a module too.
                found.extend((f"{node.module}.{a.name}", node.lineno) for a in node.names)
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    visit([child])

    visit(tree.body)
    return found


def _module_path(name: str, root: Path = SRC) -> Path | None:
    rel = Path(*name.split(".")[1:])
    for candidate in (root / rel.with_suffix(".py"), root / rel / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _core_violations(
    roots: tuple[str, ...] = CORE_ROOTS, tree_root: Path = SRC
) -> tuple[list[str], set[str]]:
    problems: list[str] = []
    seen: set[Path] = set()
    todo = [tree_root / root for root in roots]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        rel = path.relative_to(tree_root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name, line in _runtime_imports(tree):
            if name.split(".")[0] in NO_ASYNC or name.startswith("krakenbot.clock"):
                problems.append(f"{rel}:{line} imports {name}")
            elif name.startswith("krakenbot."):
                target = _module_path(name, tree_root)
                if target is not None:
                    todo.append(target)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in CLOCK_CALLS
            ):
                problems.append(f"{rel}:{node.lineno} reads a clock ({node.func.attr}())")
    return problems, {p.relative_to(tree_root).as_posix() for p in seen}


def test_the_engine_core_is_synchronous_and_reads_no_clock() -> None:
    problems, modules = _core_violations()
    assert problems == []
    # It really is the decision code that was walked (not an empty set).
    expected = {"engine/settle.py", "engine/control.py", "orders/manager.py", "risk/gate.py"}
    assert expected | {"orders/bulk_cancel.py", "domain/effects.py"} <= modules
    assert "engine/runner.py" not in modules and "engine/executor.py" not in modules


def test_the_core_rule_catches_asyncio_and_clock_reads(tmp_path: Path) -> None:
    # A probe tree of its own (writing into src/ would race the other workers' scans): a
    # core module that is fine itself but imports one that awaits and reads a clock.
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "core.py").write_text(
        "from krakenbot.engine.helper import f\n", encoding="utf-8"
    )
    (tmp_path / "engine" / "helper.py").write_text(
        "import asyncio\ndef f(clock):\n    return clock.now_ns()\n", encoding="utf-8"
    )
    problems, modules = _core_violations(tree_root=tmp_path)
    assert modules == {"engine/core.py", "engine/helper.py"}
    assert problems == [
        "engine/helper.py:1 imports asyncio",
        "engine/helper.py:3 reads a clock (now_ns())",
    ]
