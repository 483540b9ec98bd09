from __future__ import annotations

import pytest

from krakenbot.errors import (
    AmbiguousOrderError,
    ConfigError,
    FatalExchangeError,
    InvariantError,
    KrakenbotError,
    RateLimitedError,
    RejectedError,
    TransientError,
    TransportError,
)


def test_message_alone() -> None:
    err = ConfigError("bad setting")
    assert str(err) == "bad setting"
    assert err.message == "bad setting"
    assert (err.kraken_error, err.endpoint, err.cl_ord_id) == (None, None, None)


def test_context_is_appended_once() -> None:
    err = RejectedError(
        "order refused",
        kraken_error="EOrder:Insufficient funds",
        endpoint="AddOrder",
        cl_ord_id="abc123",
    )
    assert str(err) == (
        "order refused [EOrder:Insufficient funds] (endpoint AddOrder) (cl_ord_id abc123)"
    )


def test_kraken_error_already_in_message_is_not_repeated() -> None:
    err = RateLimitedError("EAPI:Rate limit exceeded", kraken_error="EAPI:Rate limit exceeded")
    assert str(err) == "EAPI:Rate limit exceeded"


@pytest.mark.parametrize(
    ("cls", "parent"),
    [
        (ConfigError, KrakenbotError),
        (TransientError, KrakenbotError),
        (TransportError, TransientError),
        (RateLimitedError, TransientError),
        (AmbiguousOrderError, TransientError),
        (RejectedError, KrakenbotError),
        (FatalExchangeError, KrakenbotError),
        (InvariantError, KrakenbotError),
    ],
)
def test_tree_groups_errors_by_what_the_caller_must_do(
    cls: type[KrakenbotError], parent: type[Exception]
) -> None:
    assert issubclass(cls, parent)
    with pytest.raises(parent):
        raise cls("x")


def test_rejections_are_not_retryable() -> None:
    assert not issubclass(RejectedError, TransientError)
    assert not issubclass(FatalExchangeError, TransientError)
    assert not issubclass(InvariantError, TransientError)
