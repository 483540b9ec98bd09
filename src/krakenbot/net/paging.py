"""Paging through Kraken's account history listings (ClosedOrders, TradesHistory) with `ofs`.

Owns: `every_page(endpoint, fetch, max_pages=…)` and `window_params` (the listings'
`start`/`end`/`ofs`). Kraken returns these listings newest first,
50 records a page, with `count` the number of records matching the request (docs
get-closed-orders / get-trade-history: "50 results are returned at a time, the most recent by
default"; "ofs: Result offset for pagination"; "count: Amount of available … matching
criteria"). Records that appear while we page are inserted at the front and push the older
ones down, so the next `ofs` is the previous one plus the number of rows that page returned
(not the number of distinct rows seen so far): a row pushed down comes again (the caller
de-duplicates by id) and no row is ever skipped. New records missed that way are newer than
the first request, and a reconciliation's next window starts before it. A listing that would
need more than `max_pages` pages is an error, never a silently shortened answer: a
reconciliation must not judge orders absent from a listing that was cut short.
Imports: stdlib, errors, kraken. Must not import: anything above `net`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from krakenbot.errors import TransientError
from krakenbot.kraken.signing import ParamValue


class Page(Protocol):
    @property
    def size(self) -> int:
        """Records on this page (readable or not): what `ofs` moves past."""
        ...

    @property
    def count(self) -> int:
        """Records matching the request, all pages together."""
        ...


P = TypeVar("P", bound=Page)


async def every_page(
    endpoint: str, fetch: Callable[[int], Awaitable[P]], *, max_pages: int
) -> list[P]:
    """Every page of a listing: `fetch(ofs)` from ofs 0 until `count` is reached or a page
    comes back empty. Raises TransientError when `max_pages` pages did not reach `count`."""
    pages: list[P] = []
    ofs = 0
    for _ in range(max(1, max_pages)):
        page = await fetch(ofs)
        pages.append(page)
        ofs += page.size
        if page.size == 0 or ofs >= page.count:
            return pages
    raise TransientError(
        f"{endpoint}: listing incomplete after {len(pages)} pages ({ofs} of {pages[-1].count})",
        endpoint=endpoint,
    )


__all__ = ["Page", "every_page"]


def window_params(start: int | None, end: int | None, ofs: int) -> dict[str, ParamValue]:
    """The history listings' window parameters (only those given)."""
    params: dict[str, ParamValue] = {}
    if start is not None:
        params["start"] = start
    if end is not None:
        params["end"] = end
    if ofs:
        params["ofs"] = ofs
    return params
