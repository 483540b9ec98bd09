"""Another checkout's krakenbot client, importable next to this one (benchmarks/bench_peers.py
`--base SRC`): a before/after comparison in the SAME rounds, against the same floors.

`load_base(src)` copies `src/krakenbot` (say, a worktree of main) into a temporary folder as
the package `krakenbot_base`, its own imports renamed, and imports it: the two clients share
no module, no class, no enum, so each builds its orders with its own types. Only the client
side is used (the simulator is this checkout's, in its own process).
"""

from __future__ import annotations

import importlib
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

BASE = "krakenbot_base"
_IMPORT = re.compile(r"^(\s*)(from|import) krakenbot(?=[.\s])", re.MULTILINE)


def load_base(src: str, tmp: Path) -> ModuleType:
    """`src` is a checkout (or its src/ folder); returns the imported `krakenbot_base`."""
    root = Path(src)
    package = root / "src" / "krakenbot" if (root / "src").is_dir() else root / "krakenbot"
    if not (package / "__init__.py").is_file():
        raise SystemExit(f"--base {src}: no krakenbot package under it")
    target = tmp / "base_src" / BASE
    shutil.copytree(package, target, ignore=shutil.ignore_patterns("__pycache__"))
    for path in target.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        path.write_text(_IMPORT.sub(rf"\1\2 {BASE}", text), encoding="utf-8")
    sys.path.insert(0, str(target.parent))
    return importlib.import_module(BASE)


def modules(package: str) -> dict[str, ModuleType]:
    """The client modules bench_peers.py builds krakenbot's clients from, under `package`."""
    names = (
        "clock",
        "domain.enums",
        "domain.events",
        "kraken.ratelimit",
        "kraken.rest_orders",
        "net.rest_client",
        "net.ws_inbound",
        "net.ws_orders",
        "net.ws_session",
    )
    return {name: importlib.import_module(f"{package}.{name}") for name in names}
