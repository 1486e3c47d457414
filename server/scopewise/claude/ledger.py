"""Cost ledger: every call's tokens and dollars, in SQLite under the state folder, and the
daily cap.

The cap holds under concurrency: a call first *reserves* its estimate (one ``BEGIN
IMMEDIATE`` transaction, so threads and processes sharing the file take turns), which the
cap check counts next to what was spent; after the call the reservation is *settled* (the
call recorded, the reservation gone) or released. A reservation expires, so one left by a
crashed process stops counting after a while. A ledger that cannot be read or written says
so in one line; with a cap set nothing is spent (fail closed), without one the call runs and
the process warns once that spend is not recorded."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal, TypeVar

from scopewise import paths

from .call import Usage
from .costs import cost_usd, usd

__all__ = [  # cost_usd: importable from here too, as before
    "Ledger",
    "LedgerEntry",
    "LedgerError",
    "Outcome",
    "Refusal",
    "Reservation",
    "Totals",
    "cost_usd",
]

log = logging.getLogger(__name__)

Outcome = Literal["ok", "cancelled", "error"]
_T = TypeVar("_T")

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
CREATE TABLE IF NOT EXISTS reservations (
    id TEXT PRIMARY KEY,
    ts REAL NOT NULL,
    day TEXT NOT NULL,
    usd REAL NOT NULL,
    expires REAL NOT NULL,
    session_id TEXT NOT NULL,
    pid INTEGER NOT NULL
);
"""
# A reservation not settled within this long (the call's timeout, retries included, plus a
# margin; see Actions) belongs to a process that died: it stops counting against the cap.
RESERVATION_TTL_S = 600.0
# Warned once per process about a ledger that does not record (keyed by its path).
_warned: set[str] = set()
_warned_lock = threading.Lock()

_COLUMNS = (
    "ts, day, session_id, action, tier, model, input_tokens, output_tokens, "
    "cache_write_tokens, cache_read_tokens, usd, duration_s, outcome"
)
_TOTALS = (
    "SELECT COUNT(*), COALESCE(SUM(usd), 0), COALESCE(SUM(input_tokens), 0), "
    "COALESCE(SUM(output_tokens), 0), COALESCE(SUM(cache_write_tokens), 0), "
    "COALESCE(SUM(cache_read_tokens), 0) FROM calls"
)


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


class LedgerError(Exception):
    """The ledger file cannot be used; the message is one line naming the file and why."""


@dataclass(frozen=True)
class Reservation:
    """Money held against the daily cap for one call until it is settled or released.
    ``id`` is None when the ledger is unusable and there was no cap: nothing is held."""

    id: str | None
    usd: float
    day: str


_NOTHING_HELD = Reservation(None, 0.0, "")  # `record`: a call made without a reservation


@dataclass(frozen=True)
class Refusal:
    """Why a reservation was refused (the cap, or a ledger that cannot be checked)."""

    reason: str


@dataclass(frozen=True)
class Totals:
    calls: int = 0
    usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0


