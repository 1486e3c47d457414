"""A definition's sites per using file, kept across keystrokes.

The sites of a definition are the union over the files that use its name of each file's
verdicts (analysis/sites.py). A file's verdicts read that file's text and, elsewhere, only
the workspace's *shape*: which definitions there are, the imports, the type evidence, the
return types, the classes' headers (their bases) — never another file's body text. So a
file's verdicts are kept under its content digest while the shape holds: a keystroke in file
E keeps every other file's, unless it changed the shape. E's own are carried over its
splices (`_Link`) that moved no line and kept its definitions and its evidence line for line,
for a definition whose name the lines re-extracted neither use nor define and which has no
site there; else E's uses are classified again.

The shape moves with `WorkspaceIndex.defs_version` (definitions added, removed, renamed; a
new listing) or when an edited file — one held in memory (`FileTable.pinned`), the only
files that change while the definitions stay — changes its imports, evidence, returns or
class headers. Then every verdict is worked out again. A file not held in memory cannot
change without the definitions version moving, so its verdicts are used without loading it.
A stored file's first edit is compared with the index it had before (the file table keeps it:
`FileTable.first_pins`), which every kept verdict read: the same shape keeps them.

A definition is keyed by its path and index: sound while the definitions version holds (the
same names, kinds and parents in the same order: a line shift keeps the key).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Hashable, Iterator
from typing import NamedTuple

from scopewise.analysis.sites import CallerSite, Key, Sym
from scopewise.index.model import REF_MEMBER, Definition, Evidence, FileIndex
from scopewise.index.workspace import WorkspaceIndex
from scopewise.vocab import CLASS_LIKE, Kind

_CALLABLES = frozenset({Kind.FUNCTION, Kind.METHOD})
_DEFS, _EVIDENCE, _HEADERS = 1, 3, 4  # where a shape holds these

KEPT_MAX = 200_000  # (definition, using file) verdicts kept; all dropped past it
LINKS_MAX = 8  # an edited file's splices its verdicts are carried over (the latest)
Found = tuple[str, tuple[CallerSite, ...]]  # (the using file's digest, its sites)
Shaped = tuple[str, tuple[Hashable, ...]]  # (an edited file's digest, its shape)
Over = tuple[dict[str, str], tuple[CallerSite, ...]]  # override sites, their files' digests


def shape(fi: FileIndex, kept: dict[int, Hashable] | None = None) -> tuple[Hashable, ...]:
    """What other files' verdicts may read of `fi`, lines aside: its definitions, imports,
    type evidence, return types, receiver types and class headers. `kept`: the parts `fi`
    is known to share with another index's shape, by place (`reshape`)."""
    kept = kept or {}
    fi.owner_of(-1)  # a stored file's evidence, returns and owners are unpacked on first use
    defs = kept[_DEFS] if _DEFS in kept else tuple(_defined(fi))
    evidence = kept[_EVIDENCE] if _EVIDENCE in kept else _evidence(fi)
    headers = kept[_HEADERS] if _HEADERS in kept else _headers(fi)
    imports = tuple((i.module, i.names, i.aliases) for i in fi.imports)
    returns = tuple(sorted(fi.returns.items()))
    owners = tuple(sorted(fi.owners.items()))
    return fi.language, defs, imports, evidence, headers, returns, owners


def _start_line(d: Definition) -> int:
    return d.start_line


def _defined(fi: FileIndex) -> Iterator[tuple[str, str, int | None, bool]]:
    return ((d.name, d.kind, d.parent, d.exported) for d in fi.definitions)


