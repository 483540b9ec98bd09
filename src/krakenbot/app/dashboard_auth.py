"""Who may use the dashboard and its controls: login links, sessions, CSRF and Host checks.

Owns: `Sessions` (one-time login codes → sessions with their CSRF value, both bounded in
number and in time, kept as SHA-256 digests so a lookup reveals nothing by its timing) and
`decide` (the verdict on one request from its facts). The rules:
- the `Host` header must name this server by a loopback name (127.0.0.1, localhost, [::1])
  or the address it is bound to, with its port: a page on another site whose name resolves
  to 127.0.0.1 (DNS rebinding) is refused (403) before anything else — and the health
  server refuses it on every route (421, `names_server`) before the dashboard sees it;
- a request carrying the daemon's token (the `X-Krakenbot-Stop-Token` header `stop` uses,
  read from the data directory by the CLI) is the operator's own program: allowed;
- otherwise the session cookie is required (401 without a valid one), and a request that
  changes anything also needs an `Origin` equal to this server's and the session's CSRF
  value in the `X-CSRF-Token` header (403 without them).
The token never leaves the token file but in that header; a login code is valid once and
for `LOGIN_TTL_S`; the cookie carries a random session id, not the token.
Pure: no I/O, no clock reads (callers pass `now_ns`), randomness injected.
Imports: stdlib only.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

NS = 1_000_000_000
LOGIN_TTL_S = 15 * 60
SESSION_TTL_S = 12 * 3600
MAX_LOGINS = 8  # outstanding login codes (the oldest is forgotten first)
MAX_SESSIONS = 16
CSRF_HEADER = "X-CSRF-Token"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Session:
    key: str  # digest of the cookie value
    csrf: str  # sent back by the page in CSRF_HEADER
    expires_ns: int


class Sessions:
    def __init__(self, secret: Callable[[], str] = new_secret) -> None:
        self._secret = secret
        self._logins: OrderedDict[str, int] = OrderedDict()  # digest -> expiry
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def issue_login(self, now_ns: int) -> str:
        """A fresh one-time login code (for a link printed to the operator's console)."""
        code = self._secret()
        self._logins[_digest(code)] = now_ns + LOGIN_TTL_S * NS
        while len(self._logins) > MAX_LOGINS:
            self._logins.popitem(last=False)
        return code

    def redeem(self, code: str, now_ns: int) -> tuple[str, Session] | None:
        """Use a login code (once): the new session's cookie value and the session."""
        expiry = self._logins.pop(_digest(code), None)
        if expiry is None or expiry < now_ns:
            return None
        cookie = self._secret()
        session = Session(_digest(cookie), self._secret(), now_ns + SESSION_TTL_S * NS)
        self._sessions[session.key] = session
        while len(self._sessions) > MAX_SESSIONS:
            self._sessions.popitem(last=False)
        return cookie, session

    def find(self, cookie: str | None, now_ns: int) -> Session | None:
        if not cookie:
            return None
        session = self._sessions.get(_digest(cookie))
        if session is None:
            return None
        if session.expires_ns < now_ns:
            del self._sessions[session.key]
            return None
        return session

    def end(self, cookie: str | None) -> None:
        if cookie:
            self._sessions.pop(_digest(cookie), None)


def allowed_hosts(bound_host: str, port: int) -> frozenset[str]:
    """The `Host` values that name this server (lower case, with the port)."""
    names = set(LOOPBACK_NAMES)
    if bound_host not in ("", "0.0.0.0", "::"):
        names.add(f"[{bound_host}]" if ":" in bound_host else bound_host)
    return frozenset(f"{name.lower()}:{port}" for name in names)


def names_server(host: str | None, hosts: frozenset[str], bound_host: str) -> bool:
    """Does a request's `Host` header name this server: one of `hosts`, or — on a wildcard
    bind (HEALTH_ALLOW_REMOTE) — an IP address literal with the port (a literal address is
    no DNS name, so no page can rebind it to this machine)?"""
    value = (host or "").lower()
    if value in hosts:
        return True
    if bound_host not in ("", "0.0.0.0", "::"):
        return False
    name, _, port = value.rpartition(":")
    if not any(h.endswith(f":{port}") for h in hosts) or not name:
        return False
    try:
        ipaddress.ip_address(name[1:-1] if name.startswith("[") else name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Facts:
    """What the server saw of one request."""

    host: str | None
    origin: str | None
    token: str | None  # the token header's value
    session: Session | None  # found by the cookie
    csrf: str | None  # the CSRF header's value
    changes_state: bool  # POST: a control (or logout)


@dataclass(frozen=True, slots=True)
class Verdict:
    status: int  # 200 allowed; 401 log in first; 403 refused
    reason: str
    by_token: bool = False  # the operator's program (CLI), not a browser session

    @property
    def allowed(self) -> bool:
        return self.status == 200


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def decide(facts: Facts, *, hosts: frozenset[str], token: str) -> Verdict:
    host = (facts.host or "").lower()
    if host not in hosts:
        return Verdict(403, "the Host header does not name this server")
    if facts.origin is not None and facts.origin.lower() != f"http://{host}":
        return Verdict(403, "cross-origin request refused")
    if _same(facts.token, token):
        return Verdict(200, "token", by_token=True)
    if facts.token is not None:
        return Verdict(403, "wrong token")
    if facts.session is None:
        return Verdict(401, "log in first: open the login link the daemon printed")
    if facts.changes_state:
        if facts.origin is None:
            return Verdict(403, "no Origin header on a state-changing request")
        if not _same(facts.csrf, facts.session.csrf):
            return Verdict(403, "missing or wrong CSRF value")
    return Verdict(200, "session")


__all__ = [
    "CSRF_HEADER",
    "LOGIN_TTL_S",
    "SESSION_TTL_S",
    "Facts",
    "Session",
    "Sessions",
    "Verdict",
    "allowed_hosts",
    "decide",
    "names_server",
]
