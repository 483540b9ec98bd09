"""Once both slots of the key's state file exist, a save writes only the slot's text
(net/nonce_store.py): a shorter state over a longer one still loads as itself, in this
process and in another, and a torn text still leaves the previous state."""

from __future__ import annotations

from pathlib import Path

import pytest

from krakenbot.kraken.ratelimit import Counter
from krakenbot.net import nonce_store
from krakenbot.net.nonce_store import SLOT_BYTES, KeyStateStore


def _save(store: KeyStateStore, high_water: int, pairs: int) -> None:
    state = store.try_acquire()
    assert state is not None
    state.nonce_high_water = high_water
    state.trading = {f"PAIR{i}USD": Counter(1.5 + i, high_water) for i in range(pairs)}
    store.save()
    store.release()


def test_a_shorter_state_over_a_longer_one_loads_as_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours, other = KeyStateStore(tmp_path, "key"), KeyStateStore(tmp_path, "key")
    written: list[int] = []
    real_write = nonce_store._write_at

    def counted(fd: int, data: bytes, offset: int) -> None:
        written.append(len(data))
        real_write(fd, data, offset)

    monkeypatch.setattr(nonce_store, "_write_at", counted)
    for high_water, pairs in ((100, 12), (200, 12), (300, 1), (400, 0)):
        _save(ours, high_water, pairs)
    assert written[0] == SLOT_BYTES  # the first one makes the slot
    assert all(n < SLOT_BYTES // 2 for n in written[1:])  # then only the text
    state = other.try_acquire()  # another process: the file as it is on disk
    assert state is not None
    assert (state.nonce_high_water, state.trading) == (400, {})
    state.nonce_high_water = 500
    other.save()
    other.release()
    mine = ours.try_acquire()  # what the other one wrote is seen, not our own image
    assert mine is not None and mine.nonce_high_water == 500
    ours.release()
    ours.close()
    other.close()


def test_a_torn_text_over_a_longer_one_keeps_the_previous_state(tmp_path: Path) -> None:
    store = KeyStateStore(tmp_path, "key")
    for high_water, pairs in ((100, 12), (200, 12), (300, 12), (400, 0)):
        _save(store, high_water, pairs)
    store.close()
    raw = bytearray(store.path.read_bytes())
    newest = (4 % 2) * SLOT_BYTES
    raw[newest + 30] ^= 0xFF  # inside the short text: as a power cut mid-write could
    store.path.write_bytes(bytes(raw))
    again = KeyStateStore(tmp_path, "key")
    state = again.try_acquire()
    assert state is not None and state.nonce_high_water == 300
    again.close()
