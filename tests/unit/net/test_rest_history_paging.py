"""The REST client pages ClosedOrders / TradesHistory with `ofs` the way Kraken lists them:
newest first, 50 a page, `count` the total matching (docs get-closed-orders /
get-trade-history). Records that arrive while it pages push the older ones down; none may be
skipped, and a listing too long for `max_pages` is an error, never a shortened answer.

The server is scripted behind the client's HTTP seam; its records are the documented
ClosedOrders / TradesHistory examples (tests/data/rest) under new ids and times."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import DATA
from tests.kraken_http import ScriptedKraken, rest_client

from krakenbot.errors import TransientError

T0 = 1_769_000_000


def _template(name: str, key: str) -> dict[str, Any]:
    result = json.loads((DATA / "rest" / name).read_text())["result"][key]
    return dict(next(iter(result.values())))


ORDER = _template("rest_closedorders__docs_None_to_null.json", "closed")
TRADE = _template("rest_tradeshistory__docs_True_to_true.json", "trades")


class History:
    """A newest-first listing that grows at the front when told to (`arrive`)."""

    def __init__(self, n: int, kind: str) -> None:
        self.kind = kind
        self.ids: list[str] = []  # newest first
        self.arrive(n)
        self.requests: list[dict[str, str]] = []
        self.after_page: Callable[[int], None] = lambda page: None

    def arrive(self, n: int) -> None:
        first = len(self.ids)
        self.ids[:0] = [
            f"{self.kind}{i:05d}-AAAAA-BBBBBB" for i in range(first + n - 1, first - 1, -1)
        ]

    def record(self, txid: str) -> dict[str, Any]:
        at = T0 + int(txid[1:6])
        if self.kind == "O":
            row = copy.deepcopy(ORDER)
            row.update(opentm=at, closetm=at)
        else:
            row = copy.deepcopy(TRADE)
            row.update(time=at, ordertxid=f"O{txid[1:]}")
        return row

    def answer(self, method: str, form: dict[str, str]) -> object:
        self.requests.append(form)
        ofs = int(form.get("ofs", "0"))
        rows = {t: self.record(t) for t in self.ids[ofs : ofs + 50]}
        key = "closed" if method == "ClosedOrders" else "trades"
        result = {key: rows, "count": len(self.ids)}
        self.after_page(len(self.requests))
        return result


def _client(tmp_path: Path, history: History) -> Any:
    return rest_client(tmp_path / "keys", ScriptedKraken(history.answer))


async def _listed(tmp_path: Path, history: History, **kw: Any) -> list[str]:
    async with _client(tmp_path, history) as client:
        if history.kind == "O":
            return [o.txid for o in await client.closed_orders_all(**kw)]
        return [t.trade_txid for t in await client.trades_history_all(**kw)]


@pytest.mark.parametrize("kind", ["O", "T"])
async def test_records_arriving_between_pages_never_hide_older_ones(
    tmp_path: Path, kind: str
) -> None:
    history = History(120, kind)
    before = list(history.ids)
    # 60 records close / fill right after the first page: every older one moves down 60 places.
    history.after_page = lambda page: history.arrive(60) if page == 1 else None
    listed = await _listed(tmp_path, history)
    assert set(before) <= set(listed)
    assert len(listed) == len(set(listed))
    # ofs moves past what each page returned: 0, 50, 100, 150 (180 records by then).
    assert [r.get("ofs", "0") for r in history.requests] == ["0", "50", "100", "150"]


@pytest.mark.parametrize("kind", ["O", "T"])
async def test_a_listing_longer_than_max_pages_is_an_error(tmp_path: Path, kind: str) -> None:
    history = History(130, kind)
    with pytest.raises(TransientError, match="listing incomplete"):
        await _listed(tmp_path, history, max_pages=2)
    assert len(history.requests) == 2
    assert len(await _listed(tmp_path, history, max_pages=3)) == 130


async def test_the_window_and_closetime_reach_kraken(tmp_path: Path) -> None:
    history = History(3, "O")
    await _listed(tmp_path, history, start=T0, closetime="close")
    assert history.requests[0]["start"] == str(T0)
    assert history.requests[0]["closetime"] == "close"
    assert "ofs" not in history.requests[0] and "end" not in history.requests[0]
