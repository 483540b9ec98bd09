"""REST request authentication exactly as Kraken does it (pure: no I/O, no clock reads).

Owns: the API key store (secret, permissions, nonce window, last nonce), API-Sign
verification over the raw body bytes, and nonce acceptance. Imports: stdlib only.
Rules: docs guides/spot-rest-auth (API.md §2): sig = HMAC-SHA512(b64decode(secret),
path + SHA256(nonce + body)); nonce must exceed the key's last accepted nonce, optionally
tolerating out-of-order nonces inside the key's configured window.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass, field

PERM_QUERY = "query"
PERM_TRADE = "trade"
PERM_WEBSOCKET = "websocket"
ALL_PERMISSIONS = frozenset({PERM_QUERY, PERM_TRADE, PERM_WEBSOCKET})

ERR_INVALID_KEY = "EAPI:Invalid key"
ERR_INVALID_SIGNATURE = "EAPI:Invalid signature"
ERR_INVALID_NONCE = "EAPI:Invalid nonce"
ERR_PERMISSION = "EGeneral:Permission denied"


def sign(secret_b64: str, uri_path: str, nonce: str, body: bytes) -> str:
    """Kraken's API-Sign for `body` (used by the sim's own tests and benchmark)."""
    digest = hashlib.sha256(nonce.encode() + body).digest()
    mac = hmac.new(base64.b64decode(secret_b64), uri_path.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


@dataclass(slots=True)
class ApiKey:
    key: str
    secret: bytes = field(repr=False)
    permissions: frozenset[str]
    nonce_window: int = 0
    last_nonce: int = 0
    recent: set[int] = field(default_factory=set, repr=False)

    def __repr__(self) -> str:  # never leak the secret
        return f"ApiKey(key={self.key[:6]}…, permissions={sorted(self.permissions)})"


class KeyStore:
    """All API keys the simulated account has."""

    def __init__(self) -> None:
        self._keys: dict[str, ApiKey] = {}

    def add(
        self,
        api_key: str,
        api_secret: str,
        *,
        permissions: frozenset[str] = ALL_PERMISSIONS,
        nonce_window: int = 0,
    ) -> None:
        try:
            secret = base64.b64decode(api_secret, validate=True)
        except binascii.Error as exc:
            raise ValueError("api_secret must be base64 like Kraken's") from exc
        self._keys[api_key] = ApiKey(api_key, secret, frozenset(permissions), nonce_window)

    def get(self, api_key: str) -> ApiKey | None:
        return self._keys.get(api_key)

    def __contains__(self, api_key: object) -> bool:
        return api_key in self._keys


def verify(
    store: KeyStore,
    api_key: str | None,
    api_sign: str | None,
    *,
    uri_path: str,
    nonce: str | None,
    body: bytes,
) -> tuple[ApiKey | None, str | None]:
    """Check key, signature and nonce in Kraken's order; returns (key, error or None).

    The nonce is only consumed when the key and signature are good, so a forged request
    cannot burn a legitimate client's nonce.
    """
    key = store.get(api_key) if api_key else None
    if key is None:
        return None, ERR_INVALID_KEY
    if not api_sign or nonce is None:
        return key, ERR_INVALID_SIGNATURE if nonce is not None else ERR_INVALID_NONCE
    digest = hashlib.sha256(nonce.encode() + body).digest()
    expected = hmac.new(key.secret, uri_path.encode() + digest, hashlib.sha512).digest()
    try:
        given = base64.b64decode(api_sign, validate=True)
    except binascii.Error:
        return key, ERR_INVALID_SIGNATURE
    if not hmac.compare_digest(expected, given):
        return key, ERR_INVALID_SIGNATURE
    if not accept_nonce(key, nonce):
        return key, ERR_INVALID_NONCE
    return key, None


def accept_nonce(key: ApiKey, nonce_text: str) -> bool:
    """Strictly increasing per key; with a window, out-of-order but unseen nonces pass."""
    if not nonce_text.isdigit() or len(nonce_text) > 20:
        return False
    nonce = int(nonce_text)
    if nonce >= 2**64:
        return False
    if nonce > key.last_nonce:
        key.last_nonce = nonce
        if key.nonce_window:
            key.recent.add(nonce)
            floor = nonce - key.nonce_window
            if len(key.recent) > 4096:
                key.recent = {n for n in key.recent if n > floor}
        return True
    if key.nonce_window and nonce > key.last_nonce - key.nonce_window and nonce not in key.recent:
        key.recent.add(nonce)
        return True
    return False
