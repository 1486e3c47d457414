"""Who uses a definition: every site, classed by evidence.

A site is *certain* when evidence says it reaches the target (the receiver's type is the
target's class or a subclass that inherits it, ``self`` in that hierarchy, a name bound to the
target by import or definition, ``mod.f`` through an import of the target's module or of a
package re-exporting it), *excluded* when evidence says it is something else (``"".join`` is
not ``URL.join``), else a *candidate* with a stated low confidence. Overrides are sites too:
the subclasses' definitions of a method, and the base method a method overrides.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from scopewise.analysis import declared, symbols
from scopewise.analysis.hierarchy import Hierarchy, Ref, class_at, enclosing_class
from scopewise.analysis.receivers import CLASS, INSTANCE, NOTHING, SUPER, Types, Value
from scopewise.analysis.sources import CallerFacts
from scopewise.analysis.work import Work
from scopewise.index import languages
from scopewise.index.model import REF_MEMBER, UNKNOWN, FileIndex
from scopewise.index.workspace import WorkspaceIndex, loads_checked
from scopewise.vocab import DATA_KINDS, TYPE_KINDS, Kind

# methods of builtin containers/strings: `x.get(...)` on an unknown receiver is most often these
COMMON_METHODS = frozenset(
    (
        "get set pop items keys values update append extend insert remove clear copy add discard "
        "join split strip lower upper format replace startswith endswith encode decode read "
        "write close open find index count sort reverse push map filter reduce then catch "
        "length size len next send run start stop apply call bind toString equals hashCode"
    ).split()
)
FAMILY = {"c": "c", "cpp": "c", "javascript": "js", "typescript": "js", "tsx": "js"}
OVERRIDE, OVERRIDE_CALL, DISPATCH = 0.9, 0.6, 0.35  # confidences of the override sites
_VALUES = DATA_KINDS | {Kind.ATTRIBUTE}  # cannot enclose a use: a use there is its owner's
_ONLY_WORK = 1 << 40  # SiteFinder._gather's share when the request's work alone bounds it
# the range's own share of using files stops past this many times the request's work too: a
# file's uses typed on their receivers can load many files (three.js' `add`: 360 units of a
# 32-unit request in one share)
OWN_SHARE_MAX = 3
# times a timed request's time (analysis/work.py) the own share may take: its time (1.5 made
# the slowest 2% of menus at 50k files, whose fixed parts come after it, 3 ms longer and
# routed no more of them as an unbounded menu: tests/benchmarks/menu_partial.py)
OWN_SHARE_TIME = 1.0
CLASSIFYING_MAX = 1024  # using files whose stopped classification is kept for the next request
# files one using file's classification loads in a request before the request's work may stop
# it (a file's few look-ups finish as they did; three.js' `Uniform.js` once loaded 535)
FILE_LOADS = 4
# ... and past this many of its uses, it stops between two once the request's time (times
# USES_LATE) is up: a file with hundreds of uses of the name costs CPU with no load
FILE_USES = 16
USES_LATE = 2.0


@dataclass(frozen=True)
class CallerSite:
    """A use of a target definition elsewhere, inside `caller` (a definition index; None at
    module level): certain (evidence says so) or a candidate, and why (`via`); made by
    `site_in` with the facts of the definition around it (`facts`: its name line, qualified
    name, kind and lines, read from the same index as `caller`), so a site list loads no
    file again."""

    path: str
    line: int
    caller: int | None
    confidence: float
    certain: bool = False
    via: str = ""
    facts: CallerFacts | None = None  # None: not known (then its file is asked)


MODULE_LEVEL: CallerFacts = (-1, "(module level)", "", -1, -1)  # a site outside every definition


def site_in(fi: FileIndex, line: int, confidence: float, certain: bool, via: str) -> CallerSite:
    """The site on `line` of `fi`, inside the definition around it (`enclosing_callable`)."""
    caller = enclosing_callable(fi, line)
    facts = MODULE_LEVEL if caller is None else facts_of(fi, caller)
    return CallerSite(fi.path, line, caller, confidence, certain, via, facts)


def facts_of(fi: FileIndex, index: int) -> CallerFacts:
    """A definition's facts as a site carries them: name line, qualified name, kind, lines."""
    d = fi.definitions[index]
    return d.name_line, fi.qualified_name(index), d.kind, d.start_line, d.end_line


