"""The registry of running daemons and the per-user state directory (app/registry.py,
app/statedir.py): entries, the choice among several daemons, stale entries."""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
from pathlib import Path

import psutil

from krakenbot.app.emergency import wait_listening
from krakenbot.app.registry import (
    DaemonEntry,
    Registration,
    choose,
    entry_path,
    is_running,
    read_entry,
    remove_entry,
    running_daemons,
    write_entry,
)
from krakenbot.app.statedir import STATE_DIR_ENV, state_dir_for, user_state_dir

HOME = Path("/home/ann")


def _entry(pid: int, data_dir: str, mode: str = "live", **kw: object) -> DaemonEntry:
    base = DaemonEntry(
        pid=pid,
        create_time=1000.0 + pid,
        mode=mode,
        data_dir=data_dir,
        lock_file=f"{data_dir}/.trading_lock",
        database=f"{data_dir}/trading.db",
        log_file=f"{data_dir}/krakenbot.log",
        token_file=f"{data_dir}/.stop_token",
        health_url=f"http://127.0.0.1:{8000 + pid}",
        started_ns=pid,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_state_dir_per_platform_and_override() -> None:
    xdg_default = HOME / ".local/state/krakenbot"
    assert state_dir_for({}, "linux", HOME) == xdg_default
    assert state_dir_for({"XDG_STATE_HOME": "/x/state"}, "linux", HOME) == Path(
        "/x/state/krakenbot"
    )
    # A relative XDG_STATE_HOME is invalid (XDG Base Directory spec): ignored.
    assert state_dir_for({"XDG_STATE_HOME": "rel"}, "linux", HOME) == xdg_default
    assert state_dir_for({"LOCALAPPDATA": "/c/AppData/Local"}, "win32", HOME) == Path(
        "/c/AppData/Local/krakenbot"
    )
    assert state_dir_for({}, "win32", HOME) == HOME / "AppData/Local/krakenbot"
    assert state_dir_for({}, "darwin", HOME) == HOME / "Library/Application Support/krakenbot"
    override = {STATE_DIR_ENV: "/tmp/k", "XDG_STATE_HOME": "/x"}
    assert state_dir_for(override, "linux", HOME) == Path("/tmp/k")
    assert state_dir_for({STATE_DIR_ENV: "rel"}, "linux", HOME).is_absolute()


def test_tests_never_use_the_real_state_dir(krakenbot_state_dir: Path) -> None:
    assert user_state_dir() == krakenbot_state_dir
    assert not str(user_state_dir()).startswith(str(Path.home() / ".local"))


def test_entry_text_round_trip_and_garbage() -> None:
    entry = _entry(7, "/a/data", env_file="/a/.env", cwd="/a")
    assert DaemonEntry.parse(entry.to_text()) == entry
    assert DaemonEntry.parse(replace(entry, health_url=None).to_text()) == replace(
        entry, health_url=None
    )
    for bad in ("", "{", "[]", '{"pid": "7"}', '{"pid": -1}', '{"pid": true}', '{"pid": 7}'):
        assert DaemonEntry.parse(bad) is None
    assert DaemonEntry.parse(entry.to_text().replace("1007.0", '"x"')) is None


def test_choose_the_only_one_refuse_several_filter_by_mode_and_data_dir() -> None:
    live = _entry(1, "/a/data")
    sim = _entry(2, "/b/data/sim", mode="sim")
    assert choose([], sim=False, data_dir=None).chosen is None
    assert choose([], sim=False, data_dir=None).refusal("stop") is None
    assert choose([live], sim=False, data_dir=None).chosen == live
    both = choose([live, sim], sim=False, data_dir=None)
    assert both.chosen is None and both.ambiguous
    refusal = both.refusal("stop") or ""
    assert "PID 1" in refusal and "PID 2" in refusal and "--data-dir" in refusal
    assert choose([live, sim], sim=True, data_dir=None).chosen == sim  # --sim: a filter
    assert choose([live, sim], sim=False, data_dir=Path("/a/data")).chosen == live
    # A `run --sim` daemon is named by its DATA_DIR too (it uses DATA_DIR/sim).
    assert choose([live, sim], sim=False, data_dir=Path("/b/data")).chosen == sim
    assert choose([live, sim], sim=False, data_dir=Path("/b/data/sim/")).chosen == sim
    # None matches while others run: refuse (never "not running" with a daemon up).
    only_live = choose([live], sim=True, data_dir=None)
    assert only_live.chosen is None and not only_live.ambiguous
    assert "PID 1" in (only_live.refusal("stop") or "")


def _me() -> DaemonEntry:
    created = psutil.Process().create_time()
    return _entry(os.getpid(), "/a/data", create_time=created)


def test_running_daemons_prunes_dead_and_reused_pids(tmp_path: Path) -> None:
    me = _me()
    write_entry(tmp_path, me)
    dead = _entry(4_000_000, "/dead")  # above Linux's pid_max: no such process
    write_entry(tmp_path, dead)
    reused = _entry(os.getppid(), "/reused", create_time=1.0)  # a live PID, another process
    write_entry(tmp_path, reused)
    (tmp_path / "junk.json").write_text("not an entry", encoding="utf-8")
    assert is_running(me) and not is_running(dead) and not is_running(reused)
    assert running_daemons(tmp_path) == [me]
    assert sorted(p.name for p in tmp_path.iterdir()) == [entry_path(tmp_path, me.pid).name]
    assert running_daemons(tmp_path / "absent") == []


def test_registration_publishes_updates_and_removes_only_its_own(tmp_path: Path) -> None:
    me = _me()
    registration = Registration(tmp_path / "daemons", replace(me, health_url=None))
    registration.publish()
    assert running_daemons(tmp_path / "daemons")[0].health_url is None
    registration.listening("http://127.0.0.1:1234")
    assert running_daemons(tmp_path / "daemons")[0].health_url == "http://127.0.0.1:1234"
    path = entry_path(tmp_path / "daemons", me.pid)
    assert oct(path.stat().st_mode & 0o777) == oct(0o600) or os.name != "posix"
    # Our PID's file now names another process (PID reuse after we died): not ours to remove.
    successor = replace(me, create_time=me.create_time + 50 if me.create_time else 1.0)
    write_entry(tmp_path / "daemons", successor)
    remove_entry(tmp_path / "daemons", me)
    assert path.exists()
    write_entry(tmp_path / "daemons", me)
    registration.remove()
    assert not path.exists()
    registration.remove()  # twice is fine


async def test_stop_waits_for_a_starting_daemon_to_listen_where_no_signal_can_stop_it(
    tmp_path: Path,
) -> None:
    # Windows: `stop` cannot signal a daemon still starting up; it waits (bounded) for the
    # daemon's entry to name its health URL, then sends the stop request there.
    registration = Registration(tmp_path, replace(_me(), health_url=None))
    registration.publish()
    starting = registration.entry
    asyncio.get_running_loop().call_later(0.2, registration.listening, "http://127.0.0.1:9")
    found = await wait_listening(tmp_path, starting, 5.0)
    assert found.health_url == "http://127.0.0.1:9"
    assert read_entry(tmp_path, replace(starting, create_time=1.0)) is None  # not that process
    registration.remove()
    assert await wait_listening(tmp_path, starting, 0.2) == starting  # bounded: gives up
