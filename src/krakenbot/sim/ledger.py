"""The account ledger the simulator keeps: one entry per change of a balance (pure).

Owns: `opening_ledger` (a `deposit` entry per non-zero starting balance, so that every
balance the sim shows is the sum of its ledger) and `MAX_LEDGER`, the bound on entries kept.
Fills add a `trade` entry for each of their two assets (sim/settle.py `book_fill`): the
amount is what the trade moved (+base / -cost on a buy), `fee` the fee charged in that asset
(the quote side unless `fcib`), `balance` the balance after both — so for every asset
`balance == previous balance + amount - fee`, as in Kraken's documented example
(get-ledgers: `"amount": "-24.5000", "fee": "0.0490"` on the ZGBP side of a buy).
The queries (Ledgers, QueryLedgers) are in sim/ledger_query.py.
Not documented, chosen here: a starting balance is booked as a deposit at the sim's start
time whose `refid` is a Kraken-shaped id of its own (Kraken's funding reference ids are not
trade ids); deposit ids come from a generator seeded by the start time, so the exchange's own
random ids (orders, trades) are the same with or without starting balances.
Imports: stdlib and sim.* only.
"""

from __future__ import annotations

import random
from collections import deque
from decimal import Decimal

from krakenbot.sim.account_history import MAX_FILLS
from krakenbot.sim.model import ZERO, LedgerEvent, kraken_id
from krakenbot.sim.pairs import ASSETS

# two entries per fill kept, plus the opening deposits
MAX_LEDGER = 2 * MAX_FILLS + len(ASSETS)


def opening_ledger(balances: dict[str, Decimal], now_ns: int) -> deque[LedgerEvent]:
    """The ledger of a fresh account: a deposit for each starting balance that is not 0."""
    ledger: deque[LedgerEvent] = deque(maxlen=MAX_LEDGER)
    rng = random.Random(f"sim-deposits:{now_ns}")
    for asset in sorted(balances):
        amount = balances[asset]
        if amount == ZERO or asset not in ASSETS:
            continue
        ledger.append(
            LedgerEvent(
                kraken_id(rng, "L"),
                kraken_id(rng, "F"),
                now_ns,
                asset,
                amount,
                ZERO,
                amount,
                "deposit",
            )
        )
    return ledger


__all__ = ["MAX_LEDGER", "opening_ledger"]
