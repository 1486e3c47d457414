"""The persistent index cache: SQLite under the user's cache folder, keyed by content hash.

One database per workspace root (never inside the workspace). ``files`` maps a path to the
(mtime, size, digest) it had when indexed, so a warm start re-reads only files whose stat
changed; ``entries`` holds the extracted index of a content digest, so a file whose stat
changed but whose bytes did not is not parsed again.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from scopewise import __version__, languages, paths
from scopewise.index.model import SCHEMA


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


class IndexCache:
    """Thread-safe access to one workspace's cache database."""

    def __init__(self, db_path: Path) -> None:
        self.path = db_path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(db_path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS files (
                path TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL,
                digest TEXT NOT NULL, language TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, data BLOB NOT NULL);
            """
        )
        version = _version_key()
        row = self._db.execute("SELECT value FROM meta WHERE key='version'").fetchone()
        if row is None or row[0] != version:
            self._db.executescript("DELETE FROM files; DELETE FROM entries;")
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (version,))

    @staticmethod
    def _key(digest: str, language: str) -> str:
        return f"{digest}:{language}"

    def stats(self) -> dict[str, Stat]:
        with self._lock:
            rows = self._db.execute("SELECT path, mtime_ns, size, digest, language FROM files")
            return {r[0]: Stat(r[1], r[2], r[3], r[4]) for r in rows}

    def entry_keys(self) -> set[str]:
        with self._lock:
            return {r[0] for r in self._db.execute("SELECT key FROM entries")}

    def entries(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], bytes]:
        wanted = {self._key(d, lang): (d, lang) for d, lang in keys}
        out: dict[tuple[str, str], bytes] = {}
        items = list(wanted)
        with self._lock:
            for i in range(0, len(items), 500):
                chunk = items[i : i + 500]
                marks = ",".join("?" * len(chunk))
                for key, data in self._db.execute(
                    f"SELECT key, data FROM entries WHERE key IN ({marks})", chunk
                ):
                    out[wanted[key]] = data
        return out

    def put_many(self, rows: Iterable[tuple[str, int, int, str, str, bytes | None]]) -> None:
        """(path, mtime_ns, size, digest, language, data or None when already stored)."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                for path, mtime_ns, size, digest, language, data in rows:
                    if data is not None:
                        self._db.execute(
                            "INSERT OR REPLACE INTO entries VALUES (?, ?)",
                            (self._key(digest, language), data),
                        )
                    self._db.execute(
                        "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
                        (path, mtime_ns, size, digest, language),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def retain(self, paths_kept: Iterable[str]) -> None:
        """Forget files no longer in the workspace and entries no file uses."""
        kept = set(paths_kept)
        with self._lock:
            gone = [r[0] for r in self._db.execute("SELECT path FROM files") if r[0] not in kept]
            self._db.execute("BEGIN")
            self._db.executemany("DELETE FROM files WHERE path=?", [(p,) for p in gone])
            self._db.execute(
                "DELETE FROM entries WHERE key NOT IN (SELECT digest || ':' || language FROM files)"
            )
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()
