"""Every indexed file of a workspace, held where it costs least: the files the cache stores
are known by their entry (a row per file, no index in memory) and loaded on demand into a
bounded cache of recent files; the others (an open buffer's text, every file when there is
no cache) are pinned in memory. The name queries ("which files define X", "which use X")
read the cache's graph rows for the stored files and the pinned files' own tables, so they
touch rows in proportion to their answer, not to the workspace.

`FileTable` is a read-only Mapping of path -> FileIndex for the analysis layer; its writers
(`pin`, `store`, `drop`, `replace`) belong to `WorkspaceIndex` (index/workspace.py)."""

from __future__ import annotations

import bisect
import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass

from scopewise.index.cache import (
    IndexCache,
    defs_in_entry,
    defs_page,
    defs_per_entry,
    heads_of,
    refs_page,
)
from scopewise.index.model import FileIndex

RECENT = 2048  # stored files kept loaded (~20 KB each): the hot path's neighbourhood
ROWS = 8192  # names whose rows are remembered (a request asks about the same names again)
PAGE = 256  # a name's definition rows read at a time where a caller may stop early


@dataclass
class Counts:
    files: int
    symbols: int
    references: int
    languages: dict[str, int]


Reload = Callable[[str], "FileIndex | None"]  # a stored file whose entry is gone: parse again
Row = tuple[int, int, str, bool]  # a cache row for a name: entry, index, kind or name, top


