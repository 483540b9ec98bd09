"""The one table mapping Kraken error strings to the project's exception tree.

Owns: prefix rules for every documented Kraken `E…` string, the category fallback for
undocumented ones, the split of `W…` warnings from errors, and the few Kraken-specific
subclasses callers need to tell apart (invalid nonce, rate limits, unknown order).
Must not import: I/O, the clock, layers above `domain`.
Sources: docs guides/spot-errors, the legacy REST errors section and Kraken's support page
"API error messages" (API.md §4). Grammar: `<E|W><Category>:<message>[:<extra>]`; we match
by prefix, longest rule first, so `EGeneral:Invalid arguments:volume minimum not met`
lands on `EGeneral:Invalid arguments`.
"""

from __future__ import annotations

from dataclasses import dataclass

from krakenbot.errors import (
    FatalExchangeError,
    KrakenbotError,
    RateLimitedError,
    RejectedError,
    TransientError,
    TransportError,
)


class InvalidNonceError(TransientError):
    """`EAPI:Invalid nonce`: the request was refused before execution; a fresh nonce may pass."""


class RestRateLimitedError(RateLimitedError):
    """The per-key REST call counter (or the per-IP public limit) is exhausted."""


class TradingRateLimitedError(RateLimitedError):
    """A matching-engine counter (per pair or account-wide) is exhausted."""


class ThrottledError(RateLimitedError):
    """`EService:Throttled: <unix ts>`: too many concurrent requests; retry after `retry_at_s`."""

    retry_at_s: float | None = None


class InvalidTokenError(TransientError):
    """The WebSocket token / session is stale: fetch a new token."""


class UnknownOrderError(RejectedError):
    """The order id is not open (never existed or already closed)."""


class RepeatedRejectionError(RejectedError):
    """The same request was refused with the same error several times in a row."""

    count: int = 0


@dataclass(frozen=True, slots=True)
class ErrorRule:
    prefix: str
    error_class: type[KrakenbotError]
    # True when an order request answered with this error may still have been executed
    # (the engine may have received it): resolve by lookup, never by blind re-send.
    outcome_unknown: bool = False


# Every documented string, by prefix (API.md §4). Order does not matter: longest wins.
_RULES: tuple[ErrorRule, ...] = (
    ErrorRule("EGeneral:Invalid arguments", RejectedError),
    ErrorRule("EGeneral:Permission denied", FatalExchangeError),
    ErrorRule("EGeneral:Unknown method", RejectedError),
    ErrorRule("EGeneral:Unknown Method", RejectedError),
    ErrorRule("EGeneral:Temporary lockout", FatalExchangeError),
    ErrorRule("EGeneral:Internal error", TransientError, outcome_unknown=True),
    ErrorRule("EGeneral:Too many requests", RestRateLimitedError),
    ErrorRule("EService:Unavailable", TransientError, outcome_unknown=True),
    ErrorRule("EService:Busy", TransientError, outcome_unknown=True),
    ErrorRule("EService:Market in cancel_only mode", RejectedError),
    ErrorRule("EService:Market in post_only mode", RejectedError),
    ErrorRule("EService:Market in limit_only mode", RejectedError),
    ErrorRule("EService:Deadline elapsed", TransientError),
    ErrorRule("EService:Throttled", ThrottledError),
    ErrorRule("EService: Throttled", ThrottledError),
    ErrorRule("EAPI:Invalid key", FatalExchangeError),
    ErrorRule("EAPI:Invalid signature", FatalExchangeError),
    ErrorRule("EAPI:Invalid nonce", InvalidNonceError),
    ErrorRule("EAPI:Rate limit exceeded", RestRateLimitedError),
    ErrorRule("EAPI:Bad request", RejectedError),
    ErrorRule("EAPI:Invalid token", InvalidTokenError),
    ErrorRule("ESession:Invalid session", InvalidTokenError),
    ErrorRule("EAuth:Rate limit exceeded", RestRateLimitedError),
    ErrorRule("EAuth:Too many requests", RestRateLimitedError),
    ErrorRule("EAuth:", FatalExchangeError),
    ErrorRule("EQuery:Unknown asset pair", RejectedError),
    ErrorRule("EQuery:Unknown asset", RejectedError),
    ErrorRule("EOrder:Rate limit exceeded", TradingRateLimitedError),
    ErrorRule("EOrder:Domain rate limit exceeded", TradingRateLimitedError),
    ErrorRule("EOrder:Unknown order", UnknownOrderError),
    ErrorRule("EOrder:Invalid order", UnknownOrderError),
    ErrorRule("EOrder:Insufficient funds", RejectedError),
    ErrorRule("EOrder:Order minimum not met", RejectedError),
    ErrorRule("EOrder:Cost minimum not met", RejectedError),
    ErrorRule("EOrder:Tick size check failed", RejectedError),
    ErrorRule("EOrder:Invalid price", RejectedError),
    ErrorRule("EOrder:Orders limit exceeded", RejectedError),
    ErrorRule("EOrder:Post only order", RejectedError),
    ErrorRule("EOrder:Cannot open position", RejectedError),
    ErrorRule("EOrder:Cannot open opposing position", RejectedError),
    ErrorRule("EOrder:Margin allowance exceeded", RejectedError),
    ErrorRule("EOrder:Margin level too low", RejectedError),
    ErrorRule("EOrder:Margin position size exceeded", RejectedError),
    ErrorRule("EOrder:Insufficient margin", RejectedError),
    ErrorRule("EOrder:Positions limit exceeded", RejectedError),
    ErrorRule("EOrder:Unknown position", RejectedError),
    ErrorRule("EOrder:Scheduled orders limit exceeded", RejectedError),
    ErrorRule("EOrder:Reduce only", RejectedError),
    ErrorRule("ETrade:Invalid request", RejectedError),
    ErrorRule("EFunding:", RejectedError),
    ErrorRule("EBM:", RejectedError),
)

