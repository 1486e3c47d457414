"""Siblings: the other users of what a range uses. A change to the range often goes with a
change to the definitions that share its dependencies (`post`, `put` and `patch` all call
`request`; a test and the function it tests call the same helper), though neither names the
other.

A range's in-repo dependencies (its `uses`, resolved surely enough) are searched for their
users (the resolver's `callers`); each user's enclosing definition is a sibling, ranked by
how telling the link is: every shared dependency adds to it, a dependency with few users
more than a utility used everywhere (1 / ln(e + users)), a certain use more than a guess, a
sibling in the same file or folder more than one far away, a source more than a test. The
search is bounded by the work it takes (the files the dependencies' names occur in), the
least used dependencies first; those left unsearched are named, not silently dropped.
"""

from __future__ import annotations

import math
import posixpath
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from scopewise.analysis.resolve import CallerSite, is_test_path
from scopewise.analysis.scope import Analysis
from scopewise.analysis.work import Work
from scopewise.index.graph import count_using
from scopewise.index.model import FileIndex
from scopewise.index.workspace import WorkspaceIndex
from scopewise.vocab import CONTAINER_KINDS, DATA_KINDS, Kind

SURE_USE = 0.5  # a dependency resolved at least this surely is searched for its users
MAX_REFS = 300  # work cap: the uses of the searched dependencies' names, summed
MIN_STRENGTH = 0.1  # a weaker link (one dependency used everywhere) is no sibling
SAME_FILE, SAME_DIR = 1.5, 1.2  # a sibling near the range says more
TEST_FACTOR = 0.7  # a test after a source of the same strength

CallersOf = Callable[[FileIndex, int], list[CallerSite]]
_NOT_USERS = DATA_KINDS | {Kind.ATTRIBUTE}  # a use there is its owner's


@dataclass(frozen=True)
class Sibling:
    """A definition that uses what the range uses, and how telling the link is."""

    path: str
    index: int  # the definition's index in its file
    symbol: str
    strength: float
    shared: tuple[str, ...]  # the dependencies it shares with the range, most telling first


@dataclass
class Siblings:
    """The siblings of a range, strongest first, and the dependencies left unsearched."""

    found: list[Sibling] = field(default_factory=list)
    unsearched: list[str] = field(default_factory=list)
    weak: int = 0  # definitions linked too weakly to count as siblings (< MIN_STRENGTH)
    partial: bool = False  # the request's work ran out: the siblings found so far


@dataclass(frozen=True)
class _Dep:
    path: str
    index: int
    name: str
    confidence: float
    refs: int  # uses of its name in the workspace: what searching it costs


def find(
    analysis: Analysis,
    ws: WorkspaceIndex,
    callers_of: CallersOf,
    bounded: bool = False,
    work: Work | None = None,
) -> Siblings:
    """The siblings of an analysed range: neither the range's own definitions, nor what it
    uses, nor its callers (the site list shows them). `bounded` (the menu's measure): a
    dependency's uses are counted only up to the work cap — the same siblings are found (one
    past the cap is never searched), the dependencies not searched are named in another
    order. With the request's `work`, the search stops once it is spent (`partial`; the
    files loaded and the verdicts classified are kept for the next request)."""
    stops = work.stops if work is not None else 0
    if work is not None and work.spent():  # none would be searched: nor their uses counted
        work.stop()
        return Siblings(unsearched=[d.name for d in _deps(analysis, ws, 0)], partial=True)
    deps = _deps(analysis, ws, MAX_REFS + 1 if bounded else None, work)
    skip = _range_defs(analysis) | {(d.path, d.index) for d in deps}
    skip |= set(_users(analysis.callers, ws, frozenset()))
    links: dict[tuple[str, int], list[tuple[float, str]]] = {}
    out = Siblings()
    refs = 0
    for dep in deps:
        if work is not None and work.spent() and not out.partial:
            out.partial = True
            work.stop()
        if out.partial or refs + dep.refs > MAX_REFS:
            out.unsearched.append(dep.name)
            continue
        refs += dep.refs
        dfi = ws.get(dep.path)
        assert dfi is not None  # _deps kept indexed files only
        users = _users(callers_of(dfi, dep.index), ws, skip)
        weight = dep.confidence / math.log(math.e + len(users))
        for key, sure in users.items():
            links.setdefault(key, []).append((weight * sure, dep.name))
    if work is not None and work.stops > stops:
        out.partial = True  # a dependency's callers, or its uses' count, stopped short
    here = analysis.file.path
    for (path, index), shared in links.items():
        fi = ws.get(path)
        assert fi is not None
        shared.sort(reverse=True)
        strength = sum(w for w, _ in shared) * _place(here, path)
        if strength < MIN_STRENGTH:
            out.weak += 1
            continue
        names = tuple(dict.fromkeys(n for _, n in shared))
        out.found.append(Sibling(path, index, fi.qualified_name(index), strength, names))
    out.found.sort(key=lambda s: (-s.strength, s.path, s.index))
    return out


