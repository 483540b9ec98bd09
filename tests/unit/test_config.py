from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from settings_env import FAKE_KEY, FAKE_SECRET, isolate

from krakenbot.app.exchange_view import operator_key
from krakenbot.config import Settings, load_settings
from krakenbot.domain.sections import ApiTier, Secret, TradingMode
from krakenbot.errors import ConfigError
from krakenbot.risk.gate import RiskGate


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    isolate(monkeypatch, tmp_path)
    return monkeypatch


def test_defaults_are_the_documented_ones(env: pytest.MonkeyPatch) -> None:
    s = load_settings()
    assert s.trading_mode is TradingMode.PAPER
    assert s.max_trade_size == Decimal("10")
    assert s.max_total_exposure == Decimal("10")
    assert s.min_order_size == Decimal("1")
    assert s.max_positions == 1
    assert s.max_daily_losses == Decimal("20")
    assert s.allowed_pairs == ("XLM/USD",)
    assert s.post_only is True
    assert s.protective_stop_pct == Decimal("3.0")
    assert s.circuit_breaker_threshold == 5
    assert s.kraken_api_tier is ApiTier.STARTER
    assert s.kraken_rest_url == "https://api.kraken.com"
    assert s.kraken_ws_url == "wss://ws.kraken.com/v2"
    assert s.kraken_ws_auth_url == "wss://ws-auth.kraken.com/v2"
    assert s.database_path == Path("trading.db")
    assert s.log_file == Path("trading_new.log")
    assert s.lock_file == Path(".trading_lock")
    assert s.health_host == "127.0.0.1"
    assert s.strategy == "mean_reversion"
    assert s.ws_book_depth == 10
    assert (s.dead_man_switch_timeout_s, s.dead_man_switch_refresh_s) == (60, 20)
    assert s.ledger_failure_grace_s == 30.0
    assert s.credentials() is None


