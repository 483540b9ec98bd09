"""Who may use the dashboard: one-time login codes, sessions, CSRF, Host and Origin checks."""

from __future__ import annotations

import itertools

import pytest

from krakenbot.app.dashboard_auth import (
    LOGIN_TTL_S,
    SESSION_TTL_S,
    Facts,
    Session,
    Sessions,
    allowed_hosts,
    decide,
    names_server,
)

NS = 1_000_000_000
HOSTS = allowed_hosts("127.0.0.1", 8787)
TOKEN = "the-daemon-token"


def _sessions() -> Sessions:
    counter = itertools.count(1)
    return Sessions(secret=lambda: f"secret-{next(counter)}")


def test_a_login_code_works_once_and_not_after_its_time() -> None:
    sessions = _sessions()
    code = sessions.issue_login(now_ns=0)
    redeemed = sessions.redeem(code, now_ns=LOGIN_TTL_S * NS)
    assert redeemed is not None
    cookie, session = redeemed
    assert cookie != code and session.csrf not in (code, cookie)
    assert sessions.redeem(code, now_ns=1) is None  # once
    late = sessions.issue_login(now_ns=0)
    assert sessions.redeem(late, now_ns=LOGIN_TTL_S * NS + 1) is None
    assert sessions.redeem("made-up", now_ns=1) is None


def test_a_session_is_found_by_its_cookie_until_it_expires_or_ends() -> None:
    sessions = _sessions()
    redeemed = sessions.redeem(sessions.issue_login(0), 0)
    assert redeemed is not None
    cookie, session = redeemed
    assert sessions.find(cookie, SESSION_TTL_S * NS) == session
    assert sessions.find(None, 0) is None and sessions.find("other", 0) is None
    assert sessions.find(cookie, SESSION_TTL_S * NS + 1) is None  # expired, and forgotten
    again = sessions.redeem(sessions.issue_login(0), 0)
    assert again is not None
    sessions.end(again[0])
    assert sessions.find(again[0], 0) is None


def test_codes_and_sessions_are_bounded() -> None:
    sessions = _sessions()
    codes = [sessions.issue_login(0) for _ in range(20)]
    assert sessions.redeem(codes[0], 0) is None  # the oldest outstanding codes are forgotten
    cookies = []
    for code in codes[-8:]:
        redeemed = sessions.redeem(code, 0)
        assert redeemed is not None
        cookies.append(redeemed[0])
    for _ in range(16):
        redeemed = sessions.redeem(sessions.issue_login(0), 0)
        assert redeemed is not None
    assert all(sessions.find(c, 0) is None for c in cookies)  # 16 newer sessions replaced them


def test_the_host_names_are_loopback_names_and_the_bound_address() -> None:
    assert allowed_hosts("127.0.0.1", 8787) == {"127.0.0.1:8787", "localhost:8787", "[::1]:8787"}
    assert "10.0.0.5:9000" in allowed_hosts("10.0.0.5", 9000)
    assert "[fe80::1]:9000" in allowed_hosts("fe80::1", 9000)
    assert allowed_hosts("0.0.0.0", 1) == allowed_hosts("::", 1) == allowed_hosts("", 1)


SESSION = Session(key="k", csrf="csrf-value", expires_ns=10)


def _facts(**changes: object) -> Facts:
    base: dict[str, object] = {
        "host": "127.0.0.1:8787",
        "origin": "http://127.0.0.1:8787",
        "token": None,
        "session": SESSION,
        "csrf": "csrf-value",
        "changes_state": True,
    }
    base.update(changes)
    return Facts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({}, 200),
        ({"host": "LOCALHOST:8787", "origin": "http://localhost:8787"}, 200),
        ({"session": None}, 401),  # no cookie: log in first
        ({"session": None, "changes_state": False, "origin": None, "csrf": None}, 401),
        ({"csrf": None}, 403),
        ({"csrf": "csrf-valuf"}, 403),
        ({"origin": None}, 403),  # a browser always sends Origin on a POST
        ({"origin": "http://evil.example"}, 403),
        ({"origin": "null"}, 403),
        ({"host": "evil.example:8787", "origin": "http://evil.example:8787"}, 403),  # rebinding
        ({"host": None}, 403),
        ({"host": "127.0.0.1:8788", "origin": "http://127.0.0.1:8788"}, 403),
        ({"changes_state": False, "origin": None, "csrf": None}, 200),  # reading needs no CSRF
    ],
)
def test_decide(changes: dict[str, object], status: int) -> None:
    assert decide(_facts(**changes), hosts=HOSTS, token=TOKEN).status == status


def test_the_daemons_token_is_the_cli_and_needs_no_cookie_nor_csrf() -> None:
    facts = _facts(token=TOKEN, session=None, csrf=None, origin=None)
    verdict = decide(facts, hosts=HOSTS, token=TOKEN)
    assert verdict.allowed and verdict.by_token
    wrong = decide(_facts(token="guess"), hosts=HOSTS, token=TOKEN)
    assert wrong.status == 403 and not wrong.by_token  # a wrong token is never a session
    rebinding = decide(
        _facts(token=TOKEN, host="evil.example:8787", origin=None), hosts=HOSTS, token=TOKEN
    )
    assert rebinding.status == 403


def test_a_host_names_the_server_by_a_loopback_name_or_on_a_wildcard_bind_an_address() -> None:
    loop = allowed_hosts("127.0.0.1", 8787)
    assert names_server("LocalHost:8787", loop, "127.0.0.1")
    assert not names_server("192.168.1.5:8787", loop, "127.0.0.1")
    assert not names_server("evil.example:8787", loop, "127.0.0.1")
    assert not names_server(None, loop, "127.0.0.1")
    anywhere = allowed_hosts("0.0.0.0", 8787)  # HEALTH_ALLOW_REMOTE: reached by address
    assert names_server("192.168.1.5:8787", anywhere, "0.0.0.0")
    assert names_server("[fe80::1]:8787", anywhere, "::")
    assert not names_server("192.168.1.5:8788", anywhere, "0.0.0.0")  # another port
    assert not names_server("evil.example:8787", anywhere, "0.0.0.0")  # a name: rebindable
    assert not names_server(":8787", anywhere, "0.0.0.0")