class FileTable(Mapping[str, FileIndex]):
    """path -> FileIndex over the pinned files and the stored ones (see the module). A stored
    file is its entry id alone: a warm start of 50k files makes no object per file."""

    def __init__(self, cache: IndexCache | None, reload: Reload) -> None:
        self._cache = cache
        self._reload = reload
        self._capacity = RECENT
        self._lock = threading.RLock()
        self._pinned: dict[str, FileIndex] = {}
        self._stored: dict[str, int] = {}  # path -> entry
        self._by_entry: dict[int, list[str]] | None = None  # made when first asked
        self._recent: OrderedDict[str, FileIndex] = OrderedDict()
        self.loads = 0  # stored files loaded so far (a request's work counts them)
        self.first_pins: dict[str, FileIndex] = {}  # stored files as loaded before a pin
        self._defs: dict[str, list[tuple[str, int]]] = {}  # the pinned files' definitions
        # the cache's rows by name, kept until an entry is added: entries are content, so a
        # name's rows change only then (a path's entry is looked up afresh in `_by_entry`)
        self._rows_of: dict[tuple[str, str], list[Row]] = {}
        self._stores = 0  # entries added so far: rows read before one was are not kept
        self._tails = _Tails()  # see `ending`
        # "who uses X" answered, by name, while no path moved (`_moves`: any writer)
        self._using: dict[str, tuple[int, list[str]]] = {}
        self._moves = 0

    # ------------------------------------------------------------------ Mapping
    def __getitem__(self, path: str) -> FileIndex:
        fi = self.get(path)
        if fi is None:
            raise KeyError(path)
        return fi

    def get(self, path: str, default: None = None) -> FileIndex | None:  # type: ignore[override]
        """The index of `path` (None: not indexed): Mapping's `get` without its frame and
        exception (a request asks it hundreds of times)."""
        with self._lock:
            fi = self._pinned.get(path)
            if fi is not None:
                return fi
            fi = self._recent.get(path)
            if fi is not None:
                self._recent.move_to_end(path)
                return fi
            entry = self._stored.get(path)
            if entry is None:
                return None
        return self._load(path, entry)  # outside the lock: a keystroke's pin need not wait

    def _load(self, path: str, entry: int) -> FileIndex | None:
        self.loads += 1
        fi = _stored(self._cache, path, entry)
        if fi is None:  # forgotten by another process, or the cache failed: parse again
            return self._reload(path)
        with self._lock:
            if self._stored.get(path) == entry:  # not stored anew or pinned meanwhile
                self._remember(path, fi)
        return fi

    def _remember(self, path: str, fi: FileIndex) -> None:
        self._recent[path] = fi
        while len(self._recent) > self._capacity:
            self._recent.popitem(last=False)

    def __contains__(self, path: object) -> bool:
        return path in self._pinned or path in self._stored

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            paths = [*self._pinned, *self._stored]
        return iter(paths)

    def __len__(self) -> int:
        return len(self._pinned) + len(self._stored)

    def pinned(self) -> list[tuple[str, FileIndex]]:
        """The files held in memory whatever the cache says (edited buffers, files read
        again): the only ones that change while the definitions do not (no file loaded)."""
        with self._lock:
            return list(self._pinned.items())

    def is_pinned(self, path: str) -> bool:
        return path in self._pinned

    def pinned_among(self, paths: Collection[str]) -> list[str]:
        """Those of `paths` held in memory (`pinned`), now: looked at from the smaller side
        (with no cache every file is pinned; with one, the edited buffers alone)."""
        with self._lock:
            pinned = self._pinned
            if len(pinned) < len(paths):
                return [p for p in pinned if p in paths]
            return [p for p in paths if p in pinned]

    def loaded(self) -> int:
        """How many file indexes are in memory (pinned and recent)."""
        return len(self._pinned) + len(self._recent)

    # ------------------------------------------------------------------ writers
    def pin(self, path: str, fi: FileIndex) -> None:
        """Hold `fi` in memory as the index of `path` (whatever the cache says of it)."""
        with self._lock:
            if path in self._stored and path in self._recent:  # shapes: analysis/verdicts.py
                self.first_pins[path] = self._recent[path]
            self._forget(path)
            self._pinned[path] = fi
            self._add_tail(path)
            for i, d in enumerate(fi.definitions):  # kept in (path, index) order
                bisect.insort(self._defs.setdefault(d.name, []), (path, i))

    def store(self, path: str, entry: int, fi: FileIndex | None = None) -> None:
        """`path` is the cache's `entry` (its FileIndex `fi`, else loaded when asked)."""
        with self._lock:
            self._forget(path)
            self._stored[path] = entry
            if self._by_entry is not None:
                self._by_entry.setdefault(entry, []).append(path)
            self._rows_of.clear()
            self._stores += 1
            self._add_tail(path)
            if fi is not None:
                self._remember(path, fi)

    def drop(self, path: str) -> None:
        with self._lock:
            self._forget(path)

    def replace(self, pinned: dict[str, FileIndex], stored: dict[str, int]) -> None:
        """The whole table at once (a build): the pinned files, the stored ones' entries."""
        defs: dict[str, list[tuple[str, int]]] = {}
        for path in sorted(pinned):
            for i, d in enumerate(pinned[path].definitions):
                defs.setdefault(d.name, []).append((path, i))
        with self._lock:
            self._pinned, self._stored, self._by_entry = pinned, stored, None
            self._defs = defs
            self._recent.clear()
            self._rows_of.clear()
            self._stores += 1
            self._tails.reset()
            self._moves += 1

    def _forget(self, path: str) -> None:
        self._moves += 1
        old = self._pinned.pop(path, None)
        if old is not None:
            for d in old.definitions:
                lst = self._defs.get(d.name)
                if lst:
                    lst[:] = [e for e in lst if e[0] != path]
                    if not lst:
                        del self._defs[d.name]
        entry = self._stored.pop(path, None)
        if entry is not None and self._by_entry is not None:
            paths = self._by_entry.get(entry, [])
            if path in paths:
                paths.remove(path)
            if not paths:
                self._by_entry.pop(entry, None)
        self._recent.pop(path, None)
        self._tails.remove(path)

    def _add_tail(self, path: str) -> None:
        self._moves += 1
        self._tails.add(path)

    # ------------------------------------------------------------------ queries
    def ending(self, tails: Iterable[str]) -> list[str]:
        """The paths that end with ``/`` + one of `tails`, sorted: looked up by their last
        component (and the one before it, for a tail with a folder), not by a scan of every
        path."""
        with self._lock:
            return sorted(self._tails.ending(tails, self._every))

    def _every(self) -> list[str]:
        """Every path, pinned or stored (lock held)."""
        return [*self._pinned, *self._stored]

    def _tails_made(self) -> dict[str, list[str]]:
        """last component -> paths (lock held), made when first asked."""
        return self._tails.made(self._every)

    def _entries(self) -> dict[int, list[str]]:
        """entry -> its stored paths (lock held), made when first asked."""
        if self._by_entry is None:
            by_entry: dict[int, list[str]] = {}
            for path, entry in self._stored.items():  # 50k paths at a CLI's start: no setdefault
                same = by_entry.get(entry)
                if same is None:
                    by_entry[entry] = [path]
                else:
                    same.append(path)
            self._by_entry = by_entry
        return self._by_entry

    def _stored_paths(self, entries: list[int]) -> list[str]:
        """The stored paths of these entries (a file pinned since is the pinned one's)."""
        with self._lock:
            by_entry = self._entries()
            return [p for e in entries for p in by_entry.get(e, ())]

    def _rows(self) -> IndexCache | None:
        """The cache to ask for the stored files' rows; None when there are none. A cache
        that became unreadable cannot answer: its files are parsed again and pinned (slow,
        once, and the answers stay whole)."""
        if not self._stored:
            return None
        if self._cache is not None and self._cache.readable:
            return self._cache
        with self._lock:
            for path in list(self._stored):
                if self._reload(path) is None:
                    self._forget(path)
        return None

    def _remembered(self, table: str, name: str) -> list[Row]:
        """The cache's rows for `name`: (entry, index, kind, top level) of its definitions
        ("defs"), (entry, 0, "", False) of its users ("refs") and of the entries with a class
        header that names it ("heads"), (entry, 0, name taken, False) of its importers
        ("imports")."""
        rows = self._rows_of.get((table, name))
        if rows is None:
            stores = self._stores
            cache = self._rows()
            if cache is None:
                return []
            if table == "defs":
                rows = cache.defs_named(name)
            elif table == "refs":
                rows = [(e, 0, "", False) for e in cache.entries_using(name)]
            elif table == "heads":
                rows = [(e, 0, "", False) for e in cache.entries_using(name, "heads")]
            else:
                rows = [(e, 0, n, False) for e, n in cache.entries_importing(name)]
            if not cache.readable:  # failed while asked: not an answer to keep
                return rows
            with self._lock:
                if self._stores != stores:  # a file stored meanwhile may be missing from them
                    return rows
                if len(self._rows_of) >= ROWS:
                    self._rows_of.clear()
                self._rows_of[(table, name)] = rows
        return rows

    def definition_rows(self, name: str) -> list[tuple[str, int, str, bool]]:
        """(path, index, kind, top level) of every definition called `name`, in (path, index)
        order: what a caller can filter on before it loads a file."""
        rows = self._remembered("defs", name)
        with self._lock:
            by_entry = self._entries()
            out = [(p, i, k, t) for e, i, k, t in rows for p in by_entry.get(e, ())]
            for p, i in self._defs.get(name, ()):
                d = self._pinned[p].definitions[i]
                out.append((p, i, d.kind, d.parent is None))
        return sorted(out)

    def files_using(self, name: str) -> list[str]:
        """The files that use `name`, sorted; the stored files' answer kept until a path
        moves (a file stored, pinned or dropped: `_moves`) — a menu asks about the same names
        at every request, a few of them used in thousands of files —, the pinned files' (open
        buffers, spliced at every keystroke) looked at each time."""
        with self._lock:
            moves, stores, hit = self._moves, self._stores, self._using.get(name)
            pinned = list(self._pinned.items())
        if hit is not None and hit[0] == moves:
            found = list(hit[1])
        else:
            found = self._stored_paths([e for e, *_ in self._remembered("refs", name)])
            _keep_using(self, name, (moves, stores), list(found))
        found += (p for p, fi in pinned if name in fi.refs)  # open buffers: as they are now
        found.sort()
        return found

    def files_heading(self, name: str) -> list[str]:
        """The files with a class whose header uses `name` (where a class may derive from
        it), sorted."""
        found = self._stored_paths([e for e, *_ in self._remembered("heads", name)])
        with self._lock:
            pinned = list(self._pinned.items())
        found += (p for p, fi in pinned if fi.on_class_header(name))
        return sorted(found)

    def files_importing(self, module: str) -> list[tuple[str, str]]:
        """(path, name taken or "" for the module itself) of every import of `module` as
        written (``from a.b import c``: module "a.b", name "c"), sorted."""
        rows = self._remembered("imports", module)
        with self._lock:
            by_entry = self._entries()
            out = [(p, n) for e, _, n, _ in rows for p in by_entry.get(e, ())]
            pinned = list(self._pinned.items())
        for p, fi in pinned:
            out += ((p, n) for i in fi.imports if i.module == module for n in (i.names or ("",)))
        return sorted(set(out))

    def imports_of(self, path: str) -> list[tuple[str, str]]:
        """(module, name taken or "") of what one file imports, sorted (no file loaded)."""
        with self._lock:
            fi = self._pinned.get(path)
            entry = self._stored.get(path)
        if fi is not None:
            return sorted({(i.module, n) for i in fi.imports for n in (i.names or ("",))})
        cache = self._rows() if entry is not None else None
        if cache is None or entry is None:
            return []
        return cache.imports_of(entry)


