"""The workspace index: every file's FileIndex plus the workspace-wide symbol table and
reference graph, built in parallel, cached in SQLite and kept current as files change.

Writers: `build` (the whole workspace) and, per file, `update` (a text), `refresh_from_disk`,
`leave_out` and `remove`. Their callers are `Engine.index` and `Engine.sync`
(analysis/engine.py) and the language server's document sync. Everything else only reads."""

from __future__ import annotations

import bisect
import contextlib
import logging
import multiprocessing
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.synchronize import Event
from pathlib import Path

from scopewise.index import extract as _extract
from scopewise.index import languages
from scopewise.index.cache import IndexCache, default_path
from scopewise.index.files import (
    Skipped,
    admits,
    content_problem,
    inside,
    list_files,
    listing_source,
    read_regular,
    too_large,
)
from scopewise.index.gate import GATE, die_with_parent
from scopewise.index.model import FileIndex
from scopewise.settings import FileSettings

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
_PARALLEL_MIN = 48  # fewer files than this to parse: no worker processes
_BATCH = 24


class NotAWorkspace(ValueError):
    """The path is not a folder that can be indexed."""


@dataclass
class IndexStats:
    root: str
    files: int = 0
    symbols: int = 0
    references: int = 0
    languages: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    cache_hits: int = 0
    parsed: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    cache_path: str | None = None
    cache_problem: str | None = None  # why the cache was not used (the index went on without)
    file_source: str = "walk"


@dataclass(frozen=True)
class _Parsed:
    path: str
    language: str
    mtime_ns: int
    size: int
    digest: str = ""
    data: bytes | None = None  # marshalled FileIndex, None when the cache already holds it
    problem: str | None = None


_KNOWN: frozenset[str] = frozenset()
_GO: Event | None = None  # set while the worker may parse (see index/gate.py)


def _init_worker(known: frozenset[str], owner: int, go: Event) -> None:
    global _KNOWN, _GO
    _KNOWN, _GO = known, go
    # at the priority of the process that asked: a niced worker gets next to no CPU on a
    # busy machine, and could never be raised again; it is stopped instead while that
    # process answers a request (or, where it cannot be, waits on `go` between files)
    die_with_parent()  # stopped, it could not notice its parent's end by itself
    # a worker must not outlive the process that asked for it (a language server killed
    # mid-index would otherwise leave its workers parsing, or waiting, forever)
    threading.Thread(target=_exit_with, args=(owner,), daemon=True).start()


def _exit_with(owner: int) -> None:
    while True:
        time.sleep(0.5)
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass


def _parse_one(
    root: str, rel: str, language: str, settings: FileSettings, known: frozenset[str]
) -> _Parsed:
    full = os.path.join(root, rel)
    try:
        data, st = read_regular(full, settings.max_file_bytes + 1)
    except OSError as exc:
        return _Parsed(rel, language, 0, 0, problem=f"unreadable: {exc.strerror or exc}")
    if len(data) > settings.max_file_bytes:
        why = too_large(st.st_size, settings.max_file_bytes)
        return _Parsed(rel, language, st.st_mtime_ns, st.st_size, problem=why)
    problem = content_problem(data, settings)
    if problem:
        return _Parsed(rel, language, st.st_mtime_ns, st.st_size, problem=problem)
    digest = _extract.digest(data)
    if f"{digest}:{language}" in known:
        return _Parsed(rel, language, st.st_mtime_ns, st.st_size, digest)
    try:
        fi = _extract.extract(rel, language, data)
    except _extract.ParseTimeout as exc:
        return _Parsed(rel, language, st.st_mtime_ns, st.st_size, problem=str(exc))
    return _Parsed(rel, language, st.st_mtime_ns, st.st_size, digest, fi.dumps())


def _parse_batch(root: str, items: list[tuple[str, str]], settings: FileSettings) -> list[_Parsed]:
    out = []
    for rel, lang in items:
        if _GO is not None:
            _GO.wait()  # held while the process that asked answers a request
        out.append(_parse_one(root, rel, lang, settings, _KNOWN))
    return out


