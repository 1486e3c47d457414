"""The persistent index cache: SQLite under the user's cache folder, keyed by content hash.

One database per workspace root (never inside the workspace). ``files`` maps a path to the
(mtime, size, digest) it had when indexed, so a warm start re-reads only files whose stat
changed; ``entries`` holds the extracted index of a content digest, so a file whose stat
changed but whose bytes did not is not parsed again. ``defs``, ``refs``, ``imports`` and ``heads``
are the reference graph by content (an entry's definitions by name and index, the names it
uses, what it imports, the names on its class headers), so "which files define X", "which
use X" and "where may a class derive from X" read the rows of their answer, not every file; the
workspace maps entries to paths (index/workspace.py). Entry ids are never reused, so rows of
an entry since forgotten match nothing and are swept in bulk now and then. Storage faults
heal or explain: see ``IndexCache``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import logging
import operator
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

from scopewise import __version__, paths
from scopewise.index import languages
from scopewise.index.model import SCHEMA, Graph, graph_of

STORAGE = 3  # bump when the tables change: a cache of another layout is made again
# 3: heads, the names on each entry's class headers (who may derive from a name)
# a stat taken this close to a change is not trusted: a file system's clock may tick coarsely
# (jiffies, whole seconds), so a later change could keep the same mtime; stored as -1, such a
# file is read (and hashed) again at the next start
RACY_NS = 2_000_000_000

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
    entry: int | None = None  # the id of its entry (None: the cache does not hold it)
    defs: int = 0  # how many definitions and references the entry has
    refs: int = 0


Row = tuple[str, int, int, str, str, bytes | None]  # path, mtime_ns, size, digest, language, data


@functools.cache
def _version_key() -> str:
    """What a cache is valid for: the schema and layout, scopewise's version, tree-sitter's and
    the grammars' versions, the queries. Kept in a file under the fingerprint it was made at
    (`_fingerprint`), so a start neither loads `importlib.metadata` nor imports the grammars."""
    fingerprint = _fingerprint()
    kept = paths.cache_dir() / "index" / "version-key"
    with contextlib.suppress(OSError, UnicodeDecodeError):
        stored, _, key = kept.read_text(encoding="utf-8").partition("\n")
        if stored == fingerprint and key:
            return key
    key = _made_key()
    temp = kept.with_name(f"version-key.{os.getpid()}")
    try:  # in one step; a full disk leaves neither a part nor the temporary file
        kept.parent.mkdir(parents=True, exist_ok=True)
        temp.write_text(f"{fingerprint}\n{key}", encoding="utf-8")
        os.replace(temp, kept)
    except OSError:
        temp.unlink(missing_ok=True)
    return key


def _stat(path: str | Path) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return "-"
    return f"{st.st_mtime_ns}:{st.st_size}"


def _fingerprint() -> str:
    """The stats `_made_key` depends on, with scopewise's version and layout: for
    tree-sitter and each grammar, where it is imported from (the import path decides), the
    folder it is installed in (installing, upgrading or removing a package there makes or
    removes its dist-info folder, which moves the folder's mtime), its module file and
    tags.scm; and our query files. A change to any of them makes the key again. Not the
    import path itself: its first entry is the current folder, which would make the key
    again whenever a command runs from another folder."""
    parts = [__version__, str(SCHEMA), str(STORAGE), languages.__file__]
    modules = {m for s in languages.LANGUAGES for m in (s.module, *s.tags_from)}
    for name in sorted(modules | {"tree_sitter"}):
        found = importlib.util.find_spec(name)
        origin = Path(found.origin) if found is not None and found.origin else None
        if origin is None:
            parts.append(f"{name}=?")
            continue
        home = origin.parent.parent if origin.name == "__init__.py" else origin.parent
        tags = origin.parent / "queries" / "tags.scm"
        parts.append(f"{name}={origin}:{_stat(home)},{_stat(origin)},{_stat(tags)}")
    queries = Path(languages.__file__).parent / "queries"
    with contextlib.suppress(OSError):
        parts += [f"{f}={_stat(queries / f)}" for f in sorted(os.listdir(queries))]
    return hashlib.sha1("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _made_key() -> str:
    from importlib import metadata  # only when the fingerprint moved: it costs ~20 ms

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
            languages.query_source(s.name)
            + languages.refs_source(s.name)
            + languages.top_source(s.name)
            for s in languages.LANGUAGES
        ).encode("utf-8")
    ).hexdigest()[:12]
    return (
        f"{SCHEMA}.{STORAGE}|{__version__}|tree-sitter={ts_version}|{','.join(sorted(set(grammars)))}"
        f"|queries={queries}"
    )


def default_path(root: Path) -> Path:
    key = hashlib.sha1(str(root.resolve()).encode("utf-8")).hexdigest()[:16]
    folder = paths.cache_dir() / "index"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{root.resolve().name or 'root'}-{key}.sqlite3"


def read_listing(db_path: Path, key: str) -> bytes | None:
    """The listing stored under `key` in the cache file at `db_path`, read as a reader only
    (no lock taken, nothing made or written: the look of a child process that checks it,
    index/listing.py); None when there is none or the file cannot be read."""
    try:
        db = sqlite3.connect(f"{db_path.absolute().as_uri()}?mode=ro", uri=True, timeout=1.0)
        try:
            row = db.execute("SELECT data FROM listings WHERE key=?", (key,)).fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return bytes(row[0]) if row else None


# the tables this version writes, and their columns: anything else in the file is foreign
_TABLES = {
    "meta": ("key", "value"),
    "files": ("path", "mtime_ns", "size", "digest", "language"),
    "entries": ("id", "key", "ndefs", "nrefs", "data"),
    "defs": ("name", "entry", "idx", "kind", "top"),
    "refs": ("name", "entry"),
    "heads": ("name", "entry"),
    "imports": ("module", "name", "entry"),
    "listings": ("key", "data"),
    "sqlite_sequence": ("name", "seq"),
}
_CREATE = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL,
    digest TEXT NOT NULL, language TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE,
    ndefs INTEGER NOT NULL, nrefs INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS defs (
    name TEXT NOT NULL, entry INTEGER NOT NULL, idx INTEGER NOT NULL, kind TEXT NOT NULL,
    top INTEGER NOT NULL, PRIMARY KEY (name, entry, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS imports (
    module TEXT NOT NULL, name TEXT NOT NULL, entry INTEGER NOT NULL,
    PRIMARY KEY (module, name, entry)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS imports_of ON imports (entry);
CREATE TABLE IF NOT EXISTS refs (
    name TEXT NOT NULL, entry INTEGER NOT NULL, PRIMARY KEY (name, entry)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS heads (
    name TEXT NOT NULL, entry INTEGER NOT NULL, PRIMARY KEY (name, entry)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS listings (key TEXT PRIMARY KEY, data BLOB NOT NULL);
"""
_LISTINGS = 4  # stored listings kept (one per settings and open folders), the newest
_SWEEP_SHARE = 4  # sweep the graph rows of forgotten entries past 1/4 of the live ones
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


class _GraphRows(NamedTuple):
    """The graph rows of a write's new entries, inserted together in key order: a B-tree
    takes sorted keys for less (each file's names are spread over the whole table). Sorted
    by the key's text columns alone, which is key order: rows are added by entry, in
    increasing ids, and an entry's definitions of one name in increasing index (a stable
    sort keeps both); a key of strings sorts ~2.5x faster than whole tuples."""

    defs: list[tuple[str, int, int, str, int]]
    refs: list[tuple[str, int]]
    imports: list[tuple[str, str, int]]
    heads: list[tuple[str, int]]

    def add(self, entry: int, g: Graph) -> None:
        self.defs.extend((n, entry, i, k, int(top)) for i, (n, k, top) in enumerate(g.defs))
        self.refs.extend((n, entry) for n in g.refs)
        self.imports.extend((*m, entry) for m in g.imports)
        self.heads.extend((n, entry) for n in g.heads)

    def insert(self, db: sqlite3.Connection) -> None:
        tables: tuple[tuple[str, list[Any], Callable[[Any], Any]], ...] = (
            ("INSERT INTO defs VALUES (?, ?, ?, ?, ?)", self.defs, _BY_NAME),
            ("INSERT INTO refs VALUES (?, ?)", self.refs, _BY_NAME),
            ("INSERT INTO imports VALUES (?, ?, ?)", self.imports, _BY_MODULE_NAME),
            ("INSERT INTO heads VALUES (?, ?)", self.heads, _BY_NAME),
        )
        for sql, rows, key in tables:
            rows.sort(key=key)
            db.executemany(sql, rows)


_BY_NAME = operator.itemgetter(0)
_BY_MODULE_NAME = operator.itemgetter(0, 1)


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
        self._writable = True  # a write failed (a full disk): what is stored is still read
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
            with contextlib.suppress(sqlite3.Error):  # read-only: `heads_of` scans instead
                db.execute("CREATE INDEX IF NOT EXISTS heads_of ON heads (entry)")
            version = _version_key()
            row = db.execute("SELECT value FROM meta WHERE key='version'").fetchone()
            if row is None:  # (another version's is refused by _check)
                db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (version,))
        except BaseException:
            db.close()
            raise
        self._ino = os.stat(self.path).st_ino
        return db

    @staticmethod
    def _check(db: sqlite3.Connection) -> None:
        """Raise _NotOurs when the database holds tables this cache does not write."""
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        if "meta" in tables and _TABLES["meta"] == tuple(
            r[0] for r in db.execute("SELECT name FROM pragma_table_info('meta')")
        ):
            row = db.execute("SELECT value FROM meta WHERE key='version'").fetchone()
            if row is not None and row[0] != _version_key():  # an older scopewise's tables
                raise _NotOurs("written by another version of scopewise or its grammars")
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

    def _write_failed(self, exc: sqlite3.Error) -> None:
        """A write failed (lock held): an unreadable file turns the cache off; otherwise (a
        full disk, a read-only folder) nothing more is written, and what is stored is still
        read — the reference graph of the stored files lives there."""
        if exc.sqlite_errorname in _UNREADABLE:
            self._failed(exc)
            return
        self._writable = False
        if self.problem is None:
            self.problem = str(exc) or type(exc).__name__
            log.warning(
                "index cache %s: %s; indexing without a cache (what it holds is still read)",
                self.path,
                self.problem,
            )

    @property
    def readable(self) -> bool:
        return self._db is not None

    @staticmethod
    def _key(digest: str, language: str) -> str:
        return f"{digest}:{language}"

    def _read(self, query: str, args: Iterable[object] = ()) -> list[Any]:
        """All rows of one read ([] when the cache is off or fails: see `_failed`)."""
        with self._lock:
            if self._db is None:
                return []
            try:
                return self._db.execute(query, tuple(args)).fetchall()
            except sqlite3.Error as exc:
                self._failed(exc)
                return []

    def stats(self) -> dict[str, Stat]:
        """Every stored path: its stat when indexed, and its entry (id and counts)."""
        rows = self._read(
            "SELECT f.path, f.mtime_ns, f.size, f.digest, f.language, e.id, e.ndefs, e.nrefs"
            " FROM files f LEFT JOIN entries e ON e.key = f.digest || ':' || f.language"
        )
        return {str(r[0]): Stat(r[1], r[2], r[3], r[4], r[5], r[6] or 0, r[7] or 0) for r in rows}

    def entry_keys(self) -> set[str]:
        return {str(r[0]) for r in self._read("SELECT key FROM entries")}

    def entries(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], bytes]:
        wanted = {self._key(d, lang): (d, lang) for d, lang in keys}
        out: dict[tuple[str, str], bytes] = {}
        items = list(wanted)
        for i in range(0, len(items), 500):
            chunk = items[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for key, data in self._read(
                f"SELECT key, data FROM entries WHERE key IN ({marks})", chunk
            ):
                out[wanted[str(key)]] = bytes(data)
        return out

    def blob(self, entry: int) -> tuple[str, bytes] | None:
        """The content digest and stored index of one entry (None: forgotten since, or the
        cache is off)."""
        rows = self._read("SELECT key, data FROM entries WHERE id=?", (entry,))
        return (str(rows[0][0]).rpartition(":")[0], bytes(rows[0][1])) if rows else None

    def entry_counts(self) -> dict[int, tuple[str, int, int]]:
        """Every entry's language and how many definitions and references it has."""
        rows = self._read("SELECT id, key, ndefs, nrefs FROM entries")
        return {int(i): (str(k).rpartition(":")[2], int(d), int(r)) for i, k, d, r in rows}

    def live_entries(self) -> set[int]:
        return {int(r[0]) for r in self._read("SELECT id FROM entries")}

    def forgotten(self) -> int:
        """How many times entries were forgotten (`retain`): a stored listing written at
        another count may name entries that are gone."""
        rows = self._read("SELECT value FROM meta WHERE key='forgot'")
        return int(rows[0][0]) if rows else 0

    def listing(self, key: str) -> bytes | None:
        """The stored listing under `key` (see index/listing.py), or None."""
        rows = self._read("SELECT data FROM listings WHERE key=?", (key,))
        return bytes(rows[0][0]) if rows else None

    def put_listing(self, key: str, data: bytes) -> None:
        """Store a listing under `key`, keeping the newest few."""
        with self._transaction() as db:
            if db is None:
                return
            db.execute("DELETE FROM listings WHERE key=?", (key,))
            db.execute("INSERT INTO listings VALUES (?, ?)", (key, data))
            db.execute(
                "DELETE FROM listings WHERE rowid NOT IN"
                " (SELECT rowid FROM listings ORDER BY rowid DESC LIMIT ?)",
                (_LISTINGS,),
            )

    def defs_named(self, name: str) -> list[tuple[int, int, str, bool]]:
        """(entry, index, kind, top level) of every stored definition called `name`."""
        rows = self._read("SELECT entry, idx, kind, top FROM defs WHERE name=?", (name,))
        return [(int(e), int(i), str(k), bool(t)) for e, i, k, t in rows]

    def entries_importing(self, module: str) -> list[tuple[int, str]]:
        """(entry, name taken or "") of every stored import of `module`."""
        rows = self._read("SELECT entry, name FROM imports WHERE module=?", (module,))
        return [(int(e), str(n)) for e, n in rows]

    def imports_of(self, entry: int) -> list[tuple[str, str]]:
        """(module, name taken or "") of what one entry imports, sorted."""
        rows = self._read(
            "SELECT module, name FROM imports WHERE entry=? ORDER BY module, name", (entry,)
        )
        return [(str(m), str(n)) for m, n in rows]

    def entries_using(self, name: str, table: Literal["refs", "heads"] = "refs") -> list[int]:
        """The entries that use `name` ("refs"), or on a class's header ("heads")."""
        return [int(r[0]) for r in self._read(f"SELECT entry FROM {table} WHERE name=?", (name,))]

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection | None]:
        """One write transaction, under the lock (None when the cache is off): committed
        when the block ends, rolled back when it raises; a storage error turns the cache
        off (see `_failed`) instead of reaching the caller."""
        with self._lock:
            db = self._db
            if db is None or not self._writable:
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
                self._write_failed(exc)

    def put_many(self, rows: Iterable[Row]) -> dict[str, tuple[int, int, int]]:
        """(path, mtime_ns, size, digest, language, data or None when already stored), with
        the graph rows of each new entry, in one transaction. Returns (entry id, definitions,
        references) of each stored ``digest:language`` key (none when the cache is off or
        failed)."""
        ids: dict[str, tuple[int, int, int]] = {}
        recent = time.time_ns() - RACY_NS
        graph = _GraphRows([], [], [], [])
        with self._transaction() as db:
            if db is None:
                return {}
            for path, mtime_ns, size, digest, language, data in rows:
                key = self._key(digest, language)
                if key not in ids:
                    row = db.execute(
                        "SELECT id, ndefs, nrefs FROM entries WHERE key=?", (key,)
                    ).fetchone()
                    if row is not None:
                        ids[key] = (int(row[0]), int(row[1]), int(row[2]))
                    elif data is not None:
                        ids[key] = self._put_entry(db, key, data, graph)
                db.execute(
                    "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
                    (path, mtime_ns if mtime_ns < recent else -1, size, digest, language),
                )
            graph.insert(db)
        return ids if (self._db is not None and self._writable) else {}

    @staticmethod
    def _put_entry(
        db: sqlite3.Connection, key: str, data: bytes, graph: _GraphRows
    ) -> tuple[int, int, int]:
        """A new entry (its key not stored yet), its graph rows kept in `graph`: (id,
        definitions, references)."""
        g = graph_of(data) or Graph([], [], 0, [], [])
        cur = db.execute(
            "INSERT INTO entries (key, ndefs, nrefs, data) VALUES (?, ?, ?, ?)",
            (key, len(g.defs), g.uses, data),
        )
        entry = int(cur.lastrowid or 0)
        graph.add(entry, g)
        return entry, len(g.defs), g.uses

    def retain(self, paths_kept: Iterable[str]) -> None:
        """Forget files no longer in the workspace and entries no file uses; their graph rows
        go in bulk once they are a fair share of the table (until then they match no file)."""
        kept = set(paths_kept)
        with self._transaction() as db:
            if db is None:
                return
            gone = [r[0] for r in db.execute("SELECT path FROM files") if r[0] not in kept]
            db.executemany("DELETE FROM files WHERE path=?", [(p,) for p in gone])
            cur = db.execute(
                "DELETE FROM entries WHERE key NOT IN (SELECT digest || ':' || language FROM files)"
            )
            if cur.rowcount:  # a stored listing may name them (see `forgotten`)
                db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('forgot', ?)",
                    (str(self._forgotten(db) + 1),),
                )
            live = db.execute("SELECT count(*) FROM entries").fetchone()[0]
            seq = db.execute("SELECT seq FROM sqlite_sequence WHERE name='entries'").fetchone()
            swept = db.execute("SELECT value FROM meta WHERE key='swept'").fetchone()
            # ids are never reused: of the `seq` entries ever made, `seq - live` are forgotten,
            # and `swept` of those had their rows deleted at the last sweep
            dead = (int(seq[0]) if seq else 0) - live
            if (dead - (int(swept[0]) if swept else 0)) * _SWEEP_SHARE > max(live, 64):
                for table in ("defs", "refs", "imports", "heads"):
                    db.execute(f"DELETE FROM {table} WHERE entry NOT IN (SELECT id FROM entries)")
                db.execute("INSERT OR REPLACE INTO meta VALUES ('swept', ?)", (str(dead),))

    @staticmethod
    def _forgotten(db: sqlite3.Connection) -> int:
        row = db.execute("SELECT value FROM meta WHERE key='forgot'").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._db.close()
                self._db = None