def counts(table: FileTable) -> Counts:
    """Files, definitions, references and files by language (the stored files' from the
    cache's entries)."""
    with table._lock:
        pinned = list(table._pinned.values())
        stored = list(table._stored.values())
    facts = table._cache.entry_counts() if (table._cache and stored) else {}
    langs: dict[str, int] = {}
    symbols = sum(len(f.definitions) for f in pinned)
    refs = sum(f.ref_count for f in pinned)
    for f in pinned:
        langs[f.language] = langs.get(f.language, 0) + 1
    for entry in stored:
        lang, ndefs, nrefs = facts.get(entry, ("?", 0, 0))
        langs[lang] = langs.get(lang, 0) + 1
        symbols, refs = symbols + ndefs, refs + nrefs
    return Counts(len(pinned) + len(stored), symbols, refs, dict(sorted(langs.items())))


def _keep_using(table: FileTable, name: str, at: tuple[int, int], found: list[str]) -> None:
    """Keep "who uses `name`" among the stored files (`found`, read when no path had moved
    `at[0]` times and `at[1]` entries were stored) while it still holds: nothing moved
    since, its rows were the remembered ones (or there are no stored files)."""
    with table._lock:
        remembered = ("refs", name) in table._rows_of or not table._stored
        if (table._moves, table._stores) == at and remembered:
            if len(table._using) >= ROWS:
                table._using.clear()
            table._using[name] = (at[0], found)


