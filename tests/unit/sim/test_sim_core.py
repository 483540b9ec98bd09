"""Pure simulator core: checksum vectors, rate counters, nonces, book diffs, matching."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from krakenbot.sim.auth import KeyStore, accept_nonce, sign, verify
from krakenbot.sim.book import book_checksum, checksum_text
from krakenbot.sim.exchange import Exchange
from krakenbot.sim.market import Market
from krakenbot.sim.model import OrderRequest
from krakenbot.sim.pairs import make_pairs
from krakenbot.sim.prices import PriceArg
from krakenbot.sim.ratelimit import (
    TIERS,
    RestCounter,
    TradingCounter,
    amend_penalty,
    cancel_penalty,
    edit_penalty,
)
from krakenbot.sim.ws_feed import BookGroup

DATA = Path(__file__).resolve().parents[2] / "data" / "sim"
NS = 1_000_000_000
D = Decimal


def _wire(msg: object) -> dict[str, Any]:
    """What a client sees: the encoded frame parsed with number text kept."""
    return json.loads(orjson.dumps(msg), parse_float=str)  # type: ignore[no-any-return]


def _levels(rows: list[dict[str, str]], pd: int, qd: int) -> list[tuple[str, str]]:
    return [(f"{D(r['price']):.{pd}f}", f"{D(r['qty']):.{qd}f}") for r in rows]


def test_book_checksum_vectors_reproduce() -> None:
    vectors = json.loads((DATA / "book_checksum.json").read_text())["vectors"]
    by_name = {v["name"]: v for v in vectors}
    for v in vectors:
        if "asks" not in v:
            continue
        pd, qd = v["price_decimals"], v["qty_decimals"]
        asks, bids = _levels(v["asks"], pd, qd), _levels(v["bids"], pd, qd)
        assert book_checksum(asks, bids) == v["expected_checksum"], v["name"]
        if "expected_asks_string" in v:
            assert checksum_text(asks, []) == v["expected_asks_string"]
    upd = by_name["kraken_docs_maticusd_book_channel_update"]
    base = by_name[upd["applies_to"]]
    pd, qd = base["price_decimals"], base["qty_decimals"]
    bids = {r["price"]: r["qty"] for r in base["bids"]}
    for r in upd["update"]["bids"]:
        bids[r["price"]] = r["qty"]
    top = sorted(bids.items(), key=lambda kv: -D(kv[0]))[:10]
    got = book_checksum(
        _levels(base["asks"], pd, qd), _levels([{"price": p, "qty": q} for p, q in top], pd, qd)
    )
    assert got == upd["expected_checksum"]


def test_signature_vector_and_nonce_rules() -> None:
    vec = json.loads((DATA / "rest_sign.json").read_text())["vectors"][0]
    body = vec["encoded_payload"].encode()
    assert sign(vec["private_key"], vec["uri_path"], vec["nonce"], body) == vec["api_sign"]
    store = KeyStore()
    store.add("K", vec["private_key"])
    key, err = verify(
        store, "K", vec["api_sign"], uri_path=vec["uri_path"], nonce=vec["nonce"], body=body
    )
    assert err is None and key is not None
    _, err = verify(
        store, "K", vec["api_sign"], uri_path=vec["uri_path"], nonce=vec["nonce"], body=body
    )
    assert err == "EAPI:Invalid nonce"
    _, err = verify(
        store, "K", vec["api_sign"], uri_path="/0/private/Balance", nonce="9" * 15, body=body
    )
    assert err == "EAPI:Invalid signature"
    assert verify(store, "X", "", uri_path="/", nonce="1", body=b"")[1] == "EAPI:Invalid key"
    store.add("W", vec["private_key"], nonce_window=10)
    w = store.get("W")
    assert w is not None
    assert accept_nonce(w, "100") and accept_nonce(w, "95") and not accept_nonce(w, "95")
    assert not accept_nonce(w, "90") and not accept_nonce(w, "abc")


def test_rest_counter_costs_and_decay() -> None:
    counter = RestCounter(TIERS["starter"])
    t = 10 * NS
    for _ in range(7):
        assert counter.charge("k", "TradesHistory", t)  # +2 each: 14
    assert counter.charge("k", "Balance", t)  # 15 = max
    assert not counter.charge("k", "Balance", t)
    assert counter.charge("k", "AddOrder", t)  # exempt
    assert counter.charge("k", "Balance", t + 4 * NS)  # decayed 1.32
    assert counter.value("k", t + 4 * NS) == D("14.68")


def test_trading_counter_cancel_penalties_and_threshold() -> None:
    assert [cancel_penalty(a) for a in (0, 5, 10, 15, 45, 90, 300)] == [
        D(8),
        D(6),
        D(5),
        D(4),
        D(2),
        D(1),
        D(0),
    ]
    counter = TradingCounter(TIERS["starter"])
    for _ in range(60):
        assert counter.charge_add("XLM/USD", 0)
    assert not counter.charge_add("XLM/USD", 0)
    assert counter.value("XLM/USD", 0) == 61  # charged on receipt even when refused
    assert counter.charge_add("BTC/USD", 0)  # per pair
    assert not counter.charge_cancel("XLM/USD", 1.0, 0, force=False)
    assert counter.charge_cancel("XLM/USD", 1.0, 0, force=True)
    assert counter.value("XLM/USD", 10 * NS) == 59


def test_trading_counter_edit_penalties_follow_the_docs_table() -> None:
    ages = (0, 5, 10, 15, 45, 90, 300)
    assert [edit_penalty(a) for a in ages] == [D(x) for x in (6, 5, 4, 2, 1, 0, 0)]
    assert [amend_penalty(a) for a in ages] == [D(x) for x in (3, 2, 1, 0, 0, 0, 0)]
    counter = TradingCounter(TIERS["starter"])
    assert counter.charge_edit("XLM/USD", 12.0, 0)  # +1 fixed, +4 (< 15 s)
    assert counter.value("XLM/USD", 0) == 5
    for _ in range(55):
        counter.charge_add("XLM/USD", 0)
    assert not counter.charge_edit("XLM/USD", 0.5, 0)  # 60 + 7 > 60: refused, +1 kept
    assert counter.value("XLM/USD", 0) == 61


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([10, 25]))
def test_book_updates_rebuild_the_published_book(seed: int, depth: int) -> None:
    spec = make_pairs(("XLM/USD",))["XLM/USD"]
    rng = random.Random(seed)
    market = Market(spec, rng, 0)
    group = BookGroup(market, depth)
    snap = _wire(group.snapshot(0))["data"][0]
    asks = {str(lv["price"]): str(lv["qty"]) for lv in snap["asks"]}
    bids = {str(lv["price"]): str(lv["qty"]) for lv in snap["bids"]}
    for step in range(30):
        if rng.random() < 0.5:
            market.recenter(
                market.mid * D(str(1 + rng.uniform(-0.002, 0.002))).quantize(D("0.000001")), step
            )
        market.perturb()
        market.feed_trade(rng.choice(["buy", "sell"]), step)
        msg = group.update(step)
        if msg is None:
            continue
        data = _wire(msg)["data"][0]
        for side, book in (("asks", asks), ("bids", bids)):
            for lv in data[side]:
                if D(str(lv["qty"])) == 0:
                    book.pop(str(lv["price"]), None)
                else:
                    book[str(lv["price"])] = str(lv["qty"])
        asks = dict(sorted(asks.items(), key=lambda kv: D(kv[0]))[:depth])
        bids = dict(sorted(bids.items(), key=lambda kv: -D(kv[0]))[:depth])
        want_asks = market.asks.top(depth)
        assert [(D(p), D(q)) for p, q in asks.items()] == want_asks
        assert book_checksum(list(asks.items())[:10], list(bids.items())[:10]) == data["checksum"]


def _exchange(**bal: str) -> Exchange:
    pairs = make_pairs(("XLM/USD", "BTC/USD"))
    balances = {k: D(v) for k, v in bal.items()}
    return Exchange(pairs, TIERS["starter"], balances, random.Random(3), 0)


def _req(ex: Exchange, **kw: object) -> OrderRequest:
    base: dict[str, object] = {
        "pair": ex.index.resolve("XLMUSD"),
        "side": "buy",
        "ordertype": "limit",
        "volume": D("40"),
        "price": D("0.28"),
    }
    base.update(kw)
    if isinstance(base["price"], D):
        base["price"] = PriceArg(base["price"])
    if base.pop("post_only", False):
        base["flags"] = frozenset({"post"})
    return OrderRequest(**base)  # type: ignore[arg-type]


def test_validation_errors_in_kraken_words() -> None:
    ex = _exchange(USD="100", XLM="100")
    cases = {
        "EGeneral:Invalid arguments:volume": _req(ex, volume=D("40.000000001")),
        "EOrder:Order minimum not met": _req(ex, volume=D("5")),
        "EOrder:Tick size check failed": _req(ex, price=D("0.2800005")),
        "EOrder:Invalid price": _req(ex, price=D("0")),
        "EOrder:Cost minimum not met": _req(ex, volume=D("10"), price=D("0.01")),
        "EOrder:Insufficient funds": _req(ex, volume=D("1000")),
        "EOrder:Post only order": _req(ex, price=D("0.3"), post_only=True),
    }
    for error, req in cases.items():
        assert ex.add_order(req, 0)[1] == error
    assert ex.add_order(_req(ex, volume=D("5")), 0, ws=True)[1] == (
        "EGeneral:Invalid arguments:volume minimum not met"
    )
    ex.system = "post_only"
    assert ex.add_order(_req(ex), 0)[1] == "EService:Market in post_only mode"
    ex.system = "cancel_only"
    assert ex.add_order(_req(ex), 0)[1] == "EService:Market in cancel_only mode"
    ex.system = "maintenance"
    assert ex.add_order(_req(ex), 0)[1] == "EService:Unavailable"


def test_holds_and_balances_stay_consistent() -> None:
    ex = _exchange(USD="100", XLM="0")
    order, err = ex.add_order(_req(ex), 0)
    assert err is None and order is not None
    assert ex.holds() == {"USD": D("11.2448")}
    assert ex.available("USD") == D("88.7552")
    ex.set_mid("XLM/USD", D("0.25"), 1)
    assert order.status == "closed" and ex.holds() == {}
    assert ex.balances["XLM"] == D("40") and ex.balances["USD"] == D("100") - D("11.2") - D("0.028")
    fill = ex.fills[-1]
    assert fill.maker and fill.fee == D("0.0280")


def test_open_orders_cap_per_pair() -> None:
    ex = _exchange(USD="100000")
    for i in range(60):
        assert ex.add_order(_req(ex, price=D("0.1") + D(i) / 1000), i * 2 * NS)[1] is None
    assert ex.add_order(_req(ex, price=D("0.2")), 200 * NS)[1] == "EOrder:Orders limit exceeded"