_Verdict = tuple[float, bool, str] | None  # (confidence, certain, via); None: excluded
Key = tuple[str, int, str, int]  # the definition asked, the declaration searched (path, index)
# a definition's symbol as plain values: its declarations (path, index; the definition
# first), its namesakes, whether its uses are bare calls, its Ruby module (symbols.Symbol)
Sym = tuple[tuple[tuple[str, int], ...], int, bool, str | None]


class _Stopped(Exception):
    """A look-up inside one using file's classification loaded a file once the request's
    work was over: the classification stops there (`_Classifying.carry`)."""


@dataclass
class _Classifying:
    """A using file's classification under way (as hierarchy's `_Search`): the verdicts of
    its first uses, for one version of the file and one symbol of the target (its
    declarations); one a request's work stopped is carried on by the next request."""

    digest: str
    keys: frozenset[tuple[str, int]]
    out: list[tuple[int, _Verdict]] = field(default_factory=list)
    lines: int = 0  # its uses (lines) classified

    def carry(
        self,
        lines: list[tuple[int, int]],
        verdicts: Callable[[int, int], list[tuple[int, _Verdict]]],
        work: Work,
        shared: bool,
    ) -> bool:
        """Carry it on over `lines` (`verdicts` of each: line, kind) until the work is over
        (`_over`) once FILE_LOADS files were loaded — between two uses, or after a file a
        look-up loads (the look-up left unfinished) —, or gives way (after a load), or, past
        FILE_USES uses, the request's time times USES_LATE is up; False when it stopped
        first."""
        loaded = [0]

        def check() -> None:
            loaded[0] += 1
            if work.gives_way() or (loaded[0] >= FILE_LOADS and _over(work, shared)):
                raise _Stopped

        try:
            with loads_checked(check):
                for done, (line, kind) in enumerate(lines[self.lines :]):
                    if loaded[0] >= FILE_LOADS and _over(work, shared):
                        return False
                    if done >= FILE_USES and work.late(USES_LATE):
                        return False  # uses that load nothing cost CPU alone (time)
                    self.out += verdicts(line, kind)
                    self.lines += 1
        except _Stopped:
            return False
        return True


class _StoppedAt:
    """The classifications a request's work stopped, by (target, using file), each at the
    index's version it was stopped at: carried on at that version only."""

    def __init__(self, ws: WorkspaceIndex) -> None:
        self.ws = ws
        self._at: dict[tuple[Key, str], tuple[int, _Classifying]] = {}

    def take(
        self, at: tuple[Key, str], digest: str, keys: frozenset[tuple[str, int]]
    ) -> _Classifying | None:
        """The classification stopped at `at`, when it still holds (the same index version,
        file version and symbol)."""
        was = self._at.pop(at, None)
        if was is None or was[0] != self.ws.version:
            return None
        state = was[1]
        return state if state.digest == digest and state.keys == keys else None

    def keep(self, at: tuple[Key, str], state: _Classifying, version: int) -> None:
        if version != self.ws.version:
            return  # the index moved while it ran: its verdicts are not this version's
        if len(self._at) >= CLASSIFYING_MAX:
            self._at.clear()
        self._at[at] = (version, state)


class Kept(Protocol):
    """Each using file's sites kept across requests (analysis/verdicts.py)."""

    def fresh(self) -> None: ...
    def get(self, key: Key, path: str, name: str | None = None) -> tuple[CallerSite, ...] | None:
        """`path`'s sites of `key` (a definition called `name`) while they hold."""

    def of(self, key: Key, name: str) -> dict[str, tuple[CallerSite, ...]]:
        """Every using file's sites of `key` that hold, by path."""

    def put(self, key: Key, path: str, digest: str, sites: tuple[CallerSite, ...]) -> None: ...
    def overrides(self, key: Key) -> tuple[CallerSite, ...] | None: ...
    def keep_overrides(self, key: Key, sites: tuple[CallerSite, ...]) -> None: ...
    def symbol(self, path: str, index: int) -> Sym | None: ...
    def keep_symbol(self, path: str, index: int, sym: Sym) -> None: ...


