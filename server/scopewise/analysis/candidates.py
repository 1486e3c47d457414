"""What may go into a context: the candidates an analysed range draws in, ranked by value,
each with its forms from the richest to the cheapest (body, class skeleton, signature, ...).

Ranking starts from the range itself (not from whole files, as a repo map does): the
enclosing definition and the classes around it, what the range uses (resolved through
imports and classes, valued by how sure the resolution is), the callers and tests of its
symbols, and the imports it relies on. Which forms fit the budget is packing's question
(analysis/packing.py); this module never sees the budget's state, only its size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from scopewise.analysis.resolve import Resolved, is_test_path
from scopewise.analysis.scope import Analysis
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
MAX_CALLERS = 24  # callers past this many (in rank order) fall under MIN_VALUE

# -- forms
BODY_SHARE = 0.45  # one definition's body may take at most this share of the budget
SHORT_VALUE_LINES = 20  # a constant, field, ... this long or shorter has no signature form
LONG_FIELD_LINES = 12  # a field longer than this shows its first 3 lines in a class skeleton

# kinds shown as a skeleton (their members' signatures), not as a body
SKELETON_KINDS = TYPE_KINDS | CONTAINER_KINDS | {Kind.TYPE}
# kinds that hold a value, not code: sent whole when short
VALUE_KINDS = DATA_KINDS | {Kind.MACRO}

Form = tuple[str, frozenset[int]]  # (kind as listed in the manifest, 0-based lines)
LineCosts = Callable[[str], list[float]]  # estimated tokens per line of a file (OSError: gone)
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


def skeleton(fi: FileIndex, index: int) -> frozenset[int]:
    """The class without the bodies of its methods and nested classes: its header, docstring,
    fields and every member's signature."""
    lines = set(full(fi.definitions[index]))
    for c in fi.definitions:
        if c.parent == index and c.kind not in VALUE_KINDS and c.kind != Kind.ATTRIBUTE:
            lines -= set(range(c.header_end + 1, c.end_line + 1))
        elif c.parent == index and c.line_count > LONG_FIELD_LINES:  # a long table: its head
            lines -= set(range(c.start_line + 3, c.end_line + 1))
    return frozenset(lines)


def forms(fi: FileIndex, index: int, budget: int, costs: list[float]) -> list[Form]:
    """The forms a definition can be sent in, richest first."""
    d = fi.definitions[index]
    head = header(d)
    if d.kind in SKELETON_KINDS:
        return [("skeleton", skeleton(fi, index)), ("signature", head)]
    whole = full(d)
    whole_cost = sum(costs[ln] for ln in whole if ln < len(costs))
    if d.kind in VALUE_KINDS:
        if d.line_count <= SHORT_VALUE_LINES:
            return [("body", whole)]
        return [("body", whole), ("signature", head)]
    if whole_cost > budget * BODY_SHARE:
        return [("signature", head)]
    if whole == head:
        return [("body", whole)]
    return [("body", whole), ("signature", head)]


def rank(analysis: Analysis, files: Lookup, line_costs: LineCosts, budget: int) -> list[Candidate]:
    """The candidates of an analysed range, one per (path, symbol, richest form), in the
    order packing breaks ties by (a stable sort on value follows)."""
    found = [
        *_enclosing(analysis, line_costs, budget),
        *_uses(analysis, files, line_costs, budget),
        *_callers(analysis, files, line_costs),
        *_imports(analysis),
    ]
    unique: dict[tuple[str, str, str], Candidate] = {}
    for c in found:  # one class skeleton, however many of its members the range holds
        key = (c.path, c.symbol, c.forms[0][0])
        if key not in unique or unique[key].value < c.value:
            unique[key] = c
    return list(unique.values())


def _enclosing(analysis: Analysis, line_costs: LineCosts, budget: int) -> list[Candidate]:
    """The enclosing scope, and the class skeletons around the range's definitions."""
    fi = analysis.file
    out: list[Candidate] = []
    enc = analysis.enclosing
    target = frozenset(range(analysis.start, analysis.end + 1))
    if enc is not None:
        d = fi.definitions[enc]
        if not (d.start_line >= analysis.start and d.end_line <= analysis.end):
            fs = forms(fi, enc, budget, line_costs(fi.path))
            if d.kind not in SKELETON_KINDS and full(d) == target:
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


def _caller_value(confidence: float, test: bool, n: int) -> float:
    """The value of the n-th caller (0-based, in rank order) found with a confidence."""
    if confidence < UNSURE_CALLER:
        value = confidence
    elif test:
        value = TEST_BASE + TEST_SLOPE * confidence
    else:
        value = CALLER_BASE + CALLER_SLOPE * confidence
    return min(value, MIN_VALUE / 2) if n >= MAX_CALLERS else value


def _callers(analysis: Analysis, files: Lookup, line_costs: LineCosts) -> list[Candidate]:
    """The callers and tests of the range's symbols: the signature of each calling
    definition with (up to 3 of) its call lines."""
    by_caller: dict[tuple[str, int | None], list[int]] = {}
    conf_of: dict[tuple[str, int | None], float] = {}
    for site in analysis.callers:
        key = (site.path, site.caller)
        by_caller.setdefault(key, []).append(site.line)
        conf_of[key] = max(conf_of.get(key, 0.0), site.confidence)
    ranked = sorted(by_caller, key=lambda k: (-conf_of[k], is_test_path(k[0]), _caller_key(k)))
    out: list[Candidate] = []
    for n, (path, caller) in enumerate(ranked):
        cfi = files(path)
        if cfi is None:
            continue
        try:
            line_costs(path)
        except OSError:  # gone since it was indexed (deleted, or a closed unsaved buffer)
            continue
        call_lines = frozenset(by_caller[(path, caller)][:3])
        test = is_test_path(path)
        form = "test" if test else "caller"
        if caller is not None:
            lines = header(cfi.definitions[caller]) | call_lines
            symbol = cfi.qualified_name(caller)
        else:
            lines, symbol = call_lines, "(module level)"
        out.append(
            Candidate(
                path,
                symbol,
                "tests the selection" if test else "uses the selection",
                _caller_value(conf_of[(path, caller)], test, n),
                [(form, lines)],
            )
        )
    return out


def _caller_key(key: tuple[str, int | None]) -> tuple[str, bool, int]:
    """(path, caller) sortable: module level (no caller) before every definition."""
    return key[0], key[1] is not None, key[1] or 0


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