# Undocumented strings fall back by category: service trouble is worth a retry, an auth or
# account problem halts trading, anything else is a refusal on the merits.
_CATEGORY_FALLBACK: dict[str, type[KrakenbotError]] = {
    "EService": TransientError,
    "ESession": InvalidTokenError,
    "EAPI": FatalExchangeError,
    "EAuth": FatalExchangeError,
    "EAccount": FatalExchangeError,
}

_SORTED = tuple(sorted(_RULES, key=lambda r: len(r.prefix), reverse=True))


def rule_for(error: str) -> ErrorRule:
    """The rule that applies to a Kraken `E…` string (a category fallback when undocumented)."""
    for rule in _SORTED:
        if error.startswith(rule.prefix):
            return rule
    category = error.split(":", 1)[0]
    return ErrorRule(category, _CATEGORY_FALLBACK.get(category, RejectedError))


def is_warning(message: str) -> bool:
    return message.startswith("W")


def split_messages(messages: list[str]) -> tuple[list[str], list[str]]:
    """Split Kraken's `error` array into (errors, warnings)."""
    errors = [m for m in messages if not is_warning(m)]
    warnings = [m for m in messages if is_warning(m)]
    return errors, warnings


def _throttle_until(error: str) -> float | None:
    # "EService:Throttled: 1688669448" (docs print "[UNIX timestamp]"); tolerate spacing.
    tail = error.rsplit(":", 1)[-1].strip().strip("[]")
    try:
        return float(tail)
    except ValueError:
        return None


def to_exception(
    errors: list[str], *, endpoint: str, cl_ord_id: str | None = None
) -> KrakenbotError:
    """The exception for a failed response; the first error string decides the class."""
    first = errors[0] if errors else "EGeneral:Internal error:empty error array"
    rule = rule_for(first)
    exc = rule.error_class(
        "; ".join(errors) if errors else first,
        kraken_error=first,
        endpoint=endpoint,
        cl_ord_id=cl_ord_id,
    )
    if isinstance(exc, ThrottledError):
        exc.retry_at_s = _throttle_until(first)
    return exc


def outcome_unknown(error: str) -> bool:
    """Could an order request refused with `error` have reached the matching engine anyway?"""
    return rule_for(error).outcome_unknown


def breaker_verdict(exc: BaseException) -> bool | None:
    """How a call's exception feeds the circuit breaker: True, a failure (transport trouble,
    a server fault after which the outcome is unknown); None, neither (a refused nonce, a
    rate limit); False, a success (Kraken answered on the merits: the API is reachable)."""
    if isinstance(exc, TransportError) or (
        isinstance(exc, TransientError)
        and exc.kraken_error is not None
        and outcome_unknown(exc.kraken_error)
    ):
        return True
    if isinstance(exc, InvalidNonceError | RateLimitedError):
        return None
    return False