def defs_page(
    cache: IndexCache, name: str, after: tuple[int, int], limit: int, top: bool | None = None
) -> list[tuple[int, int, str, bool]]:
    """`cache.defs_named`'s rows past (entry, index) `after`, in that order, at most
    `limit`, only those at the top level or only the others if `top` says: a caller that
    stops early reads no more of a common name's rows than it needs."""
    level = "" if top is None else f" AND top={int(top)}"
    rows = cache._read(
        "SELECT entry, idx, kind, top FROM defs WHERE name=? AND (entry, idx) > (?, ?)"
        f"{level} ORDER BY entry, idx LIMIT ?",
        (name, after[0], after[1], limit),
    )
    return [(int(e), int(i), str(k), bool(t)) for e, i, k, t in rows]


def defs_per_entry(cache: IndexCache, name: str) -> list[tuple[int, int]]:
    """(entry, how many) of the stored definitions called `name`: a count without a row
    per definition (`__init__`: 9,168 definitions in 3,004 entries at 50k files)."""
    rows = cache._read("SELECT entry, count(*) FROM defs WHERE name=? GROUP BY entry", (name,))
    return [(int(e), int(n)) for e, n in rows]


def defs_in_entry(cache: IndexCache, name: str, entry: int) -> list[tuple[int, str, bool]]:
    """(index, kind, top level) of the stored definitions called `name` in one entry, in
    index order (the primary key's prefix: a few rows, whatever the name's count)."""
    rows = cache._read(
        "SELECT idx, kind, top FROM defs WHERE name=? AND entry=? ORDER BY idx", (name, entry)
    )
    return [(int(i), str(k), bool(t)) for i, k, t in rows]


def heads_of(cache: IndexCache, entry: int) -> list[str] | None:
    """The names on one stored entry's class headers, sorted: what `model.header_names`
    made of it when it was written (a pass over every name of the file, 25 ms for a
    5,900-name bundle); None when the entry is gone or the cache cannot say."""
    rows = cache._read(
        "SELECT h.name FROM entries e LEFT JOIN heads h ON h.entry = e.id WHERE e.id=? "
        "ORDER BY h.name",
        (entry,),
    )
    return [str(r[0]) for r in rows if r[0] is not None] if rows else None


def refs_page(cache: IndexCache, name: str, after: int, limit: int) -> list[int]:
    """The entries that use `name` past entry `after`, in order, at most `limit`."""
    rows = cache._read(
        "SELECT entry FROM refs WHERE name=? AND entry > ? ORDER BY entry LIMIT ?",
        (name, after, limit),
    )
    return [int(r[0]) for r in rows]
