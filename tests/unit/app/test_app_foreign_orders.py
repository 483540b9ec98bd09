"""`status --exchange` and `stop --cancel-all` on an account that also holds orders that are
not krakenbot's (placed by hand on the website): the status lists them as foreign without
calling them differences; the emergency cancel removes every order of ours, one by one, and
leaves the foreign ones alone (never Kraken's CancelAll), naming them for the operator.

On the code before issue 13 the real trailing stop made OpenOrders unreadable: `status
--exchange` errored and `stop --cancel-all` sent CancelAll, then reported "failed"."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import DATA
from tests.kraken_http import ScriptedKraken, rest_client

from krakenbot.app.exchange_view import cancel_all_verified, exchange_snapshot

TRAILING = DATA / "rest" / "rest_openorders_trailing_stop__ccxt_2024-02_stringified.json"
OURS = "kb0000000000000001"


class Account:
    """A fake Kraken account: OpenOrders lists what is open; CancelOrder removes one order;
    CancelAll would remove everything (it must not be used)."""

    def __init__(self) -> None:
        doc = json.loads(TRAILING.read_text())
        self.open: dict[str, object] = dict(doc["result"]["open"])
        mine = json.loads(json.dumps(next(iter(self.open.values()))))
        mine["cl_ord_id"] = OURS
        mine["descr"].update(ordertype="limit", price="0.5", order="buy 10 XRPUSD @ limit 0.5")
        self.open["OOURS1-AAAAA-BBBBBB"] = mine
        self.http = ScriptedKraken(self.answer)

    def answer(self, method: str, form: dict[str, str]) -> object:
        if method == "OpenOrders":
            return {"open": self.open}
        if method == "Balance":
            return {"ZUSD": "100.0000"}
        if method == "CancelOrder":
            return {"count": 1 if self.open.pop(form["txid"], None) is not None else 0}
        if method == "CancelAll":
            count = len(self.open)
            self.open.clear()
            return {"count": count}
        raise AssertionError(f"unexpected call {method}")


async def test_status_lists_foreign_orders_apart_from_ours(tmp_path: Path) -> None:
    account = Account()
    snap = await exchange_snapshot(rest_client(tmp_path, account.http))
    rows = {o["txid"]: o for o in snap["open_orders"]}
    foreign = rows["OF7S76-H2IMS-N2ML4U"]
    assert foreign["foreign"] is True and foreign["type"] == "trailing-stop"
    assert foreign["price"] == "+50.0000%" and foreign["trigger"] == "index"
    assert rows["OOURS1-AAAAA-BBBBBB"]["foreign"] is False


async def test_emergency_cancel_takes_ours_and_leaves_the_trailing_stop(tmp_path: Path) -> None:
    account = Account()
    outcome = await cancel_all_verified(rest_client(tmp_path, account.http))
    assert outcome.error is None and outcome.remaining == 0 and outcome.cancelled == 1
    assert "CancelAll" not in account.http.calls
    assert list(account.open) == ["OF7S76-H2IMS-N2ML4U"]  # the operator's stop survives
    (line,) = outcome.foreign
    assert line.startswith("OF7S76-H2IMS-N2ML4U XRPUSD buy 10.00000000 XRPUSD @ trailing stop")