def reshape(
    fi: FileIndex, had: Shaped | None, was: FileIndex | None = None
) -> tuple[Hashable, ...]:
    """`fi`'s shape, given the (digest, shape) of the index it was last seen as (`was`, when
    known). A splice of that one with the same definitions keeps its definitions' part; its
    evidence when the lines re-extracted say the same, or (outside Python) only a function's
    own bindings there, before and after (`_locals_only`); its class headers when they hold
    none. Those are the costly parts (passes over the definitions, the evidence, every name
    the file uses): a keystroke inside a body takes none of them."""
    how = fi.spliced
    if had is None or how is None or not how.same_definitions or how.source != had[0]:
        return shape(fi)
    kept = {_DEFS: had[1][_DEFS]}
    if how.same_evidence or (
        was is not None and was.digest == how.source and _locals_only(was, fi)
    ):
        kept[_EVIDENCE] = had[1][_EVIDENCE]
    defs = fi.definitions  # a class header in the lines re-extracted starts there
    lo = bisect.bisect_left(defs, how.first, key=_start_line)
    hi = bisect.bisect_right(defs, how.last, key=_start_line)
    if not any(d.kind in CLASS_LIKE for d in defs[lo:hi]):
        kept[_HEADERS] = had[1][_HEADERS]
    return shape(fi, kept)


def _locals_only(was: FileIndex, fi: FileIndex) -> bool:
    """Whether `fi`, spliced from `was` keeping its definitions, changed only bindings no
    other file reads: outside Python (whose shape tells its locals itself), the lines
    re-extracted lie in one function or method, before and after, and bind there neither
    ``self.x`` (``this.x``) nor a name the file defines at its top level — a Go
    ``var``/``:=``, a JavaScript ``const``, a Java local."""
    how = fi.spliced
    if how is None or fi.language == "python":
        return False
    for index, last in ((was, how.old_last), (fi, how.last)):
        c = _callable_at(index, how.first)
        if c is None or index.definitions[c].end_line < last:
            return False
        top = index.top_level()  # a package or module variable assigned in a function
        for e in evidence_in(index, how.first, last):
            if e.name.startswith("self.") or e.name.split(".", 1)[0] in top:
                return False
    return True


def _evidence(fi: FileIndex) -> tuple[tuple[str, str, int], ...]:
    """The type evidence other files may read, with its scope (lines aside). Another file
    reads a Python file's module-level and class-level evidence, ``self.x`` (and what the
    method setting it binds), and what a function a nested definition closes over binds —
    not the locals of a plain function body, so a keystroke there keeps the shape. In the
    other languages, every binding by name and value (scopes are not looked up: a 30k-line
    file's would cost milliseconds a keystroke; a binding moved to another function with the
    same name and value is the one change not seen)."""
    if fi.language != "python":
        return tuple(sorted((e.name, e.value, 0) for e in fi.evidence))
    scopes = [(e, _callable_at(fi, e.line)) for e in fi.evidence]
    wide = {i for e, i in scopes if e.name.startswith("self.")}
    wide.update(d.parent for d in fi.definitions if d.parent is not None)
    kept = ((e.name, e.value, -1 if i is None else i) for e, i in scopes)
    return tuple(sorted(k for k in kept if k[2] == -1 or k[2] in wide))


def _callable_at(fi: FileIndex, line: int) -> int | None:
    """The innermost function or method around `line` (None: module or class level)."""
    i = fi.enclosing(line, line)
    while i is not None and fi.definitions[i].kind not in _CALLABLES:
        i = fi.definitions[i].parent
    return i


def _headers(fi: FileIndex) -> tuple[tuple[object, ...], tuple[object, ...]]:
    """The names on the classes' headers (their bases, `metaclass=`) with their kinds and
    receivers, by class and line within the header: one pass over the file's uses."""
    at: dict[int, tuple[int, int]] = {}  # line -> (class, line in its header)
    for i, d in enumerate(fi.definitions):
        if d.kind in CLASS_LIKE:
            for ln in range(d.name_line, d.header_end + 1):
                at.setdefault(ln, (i, ln - d.name_line))
    if not at:
        return (), ()
    lo, hi = min(at) * 4, max(at) * 4 + 3
    used = []
    for name, packed in fi.refs.items():
        values = memoryview(packed).cast("q")
        j = bisect.bisect_left(values, lo)
        while j < len(values) and values[j] <= hi:
            hit = at.get(values[j] >> 2)
            if hit is not None:
                used.append((hit, name, values[j] & 3))
            j += 1
    members = {name for _, name, kind in used if kind == REF_MEMBER}
    recv = [(at[ln], n, r) for n in members for ln, r in fi.receivers_of(n) if ln in at]
    return tuple(sorted(used)), tuple(sorted(recv))