def enclosing_callable(fi: FileIndex, line: int) -> int | None:
    """The definition a use on `line` belongs to (None: module level); a decorator belongs
    to the code around the decorated definition, not to the definition itself."""
    i = fi.enclosing(line, line, skip=_VALUES)
    while i is not None and line < fi.definitions[i].name_line:
        i = fi.definitions[i].parent
        while i is not None and fi.definitions[i].kind in _VALUES:
            i = fi.definitions[i].parent
    return i


@dataclass(frozen=True)
class _Target:
    """The definition whose sites are sought, with the other declarations of its symbol
    (overloads: same name, same scope; and `symbols`' declarations in other languages)."""

    fi: FileIndex
    index: int
    cls: int | None  # its class, for a member
    owner: Ref | None  # its class for a member use (a Go method: its receiver type)
    keys: frozenset[tuple[str, int]]
    spans: dict[str, list[tuple[int, int]]]  # path -> the declarations' lines there
    sym: symbols.Symbol

    @property
    def name(self) -> str:
        return self.fi.definitions[self.index].name

    @property
    def n_defs(self) -> int:  # definitions of its name in the workspace, the symbol's as one
        return self.sym.namesakes

    @property
    def member(self) -> bool:
        return self.cls is not None and self.fi.definitions[self.index].kind not in TYPE_KINDS

    def is_(self, ref: Ref | None) -> bool:
        return ref is not None and (ref[0].path, ref[1]) in self.keys

    def inside(self, path: str, line: int) -> bool:
        return any(a <= line <= b for a, b in self.spans.get(path, ()))


def _target(ws: WorkspaceIndex, fi: FileIndex, index: int, sym: symbols.Symbol) -> _Target:
    d = fi.definitions[index]
    cls = enclosing_class(fi, index)

    # its overloads, and for a class's data member the other declarations of it in the class
    # (`adapters: Mapping` in the body, `self.adapters = ...` in a method): one member
    same = set(fi.overloads(index))
    if cls is not None and d.kind in _VALUES:
        same.update(
            i
            for i in fi.named(d.name)
            if fi.definitions[i].kind in _VALUES and enclosing_class(fi, i) == cls
        )
    decls = [(fi, i) for i in sorted(same)]
    decls += list(sym.declarations)
    spans: dict[str, list[tuple[int, int]]] = {}
    for f, i in decls:
        spans.setdefault(f.path, []).append(
            (f.definitions[i].start_line, f.definitions[i].end_line)
        )
    keys = frozenset((f.path, i) for f, i in decls)
    n = max(1, ws.count_definitions(d.name) - len(keys) + 1)
    if n != sym.namesakes:
        sym = replace(sym, namesakes=min(n, sym.namesakes))
    owner = (fi, cls) if cls is not None else declared.go_owner(ws, fi, index)
    return _Target(fi, index, cls, owner, keys, spans, sym)


def _rest(sym: symbols.Symbol) -> tuple[int, bool, str | None]:
    return sym.namesakes, sym.bare_calls, sym.module_name


def _over(work: Work, shared: bool) -> bool:
    """Whether a request may classify no more using files: its work is spent (sites that
    share it), or past OWN_SHARE_MAX times it, units or time (the range's own share of
    files); either once the work gives way (a message waits: analysis/work.py)."""
    if shared:
        return work.spent()
    return work.used >= OWN_SHARE_MAX * work.limit or work.late(OWN_SHARE_TIME) or work.gives_way()