def test_dotenv_in_working_directory_is_read(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MAX_TRADE_SIZE=5\n", encoding="utf-8")
    assert load_settings().max_trade_size == Decimal("5")


def test_env_file_replaces_dotenv(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MAX_TRADE_SIZE=5\n", encoding="utf-8")
    other = tmp_path / "other.env"
    other.write_text("MAX_TRADE_SIZE=7\nMAX_POSITIONS=1\n", encoding="utf-8")
    assert load_settings(other).max_trade_size == Decimal("7")


def test_environment_wins_over_file(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    other = tmp_path / "other.env"
    other.write_text("MAX_TRADE_SIZE=7\n", encoding="utf-8")
    env.setenv("MAX_TRADE_SIZE", "3")
    assert load_settings(other).max_trade_size == Decimal("3")


def test_missing_env_file_is_a_config_error(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "absent.env")


def test_money_is_parsed_exactly(env: pytest.MonkeyPatch) -> None:
    env.setenv("MAX_TOTAL_EXPOSURE", "10.000000000000000001")
    env.setenv("MAX_TRADE_SIZE", "10.000000000000000001")
    assert load_settings().max_trade_size == Decimal("10.000000000000000001")


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"MAX_TRADE_SIZE": "-5"}, ["MAX_TRADE_SIZE", "-5"]),
        ({"MAX_TRADE_SIZE": "0"}, ["MAX_TRADE_SIZE", "0"]),
        ({"MAX_POSITIONS": "0"}, ["MAX_POSITIONS", "0"]),
        ({"MAX_DAILY_LOSSES": "-1"}, ["MAX_DAILY_LOSSES", "-1"]),
        ({"CIRCUIT_BREAKER_COOLDOWN_S": "0"}, ["CIRCUIT_BREAKER_COOLDOWN_S"]),
        ({"MAX_TRADE_SIZE": "ten"}, ["MAX_TRADE_SIZE", "ten"]),
        ({"MAX_TRADE_SIZE": "NaN"}, ["MAX_TRADE_SIZE", "NaN"]),
        ({"MIN_ORDER_SIZE": "20"}, ["MIN_ORDER_SIZE=20", "MAX_TRADE_SIZE=10"]),
        (
            {"MAX_TRADE_SIZE": "50", "MAX_TOTAL_EXPOSURE": "20"},
            ["MAX_TRADE_SIZE=50", "MAX_TOTAL_EXPOSURE=20"],
        ),
        ({"ALLOWED_PAIRS": "XLMUSD"}, ["ALLOWED_PAIRS", "XLMUSD", "BASE/QUOTE"]),
        ({"ALLOWED_PAIRS": "XLM-USD"}, ["ALLOWED_PAIRS", "XLM-USD"]),
        ({"ALLOWED_PAIRS": " , "}, ["ALLOWED_PAIRS"]),
        ({"TRADING_MODE": "live"}, ["TRADING_MODE=live", "KRAKEN_API_KEY"]),
        ({"TRADING_MODE": "yolo"}, ["TRADING_MODE", "yolo"]),
        ({"KRAKEN_API_TIER": "gold"}, ["KRAKEN_API_TIER", "gold"]),
        ({"HEALTH_HOST": "0.0.0.0"}, ["HEALTH_HOST", "0.0.0.0", "HEALTH_ALLOW_REMOTE"]),
        ({"HEALTH_HOST": "example.com"}, ["HEALTH_HOST", "example.com"]),
        ({"HEALTH_PORT": "70000"}, ["HEALTH_PORT", "70000"]),
        ({"KRAKEN_REST_URL": "http://api.kraken.com"}, ["KRAKEN_REST_URL", "https://"]),
        ({"KRAKEN_WS_URL": "ftp://x"}, ["KRAKEN_WS_URL", "wss://"]),
        ({"KRAKEN_WS_AUTH_URL": "ws://ws-auth.kraken.com/v2"}, ["KRAKEN_WS_AUTH_URL"]),
        ({"WS_BOOK_DEPTH": "11"}, ["WS_BOOK_DEPTH", "11"]),
        ({"STRATEGY": "Mean Reversion"}, ["STRATEGY", "Mean Reversion"]),
        ({"LOG_LEVEL": "LOUD"}, ["LOG_LEVEL", "LOUD"]),
        ({"LOG_BACKUP_COUNT": "-1"}, ["LOG_BACKUP_COUNT"]),
        ({"DEAD_MAN_SWITCH_REFRESH_S": "60"}, ["DEAD_MAN_SWITCH_REFRESH_S=60"]),
        (
            {"DEAD_MAN_SWITCH_TIMEOUT_S": "90000", "DEAD_MAN_SWITCH_REFRESH_S": "20"},
            ["DEAD_MAN_SWITCH_TIMEOUT_S='90000'", "86400"],
        ),
        ({"LEDGER_FAILURE_GRACE_S": "0"}, ["LEDGER_FAILURE_GRACE_S='0'", "greater than 0"]),
        ({"LEDGER_FAILURE_GRACE_S": "601"}, ["LEDGER_FAILURE_GRACE_S='601'", "at most 600"]),
        ({"LEDGER_FAILURE_GRACE_S": "soon"}, ["LEDGER_FAILURE_GRACE_S", "soon"]),
        ({"PROTECTIVE_STOP_PCT": "0"}, ["PROTECTIVE_STOP_PCT", "greater than 0"]),
        ({"PROTECTIVE_STOP_PCT": "-3"}, ["PROTECTIVE_STOP_PCT", "greater than 0"]),
        ({"PROTECTIVE_STOP_PCT": "100"}, ["PROTECTIVE_STOP_PCT", "must be below 100 percent"]),
        ({"PROTECTIVE_STOP_PCT": "NaN"}, ["PROTECTIVE_STOP_PCT", "NaN"]),
        ({"PROTECTIVE_STOP_PCT": "Infinity"}, ["PROTECTIVE_STOP_PCT"]),
        ({"PROTECTIVE_STOP_PCT": "three"}, ["PROTECTIVE_STOP_PCT", "three"]),
        ({"KRAKEN_API_KEY": FAKE_KEY}, ["KRAKEN_API_KEY", "KRAKEN_API_SECRET"]),
        ({"KRAKEN_STATUS_API_SECRET": FAKE_SECRET}, ["KRAKEN_STATUS_API_KEY"]),
    ],
)
def test_bad_settings_name_the_setting_and_value(
    env: pytest.MonkeyPatch, variables: dict[str, str], expected: list[str]
) -> None:
    for key, value in variables.items():
        env.setenv(key, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    for part in expected:
        assert part in message
    assert "Traceback" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.parametrize("secret", ["not base64 at all!", "abc", "====", "a" * 5])
def test_secret_must_be_base64_and_is_never_shown(env: pytest.MonkeyPatch, secret: str) -> None:
    env.setenv("KRAKEN_API_KEY", FAKE_KEY)
    env.setenv("KRAKEN_API_SECRET", secret)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "KRAKEN_API_SECRET" in str(info.value)
    assert secret not in str(info.value)
    assert FAKE_KEY not in str(info.value)


def test_key_with_spaces_is_refused_without_echoing_it(env: pytest.MonkeyPatch) -> None:
    env.setenv("KRAKEN_API_KEY", "two words")
    env.setenv("KRAKEN_API_SECRET", FAKE_SECRET)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "KRAKEN_API_KEY" in str(info.value)
    assert "two words" not in str(info.value)


def test_several_problems_come_in_one_message(env: pytest.MonkeyPatch) -> None:
    env.setenv("MAX_TRADE_SIZE", "-1")
    env.setenv("MAX_POSITIONS", "-1")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "2 problems" in str(info.value)


def test_live_mode_with_keys_is_valid_and_secrets_stay_hidden(env: pytest.MonkeyPatch) -> None:
    env.setenv("TRADING_MODE", "LIVE".lower())
    env.setenv("KRAKEN_API_KEY", FAKE_KEY)
    env.setenv("KRAKEN_API_SECRET", FAKE_SECRET)
    s = load_settings()
    assert s.trading_mode is TradingMode.LIVE
    for text in (repr(s), str(s), str(s.masked()), repr(s.rest()), repr(s.credentials())):
        assert FAKE_SECRET not in text
        assert FAKE_KEY not in text
    creds = s.rest().credentials
    assert creds is not None
    assert creds.api_key.get_secret_value() == FAKE_KEY
    assert creds.api_secret.get_secret_value() == FAKE_SECRET
    assert set(s.secret_values()) == {FAKE_KEY, FAKE_SECRET}
    assert s.masked()["KRAKEN_API_SECRET"] == "********"
    operator = operator_key(s)  # no status key: the operator's commands fall back to this one
    assert operator is not None and operator.which == "main key"


def test_status_key_is_its_own_section(env: pytest.MonkeyPatch) -> None:
    env.setenv("KRAKEN_STATUS_API_KEY", "STATUSKEY123")
    env.setenv("KRAKEN_STATUS_API_SECRET", FAKE_SECRET)
    s = load_settings()
    operator = operator_key(s)
    assert operator is not None and operator.which == "status key"
    assert operator.credentials.api_key == "STATUSKEY123"
    assert s.rest().credentials is None


@pytest.mark.parametrize(
    "variables",
    [
        {"HEALTH_HOST": "localhost"},
        {"HEALTH_HOST": "::1"},
        {"HEALTH_HOST": "127.0.0.2"},
        {"HEALTH_HOST": "0.0.0.0", "HEALTH_ALLOW_REMOTE": "true"},
        {"HEALTH_PORT": "0"},
        {
            "KRAKEN_REST_URL": "http://127.0.0.1:8123",
            "KRAKEN_WS_URL": "ws://localhost:9000/v2",
            "KRAKEN_WS_AUTH_URL": "ws://[::1]:9001/v2",
        },
        {"KRAKEN_API_TIER": "pro", "WS_BOOK_DEPTH": "25", "LOG_LEVEL": "debug"},
        {"PROTECTIVE_STOP_PCT": "0.5"},
        {"PROTECTIVE_STOP_PCT": "99.9"},
    ],
)
def test_valid_variants(env: pytest.MonkeyPatch, variables: dict[str, str]) -> None:
    for key, value in variables.items():
        env.setenv(key, value)
    load_settings()


def test_pairs_are_split_normalized_and_deduplicated(env: pytest.MonkeyPatch) -> None:
    env.setenv("ALLOWED_PAIRS", "xlm/usd, BTC/USD,XLM/USD")
    assert load_settings().allowed_pairs == ("XLM/USD", "BTC/USD")


def test_sections_carry_their_settings(env: pytest.MonkeyPatch) -> None:
    env.setenv("KRAKEN_REST_URL", "http://127.0.0.1:8123/")
    env.setenv("ALLOWED_PAIRS", "XLM/USD,ETH/USD")
    s = load_settings()
    risk = s.risk_limits()
    assert (risk.max_trade_usd, risk.max_total_exposure_usd, risk.min_order_usd) == (
        Decimal(10),
        Decimal(10),
        Decimal(1),
    )
    assert risk.allowed_symbols == frozenset({"XLM/USD", "ETH/USD"})
    assert risk.max_daily_loss_usd == Decimal(20) and risk.post_only
    assert RiskGate(risk).limits is risk  # the gate takes the settings' section as it is
    assert s.rest().base_url == "http://127.0.0.1:8123"
    assert s.rest().tier is ApiTier.STARTER
    assert s.ws().pairs == ("XLM/USD", "ETH/USD") and s.ws().book_depth == 10
    assert s.breaker().failure_threshold == 5
    assert s.dead_man_switch().timeout_s == 60
    assert s.health().host == "127.0.0.1"
    assert s.store().db_path == Path("trading.db")
    assert s.log().file == Path("trading_new.log") and s.log().level == "INFO"
    assert s.lock().path == Path(".trading_lock")
    assert s.strategy_config().name == "mean_reversion"
    assert s.strategy_config().mode is TradingMode.PAPER
    assert s.strategy_config().params == {"symbol": "XLM/USD", "trade_usd": "10"}
    with pytest.raises(AttributeError):
        risk.max_positions = 5  # type: ignore[misc]


def test_secret_holder_never_shows_itself() -> None:
    secret = Secret("hunter2hunter2")
    assert "hunter2" not in repr(secret) and "hunter2" not in str(secret)
    assert "hunter2" not in f"{secret}"
    assert secret == Secret("hunter2hunter2") and secret != Secret("other")
    assert secret != "hunter2hunter2"
    assert hash(secret) == hash(Secret("hunter2hunter2"))


money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1000), places=2)