def evidence_in(fi: FileIndex, first: int, last: int) -> list[Evidence]:
    """The type evidence `fi` says on lines `first`..`last` (what a site's `via` may name).
    The evidence is in order of where it holds from (`start`), not of where it is said
    (`line`: 5% of files differ, a multi-line statement's binding after one inside it): one
    said there holds from there at the earliest and from the line after its statement at the
    latest (the lines are whole statements), so it lies within the starts `first`..`last+1`."""
    evidence = fi.evidence
    lo = bisect.bisect_left(evidence, first, key=_start)
    hi = bisect.bisect_right(evidence, last + 1, key=_start)
    return [e for e in evidence[lo:hi] if first <= e.line <= last]


def _start(e: Evidence) -> int:
    return e.start


class RegionNames:
    """What the lines a splice re-extracted hold (before and after): `hold(name)`, whether
    a name is used there or a definition of it starts there."""

    def __init__(self, old: FileIndex, new: FileIndex, first: int, old_last: int, last: int):
        self.refs = ((old.refs, first * 4, old_last * 4 + 3), (new.refs, first * 4, last * 4 + 3))
        self.defined = _starting(old, first, old_last) | _starting(new, first, last)
        self.seen: dict[str, bool] = {}

    def hold(self, name: str) -> bool:
        hit = self.seen.get(name)
        if hit is None:
            (was, lo, old_hi), (now, _, hi) = self.refs
            hit = name in self.defined or (
                _within(was.get(name), lo, old_hi) or _within(now.get(name), lo, hi)
            )
            self.seen[name] = hit
        return hit


def _within(packed: bytes | None, lo: int, hi: int) -> bool:
    """Whether a name's packed uses (line * 4 + kind, sorted) hold one in `lo`..`hi`."""
    if not packed:
        return False
    values = memoryview(packed).cast("q")
    j = bisect.bisect_left(values, lo)
    return j < len(values) and values[j] <= hi


def _starting(fi: FileIndex, first: int, last: int) -> set[str]:
    """The names of the definitions starting on lines `first`..`last` (a definition whose
    name is there starts there: the lines are whole statements)."""
    defs = fi.definitions
    lo = bisect.bisect_left(defs, first, key=_start_line)
    hi = bisect.bisect_right(defs, last, key=_start_line)
    return {d.name for d in defs[lo:hi]}


class _Link(NamedTuple):
    """A splice of an edited file seen between two looks (`Verdicts.fresh`) that moved no
    line and kept its definitions and its evidence, line for line: the file's verdicts for
    a name the lines re-extracted neither use nor define (before or after) hold over it."""

    source: str  # the digest it was spliced from
    first: int
    last: int  # the lines re-extracted (the same before and after)
    names: RegionNames


def _link(old: FileIndex, new: FileIndex) -> _Link | None:
    """`new` as a link from `old`, or None when its verdicts cannot be carried over."""
    how = new.spliced
    if how is None or how.source != old.digest or how.last != how.old_last:
        return None
    if not (how.same_definitions and how.same_evidence):
        return None
    if evidence_in(old, how.first, how.last) != evidence_in(new, how.first, how.last):
        return None  # a site's `via` names an evidence's line
    return _Link(
        old.digest, how.first, how.last, RegionNames(old, new, how.first, how.last, how.last)
    )


