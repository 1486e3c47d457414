"""The persistent index cache: SQLite under the user's cache folder, keyed by content hash.

One database per workspace root (never inside the workspace). ``files`` maps a path to the
(mtime, size, digest) it had when indexed, so a warm start re-reads only files whose stat
changed; ``entries`` holds the extracted index of a content digest, so a file whose stat
changed but whose bytes did not is not parsed again. Storage faults heal or explain: see
``IndexCache``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from scopewise import __version__, paths
from scopewise.index import languages
from scopewise.index.model import SCHEMA

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stat:
    mtime_ns: int
    size: int
    digest: str
    language: str


def _version_key() -> str:
    grammars = []
    for spec in languages.LANGUAGES:
        dist = spec.module.replace("_", "-")
        try:
            grammars.append(f"{dist}={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            grammars.append(f"{dist}=?")
    try:
        ts_version = metadata.version("tree-sitter")
    except metadata.PackageNotFoundError:
        ts_version = "?"
    queries = hashlib.sha1(
        "".join(
            languages.query_source(s.name) + languages.refs_source(s.name)
            for s in languages.LANGUAGES
        ).encode("utf-8")
    ).hexdigest()[:12]
    return (
        f"{SCHEMA}|{__version__}|tree-sitter={ts_version}|{','.join(sorted(set(grammars)))}"
        f"|queries={queries}"
    )


def default_path(root: Path) -> Path:
    key = hashlib.sha1(str(root.resolve()).encode("utf-8")).hexdigest()[:16]
    folder = paths.cache_dir() / "index"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{root.resolve().name or 'root'}-{key}.sqlite3"


# the tables this version writes, and their columns: anything else in the file is foreign
_TABLES = {
    "meta": ("key", "value"),
    "files": ("path", "mtime_ns", "size", "digest", "language"),
    "entries": ("key", "data"),
}
_CREATE = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL,
    digest TEXT NOT NULL, language TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, data BLOB NOT NULL);
"""
_BUSY_S = 60.0  # how long a writer waits for another process's transaction
_UNREADABLE = {"SQLITE_NOTADB", "SQLITE_CORRUPT"}  # errors that mean the file is not a cache