@settings(max_examples=60, deadline=None)
@given(min_order=money, trade=money, exposure=money)
def test_size_limits_are_valid_exactly_when_ordered(
    min_order: Decimal, trade: Decimal, exposure: Decimal
) -> None:
    ordered = min_order <= trade <= exposure
    try:
        Settings(
            _env_file=None,  # type: ignore[call-arg]
            min_order_size=min_order,
            max_trade_size=trade,
            max_total_exposure=exposure,
        )
    except ValueError:
        assert not ordered
    else:
        assert ordered


def test_unreadable_env_file_is_a_config_error(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bad = tmp_path / "bad.env"
    bad.write_bytes(b"MAX_TRADE_SIZE=\xff\xfe\n")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_settings(bad)


def test_strategy_parameters_default_from_limits_then_overrides(env: pytest.MonkeyPatch) -> None:
    env.setenv("MAX_TRADE_SIZE", "5")
    env.setenv("STRATEGY_PARAMS", "entry_z=2.5, take_profit_pct=1.2")
    assert load_settings().strategy_parameters() == {
        "symbol": "XLM/USD",
        "trade_usd": "5",
        "entry_z": "2.5",
        "take_profit_pct": "1.2",
    }


def test_user_strategy_gets_only_its_own_parameters(env: pytest.MonkeyPatch) -> None:
    env.setenv("STRATEGY", "mypkg.strat:Mine")
    env.setenv("STRATEGY_PARAMS", "window=20")
    assert load_settings().strategy_parameters() == {"window": "20"}


@pytest.mark.parametrize("text", ["entry_z", "entry_z=", "=2", "2x=1", "a=1,a=2"])
def test_malformed_strategy_params_name_the_setting(env: pytest.MonkeyPatch, text: str) -> None:
    env.setenv("STRATEGY_PARAMS", text)
    with pytest.raises(ConfigError, match="STRATEGY_PARAMS"):
        load_settings()