class Ledger:
    """The ledger file (``state_dir()/ledger.sqlite3`` by default); thread-safe, WAL mode,
    shared safely by several processes (the CLI and the language server)."""

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
        self._problem: str | None = None  # why the file could not be used, last time we tried

    @property
    def path(self) -> Path:
        if self._path is None:
            try:
                self._path = paths.state_dir() / "ledger.sqlite3"
            except OSError as exc:
                raise LedgerError(
                    f"the cost ledger's folder cannot be created ({exc.strerror or exc}): "
                    "check SCOPEWISE_STATE_DIR and its permissions"
                ) from None
        return self._path

    def _db(self) -> sqlite3.Connection:
        """The open connection (autocommit: transactions are explicit). Raises LedgerError."""
        if self._conn is not None:
            return self._conn
        path = self.path
        try:
            conn = sqlite3.connect(path, timeout=5, check_same_thread=False, isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise self._fault(exc) from None
        # switching to WAL and creating the schema can meet another process doing the
        # same: SQLite answers "locked" at once there, without waiting, so retry briefly
        for attempt in range(50):
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(_SCHEMA)
                break
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) and attempt < 49:
                    time.sleep(0.02)
                    continue
                conn.close()
                raise self._fault(exc) from None
            except (sqlite3.Error, OSError) as exc:
                conn.close()
                raise self._fault(exc) from None
        self._conn = conn
        self._problem = None
        return conn

    def _fault(self, exc: BaseException) -> LedgerError:
        """A LedgerError with one line naming the file and why; a broken connection is
        dropped, so the next use tries the file again (it may have been moved aside)."""
        if isinstance(exc, LedgerError):
            return exc
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None
        message = _fault_message(self._path or "(state folder)", exc)
        self._problem = message
        return LedgerError(message)

    @property
    def problem(self) -> str | None:
        """Why the ledger cannot be used (it is opened to find out), or None."""
        try:
            with self._lock:
                self._db()
        except LedgerError as exc:
            return str(exc)
        return None

    def warn_once(self) -> str | None:
        """The warning to show when the ledger cannot record spend and no cap is set: once per
        process and file (None otherwise, and every later time). With a cap set the ledger
        refuses to spend instead, with its own message."""
        problem = self.problem
        if problem is None or self.daily_cap_usd is not None:
            return None
        return self._first_time(problem)

    def _first_time(self, problem: str) -> str | None:
        """``problem`` as the "spend is not recorded" warning if this process has not warned
        about this file yet, else None."""
        key = str(self._path)
        with _warned_lock:
            if key in _warned:
                return None
            _warned.add(key)
        return f"{problem}; spend is not recorded"

    def _unrecorded(self, exc: LedgerError) -> None:
        """Log a failed write: a warning the first time for this file, quietly after."""
        first = self._first_time(str(exc))
        if first is not None:
            log.warning("%s", first)
        else:
            log.info("%s; this call's spend is not recorded", exc)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _transaction(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``work`` in one write transaction (BEGIN IMMEDIATE: the file's write lock is
        taken first, so a read-check-write inside is atomic across processes)."""
        with self._lock:
            try:
                conn = self._db()
                conn.execute("BEGIN IMMEDIATE")
            except (sqlite3.Error, OSError) as exc:
                raise self._fault(exc) from None
            try:
                out = work(conn)
                conn.execute("COMMIT")
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error | OSError):
                    raise self._fault(exc) from None
                raise
            return out

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
        return self.settle(
            _NOTHING_HELD,
            action=action,
            tier=tier,
            model=model,
            usage=usage,
            usd=usd,
            duration_s=duration_s,
            outcome=outcome,
            session_id=session_id,
        )

    # -- the cap under concurrency ----------------------------------------------------------
    def _held(self, conn: sqlite3.Connection, day: str, now: float) -> tuple[float, float]:
        """Today's recorded spend and the dollars held by open reservations."""
        spent = conn.execute(
            "SELECT COALESCE(SUM(usd), 0) FROM calls WHERE day = ?", (day,)
        ).fetchone()[0]
        held = conn.execute(
            "SELECT COALESCE(SUM(usd), 0) FROM reservations WHERE day = ? AND expires > ?",
            (day, now),
        ).fetchone()[0]
        return float(spent), float(held)

    def reserve(
        self,
        estimated_usd: float,
        *,
        what: str = "this call",
        override: bool = False,
        ttl_s: float = RESERVATION_TTL_S,
    ) -> Reservation | Refusal:
        """Hold ``estimated_usd`` for a call about to be made, or say why not: the daily cap
        (today's spend + what calls running now hold + this estimate) or a ledger that cannot
        be checked while a cap is set. ``override`` (the user's "run it anyway") skips the
        cap but still holds the money, so other calls see it. Atomic across threads and
        processes sharing the file."""
        now = self._clock()
        day = _local_day(now)
        cap = self.daily_cap_usd

        def work(conn: sqlite3.Connection) -> Reservation | Refusal:
            conn.execute("DELETE FROM reservations WHERE expires <= ?", (now,))
            if cap is not None and not override:
                spent, held = self._held(conn, day, now)
                if spent + held + estimated_usd > cap + 1e-12:
                    return Refusal(_over_cap(spent, held, what, estimated_usd, cap))
            rid = uuid.uuid4().hex
            conn.execute(
                "INSERT INTO reservations (id, ts, day, usd, expires, session_id, pid) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (rid, now, day, estimated_usd, now + ttl_s, self.session_id, os.getpid()),
            )
            return Reservation(rid, estimated_usd, day)

        try:
            return self._transaction(work)
        except LedgerError as exc:
            if cap is not None and not override:
                return Refusal(f"{exc}; daily_cap_usd is set, so nothing is spent until then")
            self._unrecorded(exc)
            return Reservation(None, estimated_usd, day)

    def settle(
        self,
        reservation: Reservation,
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
        """Record the call made under ``reservation`` and drop the reservation, in one
        transaction. Like :meth:`record`, a disk problem is logged, never raised."""
        entry = _new_entry(
            self._clock,
            self.session_id,
            action=action,
            tier=tier,
            model=model,
            usage=usage,
            usd=usd,
            duration_s=duration_s,
            outcome=outcome,
            session_id=session_id,
        )

        def work(conn: sqlite3.Connection) -> None:
            if reservation.id is not None:
                conn.execute("DELETE FROM reservations WHERE id = ?", (reservation.id,))
            _insert(conn, entry)

        try:
            self._transaction(work)
        except LedgerError as exc:
            self._unrecorded(exc)
        return entry

    def release(self, reservation: Reservation) -> None:
        """Drop a reservation whose call was never made."""
        if reservation.id is None:
            return
        rid = reservation.id
        try:
            self._transaction(
                lambda conn: conn.execute("DELETE FROM reservations WHERE id = ?", (rid,))
            )
        except LedgerError as exc:
            log.warning("%s; a reservation stays until it expires", exc)

    def check_cap(self, estimated_usd: float) -> str | None:
        """Why a call estimated at ``estimated_usd`` must not run (the daily cap, counting
        what running calls hold; or a ledger that cannot be checked), or None. Planning
        uses it; the call itself reserves (:meth:`reserve`)."""
        cap = self.daily_cap_usd
        if cap is None:
            return None
        now = self._clock()
        try:
            with self._lock:
                try:
                    spent, held = self._held(self._db(), _local_day(now), now)
                except (sqlite3.Error, OSError) as exc:
                    raise self._fault(exc) from None
        except LedgerError as exc:
            return f"{exc}; daily_cap_usd is set, so nothing is spent until then"
        if spent + held + estimated_usd <= cap + 1e-12:
            return None
        return _over_cap(spent, held, "this call", estimated_usd, cap)

    # -- totals -------------------------------------------------------------------------------
    def _totals(self, where: str = "", args: tuple[object, ...] = ()) -> Totals:
        """Raises LedgerError (one line) when the file cannot be read."""
        with self._lock:
            try:
                row = self._db().execute(f"{_TOTALS} {where}", args).fetchone()
            except (sqlite3.Error, OSError) as exc:
                raise self._fault(exc) from None
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
            try:
                rows = (
                    self._db()
                    .execute(
                        f"SELECT {_COLUMNS} FROM calls ORDER BY ts DESC, id DESC LIMIT ?",
                        (limit,),
                    )
                    .fetchall()
                )
            except (sqlite3.Error, OSError) as exc:
                raise self._fault(exc) from None
        return [LedgerEntry(*row) for row in rows]


def _new_entry(
    clock: Callable[[], float],
    default_session: str,
    *,
    action: str,
    tier: str,
    model: str,
    usage: Usage,
    usd: float,
    duration_s: float,
    outcome: Outcome,
    session_id: str | None,
) -> LedgerEntry:
    ts = clock()
    return LedgerEntry(
        ts=ts,
        day=_local_day(ts),
        session_id=session_id or default_session,
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


def _insert(conn: sqlite3.Connection, entry: LedgerEntry) -> None:
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


def _fault_message(where: object, exc: BaseException) -> str:
    """The one line saying why the ledger file cannot be used and what to do."""
    from .errors import one_line  # on this path only: errors imports asyncio (a plan does not)

    why = one_line(str(exc.strerror or exc) if isinstance(exc, OSError) else str(exc), 160)
    if "not a database" in why or "malformed" in why or "corrupt" in why:
        message = f"the cost ledger {where} is corrupt ({why}): move it aside to start anew"
    elif "locked" in why or "busy" in why:
        message = f"the cost ledger {where} is locked by another process ({why}); try again"
    else:
        message = (
            f"the cost ledger {where} cannot be used ({why}): check the file and its "
            "folder's permissions"
        )
    return message


def _over_cap(spent: float, held: float, what: str, estimated: float, cap: float) -> str:
    """e.g. "today's spend $4.97 + this call ~$0.08 would pass the daily cap of $5.00"."""
    parts = [f"today's spend {usd(spent)}"]
    if held > 0:
        parts.append(f"{usd(held)} held by calls running now")
    parts.append(f"{what} ~{usd(estimated)}")
    return f"{' + '.join(parts)} would pass the daily cap of {usd(cap)}"


def _local_day(ts: float) -> str:
    return datetime.fromtimestamp(ts).date().isoformat()