def repin(table: FileTable, path: str, fi: FileIndex) -> None:
    """`table.pin(path, fi)`; an index spliced from the one pinned there with the same
    definitions (`model.Spliced`) replaces it alone: the names' (path, index) entries hold
    (a keystroke in a 30k-line file: no pass over its thousands of definitions)."""
    how = fi.spliced
    with table._lock:
        was = table._pinned.get(path)
        same = how is not None and how.same_definitions
        if same and was is not None and how is not None and how.source == was.digest:
            table._pinned[path] = fi  # "who uses X" kept holds: it is the stored files'
            return
    table.pin(path, fi)


def definitions_kept(
    table: FileTable,
    name: str,
    keep: Callable[[str, str, bool], bool],
    limit: int,
    top: bool | None = None,
) -> list[tuple[str, int]] | None:
    """(path, index) of the definitions called `name` that `keep(path, kind, top level)`
    keeps (and only at the top level or only below it, if `top` says), in (path, index)
    order; None as soon as more than `limit` are kept — the stored rows read a page at a
    time until then (a common name's thousands are not read to say there are more than a
    dozen; the level asked of the cache: `__init__`'s 9,168 rows hold 3 top-level ones),
    all of them remembered when all were."""
    if top is not None:  # the rows remembered and the pinned files' are filtered here
        asked = keep
        keep = lambda path, kind, level: level == top and asked(path, kind, level)  # noqa: E731
    kept: list[tuple[str, int]] = []
    rows = table._rows_of.get(("defs", name))
    if rows is None:
        if _paged(table, name, kept, keep, limit, top) is None:
            return None
    elif not _keep_rows(table, rows, keep, kept, limit):
        return None
    with table._lock:
        for p, i in table._defs.get(name, ()):
            d = table._pinned[p].definitions[i]
            if keep(p, d.kind, d.parent is None):
                kept.append((p, i))
    return None if len(kept) > limit else sorted(kept)


