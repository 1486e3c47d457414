"""What may go into a context: the candidates an analysed range draws in, ranked by value,
each with its forms from the richest to the cheapest (body, class skeleton, signature, ...).

Ranking starts from the range itself (not from whole files, as a repo map does): the
enclosing definition and the classes around it, what the range uses (resolved through
imports and classes, valued by how sure the resolution is), the callers and tests of its
symbols, and the imports it relies on. Which forms fit the budget is packing's question
(analysis/packing.py); this module never sees the budget's state, only its size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scopewise.analysis.resolve import CallerSite, Resolved, is_test_path
from scopewise.analysis.scope import Analysis
from scopewise.analysis.siblings import Sibling
from scopewise.analysis.sites import MODULE_LEVEL, facts_of
from scopewise.analysis.sources import CallerFacts, Derived, Known
from scopewise.analysis.sources import LineCosts as FileCosts
from scopewise.index.model import Definition, FileIndex
from scopewise.vocab import CONTAINER_KINDS, DATA_KINDS, TYPE_KINDS, Kind

# -- values: a candidate's rank; the target range itself is always sent, above them all
ENCLOSING_VALUE = 1.3  # the definition around the range: above any use (1.0 at most)
CLASS_VALUE = 0.9  # the class skeleton around a method of the range
IMPORTS_VALUE = 0.3  # the file's imports that bind names the range reads
MIN_VALUE = 0.2  # candidates less relevant than this are not sent at all
UNSURE_CALLER = 0.15  # a caller found with less confidence than this keeps its confidence
CALLER_BASE, CALLER_SLOPE = 0.25, 0.35  # a caller's value: base + slope * confidence
TEST_BASE, TEST_SLOPE = 0.2, 0.25  # a test's value: below a caller of the same confidence

SIBLING_BASE, SIBLING_SLOPE = 0.2, 0.35  # a sibling's value: base + slope * min(1, strength)
SIBLING_BODIES = 10  # the strongest siblings that may come with their bodies
CALLER_BODY_MAX = 1500  # tokens: a caller's body longer than this stays a site list
USE_CLIP = 1800  # tokens: a use counted whole up to this when making room for it
USE_RUN = 10  # tokens: its block's marker and file header, roughly

# -- forms
BODY_SHARE = 0.45  # one definition's body may take at most this share of the budget
SHORT_VALUE_LINES = 20  # a constant, field, ... this long or shorter has no signature form
LONG_FIELD_LINES = 12  # a field longer than this shows its first 3 lines in a class skeleton

# kinds shown as a skeleton (their members' signatures), not as a body
SKELETON_KINDS = TYPE_KINDS | CONTAINER_KINDS | {Kind.TYPE}
# kinds that hold a value, not code: sent whole when short
VALUE_KINDS = DATA_KINDS | {Kind.MACRO}

Form = tuple[str, frozenset[int]]  # (kind as listed in the manifest, 0-based lines)
LineCosts = Callable[[str], FileCosts]  # tokens per line of a file (OSError: gone)
Lookup = Callable[[str], FileIndex | None]  # the index of a workspace file


@dataclass(frozen=True)
class Candidate:
    """Something the context may hold, with its forms richest first."""

    path: str
    symbol: str
    reason: str
    value: float
    forms: list[Form]


def header(d: Definition) -> frozenset[int]:
    """The lines of a definition's signature."""
    return frozenset(range(d.start_line, d.header_end + 1))


def full(d: Definition) -> frozenset[int]:
    """The lines of a whole definition."""
    return frozenset(range(d.start_line, d.end_line + 1))


def _lines(d: Definition) -> range:
    return range(d.start_line, d.end_line + 1)


SKELETONS_KEPT = 256  # class skeletons kept by content (a menu asks its range's class's each time)
_skeletons: dict[tuple[str, str, int], frozenset[int]] = {}


def skeleton(fi: FileIndex, index: int) -> frozenset[int]:
    """The class without the bodies of its methods and nested classes: its header, docstring,
    fields and every member's signature (kept by the file's content: a 1,500-line class's
    is a pass over its file's definitions)."""
    key = (fi.digest, fi.language, index)
    hit = _skeletons.get(key) if fi.digest else None
    if hit is None:
        hit = _skeleton(fi, index)
        if fi.digest:
            if len(_skeletons) >= SKELETONS_KEPT:
                _skeletons.clear()
            _skeletons[key] = hit
    return hit


def _skeleton(fi: FileIndex, index: int) -> frozenset[int]:
    lines = set(full(fi.definitions[index]))
    for c in fi.definitions:
        if c.parent == index and c.kind not in VALUE_KINDS and c.kind != Kind.ATTRIBUTE:
            lines -= set(range(c.header_end + 1, c.end_line + 1))
        elif c.parent == index and c.line_count > LONG_FIELD_LINES:  # a long table: its head
            lines -= set(range(c.start_line + 3, c.end_line + 1))
    return frozenset(lines)


