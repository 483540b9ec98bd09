"""The regex fast path for book frames agrees with the full JSON decoder."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import DATA

from krakenbot.domain.events import TICKER_FIELDS, Ticker
from krakenbot.kraken import ws_codec
from krakenbot.kraken.ws_codec import decode, fast_book

digits = st.integers(min_value=0, max_value=10**12)
number = st.builds(
    lambda whole, frac, places: (
        f"{whole}.{str(frac).zfill(places)[:places]}" if places else str(whole)
    ),
    digits,
    digits,
    st.integers(min_value=0, max_value=10),
)
level = st.builds(lambda p, q: f'{{"price":{p},"qty":{q}}}', number, number)
side = st.lists(level, max_size=12).map(",".join)
symbol = st.sampled_from(["BTC/USD", "XLM/USD", "1INCH/EUR", "USDT.M/USD"])
timestamp = st.one_of(st.none(), st.just("2023-07-30T15:29:58.343415Z"))


def _frame(kind: str, sym: str, bids: str, asks: str, checksum: int, ts: str | None) -> str:
    tail = "" if ts is None else f',"timestamp":"{ts}"'
    return (
        f'{{"channel":"book","type":"{kind}","data":[{{"symbol":"{sym}","bids":[{bids}],'
        f'"asks":[{asks}],"checksum":{checksum}{tail}}}]}}'
    )


def _slow(text: str) -> object:
    return ws_codec._book(ws_codec._loads(text), 5)


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(["snapshot", "update"]),
    sym=symbol,
    bids=side,
    asks=side,
    checksum=st.integers(min_value=0, max_value=2**32 - 1),
    ts=timestamp,
)
def test_fast_path_equals_json_path(
    kind: str, sym: str, bids: str, asks: str, checksum: int, ts: str | None
) -> None:
    text = _frame(kind, sym, bids, asks, checksum, ts)
    fast = fast_book(text, 5)
    assert fast is not None
    assert [fast] == _slow(text)
    assert decode(text, 5) == [fast]


def test_non_canonical_frames_fall_back_to_json() -> None:
    base = _frame("update", "BTC/USD", '{"price":1.0,"qty":2.0}', "", 7, None)
    variants = [
        base.replace('"price":1.0', '"price":"1.0"'),  # quoted number
        base.replace('"qty":2.0', '"qty":-2.0'),  # sign
        base.replace('"qty":2.0', '"qty":2e-8'),  # exponent
        base.replace('"checksum":7', '"checksum":7,"extra":1'),  # unknown field
        base.replace('{"price":1.0,"qty":2.0}', '{"qty":2.0,"price":1.0}'),  # key order
        base.replace("[{", "[ {"),  # whitespace
    ]
    for text in variants:
        assert fast_book(text) is None, text
        assert decode(text, 5) == _slow(text), text


def test_recorded_and_real_frames_agree_on_both_paths() -> None:
    for line in (DATA / "ws" / "book10_BTCUSD_2023-07-30.jsonl").read_text().splitlines():
        assert decode(line, 5) == _slow(line)
    for name in (
        "ws_book_update__real_roq_ethusdc.json",
        "ws_book_snapshot__real_roq_ethusdt.json",
    ):
        text = (DATA / "ws" / "real_messages" / name).read_text().strip()
        assert fast_book(text, 5) is not None
        assert decode(text, 5) == _slow(text)


def _slow_ticker(text: str) -> object:
    return ws_codec._ticker(ws_codec._loads(text), 5)


signed = st.builds(lambda neg, n: ("-" if neg else "") + n, st.booleans(), number)


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(signed, min_size=11, max_size=11),
    sym=symbol,
    extra=st.sampled_from(["", ',"volume_usd":6968011.52', ',"trades":38144']),
    kind=st.sampled_from(["snapshot", "update"]),
)
def test_ticker_fast_path_equals_json_path(
    values: list[str], sym: str, extra: str, kind: str
) -> None:
    body = ",".join(f'"{k}":{v}' for k, v in zip(TICKER_FIELDS, values, strict=True))
    text = (
        f'{{"channel":"ticker","type":"{kind}","data":[{{"symbol":"{sym}",{body}{extra},'
        f'"timestamp":"2026-01-19T15:05:26.339692Z"}}]}}'
    )
    fast = ws_codec.fast_ticker(text, 5)
    assert fast is not None
    assert fast.numbers == tuple(values)  # the exact wire text
    assert [fast] == decode(text, 5)
    # The JSON path agrees in value (it cannot keep "-0", which JSON reads as the int 0).
    assert [_ticker_values(fast)] == [_ticker_values(t) for t in _slow_ticker(text)]


def _ticker_values(t: Ticker) -> tuple[object, ...]:
    return (t.symbol, *(getattr(t, name) for name in TICKER_FIELDS), t.exchange_ns, t.recv_ns)


def test_real_ticker_frames_agree_on_both_paths() -> None:
    for path in sorted((DATA / "ws" / "real_messages").glob("ws_ticker_*.json")):
        text = path.read_text().strip()
        assert ws_codec.fast_ticker(text, 5) is not None, path.name
        assert decode(text, 5) == _slow_ticker(text)
    odd = (DATA / "ws" / "real_messages" / "ws_ticker_update__docs_algousd.json").read_text()
    odd = odd.strip().replace('"bid":0.10025', '"bid":1e-05')
    assert ws_codec.fast_ticker(odd) is None
    assert decode(odd, 5) == _slow_ticker(odd)
