"""Direct REST access for `status --exchange` and `stop --cancel-all`, outside the daemon.

Owns: building a RestClient from settings for an operator command (the status key when one is
configured — its own nonce stream, so it never races the daemon — else the main key), the
ledger-vs-exchange comparison, and the emergency cancel-all with verification.
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
from krakenbot.kraken.ratelimit import Tier
from krakenbot.net.rest_client import Credentials, RestClient, RestConfig
from krakenbot.net.rest_core import key_state_dir


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
    config = RestConfig(
        state_dir=key_state_dir(user_state_dir()),
        base_url=settings.kraken_rest_url.rstrip("/"),
        tier=Tier(settings.kraken_api_tier.value),
        request_timeout_s=settings.rest_timeout_s,
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


async def exchange_snapshot(client: RestClient) -> dict[str, Any]:
    balances = await client.balance()
    orders = await client.open_orders()
    return {
        # Kraken's own decimals, never the exponent form (a zero balance "0.00000000" is
        # str() "0E-8" as a Decimal).
        "balances": {e.asset: f"{e.balance:f}" for e in balances.entries if not e.wallet},
        "open_orders": [
            {
                "txid": o.txid,
                "cl_ord_id": o.cl_ord_id,
                "pair": o.pair,
                "side": str(o.side.value),
                "price": str(o.price),
                "volume": str(o.volume),
                "volume_exec": str(o.volume_exec),
            }
            for o in orders
        ],
    }


@dataclass(frozen=True, slots=True)
class CancelAllOutcome:
    cancelled: int
    remaining: int | None  # None: could not check
    error: str | None


async def cancel_all_verified(client: RestClient) -> CancelAllOutcome:
    """CancelAll, then OpenOrders to verify nothing is left (twice if needed)."""
    cancelled = 0
    error: str | None = None
    remaining: int | None = None
    for _ in range(2):
        try:
            cancelled += (await client.cancel_all()).count
            remaining = len([o for o in await client.open_orders() if o.is_open])
            error = None
        except Exception as exc:  # reported to the operator, who must act
            error = f"{type(exc).__name__}: {exc}"
            remaining = None
        if remaining == 0:
            break
    return CancelAllOutcome(cancelled, remaining, error)
