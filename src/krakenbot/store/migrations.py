"""Numbered schema migrations, with a consistent backup before touching an existing ledger.

Owns: the schema (as an ordered list of `Migration`s), the `schema_version` table, `migrate()`
and `open_ledger()`. Imports: store.db, clock, errors, stdlib; never engine/orders/net.

Table and column names of `trades`, `orders`, `metrics` and `learning_data` are the seed's, so
operators' habits keep working (`SELECT * FROM trades WHERE status='OPEN'`). Money is TEXT
(exact `Decimal`), times are UTC ISO-8601 TEXT for people plus integer nanoseconds where rows
are ordered or compared.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from krakenbot.clock import Clock
from krakenbot.errors import ConfigError
from krakenbot.store.codec import ns_to_iso
from krakenbot.store.db import Database

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MigrationResult:
    from_version: int
    to_version: int
    backup_path: Path | None

    @property
    def applied(self) -> int:
        return self.to_version - self.from_version


_V1_LEDGER = Migration(
    1,
    "ledger",
    (
        """CREATE TABLE orders (
            id INTEGER PRIMARY KEY,
            order_id TEXT NOT NULL UNIQUE,
            txid TEXT UNIQUE,
            pair TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('buy', 'sell')),
            ordertype TEXT NOT NULL,
            price TEXT,
            volume TEXT NOT NULL,
            status TEXT NOT NULL,
            timestamp TEXT NOT NULL,
            filled_volume TEXT NOT NULL DEFAULT '0',
            avg_fill_price TEXT,
            time_in_force TEXT NOT NULL DEFAULT 'gtc',
            post_only INTEGER NOT NULL DEFAULT 0,
            reduces_position INTEGER NOT NULL DEFAULT 0,
            tag TEXT NOT NULL DEFAULT '',
            reason TEXT,
            filled_cost TEXT NOT NULL DEFAULT '0',
            fees TEXT NOT NULL DEFAULT '0',
            venue_cum_qty TEXT NOT NULL DEFAULT '0',
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            created_ns INTEGER NOT NULL,
            updated_at TEXT NOT NULL,
            updated_ns INTEGER NOT NULL
        )""",
        "CREATE INDEX orders_by_status ON orders (status)",
        """CREATE TABLE trades (
            id INTEGER PRIMARY KEY,
            pair TEXT NOT NULL,
            side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
            price TEXT NOT NULL,
            volume TEXT NOT NULL,
            timestamp TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('OPEN', 'CLOSED')),
            order_id TEXT,
            txid TEXT,
            profit_loss TEXT NOT NULL DEFAULT '0',
            notes TEXT NOT NULL DEFAULT '',
            open_volume TEXT NOT NULL,
            exit_price TEXT,
            fees TEXT NOT NULL DEFAULT '0',
            opened_ns INTEGER NOT NULL,
            closed_at TEXT,
            closed_ns INTEGER
        )""",
        "CREATE INDEX trades_by_status ON trades (status, pair)",
        # At most one open round trip per pair: positions are derived from fills into it.
        "CREATE UNIQUE INDEX trades_one_open_per_pair ON trades (pair) WHERE status = 'OPEN'",
        """CREATE TABLE fills (
            id INTEGER PRIMARY KEY,
            trade_id TEXT NOT NULL UNIQUE,
            order_id TEXT REFERENCES orders (order_id),
            txid TEXT NOT NULL,
            pair TEXT NOT NULL,
            side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
            price TEXT NOT NULL,
            volume TEXT NOT NULL,
            cost TEXT NOT NULL,
            fee TEXT NOT NULL,
            fee_asset TEXT NOT NULL,
            liquidity TEXT,
            timestamp TEXT NOT NULL,
            exchange_ns INTEGER NOT NULL,
            recorded_ns INTEGER NOT NULL
        )""",
        "CREATE INDEX fills_by_order ON fills (order_id)",
        "CREATE INDEX fills_by_txid ON fills (txid)",
        "CREATE INDEX fills_by_time ON fills (exchange_ns)",
        """CREATE TABLE metrics (
            id INTEGER PRIMARY KEY,
            timestamp TEXT NOT NULL,
            balance_usd TEXT NOT NULL,
            total_trades INTEGER NOT NULL,
            winning_trades INTEGER NOT NULL,
            total_profit_loss TEXT NOT NULL,
            daily_profit_loss TEXT NOT NULL,
            timestamp_ns INTEGER NOT NULL
        )""",
        """CREATE TABLE learning_data (
            id INTEGER PRIMARY KEY,
            timestamp TEXT NOT NULL,
            feature_data TEXT NOT NULL,
            outcome TEXT,
            profit_loss TEXT,
            order_id TEXT,
            pair TEXT,
            timestamp_ns INTEGER NOT NULL,
            outcome_ns INTEGER
        )""",
        "CREATE INDEX learning_by_order ON learning_data (order_id)",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            timestamp TEXT NOT NULL,
            ts_ns INTEGER NOT NULL,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL DEFAULT '{}'
        )""",
        "CREATE INDEX events_by_kind ON events (kind, ts_ns)",
        """CREATE TABLE state (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            updated_ns INTEGER NOT NULL
        )""",
    ),
)

