"""The class hierarchy across the workspace, from the index: a class's bases (resolved where
the workspace defines them, named where it does not), its subclasses in every file, a
member's lookup through the bases, and the overrides of a method either way."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from scopewise.analysis.work import Work
from scopewise.index.model import REF_MEMBER, FileIndex, Import
from scopewise.index.workspace import WorkspaceIndex
from scopewise.vocab import CLASS_LIKE, CONTAINER_KINDS, DATA_KINDS, TYPE_KINDS, Kind

Ref = tuple[FileIndex, int]  # a definition: its file and its index there
_CLASSES = TYPE_KINDS | CONTAINER_KINDS  # what a member belongs to
_MAX_DEPTH = 8
_MAX_SUBCLASSES = 500  # a search stops past it


class Binder(Protocol):
    """Name binding, as the resolver does it (analysis/resolve.py)."""

    def bind_name(self, fi: FileIndex, name: str) -> tuple[list[Ref], bool]:
        """Definitions a bare `name` refers to in `fi`, and whether `fi` binds it at all."""
        ...

    def module_alias(self, fi: FileIndex, alias: str) -> str | None:
        """The workspace file of a module bound to `alias` by an import ("" for a module
        outside the workspace); None when `alias` is no module import."""
        ...

    def module_file(self, module: str, from_path: str) -> str | None:
        """The workspace file a module name denotes, seen from `from_path`."""
        ...


def same(a: Ref, b: Ref) -> bool:
    """Whether two references name the same definition."""
    return a[1] == b[1] and a[0].path == b[0].path


def enclosing_class(fi: FileIndex, index: int) -> int | None:
    """The class (or module, enum, ...) that contains definition `index`, or None."""
    i = fi.definitions[index].parent
    while i is not None:
        if fi.definitions[i].kind in _CLASSES:
            return i
        i = fi.definitions[i].parent
    return None


def class_at(fi: FileIndex, line: int) -> int | None:
    """The innermost class holding `line`, or None."""
    i = fi.enclosing(line, line, skip=DATA_KINDS | {Kind.ATTRIBUTE})
    while i is not None and fi.definitions[i].kind not in CLASS_LIKE:
        i = fi.definitions[i].parent
    return i


Edited = dict[tuple[str, str], FileIndex]  # (path, digest) of an index then -> the index now


@dataclass
class _Search:
    """A subclass search under way: found so far, seen, the classes whose subclasses are
    still to find (the first one's header files read up to `at`), and each class's direct
    subclasses found, in the order found (those seen before too: a class deriving from two)."""

    out: list[Ref]
    seen: set[tuple[str, int]]
    todo: list[Ref]
    at: int = 0
    # (path, class) -> its direct subclasses' (path, class): no index in them, nothing to
    # carry over an edit (it keeps the classes at their indexes: `carry_subclasses`)
    under: dict[tuple[str, int], list[tuple[str, int]]] = field(default_factory=dict)

    def moved(self, paths: set[str], now: Edited) -> _Search | None:
        """This search with the edited files' indexes replaced by their new ones (`now`, by
        the old index's path and digest); None when it holds an edited file's index other
        than the one edited (an earlier version's)."""
        out, todo = _moved(self.out, paths, now), _moved(self.todo, paths, now)
        if out is None or todo is None:
            return None
        return _Search(list(out), set(self.seen), list(todo), self.at, self.under)

    def below(self, top: Ref) -> list[Ref]:
        """The subclasses of `top`, one of this finished search's classes, in the order a
        search of its own finds them (breadth first, each class's in the order found)."""
        refs = {(f.path, i): (f, i) for f, i in self.out}
        out: list[Ref] = []
        seen = {(top[0].path, top[1])}
        todo = [(top[0].path, top[1])]
        while todo and len(out) < _MAX_SUBCLASSES:
            for key in self.under.get(todo.pop(0), ()):
                if key not in seen and key in refs:  # (not the search's own class: a cycle)
                    seen.add(key)
                    out.append(refs[key])
                    todo.append(key)
        return out


def _moved(refs: Sequence[Ref], paths: set[str], now: Edited) -> tuple[Ref, ...] | None:
    """`refs` with an edited file's index replaced by its new one; None when one is an
    edited file's index other than the one edited. (By path and digest: a copy of the
    edited file elsewhere has the same digest and is not edited.)"""
    if any(f.path in paths and (f.path, f.digest) not in now for f, _ in refs):
        return None
    return tuple((now[f.path, f.digest], i) if f.path in paths else (f, i) for f, i in refs)


def _rekeyed(key: tuple[str, str, int], paths: set[str], now: Edited) -> tuple[str, str, int]:
    """A (path, digest, class) key, an edited file's under its new digest."""
    path, digest, cls = key
    return (path, now[path, digest].digest, cls) if path in paths else key


class _Bases(NamedTuple):
    """A class's bases as `Hierarchy.bases` answers them, and the imports of its file then
    (what a splice must have kept for them to hold: `Hierarchy._carried`)."""

    found: list[Ref]
    named: list[str]
    imports: tuple[Import, ...]


def _carried(
    fi: FileIndex,
    cls: int,
    kept: Callable[[tuple[str, str, int, int]], _Bases | None],
    defs_version: int,
) -> tuple[list[Ref], list[str]] | None:
    """The bases `kept` for the text `fi` was spliced from, when the splice cannot have
    moved them: no line moved, the same definitions and imports, and the class's header not
    among the lines re-extracted (a keystroke in a body: at each one, a menu's member
    lookups asked the edited file's classes again, loading their bases' files). A base in
    the class's own file is the new index's."""
    how = fi.spliced
    if how is None or how.last != how.old_last or not how.same_definitions:
        return None
    d = fi.definitions[cls]
    if d.name_line <= how.last and how.first <= d.header_end:
        return None
    was = kept((fi.path, how.source, cls, defs_version))
    if was is None or was.imports != tuple(fi.imports):
        return None
    return [(fi, i) if f.path == fi.path else (f, i) for f, i in was.found], was.named


class Hierarchy:
    """Bases, subclasses and member lookup of the workspace's classes."""

    def __init__(self, workspace: WorkspaceIndex, binder: Binder) -> None:
        self.ws = workspace
        self.binder = binder
        self._headers: dict[tuple[str, str, int], list[tuple[str, str | None]]] = {}
        self._members: dict[tuple[str, str], dict[tuple[int | None, str], int]] = {}
        self._bases: dict[tuple[str, str, int, int], _Bases] = {}
        self._bases_at = workspace.version
        # a class's subclasses (every method of a class asks the same), found in other
        # files: kept while the definitions and the shape hold (`carry_subclasses`)
        # (path, digest, class) -> its subclasses, and the files they are in
        self._subclasses: dict[tuple[str, str, int], tuple[tuple[Ref, ...], frozenset[str]]] = {}
        self._subclasses_at = workspace.version
        # a search a request's work stopped: where the next one carries on (this version's)
        self._searching: dict[tuple[str, str, int], tuple[int, _Search]] = {}  # (version, it)
        self._finished: list[_Search] = []  # searches finished: their classes' subclasses
        # called when the index moved since: by default every subclass found is dropped;
        # the resolver's answers kept (analysis/kept.py) carry them over edits
        self.fresh: Callable[[], None] = self._alone

    def _alone(self) -> None:
        """`fresh` with no resolver's answers to carry them: the index moved, so every
        subclass found and every base worked out is dropped."""
        self.carry_subclasses(None, self.ws.version)
        self.forget()

    def header_names(self, fi: FileIndex, cls: int) -> list[tuple[str, str | None]]:
        """(name, receiver) of each name on a class's header after its own name: its bases
        (``Base`` or ``mod.Base``), keywords such as ``metaclass=`` included. Kept per
        file version (they depend on that file alone)."""
        key = (fi.path, fi.digest, cls)
        names = self._headers.get(key)
        if names is None:
            if len(self._headers) > 8192:
                self._headers.clear()
            names = self._headers[key] = self._header_names(fi, cls)
        return names

    def _header_names(self, fi: FileIndex, cls: int) -> list[tuple[str, str | None]]:
        d = fi.definitions[cls]
        lo, hi = d.name_line, d.header_end
        bare: list[tuple[str, str | None]] = []
        dotted: list[tuple[str, str | None]] = []
        # by line, then by name: the same answer whatever order the file's names are stored in
        # (the index keeps no columns, so two bases on one line come alphabetically)
        used: dict[str, list[tuple[int, int]]] = {}
        # a class's header names are among the file's (one pass over its names, kept)
        for name in fi.head_names() if d.kind in CLASS_LIKE else fi.names_used_in(lo, hi):
            here = [(ln, k) for ln, k in fi.ref_lines(name) if lo <= ln <= hi]
            if here:
                used[name] = here
        for name in sorted(used, key=lambda n: (min(used[n])[0], n)):
            kinds = {k for _, k in used[name]}
            if kinds - {REF_MEMBER}:
                bare.append((name, None))
            if REF_MEMBER in kinds:
                dotted += [(name, r) for ln, r in fi.receivers_of(name) if lo <= ln <= hi]
        heads = {r.split(".")[0] for _, r in dotted if r}
        return [b for b in bare if b[0] not in heads] + dotted

    def bases(self, fi: FileIndex, cls: int) -> tuple[list[Ref], list[str]]:
        """A class's bases: those the workspace defines, and the names of the others (read
        only). Kept per class file version and definitions version until the shape moves
        (`fresh` asked once the index moved; `forget`: another file's imports may bind a
        base's name elsewhere); a menu asks the same classes' dozens of times (an override
        search, `super()`, each member lookup up the classes); carried over a keystroke
        that cannot have moved them (`_carried`)."""
        if self._bases_at != self.ws.version:  # the shape judged (`forget` if it moved)
            at = self.ws.version
            self.fresh()
            self._bases_at = at
        key = (fi.path, fi.digest, cls, self.ws.defs_version)
        hit = self._bases.get(key)
        if hit is None:
            if len(self._bases) > 8192:
                self._bases.clear()
            carried = _carried(fi, cls, self._bases.get, self.ws.defs_version)
            found, named = carried or self._bases_now(fi, cls)
            hit = self._bases[key] = _Bases(found, named, tuple(fi.imports))
        return hit.found, hit.named

    def forget(self) -> None:
        """Drop the bases worked out: the workspace's shape moved (analysis/verdicts.py)."""
        self._bases.clear()

    def _bases_now(self, fi: FileIndex, cls: int) -> tuple[list[Ref], list[str]]:
        found: list[Ref] = []
        named: list[str] = []
        for name, recv in self.header_names(fi, cls):
            hit = self._class_named(fi, name, recv)
            if hit is not None and not same(hit, (fi, cls)):
                found.append(hit)
            elif hit is None:
                named.append(name)
        return found, named

    def _class_named(self, fi: FileIndex, name: str, recv: str | None) -> Ref | None:
        if recv is None:
            hits, _ = self.binder.bind_name(fi, name)
        else:
            path = self.binder.module_alias(fi, recv) if "." not in recv else None
            mfi = self.ws.get(path) if path else None
            hits = self.binder.bind_name(mfi, name)[0] if mfi is not None else []
        for hfi, hi in hits:
            if hfi.definitions[hi].kind in CLASS_LIKE:
                return hfi, hi
        return None

    def ancestors(self, fi: FileIndex, cls: int) -> list[Ref]:
        """Every class `cls` derives from in the workspace, nearest first."""
        out: list[Ref] = []
        seen = {(fi.path, cls)}
        todo = [(fi, cls)]
        while todo and len(out) < 64:
            cfi, ci = todo.pop(0)
            for b in self.bases(cfi, ci)[0]:
                if (b[0].path, b[1]) not in seen:
                    seen.add((b[0].path, b[1]))
                    out.append(b)
                    todo.append(b)
        return out

    def unresolved_bases(self, fi: FileIndex, cls: int) -> set[str]:
        """Names of bases outside the workspace, of `cls` and its ancestors."""
        names = set(self.bases(fi, cls)[1])
        for afi, ai in self.ancestors(fi, cls):
            names.update(self.bases(afi, ai)[1])
        return names

    def subclasses(self, fi: FileIndex, cls: int, work: Work | None = None) -> list[Ref]:
        """Every class across the workspace deriving from `cls`, directly or not (worked out
        once per class file version while the index stays as it is); with a request's
        `work`, those found before it was spent (`work.stop()`: a lower bound; the next
        request carries the search on)."""
        at = self.ws.version
        if self._subclasses_at != at:
            self.fresh()
        key = (fi.path, fi.digest, cls)
        found = self._subclasses.get(key)
        if found is not None:
            return list(found[0])
        below = self._below(fi, cls) if at == self._subclasses_at else None
        if below is not None:
            self._subclasses[key] = below, frozenset(f.path for f, _ in below)
            return list(below)
        was = self._searching.pop(key, None)
        search = was[1] if was and was[0] == at else _Search([], {(fi.path, cls)}, [(fi, cls)])
        if not self._search(search, fi.language, work):
            if at == self.ws.version == self._subclasses_at:
                self._searching[key] = (at, search)  # carried on at this version only
            return list(search.out)
        hit = tuple(search.out)
        if at == self.ws.version == self._subclasses_at:  # the index held meanwhile
            if len(self._subclasses) > 4096:
                self._subclasses.clear()
            self._subclasses[key] = hit, frozenset(f.path for f, _ in hit)
            if not search.todo and len(search.under) > 1:  # finished: its classes' own known
                if len(self._finished) >= 64:
                    self._finished.clear()
                self._finished.append(search)
        return list(hit)

    def _below(self, fi: FileIndex, cls: int) -> tuple[Ref, ...] | None:
        """The subclasses of `cls` when a finished search found it (every class it found
        had its header files read), as a search of its own would find them: a search from a
        class's base makes its subclasses' searches free (tkinter's `Misc`: `Widget`,
        `BaseWidget` and 230 more). Worked out when asked (kept over edits: each one
        kept is carried at every keystroke)."""
        for search in self._finished:
            if any(i == cls and f.path == fi.path and f.digest == fi.digest for f, i in search.out):
                return tuple(search.below((fi, cls)))
        return None

    def carry_subclasses(
        self, edits: Sequence[tuple[FileIndex, FileIndex]] | None, at: int
    ) -> None:
        """The subclasses found, and the searches a request's work stopped, brought to the
        index's version `at`: all dropped (`edits` None), else carried over `edits` (an
        edited file's index then, and now) that kept the definitions version and the shape
        (the same classes derive from the same ones, at the same indexes, and the same files'
        class headers name them): an edited file's index in them replaced by the new one."""
        searching, self._searching = self._searching, {}
        finished, self._finished = self._finished, []
        if edits is None:
            self._subclasses = {}
        elif edits:
            now = {(old.path, old.digest): new for old, new in edits}
            paths = {new.path for _, new in edits}
            kept = {}
            for (path, digest, cls), (refs, held) in self._subclasses.items():
                if path not in paths and paths.isdisjoint(held):
                    kept[path, digest, cls] = refs, held  # no edited file's index in them
                    continue
                moved = _moved(refs, paths, now)
                if moved is not None and (path not in paths or (path, digest) in now):
                    kept[_rekeyed((path, digest, cls), paths, now)] = moved, held
            self._subclasses = kept
            for key, (_, search) in searching.items():
                carried = search.moved(paths, now)
                if carried is not None and (key[0] not in paths or key[:2] in now):
                    self._searching[_rekeyed(key, paths, now)] = at, carried
            self._finished = [c for c in (f.moved(paths, now) for f in finished) if c]
        else:  # the same files: every search carries on where it stopped
            self._searching = {key: (at, search) for key, (_, search) in searching.items()}
            self._finished = finished
        self._subclasses_at = at

    def _search(self, s: _Search, language: str, work: Work | None) -> bool:
        """Carry the breadth-first search `s` on; False when `work` was spent first (`s`
        says where it stopped)."""
        while s.todo and len(s.out) < _MAX_SUBCLASSES:
            cfi, ci = s.todo[0]
            name = cfi.definitions[ci].name
            paths = self.ws.files_heading(name)  # a class header names it: no other
            while s.at < len(paths):
                if work is not None and work.spent():
                    work.stop()
                    return False
                path = paths[s.at]
                s.at += 1
                sfi = self.ws.get(path)
                if sfi is None or sfi.language != language:
                    continue
                for si in self._classes_naming(sfi, name):
                    if any(b[0].path == cfi.path and b[1] == ci for b in self.bases(sfi, si)[0]):
                        s.under.setdefault((cfi.path, ci), []).append((path, si))
                        if (path, si) not in s.seen:
                            s.seen.add((path, si))
                            s.out.append((sfi, si))
                            s.todo.append((sfi, si))
            s.todo.pop(0)
            s.at = 0
        return True

    def _classes_naming(self, fi: FileIndex, name: str) -> list[int]:
        """Classes of `fi` whose header uses `name`."""
        found: set[int] = set()
        defs = fi.definitions
        for ln, _ in fi.ref_lines(name):  # each use: the classes whose header holds it
            i = fi.enclosing(ln, ln)
            while i is not None:
                d = defs[i]
                if d.kind in CLASS_LIKE and d.name_line <= ln <= d.header_end:
                    found.add(i)
                i = d.parent
        return sorted(found)

    def own_member(self, fi: FileIndex, cls: int, name: str) -> int | None:
        """A member `name` defined by class `cls` itself (``self.name = ...`` too)."""
        return self._member_table(fi).get((cls, name))

    def _member_table(self, fi: FileIndex) -> dict[tuple[int | None, str], int]:
        """(class, name) -> its first member of that name, for one file version: a direct
        child first, else an attribute set in one of its methods (``self.name = ...``)."""
        key = (fi.path, fi.digest)
        table = self._members.get(key)
        if table is None:
            table = {}
            for i, d in enumerate(fi.definitions):
                table.setdefault((d.parent, d.name), i)
            for i, d in enumerate(fi.definitions):
                if d.kind == Kind.ATTRIBUTE:
                    table.setdefault((enclosing_class(fi, i), d.name), i)
            if len(self._members) > 4096:
                self._members.clear()
            self._members[key] = table
        return table

    def lookup(self, fi: FileIndex, cls: int, name: str, depth: int = 0) -> Ref | None:
        """The member `name` an instance of `cls` reaches: its own, else its bases' (in
        order, depth first)."""
        own = self.own_member(fi, cls, name)
        if own is not None:
            return fi, own
        if depth >= _MAX_DEPTH:
            return None
        for bfi, bi in self.bases(fi, cls)[0]:
            hit = self.lookup(bfi, bi, name, depth + 1)
            if hit is not None:
                return hit
        return None

    def overridden(self, fi: FileIndex, index: int) -> list[Ref]:
        """The base members a member `index` overrides (the nearest along each base)."""
        cls = enclosing_class(fi, index)
        if cls is None:
            return []
        name = fi.definitions[index].name
        out: list[Ref] = []
        for bfi, bi in self.bases(fi, cls)[0]:
            hit = self.lookup(bfi, bi, name)
            if hit is not None and not any(same(hit, o) for o in out):
                out.append(hit)
        return out

    def overrides(self, fi: FileIndex, index: int, work: Work | None = None) -> list[Ref]:
        """The members of the subclasses that override member `index` (with `work`, of
        those found before it was spent: `subclasses`)."""
        cls = enclosing_class(fi, index)
        if cls is None:
            return []
        name = fi.definitions[index].name
        out: list[Ref] = []
        for sfi, si in self.subclasses(fi, cls, work):
            own = self.own_member(sfi, si, name)
            if own is not None and sfi.definitions[own].kind != Kind.ATTRIBUTE:
                out.append((sfi, own))
        return out

    def derives(self, fi: FileIndex, cls: int, base: Ref) -> bool:
        """Whether class `cls` is `base` or derives from it."""
        return same((fi, cls), base) or any(same(a, base) for a in self.ancestors(fi, cls))
