"""More public Kraken REST methods on the simulator state: `Assets` and `Spread` (no sockets).

Owns: `m_assets` and `m_spread` (`(state, params) -> (result, error)`, registered in
rest_methods.PUBLIC) and the parameter helpers the public methods share (`one_pair`,
`int_param`). Imports: stdlib and sim.* only. Shapes are pinned to Kraken's documented
examples (tests/data/sim/real_messages/rest_assets__docs.json, rest_spread__docs.json):
Assets `{"XXBT": {"aclass", "altname", "decimals", "display_decimals", "collateral_value",
"status"}}`; Spread `{"XXBTZUSD": [[1688671834, "30292.10000", "30297.50000"], …],
"last": 1688672106}` (time an int, prices strings at the pair's price precision).
"""

from __future__ import annotations

from krakenbot.sim import wire_rest as wire
from krakenbot.sim.pairs import ASSETS, PairSpec, normalize_asset
from krakenbot.sim.parse import E_ARGS, E_UNKNOWN_PAIR
from krakenbot.sim.state import SimState

Params = dict[str, object]
Result = tuple[object | None, str | None]
E_UNKNOWN_ASSET = "EQuery:Unknown asset"


def one_pair(state: SimState, params: Params) -> PairSpec | str:
    """The spec of the one pair `pair` names (any accepted form), or the error Kraken sends."""
    raw = params.get("pair")
    if not raw:
        return f"{E_ARGS}:pair"
    spec = state.exchange.index.resolve(str(raw))
    return spec if spec is not None else E_UNKNOWN_PAIR


def int_param(params: Params, name: str, default: int) -> int | None:
    """An integer parameter (`default` when absent or empty), or None when it is no integer."""
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(str(raw))
    except ValueError:
        return None


def m_assets(state: SimState, params: Params) -> Result:
    """Every asset of the listed pairs, or those `asset` names (any spelling: XBT, XXBT, BTC),
    keyed by Kraken's legacy code (`XXBT`, `ZUSD`) as in the docs example."""
    codes = sorted({c for p in state.exchange.index for c in (p.base, p.quote)})
    if params.get("asset"):
        wanted = []
        for name in str(params["asset"]).split(","):
            code = normalize_asset(name.strip())
            if code is None or code not in ASSETS:
                return None, E_UNKNOWN_ASSET
            wanted.append(code)
        codes = wanted
    return wire.assets_result(codes), None


def m_spread(state: SimState, params: Params) -> Result:
    """The pair's recent top-of-book spreads after `since` (epoch seconds), oldest first,
    keyed by the canonical pair id like the other market-data methods (sim/spreads.py)."""
    spec = one_pair(state, params)
    if isinstance(spec, str):
        return None, spec
    given = params.get("since") not in (None, "")
    since = int_param(params, "since", 0)
    if since is None or since < 0:
        return None, f"{E_ARGS}:since"
    state.spreads.observe(state.exchange.markets, state.now_ns())
    rows, last = state.spreads.after(spec.symbol, since if given else None)
    pd = wire.price_decimals(spec)
    return {
        spec.rest_id: [[t, wire.fixed(bid, pd), wire.fixed(ask, pd)] for t, bid, ask in rows],
        "last": last,
    }, None