class SiteFinder:
    """The sites of a definition across the workspace (see the module's docstring); with
    `kept`, each using file's sites are kept across edits elsewhere (analysis/verdicts.py)."""

    def __init__(
        self,
        workspace: WorkspaceIndex,
        hierarchy: Hierarchy,
        types: Types,
        kept: Kept | None = None,
    ) -> None:
        self.ws = workspace
        self.h = hierarchy
        self.types = types
        self.kept = kept
        self.uses = 0  # uses classified so far (a request's work counts them: analysis/work.py)
        self._stopped = _StoppedAt(workspace)  # classifications a request's work stopped

    def sites(self, fi: FileIndex, index: int) -> list[CallerSite]:
        """Every site of definition `index` of `fi` outside its own body (and outside the
        other declarations of its symbol, which are sites themselves): the certain ones
        first, then by confidence; excluded uses are left out."""
        return self.bounded(fi, index, None)[0]

    def bounded(
        self, fi: FileIndex, index: int, budget: int | None, work: Work | None = None
    ) -> tuple[list[CallerSite], bool]:
        """`sites`, classifying at most `budget` using files not kept already (a range's
        own sites: their share, whatever else the request did), else none once the
        request's `work` is spent (a sibling's), the nearest first (its own file, its
        folder's, then by path); no overrides looked for once the work is spent; and
        whether it stopped before every using file was seen (then the sites are a lower
        bound; the next call carries on where this one stopped, the kept verdicts its
        progress)."""
        if self.kept is not None:
            self.kept.fresh()
        kept = self.kept if self.kept is not None and self._indexed(fi) else None
        work = work if kept is not None else None  # a private index keeps no progress
        stops = work.stops if work is not None else 0
        sym = self._symbol(fi, index, kept, work)
        partial = work is not None and work.stops > stops  # a part of the symbol's declarations
        best: dict[tuple[str, int], CallerSite] = {}
        left = [budget if budget is not None and kept is not None else -1]
        if left[0] == -1 and work is not None:
            left[0] = _ONLY_WORK
        for dfi, di in sym.gathered:
            t = _target(self.ws, dfi, di, sym)
            self._gather(t, (fi.path, index, dfi.path, di), best, kept, left, work)
        for dfi, di in sym.declarations[1:]:
            line = dfi.definitions[di].name_line
            best[(dfi.path, line)] = site_in(dfi, line, 1.0, True, "another declaration")
        order = sorted(best.values(), key=lambda s: (not s.certain, -s.confidence, s.path, s.line))
        return order, left[0] == -2 or partial

    def _symbol(
        self, fi: FileIndex, index: int, kept: Kept | None, work: Work | None = None
    ) -> symbols.Symbol:
        """The definition's symbol, kept while the shape holds (a method's declarations up
        and down its class hierarchy: three.js's `Object3D.add` looks at 106 files); within
        `work`, a part of it when the work ran out first (not kept: the next request looks
        again)."""
        got = kept.symbol(fi.path, index) if kept is not None else None
        if got is not None:
            decls = [(fi, index)]
            for path, i in got[0][1:]:
                dfi = self.ws.get(path)
                if dfi is None or i >= len(dfi.definitions):
                    break
                decls.append((dfi, i))
            else:
                return symbols.Symbol(self.ws, tuple(decls), *got[1:])
        stops = work.stops if work is not None else 0
        sym = symbols.symbol_of(self.ws, fi, index, self.h.binder.module_file, work)
        if kept is not None and (work is None or work.stops == stops):
            decls_at = tuple((f.path, i) for f, i in sym.declarations)
            kept.keep_symbol(fi.path, index, (decls_at, *_rest(sym)))
        return sym

    def _indexed(self, fi: FileIndex) -> bool:
        """Whether `fi` is the workspace's index of its file (not a private one made from a
        text the index does not hold): then a definition's index names it in the kept."""
        own = self.ws.get(fi.path)
        return own is not None and own.digest == fi.digest

    def _gather(
        self,
        t: _Target,
        key: Key,
        best: dict[tuple[str, int], CallerSite],
        kept: Kept | None,
        left: list[int],
        work: Work | None = None,
    ) -> None:
        """The sites of one declaration into `best`, the better verdict per line kept;
        `left[0]` using files may be classified (-1: any number; -2: the budget ran out;
        _ONLY_WORK: none once `work` is spent), no overrides looked for once it is."""
        using = self.ws.files_using(t.name)
        shared = left[0] == _ONLY_WORK  # no share of its own: the request's work bounds it
        family = FAMILY.get(t.fi.language, t.fi.language)
        own = _extensions(family)
        have = kept.of(key, t.name) if kept is not None else {}  # the files classified
        if have:
            now = set(using)  # (a file kept that no longer uses the name holds no site)
            for path, found in have.items():
                for site in found if path in now else ():
                    _keep(best, site)
        for path in using if left[0] == -1 else nearest(using, t.fi.path):
            if left[0] == -2:
                break  # the rest waits for a later request (a wide name: ~2,000 files)
            if path in have:
                continue
            if not path.endswith(own) and _family(path) not in (family, None):
                continue  # another language's file: no site there, and not loaded to say so
            if left[0] in (0, -2) or (work is not None and _over(work, shared)):
                left[0] = -2
                continue
            if left[0] > 0 and not shared:
                left[0] -= 1
            digest, found, whole = self._file_sites(t, path, key, work, shared)
            if not whole:
                left[0] = -2  # its sites so far: carried on by a later request
            elif kept is not None:
                kept.put(key, path, digest, found)
            for site in found:
                _keep(best, site)
        if t.member:
            over = kept.overrides(key) if kept is not None else None
            if over is None and work is not None and work.spent():
                left[0] = -2  # looked for by a later request
                return
            if over is None:
                stops = work.stops if work is not None else 0
                over = tuple(self._override_sites(t, work))
                if work is not None and work.stops > stops:
                    left[0] = -2  # the subclasses found so far: carried on by a later request
                elif kept is not None:
                    kept.keep_overrides(key, over)
            for site in over:
                best.setdefault((site.path, site.line), site)

    def _file_sites(
        self,
        t: _Target,
        path: str,
        key: Key | None = None,
        work: Work | None = None,
        shared: bool = False,
    ) -> tuple[str, tuple[CallerSite, ...], bool]:
        """The sites of the target in one using file, the better verdict per line, the
        file's digest ("" when it is not indexed), and whether every use was classified
        (within `work`, those classified before it was spent: `_file_uses`)."""
        ufi = self.ws.get(path)
        if ufi is None:
            return "", (), True
        family = FAMILY.get(t.fi.language, t.fi.language)
        if FAMILY.get(ufi.language, ufi.language) != family:
            return ufi.digest, (), True
        if t.sym.shadowed_in(ufi):  # the file's own namesake (C static, Ruby def)
            return ufi.digest, (), True
        best: dict[tuple[str, int], CallerSite] = {}
        uses, whole = self._file_uses(t, ufi, key, work, shared)
        for line, verdict in uses:
            if verdict is None:
                continue
            conf, certain, via = verdict
            old = best.get((path, line))
            if old is None or (certain, conf) > (old.certain, old.confidence):
                best[(path, line)] = site_in(ufi, line, conf, certain, via)
        return ufi.digest, tuple(best.values()), whole

    def _file_uses(
        self,
        t: _Target,
        ufi: FileIndex,
        key: Key | None = None,
        work: Work | None = None,
        shared: bool = False,
    ) -> tuple[list[tuple[int, _Verdict]], bool]:
        """(line, verdict) of each use of the target's name in `ufi`, and whether every use
        was. Within `work` (a kept target's `key`), the uses' look-ups count the files they
        load as the request's work and stop the classification once it is over
        (`_Classifying.carry`); what it classified is kept and the next request carries it
        on: a stopped file's sites are a lower bound, never kept as the file's."""
        by_line: dict[int, list[str]] = {}
        for ln, k in ufi.receivers_of(t.name):
            by_line.setdefault(ln, []).append(k)
        lines = ufi.ref_lines(t.name)
        if work is None or key is None:
            self.uses += len(lines)
            out = [v for ln, kind in lines for v in self._line_uses(t, ufi, ln, kind, by_line)]
            return out, True
        at, version = (key, ufi.path), self.ws.version
        state = self._stopped.take(at, ufi.digest, t.keys)
        if state is None:  # a new classification: its uses counted once
            state = _Classifying(ufi.digest, t.keys)
            self.uses += len(lines)
        if state.carry(lines, lambda ln, k: self._line_uses(t, ufi, ln, k, by_line), work, shared):
            return state.out, True
        self._stopped.keep(at, state, version)
        return state.out, False

    def _line_uses(
        self, t: _Target, ufi: FileIndex, line: int, kind: int, by_line: dict[int, list[str]]
    ) -> list[tuple[int, _Verdict]]:
        """(line, verdict) of the target's name used on `line` of `ufi` (a member use: one
        per receiver there)."""
        if t.inside(ufi.path, line):
            return []
        if kind == REF_MEMBER:
            return [
                (line, self._member_use(t, ufi, line, k)) for k in by_line.get(line) or [UNKNOWN]
            ]
        return [(line, self._name_use(t, ufi, line))]

    # ------------------------------------------------------------------ verdicts
    def _member_use(self, t: _Target, ufi: FileIndex, line: int, key: str) -> _Verdict:
        """``obj.name`` on `line` of `ufi`, `key` its receiver."""
        value = self.types.receiver(ufi, key, line)
        if t.owner is not None and t.fi.definitions[t.index].kind not in TYPE_KINDS:
            return self._on_class(t, ufi, line, value)
        if value.kind == "module":  # `mod.f`, `pkg.F`
            found = self.types.module_binds(value.name, t.name)
            if found is None:
                return None  # a module outside the workspace
            hits, bound = found
            if any(t.is_(h) for h in hits):
                return 1.0, True, f"{key}.{t.name} ({value.how})"
            return None if bound else _name_only(t, ufi, 0.5)
        if value.kind != NOTHING:
            return None  # an attribute of an instance, a class, a builtin: not this one
        return _name_only(t, ufi, 0.5)

    def _on_class(self, t: _Target, ufi: FileIndex, line: int, v: Value) -> _Verdict:
        assert t.owner is not None
        if v.kind == SUPER:
            here = class_at(ufi, line)
            if here is None:
                return _name_only(t, ufi, 0.6)
            for b in self.h.bases(ufi, here)[0]:
                if t.is_(self.h.lookup(b[0], b[1], t.name)):
                    return 1.0, True, "super()"
            return None
        if v.kind in (INSTANCE, CLASS) and v.defs:
            return self._on_types(t, v)
        if v.kind == NOTHING:
            return _name_only(t, ufi, 0.6)
        if v.name and set(v.name.split("|")) & self.h.unresolved_bases(*t.owner):
            return DISPATCH, False, f"on {v.name} (a base of the class)"
        return None  # a builtin, an external type, a module, a function

    def _on_types(self, t: _Target, v: Value) -> _Verdict:
        assert t.owner is not None
        cls: Ref = t.owner
        verdict: _Verdict = None
        for kfi, ki in v.defs:
            hit = self.types.lookup((kfi, ki), t.name)
            if t.is_(hit):
                return 1.0, True, v.how or "type"
            if hit is not None and self.types.derives((kfi, ki), cls):
                reached = hit[0].qualified_name(hit[1])
                verdict = OVERRIDE_CALL, False, f"call of {reached} (an override)"
            elif verdict is None and self.types.derives(cls, (kfi, ki)):
                verdict = DISPATCH, False, f"on {kfi.definitions[ki].name} (a base class)"
        if verdict is None and v.name and set(v.name.split("|")) & self.h.unresolved_bases(*cls):
            verdict = DISPATCH, False, f"on {v.name} (a base of the class)"
        if verdict is None and t.fi.language in declared.JS:  # structural: any class may fit
            shapes = [d for d in v.defs if d[0].definitions[d[1]].kind == Kind.INTERFACE]
            if any(self.types.lookup(d, t.name) for d in shapes):
                name = shapes[0][0].definitions[shapes[0][1]].name
                verdict = DISPATCH, False, f"on {name} (an interface it may satisfy)"
        return verdict

    def _name_use(self, t: _Target, ufi: FileIndex, line: int) -> _Verdict:
        """A bare name on `line` of `ufi`."""
        fi = t.fi
        sure = fi.language != "python" and t.sym.certain_in(ufi, self.h.binder.module_file)
        if t.member:
            if t.sym.bare_calls:  # a Ruby module's method, called bare
                return (1.0, True, "mixed in") if sure else _name_only(t, ufi, 0.5)
            # a member by its bare name: only inside its class, and not in Python
            assert t.cls is not None
            c = fi.definitions[t.cls]
            inside = ufi.path == fi.path and c.start_line <= line <= c.end_line
            return (1.0, True, "member") if inside and fi.language != "python" else None
        # outside Python, module paths (packages, path aliases) often lead nowhere the index
        # can follow: a name bound to nothing known is a candidate there, not excluded
        lenient = fi.language != "python"
        alias = _imported_as(ufi, t.name, line)
        if alias is not None:  # the name on an import line: what the import binds
            hits = self.h.binder.bind_name(ufi, alias)[0]
            if any(t.is_(h) for h in hits):
                return 1.0, True, "import line"
            return _name_only(t, ufi, 0.8) if lenient and not hits else None
        if ufi.path == fi.path:
            return 1.0, True, "same file"
        if sure:
            return 1.0, True, "declared or included"
        hits, bound = self.h.binder.bind_name(ufi, t.name)
        if any(t.is_(h) for h in hits):
            return 1.0, True, "import"
        if bound and (hits or not lenient):
            return None
        if lenient and _imports_module(ufi, fi.path, t.name):
            return 1.0, True, "import"
        return _name_only(t, ufi, 0.8 if t.n_defs == 1 else 0.5)

    def _override_sites(self, t: _Target, work: Work | None = None) -> list[CallerSite]:
        """The subclasses' definitions overriding a method (those found within `work`), and
        the one it overrides."""
        qual = t.fi.qualified_name(t.index)
        out = []
        for sfi, si in self.h.overrides(t.fi, t.index, work):
            line = sfi.definitions[si].name_line
            out.append(site_in(sfi, line, OVERRIDE, True, f"overrides {qual}"))
        for bfi, bi in self.h.overridden(t.fi, t.index):
            line = bfi.definitions[bi].name_line
            out.append(site_in(bfi, line, OVERRIDE, True, f"overridden {bfi.qualified_name(bi)}"))
        return out


