"""Where notifications go: NOTIFY_URLS parsed into targets, and the daily summary's time.

Owns: `WebhookTarget`, `TelegramTarget`, `NotifySection` and their parsing (`parse_targets`,
`summary_time`), with error messages that name the entry and what is wrong but never its
secret part. NOTIFY_URLS is a comma-separated list of
* `https://…` — a generic JSON webhook (POSTed one JSON object per notification);
  `http://…` only to a loopback or private-network address (nothing leaves the LAN in clear);
* `tg://BOT_TOKEN@CHAT_ID` — Telegram's Bot API `sendMessage` (CHAT_ID: a number, negative
  for groups, or `@channelname`).
A webhook URL is secret as a whole (services put their token in its path or query) and so is
a bot token: reprs show only the scheme and host, or the chat. Pure: no I/O. Imports: stdlib,
domain.sections.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import time
from typing import ClassVar
from urllib.parse import urlsplit

from krakenbot.domain.sections import Secret

MAX_TARGETS = 10
MAX_URL_CHARS = 2048
# BotFather's tokens: the bot's number, a colon, ~35 URL-safe characters.
_BOT_TOKEN = re.compile(r"^[0-9]{3,20}:[A-Za-z0-9_-]{20,100}$")
_CHAT_ID = re.compile(r"^(?:-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{3,64})$")
_HHMM = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
OFF = "off"


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    url: Secret  # the whole URL: its path or query may carry the service's token
    label: str  # scheme://host[:port]: what logs, status and metrics may show
    kind: ClassVar[str] = "webhook"


@dataclass(frozen=True, slots=True)
class TelegramTarget:
    token: Secret
    chat_id: str
    kind: ClassVar[str] = "telegram"

    @property
    def label(self) -> str:
        return f"telegram chat {self.chat_id}"


Target = WebhookTarget | TelegramTarget


@dataclass(frozen=True, slots=True)
class NotifySection:
    """The notifier's settings: its targets and the daily summary's UTC time (None: off)."""

    targets: tuple[Target, ...] = ()
    daily_summary_utc: time | None = None


def parse_targets(text: str) -> tuple[Target, ...]:
    """NOTIFY_URLS -> targets (blank entries skipped); ValueError names each bad entry."""
    entries = [e.strip() for e in text.split(",")]
    found: list[Target] = []
    problems: list[str] = []
    for number, entry in enumerate(entries, start=1):
        if not entry:
            continue
        try:
            found.append(_target(entry))
        except ValueError as exc:
            problems.append(f"entry {number}: {exc}")
    if problems:
        raise ValueError("; ".join(problems))
    if len(found) > MAX_TARGETS:
        raise ValueError(f"at most {MAX_TARGETS} targets, got {len(found)}")
    return tuple(found)


def _target(entry: str) -> Target:
    if len(entry) > MAX_URL_CHARS:
        raise ValueError(f"longer than {MAX_URL_CHARS} characters")
    scheme, sep, rest = entry.partition("://")
    scheme = scheme.lower()
    if scheme == "tg" and sep:
        token, at, chat = rest.partition("@")
        if not at or not chat:
            raise ValueError("tg:// needs BOT_TOKEN@CHAT_ID")
        if not _BOT_TOKEN.match(token):
            raise ValueError("the bot token is not in BotFather's form NUMBER:KEY")
        if not _CHAT_ID.match(chat):
            raise ValueError("CHAT_ID must be a number (negative for a group) or @channelname")
        return TelegramTarget(Secret(token), chat)
    if scheme not in ("https", "http") or not sep:
        raise ValueError(
            "must be https://… (a JSON webhook), http://… (loopback or private network only) "
            "or tg://BOT_TOKEN@CHAT_ID"
        )
    try:
        parts = urlsplit(entry)
        host = parts.hostname
        port = parts.port
    except ValueError:
        raise ValueError(f"{scheme}:// URL is malformed") from None
    if not host or any(ch.isspace() for ch in entry):
        raise ValueError(f"{scheme}:// URL has no host, or has spaces")
    label = f"{scheme}://{_bracket(host)}" + (f":{port}" if port else "")
    if scheme == "http" and not _private(host):
        raise ValueError(
            f"{label}: http:// is only for a loopback or private-network address; use https://"
        )
    return WebhookTarget(Secret(entry), label)


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _private(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name could resolve anywhere
    return address.is_loopback or address.is_private or address.is_link_local


def summary_time(text: str) -> time | None:
    """NOTIFY_DAILY_SUMMARY_UTC: `HH:MM` (UTC) or `off` (None); ValueError otherwise."""
    value = text.strip().lower()
    if value == OFF:
        return None
    match = _HHMM.match(value)
    if match is None:
        raise ValueError("must be HH:MM (UTC, 00:00 to 23:59) or off")
    return time(int(match.group(1)), int(match.group(2)))


def secret_parts(targets: tuple[Target, ...]) -> tuple[str, ...]:
    """What the log redaction must remove: every webhook URL and bot token."""
    out: list[str] = []
    for target in targets:
        if isinstance(target, WebhookTarget):
            out.append(target.url.get_secret_value())
        else:
            out.append(target.token.get_secret_value())
    return tuple(out)


def describe(targets: tuple[Target, ...]) -> str:
    """For `config check`: each target without its secret part."""
    if not targets:
        return "(not set)"
    return ", ".join(
        f"{t.label}/…" if isinstance(t, WebhookTarget) else f"tg://********@{t.chat_id}"
        for t in targets
    )