def forms(fi: FileIndex, index: int, budget: int, costs: FileCosts) -> list[Form]:
    """The forms a definition can be sent in, richest first."""
    d = fi.definitions[index]
    head = header(d)
    if d.kind in SKELETON_KINDS:
        return [("skeleton", skeleton(fi, index)), ("signature", head)]
    if d.kind in VALUE_KINDS:
        whole = full(d)
        if d.line_count <= SHORT_VALUE_LINES:
            return [("body", whole)]
        return [("body", whole), ("signature", head)]
    lines = range(d.start_line, d.end_line + 1)
    if costs.total(lines, cap=budget * BODY_SHARE) > budget * BODY_SHARE:
        return [("signature", head)]
    whole = full(d)
    if whole == head:
        return [("body", whole)]
    return [("body", whole), ("signature", head)]


def rank(
    analysis: Analysis,
    files: Lookup,
    line_costs: LineCosts,
    budget: int,
    site_list: list[Site] | None = None,
    siblings: Sequence[Sibling] = (),
) -> list[Candidate]:
    """The candidates of an analysed range, one per (path, symbol, richest form), in the
    order packing breaks ties by (a stable sort on value follows). `site_list`: the range's
    `sites`, when the caller has them already; `siblings`: the other users of what it uses
    (analysis/siblings.py)."""
    if site_list is None:
        site_list = sites(analysis, files)
    found = [
        *enclosing(analysis, line_costs, budget),
        *_uses(analysis, files, line_costs, budget),
        *_callers_of(analysis, site_list, line_costs),
        *sibling_candidates(siblings, files, line_costs),
        *_imports(analysis),
    ]
    unique: dict[tuple[str, str, str], Candidate] = {}
    for c in found:  # one class skeleton, however many of its members the range holds
        key = (c.path, c.symbol, c.forms[0][0])
        if key not in unique or unique[key].value < c.value:
            unique[key] = c
    return list(unique.values())


def enclosing(analysis: Analysis, line_costs: LineCosts, budget: int) -> list[Candidate]:
    """The enclosing scope, and the class skeletons around the range's definitions."""
    fi = analysis.file
    out: list[Candidate] = []
    enc = analysis.enclosing
    if enc is not None:
        d = fi.definitions[enc]
        if not (d.start_line >= analysis.start and d.end_line <= analysis.end):
            fs = forms(fi, enc, budget, line_costs(fi.path))
            if d.kind not in SKELETON_KINDS and (d.start_line, d.end_line) == (
                analysis.start,
                analysis.end,
            ):
                fs = [f for f in fs if f[0] != "body"]
            out.append(
                Candidate(
                    fi.path, fi.qualified_name(enc), "encloses the selection", ENCLOSING_VALUE, fs
                )
            )
    for t in analysis.target_indices or ([enc] if enc is not None else []):
        p = fi.definitions[t].parent
        while p is not None:
            pd = fi.definitions[p]
            if pd.kind in SKELETON_KINDS:
                out.append(
                    Candidate(
                        fi.path,
                        fi.qualified_name(p),
                        f"class of {fi.definitions[t].name}",
                        CLASS_VALUE,
                        [("skeleton", skeleton(fi, p)), ("signature", header(pd))],
                    )
                )
            p = pd.parent
    return out


def _uses(analysis: Analysis, files: Lookup, line_costs: LineCosts, budget: int) -> list[Candidate]:
    """The definitions the range uses, valued by how sure their resolution is. Variants of
    one name (`@overload` stubs and their implementation, `if`/`else` bindings) are one
    candidate: the surest one's forms, the others' lines (but a stub's: `def f(x): ...`) in
    its richest form."""
    here = analysis.file.path
    groups: dict[tuple[str, str], list[Resolved]] = {}
    for r in analysis.uses:
        rfi = files(r.path)
        if rfi is None or r.index >= len(rfi.definitions):
            continue
        groups.setdefault((r.path, rfi.qualified_name(r.index)), []).append(r)
    out: list[Candidate] = []
    for (path, symbol), group in groups.items():
        rfi = files(path)
        try:
            costs = line_costs(path)
        except OSError:
            continue
        assert rfi is not None
        r = max(group, key=lambda g: (g.confidence, g.index))
        fs = forms(rfi, r.index, budget, costs)
        for g in group:
            d = rfi.definitions[g.index]
            if g is not r and (d.kind in VALUE_KINDS or d.header_end < d.end_line):  # not a stub
                fs[0] = (fs[0][0], fs[0][1] | forms(rfi, g.index, budget, costs)[0][1])
        where = "" if path == here or r.via == "same file" else f", {path}"
        lines_used = ", ".join(str(ln + 1) for ln in sorted(set(r.lines))[:4])
        out.append(
            Candidate(
                path,
                symbol,
                f"used at line {lines_used} ({r.via}{where}, confidence {r.confidence:.2f})",
                r.confidence,
                fs,
            )
        )
    return out


