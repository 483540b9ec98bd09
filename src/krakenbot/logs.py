"""Logging: JSON lines to a rotating file, readable text on the console, secrets removed.

Owns: `configure_logging` (installs the handlers on the root logger and returns a handle that
undoes it), the `JsonFormatter` / `ConsoleFormatter`, and the `RedactionFilter` that scrubs API
keys, secrets, WebSocket tokens and `API-Sign` values from messages, arguments, `extra` fields,
exception text and stack text before any handler sees a record. Composition root: it may
import anything; library code only calls `logging.getLogger(__name__)`.

Records go through a `QueueHandler` so the event loop never waits for the disk; the redaction
filter runs on that handler, i.e. before the record is queued, and again on each output handler.
"""

from __future__ import annotations

import atexit
import json
import logging
import logging.handlers
import queue
import re
import sys
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from types import TracebackType
from typing import Any, TextIO

from krakenbot.domain.sections import LogSection

REDACTED = "[REDACTED]"
# Attributes every LogRecord has; anything else on a record came from `extra`.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime", "taskName"}
# Values of these names are secret wherever they appear as `name: value`, `name=value`,
# `"name": "value"` or `'name': 'value'`: HTTP headers (API-Key, API-Sign — docs:
# spot-rest-auth), the WS v2 `token` param (docs: websocket-v2 authentication), and our own
# setting names.
_SENSITIVE_NAMES = (
    r"api[-_ ]?sign|api[-_ ]?key|api[-_ ]?secret|[a-z_]*secret|[a-z_]*token|otp|password"
    r"|authorization"
)
_PAIR_PATTERN = re.compile(
    rf"""(?P<name>["']?\b(?:{_SENSITIVE_NAMES})\b["']?\s*[:=]\s*(?:b?["'])?)"""
    r"""(?P<value>[^\s"',;&}\]]+)""",
    re.IGNORECASE,
)
_MIN_SECRET_LEN = 6  # shorter literals would blank out ordinary words


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every literal secret and every `name: value` secret replaced."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= _MIN_SECRET_LEN:
            text = text.replace(secret, REDACTED)
    return _PAIR_PATTERN.sub(lambda m: m.group("name") + REDACTED, text)


class RedactionFilter(logging.Filter):
    """Scrubs a record in place. Idempotent, so it may run on several handlers."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: set[str] = {s for s in secrets if s}

    def add_secret(self, secret: str) -> None:
        """Register a secret learnt at run time (for example a fresh WebSocket token)."""
        if secret:
            self._secrets.add(secret)

    def redact(self, text: str) -> str:
        return redact_text(text, self._secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = f"{record.msg!s} {record.args!r}"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.redact(text)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRS:
                setattr(record, key, self._scrub(key, value))
        return True

    def _scrub(self, key: str, value: Any) -> Any:
        if re.fullmatch(_SENSITIVE_NAMES, key, re.IGNORECASE):
            return REDACTED
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, bytes):
            return self.redact(value.decode("utf-8", "replace"))
        if isinstance(value, Mapping):
            return {str(k): self._scrub(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._scrub("", v) for v in value]
        if value is None or isinstance(value, bool | int | float | Decimal | Enum):
            return value
        return self.redact(repr(value))


def _iso(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}


def _json_default(value: object) -> str:
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, every `extra` field, exc."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": _iso(record.created),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in _extras(record).items():
            doc.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            doc["exc"] = record.exc_text
        if record.stack_info:
            doc["stack"] = record.stack_info
        return json.dumps(doc, default=_json_default, ensure_ascii=False)


class ConsoleFormatter(logging.Formatter):
    """`2026-01-01T00:00:00.000+00:00 INFO  logger: message key=value …` for people."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_iso(record.created)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        fields = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        if fields:
            line = f"{line}  {fields}"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line = f"{line}\n{record.exc_text}"
        if record.stack_info:
            line = f"{line}\n{record.stack_info}"
        return line


@dataclass(slots=True)
class LoggingHandle:
    """What `configure_logging` installed; `close()` flushes and removes it."""

    redaction: RedactionFilter
    queue_handler: logging.handlers.QueueHandler
    listener: logging.handlers.QueueListener
    handlers: list[logging.Handler] = field(default_factory=list)
    previous_level: int = logging.WARNING
    closed: bool = False
    previous_hooks: tuple[Any, Any] | None = None

    def add_secret(self, secret: str) -> None:
        self.redaction.add_secret(secret)

    def capture_uncaught(self) -> None:
        """Route uncaught exceptions (main thread and other threads) through the redacting
        log instead of the interpreter's default, which prints raw tracebacks to stderr."""
        if self.previous_hooks is None:
            self.previous_hooks = (sys.excepthook, threading.excepthook)
        sys.excepthook = self._on_uncaught
        threading.excepthook = self._on_thread_uncaught

    def _on_uncaught(
        self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        logging.getLogger("krakenbot").critical("uncaught exception", exc_info=(kind, exc, tb))
        self.close()  # the interpreter is exiting: drain the queue to disk now

    def _on_thread_uncaught(self, args: threading.ExceptHookArgs) -> None:
        exc_info = (args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)
        logging.getLogger("krakenbot").critical(
            "uncaught exception in a thread",
            exc_info=exc_info,
            extra={"failed_thread": getattr(args.thread, "name", "?")},
        )

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        atexit.unregister(self.close)
        if self.previous_hooks is not None:
            sys.excepthook, threading.excepthook = self.previous_hooks
        root = logging.getLogger()
        root.removeHandler(self.queue_handler)
        root.setLevel(self.previous_level)
        self.listener.stop()
        for handler in self.handlers:
            handler.close()


def configure_logging(
    section: LogSection,
    secrets: Iterable[str] = (),
    *,
    stream: TextIO | None = None,
    capture_uncaught: bool = False,
) -> LoggingHandle:
    """Install JSON-file + console logging on the root logger, secrets redacted.

    `secrets` are literal values (keys, API secrets) to remove wherever they appear.
    `capture_uncaught` also routes uncaught exceptions through the redacting log.
    """
    redaction = RedactionFilter(secrets)
    section.file.parent.mkdir(parents=True, exist_ok=True)
    file_handler = logging.handlers.RotatingFileHandler(
        section.file,
        maxBytes=section.max_bytes,
        backupCount=section.backup_count,
        encoding="utf-8",
    )
    file_handler.setFormatter(JsonFormatter())
    handlers: list[logging.Handler] = [file_handler]
    if section.console:
        console = logging.StreamHandler(stream if stream is not None else sys.stderr)
        console.setFormatter(ConsoleFormatter())
        handlers.append(console)
    for handler in handlers:
        handler.addFilter(redaction)
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    queue_handler = _RedactingQueueHandler(records)
    queue_handler.addFilter(redaction)
    listener = logging.handlers.QueueListener(records, *handlers, respect_handler_level=True)
    root = logging.getLogger()
    previous = root.level
    root.setLevel(section.level)
    root.addHandler(queue_handler)
    listener.start()
    handle = LoggingHandle(redaction, queue_handler, listener, handlers, previous)
    # The listener thread is a daemon: drain what is queued before the interpreter exits.
    atexit.register(handle.close)
    if capture_uncaught:
        handle.capture_uncaught()
    return handle


class _RedactingQueueHandler(logging.handlers.QueueHandler):
    """Keeps the `extra` fields (the stock `prepare` keeps them too) and the scrubbed text."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # The filter already merged args and rendered the exception text; copy so later
        # handlers on other loggers see the same scrubbed record.
        clone = logging.makeLogRecord(vars(record))
        clone.exc_info = None
        return clone