@functools.lru_cache(maxsize=1 << 16)
def _family(path: str) -> str | None:
    """The language family of a file, by its name (None: no language scopewise indexes);
    remembered (a common member's using files, 2,900 at 50k, are filtered by it at every
    request on its range: 3 ms)."""
    language = symbols.language_of(path)
    return FAMILY.get(language, language) or None


@functools.cache
def _extensions(family: str) -> tuple[str, ...]:
    """The file name endings of a language family (a quick yes before `_family`)."""
    return tuple(
        e
        for spec in languages.LANGUAGES
        if FAMILY.get(spec.name, spec.name) == family
        for e in spec.extensions
    )


def nearest(paths: list[str], own: str) -> list[str]:
    """Sorted `paths` nearest `own` first: `own`, the others in its folder and below it,
    then the rest in path order (no sort: a folder is a slice of a sorted list)."""
    folder = own.rsplit("/", 1)[0] + "/" if "/" in own else ""
    lo = bisect.bisect_left(paths, folder)
    hi = bisect.bisect_left(paths, folder[:-1] + "0") if folder else len(paths)  # "/" + 1
    near = [p for p in paths[lo:hi] if p != own]
    first = [own] if own in paths[lo:hi] else []
    return first + near + paths[:lo] + paths[hi:]