def _patiently(step: Callable[[], object]) -> None:
    """Run one step that takes a lock, retrying while another connection holds it. SQLite
    waits out a busy lock by itself (the connection's timeout), except where waiting could
    deadlock — switching to WAL, creating the schema, or a write lock asked while another
    process is between journal modes — where it answers "database is locked" at once."""
    deadline = time.monotonic() + _BUSY_S
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class _NotOurs(Exception):
    """The file is not this version's cache; the message says what it is."""


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold `<cache>.lock` (an advisory lock beside the database): processes opening one
    cache judge it, move it aside and create it one at a time."""
    if fcntl is None:  # pragma: no cover - Windows: SQLite's own locking only
        yield
        return
    with open(f"{path}.lock", "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class IndexCache:
    """Thread-safe access to one workspace's cache database.

    Faults heal or explain, each with one log line: a file that is not this version's cache
    (garbage, another program's SQLite, another scopewise's schema) is moved aside to
    `<name>.sqlite3.old` and a new one is made; any other storage error (disk full, read-only,
    locked past a minute) leaves the cache off for this process (`problem` says why) and the
    index goes on without it. Many processes may share one cache: opening is serialised by a
    lock file, and every write is one immediate transaction.
    """

    def __init__(self, db_path: Path) -> None:
        self.path = db_path
        self.problem: str | None = None  # why the cache is off
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._ino = 0  # the file opened (a file moved aside meanwhile is not ours to move)
        try:
            with _locked(db_path):
                try:
                    self._db = self._open()
                except _NotOurs as exc:
                    self._move_aside(str(exc))
                    self._db = self._open()
                except sqlite3.DatabaseError as exc:
                    if exc.sqlite_errorname not in _UNREADABLE:
                        raise
                    self._move_aside(f"unreadable ({exc})")
                    self._db = self._open()
        except (sqlite3.Error, OSError, _NotOurs) as exc:
            self._off(exc)

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            str(self.path), timeout=_BUSY_S, check_same_thread=False, isolation_level=None
        )
        try:
            _patiently(lambda: self._check(db))
            _patiently(lambda: db.execute("PRAGMA journal_mode=WAL"))
            db.execute("PRAGMA synchronous=NORMAL")
            _patiently(lambda: db.executescript(_CREATE))
            version = _version_key()
            row = db.execute("SELECT value FROM meta WHERE key='version'").fetchone()
            if row is None:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (version,))
            elif row[0] != version:
                raise _NotOurs("written by another version of scopewise or its grammars")
        except BaseException:
            db.close()
            raise
        self._ino = os.stat(self.path).st_ino
        return db

    @staticmethod
    def _check(db: sqlite3.Connection) -> None:
        """Raise _NotOurs when the database holds tables this cache does not write."""
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for name in tables:
            columns = tuple(
                r[0] for r in db.execute("SELECT name FROM pragma_table_info(?)", (name,))
            )
            if _TABLES.get(name) != columns:
                raise _NotOurs(f"another program's database (table {name!r})")

    def _move_aside(self, why: str) -> None:
        aside = self.path.with_name(self.path.name + ".old")
        for suffix in ("-wal", "-shm"):  # the old file's journal must not meet the new one
            with contextlib.suppress(FileNotFoundError):
                os.replace(f"{self.path}{suffix}", f"{aside}{suffix}")
        os.replace(self.path, aside)
        log.warning("index cache %s was %s: moved to %s and rebuilt", self.path, why, aside.name)

    def _off(self, exc: BaseException) -> None:
        """Stop using the cache for this process, saying why once."""
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, OSError) and exc.strerror:
            reason = exc.strerror
        if self.problem is None:
            self.problem = reason
            log.warning("index cache %s: %s; indexing without a cache", self.path, reason)
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None

    def _failed(self, exc: sqlite3.Error) -> None:
        """A storage error during use (lock held): the cache is off for this process; a
        file found unreadable is moved aside for the next one (unless another process has
        already replaced it)."""
        ino = self._ino
        self._off(exc)
        if exc.sqlite_errorname in _UNREADABLE:
            with contextlib.suppress(OSError), _locked(self.path):
                if os.stat(self.path).st_ino == ino:
                    self._move_aside(f"unreadable ({exc})")

    @staticmethod
    def _key(digest: str, language: str) -> str:
        return f"{digest}:{language}"

    def stats(self) -> dict[str, Stat]:
        with self._lock:
            if self._db is None:
                return {}
            try:
                rows = self._db.execute("SELECT path, mtime_ns, size, digest, language FROM files")
                return {r[0]: Stat(r[1], r[2], r[3], r[4]) for r in rows}
            except sqlite3.Error as exc:
                self._failed(exc)
                return {}

    def entry_keys(self) -> set[str]:
        with self._lock:
            if self._db is None:
                return set()
            try:
                return {r[0] for r in self._db.execute("SELECT key FROM entries")}
            except sqlite3.Error as exc:
                self._failed(exc)
                return set()

    def entries(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], bytes]:
        wanted = {self._key(d, lang): (d, lang) for d, lang in keys}
        out: dict[tuple[str, str], bytes] = {}
        items = list(wanted)
        with self._lock:
            if self._db is None:
                return out
            try:
                for i in range(0, len(items), 500):
                    chunk = items[i : i + 500]
                    marks = ",".join("?" * len(chunk))
                    for key, data in self._db.execute(
                        f"SELECT key, data FROM entries WHERE key IN ({marks})", chunk
                    ):
                        out[wanted[key]] = data
            except sqlite3.Error as exc:
                self._failed(exc)
                return {}
        return out

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection | None]:
        """One write transaction, under the lock (None when the cache is off): committed
        when the block ends, rolled back when it raises; a storage error turns the cache
        off (see `_failed`) instead of reaching the caller."""
        with self._lock:
            db = self._db
            if db is None:
                yield None
                return
            try:
                _patiently(lambda: db.execute("BEGIN IMMEDIATE"))  # the write lock now
                try:
                    yield db
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                self._failed(exc)

    def put_many(self, rows: Iterable[tuple[str, int, int, str, str, bytes | None]]) -> None:
        """(path, mtime_ns, size, digest, language, data or None when already stored)."""
        with self._transaction() as db:
            if db is None:
                return
            for path, mtime_ns, size, digest, language, data in rows:
                if data is not None:
                    db.execute(
                        "INSERT OR REPLACE INTO entries VALUES (?, ?)",
                        (self._key(digest, language), data),
                    )
                db.execute(
                    "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
                    (path, mtime_ns, size, digest, language),
                )

    def retain(self, paths_kept: Iterable[str]) -> None:
        """Forget files no longer in the workspace and entries no file uses."""
        kept = set(paths_kept)
        with self._transaction() as db:
            if db is None:
                return
            gone = [r[0] for r in db.execute("SELECT path FROM files") if r[0] not in kept]
            db.executemany("DELETE FROM files WHERE path=?", [(p,) for p in gone])
            db.execute(
                "DELETE FROM entries WHERE key NOT IN (SELECT digest || ':' || language FROM files)"
            )

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._db.close()
                self._db = None
