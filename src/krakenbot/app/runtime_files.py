"""The running daemon's discovery files in the data directory: where to ask it, how to stop it.

Owns: `daemon.json` (PID, mode, start time, the health server's URL, the data files in use)
and `.stop_token` (a random secret, mode 0600, that authenticates `POST /stop` so only a
local user able to read the data directory can stop the daemon — the way `krakenbot stop`
works on Windows, where there is no SIGTERM to send). Written atomically at start-up,
removed on exit; a crash leaves them behind, which readers detect through the PID.
Imports: stdlib only.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

RUNTIME_FILE = "daemon.json"
TOKEN_FILE = ".stop_token"
TOKEN_HEADER = "X-Krakenbot-Stop-Token"


@dataclass(frozen=True, slots=True)
class RuntimeInfo:
    pid: int
    mode: str  # paper | live | sim
    started_ns: int
    health_url: str
    data_files: dict[str, str] = field(default_factory=dict)

    def to_text(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @staticmethod
    def parse(text: str) -> RuntimeInfo | None:
        try:
            doc = json.loads(text)
            info = RuntimeInfo(
                pid=int(doc["pid"]),
                mode=str(doc["mode"]),
                started_ns=int(doc["started_ns"]),
                health_url=str(doc["health_url"]),
                data_files={str(k): str(v) for k, v in dict(doc.get("data_files", {})).items()},
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        return info


def runtime_path(data_dir: Path) -> Path:
    return data_dir / RUNTIME_FILE


def token_path(data_dir: Path) -> Path:
    return data_dir / TOKEN_FILE


def write_atomic(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        try:
            os.write(fd, text.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):  # no half-written temporary file left behind
            tmp.unlink()
        raise


def write_runtime(data_dir: Path, info: RuntimeInfo) -> None:
    write_atomic(runtime_path(data_dir), info.to_text() + "\n", 0o644)


def read_runtime(data_dir: Path) -> RuntimeInfo | None:
    try:
        return RuntimeInfo.parse(runtime_path(data_dir).read_text(encoding="utf-8"))
    except OSError:
        return None


def new_token(data_dir: Path) -> str:
    """A fresh stop token, written readable by the owner only."""
    token = secrets.token_urlsafe(32)
    write_atomic(token_path(data_dir), token + "\n", 0o600)
    return token


def read_token(data_dir: Path) -> str | None:
    return read_token_file(token_path(data_dir))


def read_token_file(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None


def remove_runtime(data_dir: Path, pid: int) -> None:
    """Remove our discovery files (only if they are still ours)."""
    info = read_runtime(data_dir)
    if info is not None and info.pid != pid:
        return
    for path in (runtime_path(data_dir), token_path(data_dir)):
        # Best effort on the way out: a path we cannot remove (say, a directory) must not
        # replace the reason the daemon is stopping.
        with contextlib.suppress(OSError):
            path.unlink()