MIGRATIONS: tuple[Migration, ...] = (_V1_LEDGER,)
LATEST_VERSION = MIGRATIONS[-1].version

_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
)"""


async def current_version(db: Database) -> int:
    """The highest applied migration; 0 for an empty (new) database."""
    if not await _has_table(db, "schema_version"):
        return 0
    row = await db.fetchone("SELECT MAX(version) FROM schema_version")
    return 0 if row is None or row[0] is None else int(row[0])


async def migrate(
    db: Database, clock: Clock, migrations: tuple[Migration, ...] = MIGRATIONS
) -> MigrationResult:
    """Bring `db` up to the newest migration; back it up first if it already held a ledger."""
    _check_sequence(migrations)
    latest = migrations[-1].version if migrations else 0
    start = await current_version(db)
    if start == 0 and await _user_tables(db):
        raise ConfigError(
            f"{db.path} holds tables but no schema_version: it is not a krakenbot ledger "
            "(perhaps an older bot's). Move it aside or set DATABASE_PATH to a new file."
        )
    if start > latest:
        raise ConfigError(
            f"{db.path} is at schema version {start}, newer than this krakenbot knows "
            f"({latest}); upgrade krakenbot instead of running an older one against it."
        )
    pending = [m for m in migrations if m.version > start]
    if not pending:
        return MigrationResult(start, start, None)
    backup: Path | None = None
    if start > 0:
        backup = await db.backup_to(backup_path_for(db.path, start, clock.now_ns()))
        logger.info(
            "database backed up before migrating",
            extra={"backup": str(backup), "from_version": start, "to_version": latest},
        )
    for migration in pending:
        # All of a migration or none of it, in one trip (store/one_trip.py).
        version = (migration.version, migration.name, ns_to_iso(clock.now_ns()))
        await db.write_atomic(
            [
                (_VERSION_TABLE, ()),
                *((statement, ()) for statement in migration.statements),
                (
                    "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                    version,
                ),
            ]
        )
        logger.info(
            "migration applied",
            extra={"version": migration.version, "migration": migration.name},
        )
    return MigrationResult(start, latest, backup)


async def open_ledger(path: Path | str, clock: Clock) -> Database:
    """Open the ledger at `path` and migrate it to the newest schema."""
    db = await Database.open(path)
    try:
        await migrate(db, clock)
    except BaseException:
        await db.close()
        raise
    return db


async def open_ledger_read_only(path: Path | str) -> Database:
    """Open an existing ledger read-only (store/db.py), refusing a file that is not a
    krakenbot ledger of the schema this krakenbot reads (a reader cannot migrate it).
    Raises `ConfigError` for those, `FileNotFoundError` / `sqlite3.Error` / `OSError` when
    the file cannot be read at all."""
    db = await Database.open_read_only(path)
    try:
        version = await current_version(db)
        if version == 0:
            raise ConfigError(f"{db.path} is not a krakenbot ledger (no schema_version table)")
        if version > LATEST_VERSION:
            raise ConfigError(
                f"{db.path} is at schema version {version}, newer than this krakenbot knows "
                f"({LATEST_VERSION}); read it with a newer krakenbot"
            )
        if version < LATEST_VERSION:
            raise ConfigError(
                f"{db.path} is at schema version {version}; this krakenbot reads version "
                f"{LATEST_VERSION}: run `python -m krakenbot db migrate` (daemon stopped) first"
            )
    except BaseException:
        await db.close()
        raise
    return db


def backup_path_for(db_path: Path, version: int, now_ns: int) -> Path:
    stamp = datetime.fromtimestamp(now_ns // 1_000_000_000, UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = db_path.with_name(f"{db_path.name}.v{version}-{stamp}.bak")
    n = 1
    while candidate.exists():
        n += 1
        candidate = db_path.with_name(f"{db_path.name}.v{version}-{stamp}-{n}.bak")
    return candidate


def _check_sequence(migrations: tuple[Migration, ...]) -> None:
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migrations must be numbered 1, 2, 3, …; got {versions}")


async def _has_table(db: Database, name: str) -> bool:
    row = await db.fetchone(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    )
    return row is not None


async def _user_tables(db: Database) -> list[str]:
    rows = await db.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return [str(r[0]) for r in rows]
