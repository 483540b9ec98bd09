"""Settings text checks that need nothing of krakenbot: `name=value` lists, loopback hosts,
URL schemes. Split out of config.py (which imports them) for size. Imports: stdlib only.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def parse_params(text: str) -> dict[str, str]:
    """`entry_z=2.5, take_profit_pct=1` -> {"entry_z": "2.5", "take_profit_pct": "1"}."""
    params: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name.isidentifier() or not value:
            raise ValueError(f"expected name=value pairs separated by commas, got {item.strip()!r}")
        if name in params:
            raise ValueError(f"parameter {name!r} is given twice")
        params[name] = value
    return params


def is_loopback(host: str) -> bool:
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def url_problem(url: str, secure: str, plain: str) -> str | None:
    """Plain-text schemes are only acceptable to a loopback simulator: keys travel on them."""
    parts = urlsplit(url)
    if parts.scheme not in (secure, plain) or not parts.hostname:
        return f"must be a {secure}:// URL"
    if parts.scheme == plain and not is_loopback(parts.hostname):
        return f"{plain}:// is only allowed for a loopback simulator; use {secure}://"
    return None