def site_key(site: CallerSite) -> tuple[bool, float, bool, str, int]:
    """The order of the site list (the one place that ranks sites): the certain ones before
    every candidate, the surest first, sources before tests, then by place."""
    return (not site.certain, -site.confidence, is_test_path(site.path), site.path, site.line)


@dataclass(frozen=True)
class Site:
    """One use of the range's definitions elsewhere, with its enclosing definition: the
    line that names it (0-based, None at module level) and its qualified name."""

    path: str
    line: int  # 0-based
    caller: int | None  # the enclosing definition's index in its file
    header: int | None
    symbol: str
    confidence: float
    note: str  # how it was found (resolution's `via`), when known
    certain: bool = False  # evidence says it is a use (else: a candidate, found by name)
    kind: str = ""  # the enclosing definition's kind, first and last line (0-based)
    span: tuple[int, int] | None = None

    @property
    def lines(self) -> frozenset[int]:
        """What listing the site takes: its line and the line naming its definition."""
        return frozenset({self.line} if self.header is None else {self.line, self.header})


def sites(
    analysis: Analysis, files: Lookup, known: Known | None = None, derived: Derived | None = None
) -> list[Site]:
    """Every use of the range's definitions elsewhere, in `site_key` order, each once; made
    once per analysis (an action packs or measures one range at two budgets or more), so the
    list is read, never changed, by its callers. With `known`, the definitions around the
    sites a command on the very same files found are taken, not loaded (those found here
    are added). With `derived`, the list made of the very same sites by an earlier request
    is taken (when the sites are all there are and each carries its caller's facts: the list
    is theirs alone)."""
    made = analysis.memo.get("sites")
    if isinstance(made, list):
        return made
    key: _Sites | None = None
    if (
        derived is not None
        and known is None
        and not analysis.scope.capped  # (a lower bound's sites grow from one ask to the next)
        and all(c.facts for c in analysis.callers)
    ):
        key = _Sites(tuple(analysis.callers))
        analysis.memo["sites derived"] = True  # what is made of it may be kept too
        hit = derived.get(key)
        if isinstance(hit, list):
            analysis.memo["sites"] = hit
            return hit
    out = analysis.memo["sites"] = _sites(analysis, files, known)
    if key is not None and derived is not None:
        derived.put(key, out)
    return out


def derived_from(analysis: Analysis, derived: Derived) -> Derived | None:
    """`derived` when the analysis' site list is one it keeps (`sites`), else None: what is
    made of a lower bound's list is not asked again."""
    return derived if analysis.memo.get("sites derived") is True else None


class _Sites:
    """A site list's key in `Derived`: its sites, hashed once (a tuple hashes its items at
    every look-up: a wide name's 1,841 sites, twice a menu)."""

    __slots__ = ("_hash", "sites")

    def __init__(self, sites: tuple[CallerSite, ...]) -> None:
        self.sites, self._hash = sites, hash(sites)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Sites) and self._hash == other._hash and self.sites == other.sites


def _sites(analysis: Analysis, files: Lookup, known: Known | None) -> list[Site]:
    out: list[Site] = []
    seen: set[tuple[str, int]] = set()
    for site in sorted(analysis.callers, key=site_key):
        if (site.path, site.line) in seen:
            continue
        facts = _caller(site, files, known)
        if facts is None:
            continue
        seen.add((site.path, site.line))
        header, symbol, kind, start, end = facts
        caller = None if header < 0 else site.caller
        out.append(
            Site(
                site.path,
                site.line,
                caller,
                None if caller is None else header,
                symbol,
                site.confidence,
                site.via,
                site.certain,
                kind,
                None if caller is None else (start, end),
            )
        )
    return out


def _caller(site: CallerSite, files: Lookup, known: Known | None) -> CallerFacts | None:
    """The definition around a site (None: its file is not indexed)."""
    key = (site.path, -1 if site.caller is None else site.caller)
    if known is not None and key in known.callers:
        return known.callers[key]
    if site.facts is not None:  # read when the site was found: its file is not loaded again
        if known is not None:
            known.callers[key] = site.facts
        return site.facts
    cfi = files(site.path)
    if cfi is None:
        return None
    if site.caller is None or site.caller >= len(cfi.definitions):
        facts = MODULE_LEVEL
    else:
        facts = facts_of(cfi, site.caller)
    if known is not None:
        known.callers[key] = facts
    return facts


