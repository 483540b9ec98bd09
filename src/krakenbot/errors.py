"""The project's exception tree, grouped by what the caller must do.

Owns: every exception class raised across module boundaries. Imports: stdlib only.
Exceptions never carry secrets: they hold the Kraken error string, the endpoint and the
client order id, nothing from request headers or bodies.
"""

from __future__ import annotations


class KrakenbotError(Exception):
    """Base of every error krakenbot raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        kraken_error: str | None = None,
        endpoint: str | None = None,
        cl_ord_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kraken_error = kraken_error
        self.endpoint = endpoint
        self.cl_ord_id = cl_ord_id

    def __str__(self) -> str:
        parts = [self.message]
        if self.kraken_error and self.kraken_error not in self.message:
            parts.append(f"[{self.kraken_error}]")
        if self.endpoint:
            parts.append(f"(endpoint {self.endpoint})")
        if self.cl_ord_id:
            parts.append(f"(cl_ord_id {self.cl_ord_id})")
        return " ".join(parts)


class ConfigError(KrakenbotError):
    """A setting is wrong: refuse to start and tell the operator which one."""


class TransientError(KrakenbotError):
    """Worth retrying with backoff (for orders: only after checking what happened)."""


class TransportError(TransientError):
    """The request did not properly reach Kraken's API: HTTP non-200, timeout, reset."""


class RateLimitedError(TransientError):
    """Kraken said a rate limit was exceeded; wait for the counter to decay."""


class RejectedError(KrakenbotError):
    """Kraken refused the request on its merits; do not retry it unchanged, report it."""


class FatalExchangeError(KrakenbotError):
    """The account or key is unusable (bad key, permission, lockout): halt trading."""


class InvariantError(KrakenbotError):
    """A bug or a broken invariant: stop rather than trade on a wrong picture."""


class AmbiguousOrderError(TransientError):
    """An order may or may not exist on the exchange; resolve by lookup, never re-send."""
