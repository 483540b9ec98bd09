import pytest

from krakenbot.errors import (
    FatalExchangeError,
    RateLimitedError,
    RejectedError,
    TransientError,
)
from krakenbot.kraken.errors import (
    InvalidNonceError,
    InvalidTokenError,
    RestRateLimitedError,
    ThrottledError,
    TradingRateLimitedError,
    UnknownOrderError,
    outcome_unknown,
    rule_for,
    split_messages,
    to_exception,
)

CASES = [
    ("EGeneral:Invalid arguments", RejectedError),
    ("EGeneral:Invalid arguments:volume minimum not met", RejectedError),
    ("EGeneral:Invalid arguments:Index unavailable", RejectedError),
    ("EGeneral:Permission denied", FatalExchangeError),
    ("EGeneral:Unknown method", RejectedError),
    ("EGeneral:Temporary lockout", FatalExchangeError),
    ("EGeneral:Internal error:12345", TransientError),
    ("EGeneral:Too many requests", RestRateLimitedError),
    ("EService:Unavailable", TransientError),
    ("EService:Busy", TransientError),
    ("EService:Market in cancel_only mode", RejectedError),
    ("EService:Market in post_only mode", RejectedError),
    ("EService:Deadline elapsed", TransientError),
    ("EService:Throttled: 1688669448", ThrottledError),
    ("EAPI:Invalid key", FatalExchangeError),
    ("EAPI:Invalid signature", FatalExchangeError),
    ("EAPI:Invalid nonce", InvalidNonceError),
    ("EAPI:Rate limit exceeded", RestRateLimitedError),
    ("EAPI:Bad request", RejectedError),
    ("EAPI:Invalid token", InvalidTokenError),
    ("ESession:Invalid session", InvalidTokenError),
    ("EAuth:Account temporary disabled", FatalExchangeError),
    ("EAuth:Rate limit exceeded", RestRateLimitedError),
    ("EQuery:Unknown asset pair", RejectedError),
    ("EQuery:Unknown asset", RejectedError),
    ("EOrder:Insufficient funds", RejectedError),
    ("EOrder:Order minimum not met", RejectedError),
    ("EOrder:Cost minimum not met", RejectedError),
    ("EOrder:Tick size check failed", RejectedError),
    ("EOrder:Rate limit exceeded", TradingRateLimitedError),
    ("EOrder:Domain rate limit exceeded", TradingRateLimitedError),
    ("EOrder:Orders limit exceeded", RejectedError),
    ("EOrder:Unknown order", UnknownOrderError),
    ("EOrder:Invalid order", UnknownOrderError),
    ("EOrder:Reduce only:No position exists", RejectedError),
    ("ETrade:Invalid request", RejectedError),
    ("EFunding:Max fee exceeded", RejectedError),
    ("EBM:limit exceeded:CAL", RejectedError),
    # Undocumented strings fall back by category.
    ("EService:Something new", TransientError),
    ("EAPI:Something new", FatalExchangeError),
    ("EOrder:Something new", RejectedError),
    ("EWhatever:?", RejectedError),
]


@pytest.mark.parametrize(("error", "cls"), CASES)
def test_every_documented_error_maps_to_its_class(error: str, cls: type[Exception]) -> None:
    exc = to_exception([error], endpoint="AddOrder", cl_ord_id="abc")
    assert type(exc) is cls
    assert exc.kraken_error == error
    assert exc.endpoint == "AddOrder" and exc.cl_ord_id == "abc"
    assert error in str(exc)


def test_throttled_carries_its_retry_time() -> None:
    exc = to_exception(["EService:Throttled: 1688669448"], endpoint="Balance")
    assert isinstance(exc, ThrottledError) and isinstance(exc, RateLimitedError)
    assert exc.retry_at_s == 1688669448.0


def test_warnings_are_split_from_errors() -> None:
    errors, warnings = split_messages(["WGeneral:Deprecated", "EOrder:Insufficient funds"])
    assert errors == ["EOrder:Insufficient funds"] and warnings == ["WGeneral:Deprecated"]


def test_only_server_faults_leave_an_order_outcome_unknown() -> None:
    assert outcome_unknown("EService:Unavailable")
    assert outcome_unknown("EGeneral:Internal error")
    assert outcome_unknown("EService:Busy")
    assert not outcome_unknown("EAPI:Invalid nonce")
    assert not outcome_unknown("EOrder:Insufficient funds")
    assert not outcome_unknown("EService:Deadline elapsed")


def test_longest_prefix_wins() -> None:
    assert rule_for("EQuery:Unknown asset pair").prefix == "EQuery:Unknown asset pair"