def _paged(
    table: FileTable,
    name: str,
    kept: list[tuple[str, int]],
    keep: Callable[[str, str, bool], bool],
    limit: int,
    top: bool | None = None,
) -> list[Row] | None:
    """`definitions_kept`'s stored rows read a page at a time into `kept`, until more than
    `limit` are kept (None) or every row was read (those rows; remembered when they are
    all the name's: no level asked)."""
    stores = table._stores
    cache = table._rows()
    rows: list[Row] = []
    while cache is not None:
        page = defs_page(cache, name, rows[-1][:2] if rows else (-1, -1), PAGE, top)
        rows += page
        if not _keep_rows(table, page, keep, kept, limit):
            return None
        if len(page) < PAGE:
            break
    if cache is not None and cache.readable and top is None:
        with table._lock:
            if table._stores == stores:  # as `FileTable._remembered` keeps them
                if len(table._rows_of) >= ROWS:
                    table._rows_of.clear()
                table._rows_of[("defs", name)] = rows
    return rows


def _keep_rows(
    table: FileTable,
    rows: list[Row],
    keep: Callable[[str, str, bool], bool],
    kept: list[tuple[str, int]],
    limit: int,
) -> bool:
    """The stored paths of `rows` that `keep` keeps, added to `kept` as (path, index)
    while at most `limit` are (False once more are)."""
    with table._lock:
        by_entry = table._entries()
        for e, i, k, t in rows:
            for p in by_entry.get(e, ()):
                if keep(p, k, t):
                    kept.append((p, i))
                    if len(kept) > limit:
                        return False
    return True


def count_named(table: FileTable, name: str) -> int:
    """How many definitions are called `name` (`len(table.definition_rows(name))`),
    counted per stored entry: no row made per definition."""
    rows = table._rows_of.get(("defs", name))
    cache = table._rows() if rows is None else None
    per_entry = defs_per_entry(cache, name) if cache is not None else []
    with table._lock:
        by_entry = table._entries()
        if rows is not None:
            n = sum(len(by_entry.get(e, ())) for e, *_ in rows)
        else:
            n = sum(k * len(by_entry.get(e, ())) for e, k in per_entry)
        return n + len(table._defs.get(name, ()))


def count_using(table: FileTable, name: str, most: int) -> int:
    """How many files use `name` (`len(table.files_using(name))`), counted up to `most`:
    the stored rows read a page at a time until then (`self` is used by 20,000 files)."""
    with table._lock:
        n = sum(1 for fi in table._pinned.values() if name in fi.refs)
    rows = table._rows_of.get(("refs", name))
    if rows is not None:
        return min(most, n + _paths_of(table, [e for e, *_ in rows], most - n))
    cache = table._rows()
    page = [-1] * PAGE
    while cache is not None and n < most and len(page) == PAGE:
        page = refs_page(cache, name, page[-1], PAGE)
        n += _paths_of(table, page, most - n)
    return min(n, most)


def _paths_of(table: FileTable, entries: list[int], most: int) -> int:
    """How many stored paths these entries are, counted up to `most`."""
    n = 0
    with table._lock:
        by_entry = table._entries()
        for e in entries:
            n += len(by_entry.get(e, ()))
            if n >= most:
                break
    return n