def _deps(
    analysis: Analysis, ws: WorkspaceIndex, most: int | None = None, work: Work | None = None
) -> list[_Dep]:
    """The range's in-repo dependencies resolved surely enough, one per definition, the
    least used (the cheapest to search and the most telling) first; with `most`, uses are
    counted up to it (a file using the name uses it at least once: past `most` files, none
    is read; `most` 0: none counted, in path order), and within the request's `work` (a
    count stopped short is `most`)."""
    best: dict[tuple[str, int], float] = {}
    for r in analysis.uses:
        if r.confidence >= SURE_USE:
            best[(r.path, r.index)] = max(best.get((r.path, r.index), 0.0), r.confidence)
    deps: list[_Dep] = []
    for (path, index), conf in best.items():
        fi = ws.get(path)
        if fi is None or index >= len(fi.definitions):
            continue
        name = fi.definitions[index].name
        refs = _uses_of(ws, name, most, work) if most != 0 else 0
        deps.append(_Dep(path, index, name, conf, refs))
    deps.sort(key=lambda d: (d.refs, -d.confidence, d.path, d.index))
    return deps


def _uses_of(ws: WorkspaceIndex, name: str, most: int | None, work: Work | None) -> int:
    """How many uses of `name` the workspace holds (with `most`: at most that many; with
    `work`, `most` when it is spent before they are counted). A count is kept until the
    index changes (counting loads the files using the name)."""
    version, kept = _COUNTS.get(ws, (-1, {}))
    if version != ws.version:
        kept = {}
        _COUNTS[ws] = (ws.version, kept)
    hit = kept.get((name, most))
    if hit is not None:
        return hit
    at = ws.version
    refs: int | None = most  # past `most` files (a page of rows read: kept all the same)
    if most is None or count_using(ws.files, name, most) < most:
        refs = _counted(ws, name, most, work)
    if refs is None:
        return most or 0  # not kept: the next request counts on (the files loaded kept)
    if at == ws.version:
        if len(kept) >= COUNTS_KEPT:
            kept.clear()
        kept[(name, most)] = refs
    return refs


def _counted(ws: WorkspaceIndex, name: str, most: int | None, work: Work | None) -> int | None:
    """The uses of `name` in the files using it, loaded (up to `most`); None when the
    request's `work` was spent first."""
    files = ws.files_using(name)
    refs = 0
    for p in files:
        if work is not None and most is not None and work.spent():
            work.stop()
            return None
        ufi = ws.get(p)
        refs += len(ufi.refs.get(name, b"")) // 8 if ufi is not None else 0
        if most is not None and refs >= most:
            return most
    return refs


COUNTS_KEPT = 8192  # names whose use counts are kept (per workspace, until its index changes)
_COUNTS: weakref.WeakKeyDictionary[WorkspaceIndex, tuple[int, dict[tuple[str, int | None], int]]]
_COUNTS = weakref.WeakKeyDictionary()


def _range_defs(analysis: Analysis) -> frozenset[tuple[str, int]]:
    """The range's own definitions and those around it: not siblings of themselves."""
    fi = analysis.file
    keys = {(fi.path, t) for t in analysis.target_indices}
    i = analysis.enclosing
    while i is not None:
        keys.add((fi.path, i))
        i = fi.definitions[i].parent
    return frozenset(keys)


def _users(
    sites: list[CallerSite], ws: WorkspaceIndex, skip: frozenset[tuple[str, int]]
) -> dict[tuple[str, int], float]:
    """The definitions the sites are in (a nested function's outermost function), each with
    its surest site's weight: 1 for a certain use, its confidence for a candidate."""
    out: dict[tuple[str, int], float] = {}
    for s in sites:
        fi = ws.get(s.path)
        if s.caller is None or fi is None or s.caller >= len(fi.definitions):
            continue
        key = (s.path, _outermost(fi, s.caller))
        if key in skip or fi.definitions[key[1]].kind in _NOT_USERS:
            continue
        out[key] = max(out.get(key, 0.0), 1.0 if s.certain else s.confidence)
    return out


def _outermost(fi: FileIndex, index: int) -> int:
    """The function a nested definition belongs to (a method stays a method)."""
    p = fi.definitions[index].parent
    while p is not None and fi.definitions[p].kind not in CONTAINER_KINDS:
        index, p = p, fi.definitions[p].parent
    return index


def _place(here: str, path: str) -> float:
    """How much nearness and kind add to a link: same file, same folder, a test."""
    factor = (
        SAME_FILE
        if path == here
        else SAME_DIR
        if posixpath.dirname(path) == posixpath.dirname(here)
        else 1.0
    )
    return factor * (TEST_FACTOR if is_test_path(path) else 1.0)
