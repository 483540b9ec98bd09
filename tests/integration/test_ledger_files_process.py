"""A real process whose ledger `-shm` file becomes unwritable while the database is open.

SQLite writes that file through a memory mapping, so the kernel would kill the process with
SIGBUS; `Database` must refuse instead (LedgerFilesError), carry on once the file is writable
again, and abandon rather than close a connection whose files are unwritable.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from file_faults import unwritable

_SCRIPT = """
import asyncio, json, os, sys
from krakenbot.store import db as store_db
from krakenbot.store.ledger_files import LedgerFilesError
Database = store_db.Database
abandoned_connections = getattr(store_db, "abandoned_connections", lambda: None)

async def step(name, work, out):
    try:
        await work
        out[name] = "ok"
    except LedgerFilesError:
        out[name] = "refused"

async def write(db, value):
    async with db.transaction():
        await db.execute("INSERT INTO t VALUES (?)", (value,))

async def main(path, ending):
    db = await Database.open(path)
    async with db.transaction():
        await db.execute("CREATE TABLE t (x INTEGER)")
    await write(db, 1)
    line = asyncio.to_thread(sys.stdin.readline)
    print("ready", flush=True)
    await line  # the test makes the -shm file unwritable (and syncs)
    out = {}
    await step("write", write(db, 2), out)
    await step("read", db.fetchall("SELECT x FROM t"), out)
    if ending == "close":
        await db.close()
        out["abandoned"] = abandoned_connections()
        print(json.dumps(out), flush=True)
        os._exit(0)
    print(json.dumps(out), flush=True)
    await asyncio.to_thread(sys.stdin.readline)  # the file is writable again
    await write(db, 3)
    out["rows"] = [r[0] for r in await db.fetchall("SELECT x FROM t ORDER BY x")]
    await db.close()
    out["abandoned"] = abandoned_connections()
    print(json.dumps(out), flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def _run(tmp_path: Path, ending: str) -> tuple[int, list[dict[str, object]]]:
    path = tmp_path / "trading.db"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _SCRIPT,
        str(path),
        ending,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    reports: list[dict[str, object]] = []
    try:
        async with asyncio.timeout(60):
            assert await proc.stdout.readline() == b"ready\n"
            with unwritable(path.with_name("trading.db-shm")):
                os.sync()  # clean pages: SQLite's next write through the mapping faults
                proc.stdin.write(b"go\n")
                await proc.stdin.drain()
                line = await proc.stdout.readline()
                if line:
                    reports.append(json.loads(line))
            if ending != "close" and line:
                proc.stdin.write(b"go\n")
                await proc.stdin.drain()
                reports.append(json.loads(await proc.stdout.readline()))
            code = await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return code, reports


async def test_statements_are_refused_while_the_shm_is_unwritable_then_work_again(
    tmp_path: Path,
) -> None:
    code, reports = await _run(tmp_path, "recover")
    assert code == 0  # not -7 (SIGBUS)
    assert reports[0] == {"write": "refused", "read": "refused"}
    # Writable again: the refused write left nothing behind, later ones commit normally.
    assert reports[1] == {"write": "refused", "read": "refused", "rows": [1, 3], "abandoned": 0}


async def test_closing_with_an_unwritable_shm_abandons_the_connection(tmp_path: Path) -> None:
    code, reports = await _run(tmp_path, "close")
    assert code == 0
    assert reports == [{"write": "refused", "read": "refused", "abandoned": 1}]
