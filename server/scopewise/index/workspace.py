"""The workspace index: every file's FileIndex plus the workspace-wide symbol table and
reference graph, built in parallel, cached in SQLite and kept current as files change. The
files live in a `FileTable` (index/graph.py): stored in the cache and loaded on demand, or
pinned in memory; a warm start lists and stats the files and loads none.

Writers: `build` (the whole workspace) and, per file, `update` (a text), `refresh_from_disk`,
`leave_out` and `remove`. Their callers are `Engine.index` and `Engine.sync`
(analysis/engine.py) and the language server's document sync. Everything else only reads."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scopewise.index import extract as _extract
from scopewise.index import languages
from scopewise.index import listing as _listing
from scopewise.index.cache import IndexCache, Row, Stat, default_path
from scopewise.index.files import (
    FileList,
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
from scopewise.index.graph import FileTable, count_named, definitions_kept, repin
from scopewise.index.graph import counts as table_counts
from scopewise.index.model import FileIndex
from scopewise.settings import FileSettings

if TYPE_CHECKING:  # imported where a pool is made (`_pool`): a warm start makes none
    import multiprocessing.context
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing.synchronize import Event

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
_PARALLEL_MIN = 48  # fewer files than this to parse: no worker processes
_BATCH = 24
_STORE_EVERY = 256  # parsed files written to the cache at a time (memory stays bounded)


_CHECKS = threading.local()  # `loads_checked`: this thread's check after a file loads


@contextlib.contextmanager
def loads_checked(check: Callable[[], None]) -> Iterator[None]:
    """Within it, on this thread, `check()` runs after each stored file `get` or
    `definitions_named` loads: a reader's work counted by the file, which `check` may stop
    by raising (the file loaded stays in the file table's recent cache)."""
    was = getattr(_CHECKS, "check", None)
    _CHECKS.check = check
    try:
        yield
    finally:
        _CHECKS.check = was


def _get(files: FileTable, rel: str) -> FileIndex | None:
    """A file's index, the thread's check (`loads_checked`) run when it had to be loaded."""
    check: Callable[[], None] | None = getattr(_CHECKS, "check", None)
    if check is None:
        return files.get(rel)
    before = files.loads
    fi = files.get(rel)
    if files.loads != before:
        check()
    return fi


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
        fi = _extract.extract(rel, language, data, hashed=digest)
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
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

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
        self.files = FileTable(self._cache, self._reload)
        self.version = 0  # moves on with every change to the files' indexes (answers' memos)
        self.defs_version = 0  # ... with every change to which definitions there are
        self.skipped: dict[str, str] = {}
        self._lock = threading.RLock()
        self.ready = threading.Event()
        self._git: bool | None = None
        self._admits: dict[str, bool] = {}  # verdicts of `admits`, until the next build
        self._admits_under = self.settings  # ...or new settings
        self.check: _listing.Apart | None = None  # the last build's listing, taken as true
        self.listed: str | None = None  # ...its fingerprint, when the build changed nothing

    # ------------------------------------------------------------------ building
    def build(
        self,
        progress: Progress | None = None,
        workers: int | None = None,
        keep: Iterable[str] = (),
        assume: bool = False,
        ahead: _listing.Apart | None = None,
    ) -> IndexStats:
        """Index the whole workspace (cache first). Safe to call again: a rebuild. Past
        `max_files`, the folders of the files in `keep` (the open ones) are left out last. A
        file whose stat matches the cache's is taken as stored, without reading its index;
        the listing itself is the stored one while it is still true (index/listing.py).
        `assume`: that listing taken as true, checked apart (`check`; `listed` names it), by
        `ahead` when it was started before (`Apart.ahead`; it is closed when not used)."""
        t0 = time.perf_counter()
        self._admits = {}  # ignore files or settings may have changed: judge again
        lkey = _listing.key(str(self.root), self.settings, (k.rpartition("/")[0] for k in keep))
        data, stored, ahead = _stored_listing(self._cache, lkey, ahead)
        try:
            found = _from_stored(self.root, self.settings, self._cache, stored, assume, ahead)
        except (ValueError, TypeError, KeyError, IndexError) as exc:  # a damaged row
            log.warning("the stored file listing could not be used (%s): listing again", exc)
            found, stored = None, None
        found = found or _from_listing(self.root, self.settings, self._cache, keep, stored)
        stats, self.check = found.stats, found.check
        if ahead is not None and self.check is not ahead:
            ahead.close()
        self.listed = _listing.fingerprint(lkey, data) if assume and not found.write else None
        self._git = stats.file_source == "git"
        stats.cache_path = str(self._cache.path) if self._cache else None
        stats.cache_hits = len(found.stored)
        total = len(found.stored) + len(found.todo)
        if progress and found.stored:
            progress(len(found.stored), total)
        self._parse_all(found.todo, stats, found, progress, len(found.stored), total, workers)
        with self._lock:
            self.files.replace(found.pinned, found.stored)
            self.version += 1
            self.defs_version += 1
            self.skipped = {s.path: s.reason for s in stats.skipped}
        if self._cache and (found.todo or found.retain):  # else: nothing to write
            self._cache.retain(found.stored)
        stats.cache_problem = self._cache.problem if self._cache else self._cache_problem
        if found.counts is not None and not found.todo:
            stats.files, stats.symbols, stats.references, stats.languages = found.counts
        else:
            _counted(self.files, stats)
        _store_listing(self._cache, lkey, found, stats)
        stats.seconds = time.perf_counter() - t0
        self.ready.set()
        return stats

    def _parse_all(
        self,
        todo: list[tuple[str, str]],
        stats: IndexStats,
        found: _Found,
        progress: Progress | None,
        done: int,
        total: int,
        workers: int | None,
    ) -> None:
        known = frozenset(self._cache.entry_keys()) if (self._cache and todo) else frozenset()
        rows: list[Row] = []

        def take(results: Iterable[_Parsed]) -> None:
            nonlocal done
            for r in results:
                done += 1
                if r.problem:
                    stats.skipped.append(Skipped(r.path, r.problem))
                    log.info("not indexed: %s (%s)", r.path, r.problem)
                    continue
                rows.append((r.path, r.mtime_ns, r.size, r.digest, r.language, r.data))
            if len(rows) >= _STORE_EVERY:
                self._store(rows, stats, found)
                rows.clear()
            if progress:
                progress(done, total)

        n_workers = workers if workers is not None else min(os.cpu_count() or 1, 8)
        root = str(self.root)
        if n_workers > 1 and len(todo) >= _PARALLEL_MIN:
            batches = [todo[i : i + _BATCH] for i in range(0, len(todo), _BATCH)]
            with _pool(n_workers, known, {lang for _, lang in todo}) as pool:
                futures = deque(pool.submit(_parse_batch, root, b, self.settings) for b in batches)
                GATE.stoppable(_workers_of(pool))
                while futures:  # a batch taken is let go: its blobs are stored by then
                    take(futures.popleft().result())
        else:
            for i in range(0, len(todo), _BATCH):
                take(
                    _parse_one(root, rel, lang, self.settings, known)
                    for rel, lang in todo[i : i + _BATCH]
                )
        self._store(rows, stats, found)

    def _store(self, rows: list[Row], stats: IndexStats, found: _Found) -> None:
        """Parsed files (or files whose content the cache already holds: data None) into the
        cache, and each into `found`: stored when the cache took it, else pinned."""
        ids = self._cache.put_many(rows) if (self._cache and rows) else {}
        for path, _, _, digest, language, data in rows:
            got = ids.get(f"{digest}:{language}")
            if data is None:
                stats.cache_hits += 1
            else:
                stats.parsed += 1
            if got is not None:
                found.stored[path] = got[0]
                continue
            fi = FileIndex.loads(path, digest, data) if data is not None else None
            fi = fi or _parse_fresh(self.root, self.settings, path, language)
            if fi is not None:
                found.pinned[path] = fi

    def _reload(self, rel: str) -> FileIndex | None:
        """A stored file whose entry is gone (another process forgot it, or the cache
        failed): parsed again and held in memory; the disk may have moved on, so the
        versions move."""
        spec = languages.language_for_path(rel)
        fi = _parse_fresh(self.root, self.settings, rel, spec.name) if spec is not None else None
        if fi is not None:
            self.files.pin(rel, fi)
            self.version += 1
            self.defs_version += 1
        return fi

    def stats(self) -> IndexStats:
        return _counted(self.files, IndexStats(str(self.root)))

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
        """Install a file's new index, held in memory; it is no longer skipped."""
        old = self.files.get(rel)  # an edited buffer's: in memory
        with self._lock:
            repin(self.files, rel, fi)
            self.skipped.pop(rel, None)
            self.version += 1
            if old is None or (not _same_definitions(old, fi) and _defined(old) != _defined(fi)):
                self.defs_version += 1

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
        row = (rel, r.mtime_ns, r.size, r.digest, r.language, r.data)
        got = self._cache.put_many([row]).get(f"{r.digest}:{r.language}") if self._cache else None
        if got is None:
            self._put(rel, fi)
            return fi
        with self._lock:
            self.files.store(rel, got[0], fi)
            self.skipped.pop(rel, None)
            self.version += 1
            self.defs_version += 1
        return fi

    def remove(self, rel: str) -> None:
        with self._lock:
            self.files.drop(rel)
            self.version += 1
            self.defs_version += 1

    # ------------------------------------------------------------------ queries
    def get(self, rel: str) -> FileIndex | None:
        return _get(self.files, rel)

    def paths(self) -> list[str]:
        """Every indexed path, sorted (no index loaded)."""
        return sorted(self.files)

    def definitions_named(
        self, name: str, keep: Callable[[str, str, bool], bool] | None = None
    ) -> list[tuple[FileIndex, int]]:
        """Every definition called `name` (those whose row `keep(path, kind, top level)`
        keeps, judged before a file loads): (its file's index, its index), in (path, index)
        order. Loads the files it names (a bounded cache keeps the recent ones)."""
        out = []
        for path, i, kind, top in self.files.definition_rows(name):
            if keep is not None and not keep(path, kind, top):
                continue
            fi = self.get(path)
            if fi is not None and i < len(fi.definitions):
                out.append((fi, i))
        return out

    def definitions_where(
        self,
        name: str,
        keep: Callable[[str, str, bool], bool],
        limit: int,
        top: bool | None = None,
    ) -> list[tuple[str, int]] | None:
        """(path, index) of the definitions called `name` that `keep(language, kind, top
        level)` keeps (`top`: only those at the top level, or only the others), in (path,
        index) order, judged from the rows (no file loaded); None when more than `limit`
        are kept."""
        return definitions_kept(self.files, name, _by_language(keep), limit, top)

    def files_importing(self, module: str) -> list[tuple[str, str]]:
        """(path, name taken or "") of every import of `module` as written (no file loaded)."""
        return self.files.files_importing(module)

    def imports_of(self, rel: str) -> list[tuple[str, str]]:
        """(module, name taken or "") of what a file imports (no file loaded)."""
        return self.files.imports_of(rel)

    def count_definitions(self, name: str) -> int:
        """How many definitions are called `name` (no file loaded; kept: `_named_count`)."""
        return _named_count(self, name)

    def files_using(self, name: str) -> list[str]:
        """Files that use `name`, sorted: the cache's rows for that name and the in-memory
        files' own tables (no file loaded)."""
        return self.files.files_using(name)

    def files_heading(self, name: str) -> list[str]:
        """Files with a class whose header uses `name` (where a class may derive from it),
        sorted (no file loaded)."""
        return self.files.files_heading(name)

    def close(self) -> None:
        if self._cache:
            self._cache.close()
            self._cache = None


def _by_language(keep: Callable[[str, str, bool], bool]) -> Callable[[str, str, bool], bool]:
    """`keep(language, kind, top level)` as a row's judge: (path, kind, top level)."""

    def kept(path: str, kind: str, top: bool) -> bool:
        spec = languages.language_for_path(path)
        return spec is not None and keep(spec.name, kind, top)

    return kept


@dataclass
class _Found:
    """What a build found: files the cache stores (path -> entry), files held in memory,
    files to read; and what the next start needs of the listing."""

    stats: IndexStats
    stored: dict[str, int] = field(default_factory=dict)
    pinned: dict[str, FileIndex] = field(default_factory=dict)
    todo: list[tuple[str, str]] = field(default_factory=list)
    retain: bool = False  # the cache holds files no longer listed
    counts: tuple[int, int, int, dict[str, int]] | None = None  # the stored listing's
    listing: FileList | None = None
    started: int = 0  # time.time_ns() before the listing was made
    write: bool = False  # store the listing again
    check: _listing.Apart | None = None  # the stored listing taken as true, being checked


def _language(rel: str) -> str:
    spec = languages.language_for_path(rel)
    assert spec is not None
    return spec.name


def _parse_fresh(root: Path, settings: FileSettings, rel: str, language: str) -> FileIndex | None:
    """Parse one file from the disk, whatever the cache holds (None: it cannot be)."""
    r = _parse_one(str(root), rel, language, settings, frozenset())
    return FileIndex.loads(rel, r.digest, r.data) if r.data is not None else None


def _unchanged(c: Stat, stat: tuple[int, int] | None, language: str) -> bool:
    """Whether a stored file is as the cache has it: same stat, same language, entry kept."""
    return c.entry is not None and stat == (c.mtime_ns, c.size) and c.language == language


def _stored_listing(
    cache: IndexCache | None, lkey: str, ahead: _listing.Apart | None
) -> tuple[bytes | None, _listing.StoredListing | None, _listing.Apart | None]:
    """The listing stored under `lkey` (its data, read back), and `ahead` when it was
    started on that very listing (read and checked before: it is not read again), else
    None (`ahead` stopped)."""
    data = cache.listing(lkey) if cache else None
    taken = ahead.of(lkey, data) if ahead is not None else None
    if taken is not None:
        return data, taken, ahead
    return data, _listing.StoredListing.loads(data) if data is not None else None, None


def _from_stored(
    root: Path,
    settings: FileSettings,
    cache: IndexCache | None,
    stored: _listing.StoredListing | None,
    assume: bool = False,
    ahead: _listing.Apart | None = None,
) -> _Found | None:
    """What the stored listing says, when it is still true (the folders that moved listed
    again): the files unchanged since, the ones to judge again (None: list every file).
    `assume`: taken as true as it is, checked in a child process (`_Found.check`: `ahead`,
    when one was started)."""
    if stored is None or cache is None:
        return None
    started = time.time_ns()
    again, check = _assumed(root, stored, settings, ahead) if assume else (None, None)
    again = again or _listing.recheck(str(root), stored)
    if again is None or (again.moved and not _listing.relist(root, stored, again, settings)):
        return None
    if stored.forgotten != cache.forgotten():  # entries may be gone since
        live, was = cache.live_entries(), _stored_stats(stored)
        for path in [p for p, e in again.unchanged.items() if e not in live]:
            again.again[path] = was[path]  # as checked: read again
            del again.unchanged[path]
    found = _Found(IndexStats(str(root), file_source=stored.source))
    found.stats.skipped = again.skipped
    found.stored = again.unchanged
    found.counts = None if (again.moved or again.gone) else stored.counts
    found.todo = [(p, _language(p)) for p in sorted(again.again)]
    found.started, found.retain, found.check = started, again.gone, check
    found.write = bool(found.todo or again.moved or again.gone)
    if found.write:  # a start that found nothing changed stores nothing: no listing made
        stats = _stored_stats(stored)
        stats.update((p, (m, z)) for p, _, m, z in stored.skipped if m != -2)
        stats.update(again.again)
        stats.update(again.judged)
        found.listing = FileList(root, [], [], stored.source, stats)
        found.listing.folders = {**stored.folders, **again.moved}
        found.listing.watched = stored.watched
    return found


def _assumed(
    root: Path,
    stored: _listing.StoredListing,
    settings: FileSettings,
    ahead: _listing.Apart | None = None,
) -> tuple[_listing.Recheck | None, _listing.Apart | None]:
    """The stored listing taken as true, and its check: `ahead`, or started apart now
    (neither where it cannot be: then it is checked here)."""
    again = _listing.assumed(stored)
    if again is None:
        return None, None
    check = ahead or _listing.Apart.start(root, stored, settings)
    return (again, check) if check is not None else (None, None)


def _stored_stats(stored: _listing.StoredListing) -> dict[str, tuple[int, int]]:
    """path -> (mtime, size) of the files a stored listing indexed."""
    return dict(zip(stored.paths, zip(stored.mtimes, stored.sizes, strict=True), strict=True))


def _from_listing(
    root: Path,
    settings: FileSettings,
    cache: IndexCache | None,
    keep: Iterable[str],
    before: _listing.StoredListing | None,
) -> _Found:
    """The files listed (git or a walk) and checked against the cache's stats; a file the
    last listing (`before`) left out by its content keeps its verdict while its stat holds."""
    judged = {p: (why, (m, z)) for p, why, m, z in (before.skipped if before else ()) if m >= 0}
    started = time.time_ns()
    listing = list_files(root, settings, keep)
    found = _Found(IndexStats(str(root), file_source=listing.source))
    found.stats.skipped = list(listing.skipped)
    cached = cache.stats() if cache else {}
    for rel in listing.files:
        lang = _language(rel)
        c = cached.get(rel)
        if c is not None and _unchanged(c, listing.stats.get(rel), lang):
            found.stored[rel] = c.entry or 0
        elif rel in judged and judged[rel][1] == listing.stats.get(rel):
            found.stats.skipped.append(Skipped(rel, judged[rel][0]))
        else:
            found.todo.append((rel, lang))
    found.retain = bool(cached.keys() - found.stored.keys())
    found.listing, found.started, found.write = listing, started, True
    return found


def _store_listing(cache: IndexCache | None, lkey: str, found: _Found, stats: IndexStats) -> None:
    """Keep what this build listed for the next start (not when a file is held in memory
    only: the cache did not take it)."""
    if not (cache and found.write and found.listing) or found.pinned:
        return
    counts = (stats.files, stats.symbols, stats.references, stats.languages)
    made = _listing.make(
        found.listing,
        found.started,
        found.stored,
        stats.skipped,
        counts,
        cache.forgotten(),
    )
    cache.put_listing(lkey, made.dumps())


def _same_definitions(old: FileIndex, fi: FileIndex) -> bool:
    """Whether a splice of `old` says `fi` has the same definitions (no look at them)."""
    return (
        fi.spliced is not None and fi.spliced.same_definitions and fi.spliced.source == old.digest
    )


def _counted(files: FileTable, stats: IndexStats) -> IndexStats:
    """`stats` with the files' counts (files, symbols, references, languages)."""
    counts = table_counts(files)
    stats.files, stats.symbols = counts.files, counts.symbols
    stats.references, stats.languages = counts.references, counts.languages
    return stats


def _defined(fi: FileIndex) -> tuple[str, list[tuple[str, str, int | None]]]:
    """Which definitions a file holds, lines aside: what "definitions named X" reads."""
    return fi.language, [(d.name, d.kind, d.parent) for d in fi.definitions]


COUNTS_KEPT = 8192  # names whose definition count is kept per workspace (count_definitions)
_COUNTS: weakref.WeakKeyDictionary[WorkspaceIndex, tuple[int, dict[str, int]]]
_COUNTS = weakref.WeakKeyDictionary()


def _named_count(ws: WorkspaceIndex, name: str) -> int:
    """How many definitions are called `name`, kept until which definitions there are
    changes (`defs_version`): `__init__` has tens of thousands of rows, and every menu
    request on one asked twice (a count made while the version moved is dropped with it)."""
    at, counts = _COUNTS.get(ws, (-1, {}))
    if at != ws.defs_version:
        at, counts = ws.defs_version, {}
        _COUNTS[ws] = (at, counts)
    n = counts.get(name)
    if n is None:
        n = count_named(ws.files, name)
        if len(counts) >= COUNTS_KEPT:
            counts.clear()
        counts[name] = n
    return n
