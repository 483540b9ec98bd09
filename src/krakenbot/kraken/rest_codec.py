"""Kraken REST envelope and typed results for market data, account and session endpoints.

Owns: decoding the `{"error":[…],"result":…}` envelope, asset-code normalization, and the
frozen result types for Time, SystemStatus, AssetPairs (→ Instrument), Ticker, Depth,
Balance, BalanceEx, GetWebSocketsToken, CancelOrder/CancelAll and CancelAllOrdersAfter.
Must not import: I/O, the clock, layers above `domain`.
Facts: API.md §1 and §5 (docs.kraken.com/rest). Numbers are kept exact and bounded: strings
and JSON numbers both go through Decimal (the JSON parser builds Decimals, never floats), and
no number longer or larger than Kraken ever sends is converted (`rest_values`). Each public
parser raises `CodecError` for a body of the wrong shape, whatever is wrong with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from krakenbot.domain.enums import SystemState
from krakenbot.domain.events import PriceLevel
from krakenbot.domain.instrument import Instrument
from krakenbot.kraken.errors import split_messages, to_exception
from krakenbot.kraken.rest_add_answer import canonical_add_order
from krakenbot.kraken.rest_values import (
    CodecError,
    codec_boundary,
    dec,
    decimals,
    epoch_ns,
    loads,
)

__all__ = [  # with CodecError, dec, epoch_ns and loads re-exported from rest_values
    "BalanceEntry",
    "Balances",
    "CancelAfterResult",
    "CancelResult",
    "CodecError",
    "Depth",
    "Envelope",
    "RestTicker",
    "ServerTime",
    "SystemStatusInfo",
    "WsToken",
    "dec",
    "decode_envelope",
    "epoch_ns",
    "loads",
    "normalize_asset",
    "parse_asset_pairs",
    "parse_balance",
    "parse_balance_ex",
    "parse_cancel",
    "parse_cancel_after",
    "parse_depth",
    "parse_instrument",
    "parse_system_status",
    "parse_ticker",
    "parse_time",
    "parse_ws_token",
]
JsonObj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Envelope:
    result: Any
    warnings: tuple[str, ...] = ()


@codec_boundary("envelope")
def decode_envelope(raw: bytes | str, *, endpoint: str, cl_ord_id: str | None = None) -> Envelope:
    """The `result` of a successful response; raises the mapped exception on `E…` errors."""
    if endpoint == "AddOrder" and (usual := canonical_add_order(raw)) is not None:
        return Envelope({"descr": {"order": usual[0]}, "txid": [usual[1]]})
    doc = loads(raw)
    if not isinstance(doc, dict) or not isinstance(doc.get("error", []), list):
        raise CodecError("response is not a Kraken envelope", endpoint=endpoint)
    errors, warnings = split_messages([str(m) for m in doc.get("error", [])])
    if errors:
        raise to_exception(errors, endpoint=endpoint, cl_ord_id=cl_ord_id)
    if "result" not in doc:
        raise CodecError("envelope without result", endpoint=endpoint)
    return Envelope(doc["result"], tuple(warnings))


def _obj(value: Any, what: str) -> JsonObj:
    if not isinstance(value, dict):
        raise CodecError(f"{what}: expected an object")
    return value


# ---------------------------------------------------------------- assets

# Legacy X/Z-prefixed codes (Balance, AssetPairs) → the names WS v2 uses.
_LEGACY = {
    "XXBT": "BTC",
    "XBT": "BTC",
    "XXDG": "DOGE",
    "XDG": "DOGE",
    "XXLM": "XLM",
    "XETH": "ETH",
    "XETC": "ETC",
    "XLTC": "LTC",
    "XMLN": "MLN",
    "XREP": "REP",
    "XXMR": "XMR",
    "XXRP": "XRP",
    "XZEC": "ZEC",
    "ZUSD": "USD",
    "ZEUR": "EUR",
    "ZGBP": "GBP",
    "ZCAD": "CAD",
    "ZJPY": "JPY",
    "ZAUD": "AUD",
    "ZCHF": "CHF",
}


def normalize_asset(code: str) -> tuple[str, str]:
    """(`asset`, `suffix`): `XXLM`→(XLM, ""), `USD.M`→(USD, "M"), `XBT.F`→(BTC, "F").

    Suffixes (.S staked, .M opt-in rewards, .F auto-earn, .B/.T/.P…) name earn wallets that
    are not spot funds; callers keep them apart.
    """
    base, _, suffix = code.partition(".")
    return _LEGACY.get(base, base), suffix


@dataclass(frozen=True, slots=True)
class BalanceEntry:
    asset: str  # normalized, e.g. "XLM"
    wallet: str  # "" for spot, else the earn suffix ("F", "S", "M", …)
    balance: Decimal
    hold: Decimal = Decimal(0)
    credit: Decimal = Decimal(0)
    credit_used: Decimal = Decimal(0)

    @property
    def available(self) -> Decimal:
        return self.balance + self.credit - self.credit_used - self.hold


@dataclass(frozen=True, slots=True)
class Balances:
    entries: tuple[BalanceEntry, ...]

    def spot(self, asset: str) -> BalanceEntry:
        for entry in self.entries:
            if entry.asset == asset and not entry.wallet:
                return entry
        return BalanceEntry(asset, "", Decimal(0))

    def available(self, asset: str) -> Decimal:
        return self.spot(asset).available

    def earn(self, asset: str) -> tuple[BalanceEntry, ...]:
        return tuple(e for e in self.entries if e.asset == asset and e.wallet)


def _merge(entries: list[BalanceEntry]) -> Balances:
    # Two raw codes can normalize to one asset (XXBT and XBT): add them up.
    merged: dict[tuple[str, str], BalanceEntry] = {}
    for entry in entries:
        prev = merged.get((entry.asset, entry.wallet))
        merged[(entry.asset, entry.wallet)] = (
            entry
            if prev is None
            else BalanceEntry(
                entry.asset,
                entry.wallet,
                prev.balance + entry.balance,
                prev.hold + entry.hold,
                prev.credit + entry.credit,
                prev.credit_used + entry.credit_used,
            )
        )
    return Balances(tuple(merged.values()))


@codec_boundary("Balance")
def parse_balance(result: Any) -> Balances:
    entries = []
    for code, amount in _obj(result, "Balance").items():
        asset, wallet = normalize_asset(code)
        entries.append(BalanceEntry(asset, wallet, dec(amount)))
    return _merge(entries)


@codec_boundary("BalanceEx")
def parse_balance_ex(result: Any) -> Balances:
    entries = []
    for code, raw_row in _obj(result, "BalanceEx").items():
        row = _obj(raw_row, f"BalanceEx {code}")
        asset, wallet = normalize_asset(code)
        entries.append(
            BalanceEntry(
                asset,
                wallet,
                dec(row.get("balance", 0)),
                dec(row.get("hold_trade", 0)),
                dec(row.get("credit", 0)),
                dec(row.get("credit_used", 0)),
            )
        )
    return _merge(entries)


# ---------------------------------------------------------------- public


@dataclass(frozen=True, slots=True)
class ServerTime:
    unixtime: int
    rfc1123: str


@codec_boundary("Time")
def parse_time(result: Any) -> ServerTime:
    r = _obj(result, "Time")
    return ServerTime(int(r["unixtime"]), str(r.get("rfc1123", "")))


@dataclass(frozen=True, slots=True)
class SystemStatusInfo:
    status: SystemState
    timestamp: str


@codec_boundary("SystemStatus")
def parse_system_status(result: Any) -> SystemStatusInfo:
    r = _obj(result, "SystemStatus")
    try:
        status = SystemState(str(r["status"]))
    except (KeyError, ValueError) as exc:
        raise CodecError(f"unknown system status {r.get('status')!r}") from exc
    return SystemStatusInfo(status, str(r.get("timestamp", "")))


def _fee_pct(table: Any, default: Decimal) -> Decimal:
    if isinstance(table, list) and table and isinstance(table[0], list) and len(table[0]) == 2:
        return dec(table[0][1])
    return default


@codec_boundary("AssetPairs entry")
def parse_instrument(rest_id: str, row: Mapping[str, Any]) -> Instrument:
    """One AssetPairs entry → Instrument. Missing tick_size / costmin / cost_decimals (old
    records, e.g. XLM/USD c. 2021) fall back to 10^-pair_decimals / 0 / pair_decimals."""
    wsname = str(row.get("wsname", ""))
    base, _ = normalize_asset(str(row["base"]))
    quote, _ = normalize_asset(str(row["quote"]))
    price_decimals = decimals(row["pair_decimals"])
    tick = row.get("tick_size")
    return Instrument(
        symbol=f"{base}/{quote}",
        rest_id=rest_id,
        altname=str(row.get("altname", rest_id)),
        wsname=wsname,
        base=base,
        quote=quote,
        price_decimals=price_decimals,
        lot_decimals=decimals(row["lot_decimals"]),
        cost_decimals=decimals(row.get("cost_decimals", price_decimals)),
        tick_size=dec(tick) if tick is not None else Decimal(1).scaleb(-price_decimals),
        ordermin=dec(row.get("ordermin", 0)),
        costmin=dec(row.get("costmin", 0)),
        status=str(row.get("status", "online")),
        taker_fee_pct=_fee_pct(row.get("fees"), Decimal("0.40")),
        maker_fee_pct=_fee_pct(row.get("fees_maker"), Decimal("0.25")),
    )


@codec_boundary("AssetPairs")
def parse_asset_pairs(result: Any) -> dict[str, Instrument]:
    """AssetPairs → {symbol ("XLM/USD", BTC not XBT): Instrument}."""
    out: dict[str, Instrument] = {}
    for rest_id, row in _obj(result, "AssetPairs").items():
        try:
            inst = parse_instrument(rest_id, _obj(row, rest_id))
        except (KeyError, TypeError, ValueError) as exc:
            raise CodecError(f"AssetPairs {rest_id}: {exc}") from exc
        out[inst.symbol] = inst
    return out


@dataclass(frozen=True, slots=True)
class RestTicker:
    pair: str  # the REST result key, e.g. "XXLMZUSD"
    ask: Decimal
    ask_lot_volume: Decimal
    bid: Decimal
    bid_lot_volume: Decimal
    last: Decimal
    last_volume: Decimal
    volume_today: Decimal
    volume_24h: Decimal
    vwap_24h: Decimal
    trades_24h: int
    low_24h: Decimal
    high_24h: Decimal
    open_today: Decimal


@codec_boundary("Ticker")
def parse_ticker(result: Any) -> dict[str, RestTicker]:
    out = {}
    for pair, t in _obj(result, "Ticker").items():
        try:
            out[pair] = RestTicker(
                pair=pair,
                ask=dec(t["a"][0]),
                ask_lot_volume=dec(t["a"][2]),
                bid=dec(t["b"][0]),
                bid_lot_volume=dec(t["b"][2]),
                last=dec(t["c"][0]),
                last_volume=dec(t["c"][1]),
                volume_today=dec(t["v"][0]),
                volume_24h=dec(t["v"][1]),
                vwap_24h=dec(t["p"][1]),
                trades_24h=int(t["t"][1]),
                low_24h=dec(t["l"][1]),
                high_24h=dec(t["h"][1]),
                open_today=dec(t["o"]),
            )
        except (KeyError, IndexError, TypeError) as exc:
            raise CodecError(f"Ticker {pair}: malformed") from exc
    return out


@dataclass(frozen=True, slots=True)
class Depth:
    pair: str
    asks: tuple[PriceLevel, ...]  # best (lowest) first
    bids: tuple[PriceLevel, ...]  # best (highest) first


@codec_boundary("Depth")
def parse_depth(result: Any) -> dict[str, Depth]:
    out = {}
    for pair, book in _obj(result, "Depth").items():
        try:
            asks = tuple(PriceLevel(dec(r[0]), dec(r[1])) for r in book["asks"])
            bids = tuple(PriceLevel(dec(r[0]), dec(r[1])) for r in book["bids"])
        except (KeyError, IndexError, TypeError) as exc:
            raise CodecError(f"Depth {pair}: malformed") from exc
        out[pair] = Depth(pair, asks, bids)
    return out


# ---------------------------------------------------------------- session / cancels


@dataclass(frozen=True, slots=True)
class WsToken:
    token: str = field(repr=False)  # a bearer credential for ws-auth: never logged
    expires_s: int


@codec_boundary("GetWebSocketsToken")
def parse_ws_token(result: Any) -> WsToken:
    r = _obj(result, "GetWebSocketsToken")
    return WsToken(str(r["token"]), int(r.get("expires", 900)))


@dataclass(frozen=True, slots=True)
class CancelResult:
    count: int
    pending: bool = False


@codec_boundary("Cancel")
def parse_cancel(result: Any) -> CancelResult:
    r = _obj(result, "Cancel")
    return CancelResult(int(r.get("count", 0)), bool(r.get("pending", False)))


@dataclass(frozen=True, slots=True)
class CancelAfterResult:
    current_time: str  # RFC3339, second precision
    trigger_time: str  # RFC3339; "" when the switch was disabled (timeout=0)


@codec_boundary("CancelAllOrdersAfter")
def parse_cancel_after(result: Any) -> CancelAfterResult:
    r = _obj(result, "CancelAllOrdersAfter")
    return CancelAfterResult(str(r.get("currentTime", "")), str(r.get("triggerTime", "")))
