"""Direct REST access for `status --exchange` and `stop --cancel-all`, outside the daemon.

Owns: building a RestClient from settings for an operator command (the status key when one is
configured — its own nonce stream, so it never races the daemon — else the main key), the
ledger-vs-exchange comparison, and the emergency cancel of every order of ours with
verification. Orders that are not krakenbot's (no cl_ord_id with our prefix: placed by hand
or another program) are listed as foreign and never cancelled here.
Both share the per-key nonce/rate state with the daemon (net.nonce_store), in the per-user
state directory (app/statedir.py), whatever folder or DATA_DIR each process uses.
Imports: anything (composition root).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from krakenbot.app.statedir import user_state_dir
from krakenbot.clock import Clock
from krakenbot.config import Settings
from krakenbot.domain.order import UnreadableOrder
from krakenbot.kraken.ratelimit import Tier
from krakenbot.kraken.rest_orders import OrderInfo, OrderList
from krakenbot.net.rest_client import Credentials, RestClient, RestConfig
from krakenbot.net.rest_core import key_state_dir
from krakenbot.orders.clordid import DEFAULT_PREFIX, is_ours


@dataclass(frozen=True, slots=True)
class OperatorKey:
    credentials: Credentials
    which: str  # "status key" | "main key"


def operator_key(settings: Settings) -> OperatorKey | None:
    for creds, which in (
        (settings.status_credentials(), "status key"),
        (settings.credentials(), "main key"),
    ):
        if creds is not None:
            return OperatorKey(
                Credentials(creds.api_key.get_secret_value(), creds.api_secret.get_secret_value()),
                which,
            )
    return None


def operator_client(
    settings: Settings,
    key: OperatorKey | None,
    *,
    clock: Clock,
    lock_timeout_s: float = 5.0,
    read_retries: int = 1,
) -> RestClient:
    rest = settings.rest()
    config = RestConfig(
        state_dir=key_state_dir(user_state_dir()),
        base_url=rest.base_url,
        tier=Tier(rest.tier.value),
        request_timeout_s=rest.timeout_s,
        lock_timeout_s=lock_timeout_s,
        read_retries=read_retries,
        user_agent="krakenbot/0.1 (+operator)",
    )
    return RestClient(config, key.credentials if key else None, clock=clock, rng=random.Random())


def compare(
    ledger_open: dict[str, str],
    exchange_open: dict[str, str],
    ledger_position: dict[str, Decimal],
    balances: dict[str, Decimal],
) -> list[str]:
    """Differences between the ledger and Kraken. `*_open` map txid (or cl_ord_id) -> pair;
    positions are compared by base asset against the exchange's balance."""
    problems: list[str] = []
    for txid in sorted(set(exchange_open) - set(ledger_open)):
        pair = exchange_open[txid]
        problems.append(f"order {txid} ({pair}) is open on Kraken, not in the ledger")
    for txid in sorted(set(ledger_open) - set(exchange_open)):
        problems.append(f"order {txid} ({ledger_open[txid]}) is open in the ledger, not on Kraken")
    for symbol, qty in sorted(ledger_position.items()):
        base = symbol.split("/")[0]
        held = balances.get(base)
        if held is not None and held < qty:
            problems.append(f"ledger holds {qty} {base} but Kraken's balance is {held}")
    return problems


def order_row(o: OrderInfo, prefix: str = DEFAULT_PREFIX) -> dict[str, Any]:
    """One open order for `status --exchange`; `foreign`: not placed by krakenbot."""
    return {
        "txid": o.txid,
        "cl_ord_id": o.cl_ord_id,
        "foreign": not is_ours(o.cl_ord_id, prefix),
        "pair": o.pair,
        "side": str(o.side.value),
        "type": str(o.order_type.value),
        "price": str(o.price),
        "price2": str(o.price2),
        "trigger": str(o.trigger.value) if o.trigger else None,
        "volume": f"{o.volume:f}",
        "volume_exec": f"{o.volume_exec:f}",
        "description": o.description,
        "close": o.close,
    }


def unreadable_row(u: UnreadableOrder, prefix: str = DEFAULT_PREFIX) -> dict[str, Any]:
    return {
        "txid": u.order_id,
        "cl_ord_id": u.cl_ord_id,
        "foreign": not is_ours(u.cl_ord_id, prefix),
        "pair": "?",
        "unreadable": u.error,
    }


async def exchange_snapshot(client: RestClient) -> dict[str, Any]:
    balances = await client.balance()
    orders = await client.open_orders()
    return {
        # Kraken's own decimals, never the exponent form (a zero balance "0.00000000" is
        # str() "0E-8" as a Decimal).
        "balances": {e.asset: f"{e.balance:f}" for e in balances.entries if not e.wallet},
        "open_orders": [order_row(o) for o in orders]
        + [unreadable_row(u) for u in orders.unreadable],
    }


@dataclass(frozen=True, slots=True)
class CancelAllOutcome:
    cancelled: int
    remaining: int | None  # OUR orders still open after the cancels; None: could not check
    error: str | None
    foreign: tuple[str, ...] = ()  # open orders that are not ours, left alone (one line each)


def _split(listed: OrderList, prefix: str) -> tuple[list[str], list[str]]:
    """(txids of our open orders, one line per foreign open order)."""
    ours = [o.txid for o in listed if o.is_open and is_ours(o.cl_ord_id, prefix)]
    ours += [u.order_id for u in listed.unreadable if is_ours(u.cl_ord_id, prefix)]
    foreign = [
        f"{o.txid} {o.pair} {o.description or o.order_type.value}"
        for o in listed
        if o.is_open and not is_ours(o.cl_ord_id, prefix)
    ]
    foreign += [
        f"{u.order_id} (unreadable: {u.error})"
        for u in listed.unreadable
        if not is_ours(u.cl_ord_id, prefix)
    ]
    return ours, foreign


async def open_orders_of_ours(client: RestClient, prefix: str = DEFAULT_PREFIX) -> int:
    """How many open orders on the account are krakenbot's (foreign ones do not count)."""
    ours, _ = _split(await client.open_orders(), prefix)
    return len(ours)


async def cancel_all_verified(client: RestClient, prefix: str = DEFAULT_PREFIX) -> CancelAllOutcome:
    """Cancel every open order of OURS — one CancelOrder per order, by txid — then list
    again to verify (a second round if needed). Never Kraken's CancelAll: it would also
    cancel the orders that are not krakenbot's (placed by hand or another program); those are
    left alone and returned in `foreign` so the operator is told (README: Emergency stop)."""
    cancelled = 0
    error: str | None = None
    remaining: int | None = None
    foreign: list[str] = []
    for _ in range(2):
        try:
            ours, _ = _split(await client.open_orders(), prefix)
            for txid in ours:
                cancelled += (await client.cancel_order(txid=txid)).count
            left, foreign = _split(await client.open_orders(), prefix)
            remaining = len(left)
            error = None
        except Exception as exc:  # reported to the operator, who must act
            error = f"{type(exc).__name__}: {exc}"
            remaining = None
        if remaining == 0:
            break
    return CancelAllOutcome(cancelled, remaining, error, tuple(foreign))
