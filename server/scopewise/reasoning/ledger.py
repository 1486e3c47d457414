"""Cost ledger: every call's tokens and dollars, in SQLite under the state folder."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from scopewise import paths

from .client import Usage
from .models import Price

log = logging.getLogger(__name__)

Outcome = Literal["ok", "cancelled", "error"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    day TEXT NOT NULL,
    session_id TEXT NOT NULL,
    action TEXT NOT NULL,
    tier TEXT NOT NULL,
    model TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL,
    usd REAL NOT NULL,
    duration_s REAL NOT NULL,
    outcome TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_day ON calls (day);
CREATE INDEX IF NOT EXISTS calls_session ON calls (session_id);
"""

_COLUMNS = (
    "ts, day, session_id, action, tier, model, input_tokens, output_tokens, "
    "cache_write_tokens, cache_read_tokens, usd, duration_s, outcome"
)
_TOTALS = (
    "SELECT COUNT(*), COALESCE(SUM(usd), 0), COALESCE(SUM(input_tokens), 0), "
    "COALESCE(SUM(output_tokens), 0), COALESCE(SUM(cache_write_tokens), 0), "
    "COALESCE(SUM(cache_read_tokens), 0) FROM calls"
)


def cost_usd(usage: Usage, price: Price) -> float:
    """Dollars for ``usage`` at ``price`` (USD per million tokens; 5-minute cache writes)."""
    band = price.for_input(usage.total_input_tokens)
    return (
        usage.input_tokens * band.input
        + usage.output_tokens * band.output
        + usage.cache_write_tokens * band.cache_write_5m
        + usage.cache_read_tokens * band.cache_read
    ) / 1_000_000


@dataclass(frozen=True)
class LedgerEntry:
    ts: float
    day: str  # local date, YYYY-MM-DD
    session_id: str
    action: str
    tier: str
    model: str
    input_tokens: int
    output_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    usd: float
    duration_s: float
    outcome: str


@dataclass(frozen=True)
class Totals:
    calls: int = 0
    usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0


class Ledger:
    """The ledger file (``state_dir()/ledger.sqlite3`` by default); thread-safe, WAL mode."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        session_id: str | None = None,
        daily_cap_usd: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._path = path
        self.session_id = session_id or uuid.uuid4().hex[:12]
        self.daily_cap_usd = daily_cap_usd
        self._clock = clock
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    @property
    def path(self) -> Path:
        if self._path is None:
            self._path = paths.state_dir() / "ledger.sqlite3"
        return self._path

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, timeout=5, check_same_thread=False)
            # switching to WAL and creating the schema can meet another process doing the
            # same: SQLite answers "locked" at once there, without waiting, so retry briefly
            for attempt in range(50):
                try:
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.executescript(_SCHEMA)
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or attempt == 49:
                        conn.close()
                        raise
                    time.sleep(0.02)
            self._conn = conn
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def record(
        self,
        *,
        action: str,
        tier: str,
        model: str,
        usage: Usage,
        usd: float,
        duration_s: float = 0.0,
        outcome: Outcome = "ok",
        session_id: str | None = None,
    ) -> LedgerEntry:
        """Append one call. A disk problem is logged, never raised (a call must not fail on it)."""
        ts = self._clock()
        entry = LedgerEntry(
            ts=ts,
            day=_local_day(ts),
            session_id=session_id or self.session_id,
            action=action,
            tier=tier,
            model=model,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            usd=usd,
            duration_s=duration_s,
            outcome=outcome,
        )
        try:
            with self._lock:
                conn = self._db()
                with conn:
                    conn.execute(
                        f"INSERT INTO calls ({_COLUMNS}) VALUES ({', '.join('?' * 13)})",
                        (
                            entry.ts,
                            entry.day,
                            entry.session_id,
                            entry.action,
                            entry.tier,
                            entry.model,
                            entry.input_tokens,
                            entry.output_tokens,
                            entry.cache_write_tokens,
                            entry.cache_read_tokens,
                            entry.usd,
                            entry.duration_s,
                            entry.outcome,
                        ),
                    )
        except (sqlite3.Error, OSError) as exc:
            log.warning("cost ledger not writable (%s): %s", self._path, exc)
        return entry

    def _totals(self, where: str = "", args: tuple[object, ...] = ()) -> Totals:
        with self._lock:
            row = self._db().execute(f"{_TOTALS} {where}", args).fetchone()
        return Totals(int(row[0]), float(row[1]), *(int(v) for v in row[2:]))

    def session_totals(self, session_id: str | None = None) -> Totals:
        return self._totals("WHERE session_id = ?", (session_id or self.session_id,))

    def day_totals(self, day: date | None = None) -> Totals:
        """Totals for a local calendar day (default: today)."""
        key = day.isoformat() if day is not None else _local_day(self._clock())
        return self._totals("WHERE day = ?", (key,))

    def all_time(self) -> Totals:
        return self._totals()

    def recent(self, limit: int = 20) -> list[LedgerEntry]:
        with self._lock:
            rows = (
                self._db()
                .execute(
                    f"SELECT {_COLUMNS} FROM calls ORDER BY ts DESC, id DESC LIMIT ?", (limit,)
                )
                .fetchall()
            )
        return [LedgerEntry(*row) for row in rows]

    def check_cap(self, estimated_usd: float) -> str | None:
        """Why a call estimated at ``estimated_usd`` must not run (the daily cap), or None."""
        cap = self.daily_cap_usd
        if cap is None:
            return None
        spent = self.day_totals().usd
        if spent + estimated_usd <= cap:
            return None
        return (
            f"today's spend {_usd(spent)} + this call ~{_usd(estimated_usd)} would pass "
            f"the daily cap of {_usd(cap)}"
        )


def _local_day(ts: float) -> str:
    return datetime.fromtimestamp(ts).date().isoformat()


def _usd(value: float) -> str:
    return f"${value:.4f}" if 0 < value < 0.01 else f"${value:.2f}"