class Verdicts:
    """(definition, using file) -> that file's sites, while the file and the shape hold."""

    def __init__(self, workspace: WorkspaceIndex, moved: Callable[[], None] = lambda: None) -> None:
        self.ws = workspace
        self._moved = moved  # told when the shape moves (memos keyed by one file's version)
        # a definition's sites per using file (by the definition: a menu reads them all)
        self._kept: dict[Key, dict[str, Found]] = {}
        self._count = 0  # (definition, using file) verdicts in it
        # a method's overrides and the method it overrides: their files' digests, the sites
        self._over: dict[Key, tuple[dict[str, str], tuple[CallerSite, ...]]] = {}
        self._symbols: dict[tuple[str, int], Sym] = {}  # a definition's symbol (its shape's)
        self._defs_at = workspace.defs_version
        self._at = workspace.version
        self._shapes: dict[str, Shaped] = dict(self._shapes_now({}))
        # the edited files as last seen, and each one's latest splices, by the digest made
        self._files: dict[str, FileIndex] = dict(workspace.files.pinned())
        self._links: dict[str, dict[str, _Link]] = {}
        self._lock = threading.Lock()
        self.classified = 0  # using files classified so far (not found kept)
        self.moves = 0  # times the shape moved (every verdict dropped): analysis/kept.py

    def _shapes_now(
        self, old: dict[str, Shaped], files: dict[str, FileIndex] | None = None
    ) -> list[tuple[str, Shaped]]:
        """The edited files' (digest, shape), `old`'s where the digest is the same (`files`:
        the indexes `old` was worked out from)."""
        out = []
        files = files or {}
        for path, fi in self.ws.files.pinned():
            had = old.get(path)
            if had and had[0] == fi.digest:
                out.append((path, had))
            else:
                out.append((path, (fi.digest, reshape(fi, had, files.get(path)))))
        return out

    def fresh(self) -> None:
        """Drop every verdict when the shape moved since the last look."""
        if self._at == self.ws.version:
            return
        shapes = dict(self._shapes_now(self._shapes, self._files))
        # a stored file pinned since: the index it had (which every kept verdict read);
        # an entry lost to a race is a move (every verdict dropped): sound
        pins, self.ws.files.first_pins = self.ws.files.first_pins, {}
        before = self._shapes | {
            p: ("", shape(f)) for p, f in pins.items() if p not in self._shapes
        }
        moved = self._defs_at != self.ws.defs_version or any(
            before.get(p, ("", None))[1] != s for p, (_, s) in shapes.items()
        )
        files = dict(self.ws.files.pinned())
        with self._lock:
            self._follow(files)
            if moved:
                self._kept.clear()
                self._count = 0
                self._over.clear()
                self._symbols.clear()
                self._moved()
                self.moves += 1
            self._shapes, self._files = shapes, files
            self._defs_at, self._at = self.ws.defs_version, self.ws.version

    def _follow(self, files: dict[str, FileIndex]) -> None:
        """Each edited file's splice since the last look, as a link its verdicts may be
        carried over (the chain broken by any other edit)."""
        for path in self._links.keys() - files.keys():
            del self._links[path]
        for path, fi in files.items():
            was = self._files.get(path)
            if was is None or was is fi:
                continue
            link = _link(was, fi)
            if link is None:
                self._links.pop(path, None)
                continue
            chain = self._links.setdefault(path, {})
            chain[fi.digest] = link
            while len(chain) > LINKS_MAX:
                del chain[next(iter(chain))]

    def get(self, key: Key, path: str, name: str | None = None) -> tuple[CallerSite, ...] | None:
        """`path`'s sites for `key` if kept and still true: an edited file's digest holds,
        or (with the definition's `name`) its splices since moved no line and re-extracted
        no line using or defining the name, nor one of the sites (`_Link`): re-keyed."""
        found = self._kept.get(key, {}).get(path)
        if found is None:
            return None
        if self.ws.files.is_pinned(path):
            fi = self.ws.get(path)
            if fi is None:
                return None
            if fi.digest != found[0]:
                if name is None or not self._carried(path, fi.digest, found, name):
                    return None
                with self._lock:
                    self._kept.setdefault(key, {})[path] = (fi.digest, found[1])
        return found[1]

    def of(self, key: Key, name: str) -> dict[str, tuple[CallerSite, ...]]:
        """Every using file's sites kept for `key` (a definition called `name`) and still
        true, as `get` says of each: a menu's wide name reads thousands at every request, a
        dictionary look-up each (the edited files alone are looked at one by one)."""
        files = self._kept.get(key)
        if not files:
            return {}
        out = {path: found[1] for path, found in list(files.items())}
        for path in self.ws.files.pinned_among(out):
            sites = self.get(key, path, name)
            if sites is None:
                del out[path]
            else:
                out[path] = sites
        return out

    def _carried(self, path: str, digest: str, found: Found, name: str) -> bool:
        """Whether the links from `found`'s digest to `digest` all keep its sites."""
        chain = self._links.get(path, {})
        for _ in range(LINKS_MAX):
            link = chain.get(digest)
            if link is None or link.names.hold(name):
                return False
            if any(link.first <= s.line <= link.last for s in found[1]):
                return False
            if link.source == found[0]:
                return True
            digest = link.source
        return False

    def put(self, key: Key, path: str, digest: str, sites: tuple[CallerSite, ...]) -> None:
        with self._lock:
            self.classified += 1
            if self._count >= KEPT_MAX:
                self._kept.clear()
                self._count = 0
            files = self._kept.setdefault(key, {})
            self._count += path not in files
            files[path] = (digest, sites)

    def overrides(self, key: Key) -> tuple[CallerSite, ...] | None:
        """The override sites kept for `key`, while their edited files' digests hold (the
        classes deriving and their members are the shape's: they hold with it)."""
        found = self._over.get(key)
        if found is None:
            return None
        for path, digest in found[0].items():
            if self.ws.files.is_pinned(path):
                fi = self.ws.get(path)
                if fi is None or fi.digest != digest:
                    return None
        return found[1]

    def keep_overrides(self, key: Key, sites: tuple[CallerSite, ...]) -> None:
        digests = {}
        for s in sites:
            fi = self.ws.get(s.path)
            digests[s.path] = fi.digest if fi is not None else ""
        with self._lock:
            if len(self._over) >= KEPT_MAX:
                self._over.clear()
            self._over[key] = (digests, sites)

    def symbol(self, path: str, index: int) -> Sym | None:
        """The symbol kept for a definition: its declarations are the shape's (definitions,
        class headers, imports), so it holds with it."""
        return self._symbols.get((path, index))

    def keep_symbol(self, path: str, index: int, sym: Sym) -> None:
        with self._lock:
            if len(self._symbols) >= KEPT_MAX:
                self._symbols.clear()
            self._symbols[(path, index)] = sym

    # ------------------------------------------------------------------ another process's
    def kept(self) -> tuple[dict[tuple[Key, str], Found], dict[Key, Over]]:
        """Every verdict kept now and the override sites (a copy): what a process leaves
        for the next one on the same workspace (cli/kept.py)."""
        with self._lock:
            kept = {(k, p): f for k, files in self._kept.items() for p, f in files.items()}
            return kept, dict(self._over)

    def symbols(self) -> dict[tuple[str, int], Sym]:
        """The symbols kept now (a copy), for the next process (cli/kept.py)."""
        with self._lock:
            return dict(self._symbols)

    def take(
        self,
        kept: dict[tuple[Key, str], Found],
        over: dict[Key, Over],
        symbols: dict[tuple[str, int], Sym] | None = None,
    ) -> None:
        """Verdicts worked out by another process on this very workspace — the same files
        with the same contents, so the same shape (the caller makes sure): kept as if
        worked out here, after the look `fresh` takes at the index as it is now."""
        self.fresh()
        with self._lock:
            for kp, found in kept.items():
                files = self._kept.setdefault(kp[0], {})
                if kp[1] not in files:
                    files[kp[1]] = found
                    self._count += 1
            for k, o in over.items():
                self._over.setdefault(k, o)
            for d, sym in (symbols or {}).items():
                self._symbols.setdefault(d, sym)