def uses_need(analysis: Analysis, files: Lookup, line_costs: LineCosts) -> float:
    """What the range's own context (the definition around it, what it uses) takes at most,
    each definition counted whole up to USE_CLIP: what the site list leaves room for. It does
    not depend on the budget, so neither does the share of it the site list may take."""
    fi = analysis.file
    wanted: list[tuple[str, range]] = []
    if analysis.enclosing is not None:
        wanted.append((fi.path, _lines(fi.definitions[analysis.enclosing])))
    for r in analysis.uses:
        if r.confidence < MIN_VALUE:
            continue  # not sent: its file neither loaded nor read
        rfi = files(r.path)
        if rfi is not None and r.index < len(rfi.definitions):
            wanted.append((r.path, _lines(rfi.definitions[r.index])))
    total = 0.0
    for path, lines in wanted:
        try:
            costs = line_costs(path)
        except OSError:
            continue
        total += min(USE_CLIP, costs.total(lines, cap=USE_CLIP) + USE_RUN)
    return total


def caller_value(confidence: float, test: bool) -> float:
    """The value of a caller (its body's rank) found with a confidence."""
    if confidence < UNSURE_CALLER:
        return confidence
    if test:
        return TEST_BASE + TEST_SLOPE * confidence
    return CALLER_BASE + CALLER_SLOPE * confidence


def _callers_of(
    analysis: Analysis, site_list: list[Site], line_costs: LineCosts
) -> list[Candidate]:
    """`_callers` of the analysis's own site list (`sites`) made once per analysis, as the
    list is: a plan packs one range at three budgets or more (the candidates are read, never
    changed). Another list's are made each time."""
    if site_list is not analysis.memo.get("sites"):
        return _callers(site_list, line_costs)
    made = analysis.memo.get("callers")
    if not isinstance(made, list):
        made = analysis.memo["callers"] = _callers(site_list, line_costs)
    return made


def _callers(site_list: list[Site], line_costs: LineCosts) -> list[Candidate]:
    """The callers and tests of the range's symbols, one per enclosing definition: listed
    (the line naming it and its sites, as the site list packs them), else its body."""
    groups: dict[tuple[str, int | None], list[Site]] = {}
    for s in site_list:
        groups.setdefault((s.path, s.caller), []).append(s)
    out: list[Candidate] = []
    for (path, _), group in groups.items():
        try:
            costs = line_costs(path)
        except OSError:  # gone since it was indexed (deleted, or a closed unsaved buffer)
            continue
        test = is_test_path(path)
        listed: frozenset[int] = frozenset().union(*(s.lines for s in group))
        fs: list[Form] = [("test" if test else "caller", listed)]
        value = caller_value(max(s.confidence for s in group), test)
        span, kind = group[0].span, group[0].kind
        if value >= MIN_VALUE and span is not None and kind not in SKELETON_KINDS:
            body = frozenset(range(span[0], span[1] + 1))
            if costs.total(body) <= CALLER_BODY_MAX:
                fs.insert(0, ("body", body | listed))
        n = len(group)
        what = "tests the selection" if test else "uses the selection"
        out.append(
            Candidate(
                path,
                group[0].symbol,
                f"{what} ({n} site{'s' if n != 1 else ''})",
                value,
                fs,
            )
        )
    return out


def sibling_candidates(
    found: Sequence[Sibling], files: Lookup, line_costs: LineCosts
) -> list[Candidate]:
    """The siblings, each listed by the line naming it (as a site list packs it), the
    strongest (SIBLING_BODIES, `found` is strongest first) with their bodies (up to
    CALLER_BODY_MAX; a class as its line only)."""
    out: list[Candidate] = []
    for n, s in enumerate(found):
        sfi = files(s.path)
        try:
            costs = line_costs(s.path)
        except OSError:
            continue
        if sfi is None or s.index >= len(sfi.definitions):
            continue
        d = sfi.definitions[s.index]
        line = frozenset({d.name_line})
        fs: list[Form] = [("sibling", line)]
        if n < SIBLING_BODIES and d.kind not in SKELETON_KINDS:
            body = full(d)
            if costs.total(body) <= CALLER_BODY_MAX:
                fs.insert(0, ("body", body | line))
        value = SIBLING_BASE + SIBLING_SLOPE * min(1.0, s.strength)
        also = ", ".join(s.shared[:3])
        out.append(Candidate(s.path, s.symbol, f"also uses {also}", value, fs))
    return out


def _imports(analysis: Analysis) -> list[Candidate]:
    """The imports of the target file that bind names the range uses."""
    fi = analysis.file
    lines = frozenset(
        imp.line for imp in fi.imports if any(a in analysis.names for a in imp.aliases)
    )
    if not lines:
        return []
    return [
        Candidate(
            fi.path,
            "(imports)",
            "imports the selection relies on",
            IMPORTS_VALUE,
            [("import", lines)],
        )
    ]