@contextlib.contextmanager
def _pool(workers: int, known: frozenset[str], langs: set[str]) -> Iterator[ProcessPoolExecutor]:
    """Worker processes: forked when this process has a single thread (cheap, and the
    grammars and queries come along), from a fork server otherwise (the language server
    runs threads, and forking a threaded process is unsafe). They run while `GATE` is
    open."""
    ctx: multiprocessing.context.BaseContext
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("fork")
        for lang in langs:  # compile once here, inherit in every worker
            languages.index_query(lang)
    else:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["scopewise.index.extract"])
    go = GATE.event(ctx)
    pool = ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=_init_worker, initargs=(known, os.getpid(), go)
    )
    try:
        yield pool
    finally:
        GATE.release(go, _workers_of(pool))  # before they exit: see WorkerGate.release
        pool.shutdown(wait=True)


def _workers_of(pool: ProcessPoolExecutor) -> list[int]:
    """The pids of a pool's worker processes (started as work is submitted)."""
    return list(pool._processes or ())


class WorkspaceIndex:
    """All indexed files of one workspace root and the name tables across them."""

    def __init__(
        self,
        root: Path | str,
        settings: FileSettings | None = None,
        *,
        use_cache: bool = True,
        cache_path: Path | None = None,
    ) -> None:
        root = Path(root)
        if not root.is_dir():
            raise NotAWorkspace(f"not a folder: {root}")
        self.root = root.resolve()
        self.settings = settings or FileSettings()
        self._cache: IndexCache | None = None
        self._cache_problem: str | None = None  # why there is no cache (see IndexCache)
        if use_cache:
            try:
                self._cache = IndexCache(cache_path or default_path(self.root))
            except OSError as exc:  # the cache folder cannot be made: no cache, said once
                self._cache_problem = f"{exc.filename}: {exc.strerror or exc}"
                log.warning("index cache: %s; indexing without a cache", self._cache_problem)
        self.files: dict[str, FileIndex] = {}
        self.skipped: dict[str, str] = {}
        self._defs: dict[str, list[tuple[str, int]]] = {}
        self._lock = threading.RLock()
        self.ready = threading.Event()
        self._git: bool | None = None
        self._admits: dict[str, bool] = {}  # verdicts of `admits`, until the next build
        self._admits_under = self.settings  # ...or new settings

    # ------------------------------------------------------------------ building
    def build(
        self, progress: Progress | None = None, workers: int | None = None, keep: Iterable[str] = ()
    ) -> IndexStats:
        """Index the whole workspace (cache first). Safe to call again: a rebuild. Past
        `max_files`, the folders of the files in `keep` (the open ones) are left out last."""
        t0 = time.perf_counter()
        listing = list_files(self.root, self.settings, keep)
        self._git = listing.source == "git"
        self._admits = {}  # ignore files or settings may have changed: judge again
        stats = IndexStats(str(self.root), file_source=listing.source)
        stats.cache_path = str(self._cache.path) if self._cache else None
        stats.skipped = list(listing.skipped)
        cached = self._cache.stats() if self._cache else {}
        todo: list[tuple[str, str]] = []
        reuse: list[tuple[str, str, str]] = []  # (path, digest, language)
        for rel in listing.files:
            spec = languages.language_for_path(rel)
            assert spec is not None
            c = cached.get(rel)
            unchanged = c is not None and listing.stats.get(rel) == (c.mtime_ns, c.size)
            if c is not None and unchanged and c.language == spec.name:
                reuse.append((rel, c.digest, spec.name))
                continue
            todo.append((rel, spec.name))
        total = len(reuse) + len(todo)
        done = 0
        loaded: dict[str, FileIndex] = {}
        if reuse and self._cache:
            blobs = self._cache.entries((d, lang) for _, d, lang in reuse)
            for rel, d, lang in reuse:
                blob = blobs.get((d, lang))
                fi = FileIndex.loads(rel, d, blob) if blob is not None else None
                if fi is None:
                    todo.append((rel, lang))
                    continue
                loaded[rel] = fi
                stats.cache_hits += 1
            done = len(loaded)
            if progress:
                progress(done, total)
        parsed = self._parse_all(todo, stats, loaded, progress, done, total, workers)
        defs = _defs_table(loaded.values())  # built outside the lock: requests go on meanwhile
        with self._lock:
            self.files = loaded
            self.skipped = {s.path: s.reason for s in stats.skipped}
            self._defs = defs
        if self._cache:
            self._cache.put_many(parsed)
            self._cache.retain(loaded)
        stats.cache_problem = self._cache.problem if self._cache else self._cache_problem
        stats.seconds = time.perf_counter() - t0
        self._fill_counts(stats)
        self.ready.set()
        return stats

    def _parse_all(
        self,
        todo: list[tuple[str, str]],
        stats: IndexStats,
        loaded: dict[str, FileIndex],
        progress: Progress | None,
        done: int,
        total: int,
        workers: int | None,
    ) -> list[tuple[str, int, int, str, str, bytes | None]]:
        known = frozenset(self._cache.entry_keys()) if (self._cache and todo) else frozenset()
        rows: list[tuple[str, int, int, str, str, bytes | None]] = []
        fetch: list[_Parsed] = []

        def take(results: Iterable[_Parsed]) -> None:
            nonlocal done
            for r in results:
                done += 1
                if r.problem:
                    stats.skipped.append(Skipped(r.path, r.problem))
                    log.info("not indexed: %s (%s)", r.path, r.problem)
                    continue
                if r.data is None:
                    fetch.append(r)
                    continue
                fi = FileIndex.loads(r.path, r.digest, r.data)
                if fi is not None:
                    loaded[r.path] = fi
                    stats.parsed += 1
                rows.append((r.path, r.mtime_ns, r.size, r.digest, r.language, r.data))
            if progress:
                progress(done, total)

        n_workers = workers if workers is not None else min(os.cpu_count() or 1, 8)
        root = str(self.root)
        if n_workers > 1 and len(todo) >= _PARALLEL_MIN:
            batches = [todo[i : i + _BATCH] for i in range(0, len(todo), _BATCH)]
            with _pool(n_workers, known, {lang for _, lang in todo}) as pool:
                futures = [pool.submit(_parse_batch, root, b, self.settings) for b in batches]
                GATE.stoppable(_workers_of(pool))
                for fut in futures:
                    take(fut.result())
        else:
            for i in range(0, len(todo), _BATCH):
                take(
                    _parse_one(root, rel, lang, self.settings, known)
                    for rel, lang in todo[i : i + _BATCH]
                )
        if fetch and self._cache:  # same content under another path or a touched file
            blobs = self._cache.entries((r.digest, r.language) for r in fetch)
            for r in fetch:
                blob = blobs.get((r.digest, r.language))
                fi = FileIndex.loads(r.path, r.digest, blob) if blob is not None else None
                if fi is None:
                    continue
                loaded[r.path] = fi
                stats.cache_hits += 1
                rows.append((r.path, r.mtime_ns, r.size, r.digest, r.language, None))
        return rows

    def _add_tables(self, fi: FileIndex) -> None:
        for i, d in enumerate(fi.definitions):  # kept in (path, index) order
            bisect.insort(self._defs.setdefault(d.name, []), (fi.path, i))

    def _remove_tables(self, fi: FileIndex) -> None:
        for d in fi.definitions:
            lst = self._defs.get(d.name)
            if lst:
                lst[:] = [e for e in lst if e[0] != fi.path]
                if not lst:
                    del self._defs[d.name]

    def _fill_counts(self, stats: IndexStats) -> None:
        with self._lock:
            files = list(self.files.values())  # counted outside the lock
        stats.files = len(files)
        stats.symbols = sum(len(f.definitions) for f in files)
        stats.references = sum(f.ref_count for f in files)
        langs: dict[str, int] = {}
        for f in files:
            langs[f.language] = langs.get(f.language, 0) + 1
        stats.languages = dict(sorted(langs.items()))

    def stats(self) -> IndexStats:
        s = IndexStats(str(self.root))
        self._fill_counts(s)
        return s

    # ------------------------------------------------------------------ updates
    def update(self, rel: str, source: bytes, tree: object | None = None) -> FileIndex | None:
        """(Re)index one file from its current text (an editor buffer or the disk). Without a
        tree the text is parsed within its time limit: past it the file leaves the index,
        skipped with the reason, and None is returned."""
        spec = languages.language_for_path(rel)
        if spec is None:
            return None
        import tree_sitter as ts

        try:
            fi = _extract.extract(
                rel, spec.name, source, tree if isinstance(tree, ts.Tree) else None
            )
        except _extract.ParseTimeout as exc:
            log.info("not indexed: %s (%s)", rel, exc)
            self.remove(rel)
            self.skipped[rel] = str(exc)
            return None
        self._put(rel, fi)
        return fi

    def install(self, rel: str, fi: FileIndex) -> None:
        """Install an index made elsewhere from the file's current text (index/incremental)."""
        self._put(rel, fi)

    def _put(self, rel: str, fi: FileIndex) -> None:
        """Install a file's new index (in the tables too); it is no longer skipped."""
        with self._lock:
            old = self.files.get(rel)
            if old is not None:
                self._remove_tables(old)
            self.files[rel] = fi
            self.skipped.pop(rel, None)
            self._add_tables(fi)

    def leave_out(self, rel: str, reason: str) -> None:
        """Drop a file from the index, skipped with the reason (an open buffer too slow to
        parse: its text is followed, never indexed)."""
        if self.skipped.get(rel) == reason and rel not in self.files:
            return
        log.info("not indexed: %s (%s)", rel, reason)
        self.remove(rel)
        self.skipped[rel] = reason

    def admits(self, rel: str) -> bool:
        """Whether `rel` belongs in this index (ignore files, excludes, secrets, links out),
        whether or not it was listed when the index was built. Judged the way the listing
        was made: by git, or by walking (also inside a git work tree whose git ignores the
        whole folder, e.g. a project under an ignored folder of a dotfiles repo). Verdicts
        are kept until the next build (which a change to ignore files starts) or new
        settings: code actions on an excluded buffer ask on every cursor move."""
        if self._admits_under is not self.settings:
            self._admits, self._admits_under = {}, self.settings
        verdict = self._admits.get(rel)
        if verdict is None:
            if self._git is None:
                self._git = listing_source(self.root) == "git"
            verdict = self._admits[rel] = admits(self.root, rel, self.settings, self._git)
        return verdict

    def refresh_from_disk(self, rel: str) -> FileIndex | None:
        """A file changed, appeared or vanished on disk: bring the index in line."""
        spec = languages.language_for_path(rel)
        full = self.root / rel
        if spec is None or not full.is_file() or not inside(self.root, rel):
            self.remove(rel)
            self.skipped.pop(rel, None)
            return None
        r = _parse_one(str(self.root), rel, spec.name, self.settings, frozenset())
        if r.problem or r.data is None:
            self.remove(rel)
            if r.problem:
                self.skipped[rel] = r.problem
            return None
        fi = FileIndex.loads(rel, r.digest, r.data)
        if fi is None:
            return None
        self._put(rel, fi)
        if self._cache:
            self._cache.put_many([(rel, r.mtime_ns, r.size, r.digest, r.language, r.data)])
        return fi

    def remove(self, rel: str) -> None:
        with self._lock:
            old = self.files.pop(rel, None)
            if old is not None:
                self._remove_tables(old)

    # ------------------------------------------------------------------ queries
    def get(self, rel: str) -> FileIndex | None:
        return self.files.get(rel)

    def definitions_named(self, name: str) -> list[tuple[FileIndex, int]]:
        with self._lock:
            entries = list(self._defs.get(name, ()))
        out = []
        for path, i in entries:
            fi = self.files.get(path)
            if fi is not None and i < len(fi.definitions):
                out.append((fi, i))
        return out

    def files_using(self, name: str) -> list[str]:
        """Files that use `name` (a scan of per-file tables: ~0.1 ms per thousand files, and
        nothing to build or keep in step at start-up or on each keystroke)."""
        with self._lock:
            return sorted(p for p, fi in self.files.items() if name in fi.refs)

    def close(self) -> None:
        if self._cache:
            self._cache.close()
            self._cache = None


def _defs_table(files: Iterable[FileIndex]) -> dict[str, list[tuple[str, int]]]:
    """name -> (path, index) of every definition of that name, in (path, index) order:
    whatever order the workers indexed the files in, a query answers the same."""
    defs: defaultdict[str, list[tuple[str, int]]] = defaultdict(list)
    for fi in sorted(files, key=lambda f: f.path):
        path = fi.path
        for i, d in enumerate(fi.definitions):
            defs[d.name].append((path, i))
    return dict(defs)