def _keep(best: dict[tuple[str, int], CallerSite], site: CallerSite) -> None:
    """`site` into `best` unless a surer one holds its line."""
    old = best.get((site.path, site.line))
    if old is None or (site.certain, site.confidence) > (old.certain, old.confidence):
        best[(site.path, site.line)] = site


def _imported_as(ufi: FileIndex, name: str, line: int) -> str | None:
    """The local name an import on `line` binds `name` to, when `line` is in an import
    statement that takes `name` from a module (``from m import name [as alias]``)."""
    for imp in ufi.imports:
        if imp.line <= line <= imp.line + len(imp.names) + 1 and name in imp.names:
            return imp.aliases[imp.names.index(name)]
    return None


def _name_only(t: _Target, ufi: FileIndex, base: float) -> _Verdict:
    """No evidence either way: a candidate, less likely the more definitions share the name."""
    conf = base / t.n_defs
    if t.name in COMMON_METHODS:
        conf *= 0.4
    if ufi.path == t.fi.path:
        conf = min(1.0, conf * 1.5)
    return round(min(conf, 0.8), 3), False, "name only"


def _module_names(path: str) -> set[str]:
    stem = path.rsplit(".", 1)[0]
    if stem.endswith("/__init__"):
        stem = stem[: -len("/__init__")]
    parts = stem.split("/")
    names = {".".join(parts[i:]) for i in range(len(parts))}
    names.add(parts[-1])
    return names


def _imports_module(ufi: FileIndex, path: str, name: str) -> bool:
    """Whether `ufi` imports the module at `path` (by any suffix of its dotted name), or
    `name` from a module so named (C includes, Go and Java imports)."""
    module_names = _module_names(path)
    for imp in ufi.imports:
        mod = imp.module.lstrip(".").replace("/", ".")
        if mod in module_names or any(mod.endswith("." + m) for m in module_names):
            return True
        if name in imp.names and (not mod or mod.split(".")[-1] in module_names):
            return True
    return False