def in_memory(table: FileTable, path: str) -> FileIndex | None:
    """The index of `path` when it is in memory (pinned, or a recent stored file): none is
    loaded to answer."""
    with table._lock:
        return table._pinned.get(path) or table._recent.get(path)


def rows_in(table: FileTable, path: str, name: str) -> list[tuple[int, str, bool]] | None:
    """(index, kind, top level) of the definitions called `name` in the stored file `path`,
    in index order, from the cache's rows (the name's rows remembered, else the entry's
    alone): no file loaded. None when `path` is not a stored file or the cache cannot say."""
    with table._lock:
        entry = table._stored.get(path)
        remembered = table._rows_of.get(("defs", name))
    if entry is None:
        return None
    if remembered is not None:
        return sorted((i, k, t) for e, i, k, t in remembered if e == entry)
    cache = table._rows()
    if cache is None:
        return None
    rows = defs_in_entry(cache, name, entry)
    return rows if cache.readable else None


class _Tails:
    """Paths by their last component (`FileTable.ending`'s look-up), made when first asked;
    per component asked with a folder, by their last two as well (`__init__.py`: thousands
    of paths share it). Its table's lock is held around each call."""

    def __init__(self) -> None:
        self._by: dict[str, list[str]] | None = None
        self._parents: dict[str, dict[str, list[str]]] = {}

    def reset(self) -> None:
        self._by = None
        self._parents.clear()

    def add(self, path: str) -> None:
        self._parents.clear()
        if self._by is not None:
            self._by.setdefault(_tail(path), []).append(path)

    def remove(self, path: str) -> None:
        self._parents.clear()
        if self._by is not None:
            paths = self._by.get(_tail(path), [])
            if path in paths:
                paths.remove(path)

    def made(self, every: Callable[[], list[str]]) -> dict[str, list[str]]:
        """last component -> paths, from `every()` path the first time."""
        if self._by is None:  # inline: 50k paths at a CLI's start
            by_tail: dict[str, list[str]] = {}
            for path in every():
                tail = path[path.rfind("/") + 1 :]
                same = by_tail.get(tail)  # (no list made for each path: setdefault would)
                if same is None:
                    by_tail[tail] = [path]
                else:
                    same.append(path)
            self._by = by_tail
        return self._by

    def ending(self, tails: Iterable[str], every: Callable[[], list[str]]) -> set[str]:
        """The paths that end with ``/`` + one of `tails` (`every` path: see `made`)."""
        known = self.made(every)
        found: set[str] = set()
        for tail in tails:
            name = _tail(tail)
            if "/" in tail:
                parents = self._parents.get(name)
                if parents is None:
                    parents = self._parents[name] = {}
                    for p in known.get(name, ()):
                        parents.setdefault(_last_two(p), []).append(p)
                candidates = parents.get(_last_two(tail), ())
            else:
                candidates = known.get(name, ())
            found.update(p for p in candidates if p.endswith("/" + tail))
        return found


def made_ahead(table: FileTable) -> None:
    """The lookups over every stored path the first question would otherwise make (its
    paths by entry, by last component: 30-90 ms at 50k files), made now — by a server, in its
    index's thread; a command makes only those its question needs."""
    with table._lock:
        table._entries()
        table._tails_made()


def _tail(path: str) -> str:
    """The key `ending` finds a path by: its last component."""
    return path.rpartition("/")[2]


def _last_two(path: str) -> str:
    """A path's last two components (all of it when it has fewer)."""
    return path[path.rfind("/", 0, max(path.rfind("/"), 0)) + 1 :]


def _stored(cache: IndexCache | None, path: str, entry: int) -> FileIndex | None:
    """A stored file's index as the cache holds it (None: forgotten since, or the cache
    failed), its class headers' names read from the cache's rows when asked (`heads_of`)."""
    got = cache.blob(entry) if cache else None
    fi = FileIndex.loads(path, got[0], got[1]) if got is not None else None
    if fi is not None and cache is not None:
        fi.heads_from = functools.partial(heads_of, cache, entry)
    return fi
