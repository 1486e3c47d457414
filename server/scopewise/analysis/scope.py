"""Scope analysis: how far a change to a range reaches, as numbers, a score and reasons."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from scopewise.analysis.resolve import (
    CallerSite,
    Resolved,
    Resolver,
    defined_in,
    definition_at,
    enclosing_class,
    is_test_path,
    uses_in,
)
from scopewise.analysis.sources import Source
from scopewise.analysis.work import Work
from scopewise.index.model import FileIndex
from scopewise.vocab import CLASS_LIKE, CONTAINER_KINDS, plural

if TYPE_CHECKING:
    import tree_sitter as ts

CONFIDENT = 0.5  # resolutions at or above this count in fan-in / fan-out
# the names bound in the callable around a range are its locals too: read from the whole
# callable up to this many lines; in a longer one (a 40,000-line checker) from its header
# and the lines around the range alone, so the work follows the range, not the callable
WHOLE_CALLABLE_LINES = 3000
NEAR_LINES = 100


@dataclass(frozen=True)
class Symbol:
    name: str
    qualified: str
    kind: str
    path: str
    line: int  # 1-based, for people
    exported: bool


@dataclass
class Scope:
    """What a range is and how far a change to it ripples."""

    path: str
    start_line: int  # 1-based inclusive
    end_line: int
    language: str
    lines: int
    targets: list[Symbol] = field(default_factory=list)  # symbols defined or changed
    defined: int = 0  # definitions lying wholly inside the range
    fan_in: int = 0  # uses of the targets elsewhere
    fan_in_files: int = 0
    callers: int = 0  # distinct enclosing definitions of those uses
    fan_out: int = 0  # workspace definitions the range uses
    files: list[str] = field(default_factory=list)  # files involved
    public: bool = False
    tests: list[str] = field(default_factory=list)  # test files that use the targets
    code_lines: int = 0  # lines with code (not blank, comment or docstring)
    branches: int = 0  # decision points in the range (if, loops, try, match, ...)
    syntax_errors: int = 0
    diagnostics: int = 0
    score: float = 0.0  # 0 (a local tweak) .. 100 (ripples through the codebase)
    reasons: list[str] = field(default_factory=list)
    # the uses were counted within a budget of files: fan_in and fan_in_files are lower
    # bounds (not a field: what a full count shows and packs is unchanged)
    capped = False

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if self.capped:
            out["capped"] = True
        return out

    @property
    def summary(self) -> str:
        return "; ".join(self.reasons)


@dataclass
class Analysis:
    """A scope plus what was resolved on the way (the context engine reuses it)."""

    scope: Scope
    file: FileIndex
    source: Source
    start: int  # 0-based
    end: int
    enclosing: int | None  # innermost definition enclosing the range; None: module level
    target_indices: list[int]
    uses: list[Resolved]
    callers: list[CallerSite]
    names: set[str]  # every name and receiver read in the range
    notes: tuple[str, ...] = ()  # reasons the scope gives besides its figures
    # what later questions about the same range worked out once (the context's siblings,
    # searched once for the several budgets an action packs)
    memo: dict[str, object] = field(default_factory=dict)


def analyze(
    resolver: Resolver,
    fi: FileIndex,
    src: Source,
    start: int,
    end: int,
    diagnostics: int = 0,
    budget: int | None = None,
    work: Work | None = None,
    notes: tuple[str, ...] = (),
) -> Analysis:
    """Analyse lines [start, end] (0-based, inclusive) of an indexed file; with `budget`, each
    target's sites found classifying at most that many using files, and none once the
    request's `work` is spent (Scope.capped); `notes`: reasons to add to the figures'."""
    enclosing = definition_at(fi, start, end)
    inside = defined_in(fi, start, end)
    targets = inside or ([enclosing] if enclosing is not None else [])
    # names bound anywhere in the enclosing callable are locals of the range too
    outer = enclosing
    while outer is not None and fi.definitions[outer].kind in CONTAINER_KINDS:
        outer = fi.definitions[outer].parent
    b_start, b_end = (
        (fi.definitions[outer].start_line, fi.definitions[outer].end_line)
        if outer is not None
        else (start, end)
    )
    uses, bound = uses_in(src, start, end)
    header = fi.definitions[outer].header_end if outer is not None else b_start
    for lo, hi in bound_lines(start, end, b_start, b_end, header):
        bound |= uses_in(src, lo, hi)[1]
    cls = enclosing_class(fi, targets[0]) if targets else None
    if targets and fi.definitions[targets[0]].kind in CLASS_LIKE:
        cls = targets[0]
    resolved = [
        r
        for r in resolver.resolve(fi, uses, bound, cls, work)
        if not (r.path == fi.path and start <= fi.definitions[r.index].start_line <= end)
        and not (r.path == fi.path and r.index in targets)
    ]
    callers: list[CallerSite] = []
    spans = [(fi.definitions[t].start_line, fi.definitions[t].end_line) for t in targets]
    counted: set[tuple[str, int]] = set()  # (name, line): another declaration's sites counted
    capped = False
    before = resolver.verdicts.classified  # the budget is the range's, shared by its targets
    for t in targets:
        d = fi.definitions[t]
        if (d.name, d.name_line) in counted:
            continue  # an overload or prototype of a symbol whose uses are counted already
        left = None if budget is None else max(0, budget - resolver.verdicts.classified + before)
        found, short = resolver.callers_within(fi, t, left, work)
        capped |= short
        for site in found:
            counted.add((d.name, site.line) if site.path == fi.path else ("", 0))
            if site.path == fi.path and any(a <= site.line <= b for a, b in spans):
                continue
            callers.append(site)
    scope = _score(fi, start, end, targets, resolved, callers, diagnostics, capped, notes)
    scope.code_lines, scope.branches = measure(src, start, end)
    names = {u.name for u in uses} | {u.receiver for u in uses if u.receiver}
    return Analysis(scope, fi, src, start, end, enclosing, targets, resolved, callers, names, notes)


def bound_lines(
    start: int, end: int, b_start: int, b_end: int, header: int
) -> list[tuple[int, int]]:
    """The lines of the callable [b_start, b_end] (its header ending at `header`) whose
    bindings count for lines [start, end]: all of them up to WHOLE_CALLABLE_LINES, else the
    header and NEAR_LINES either side of the range."""
    if (b_start, b_end) == (start, end):
        return []
    if b_end - b_start < WHOLE_CALLABLE_LINES:
        return [(b_start, b_end)]
    near = (max(b_start, start - NEAR_LINES), min(b_end, end + NEAR_LINES))
    head = (b_start, min(header, near[0] - 1))
    return [head, near] if head[0] <= head[1] else [near]


# (a comprehension is its `for_in_clause`s and `if_clause`s: the loops and tests it holds)
_DECISIONS = re.compile(
    r"^(if|elif|else_if|for|for_in|while|do|try|except|catch|case|match|switch|conditional|"
    r"ternary|with|lambda|arrow_function|boolean_operator|select|guard|when|rescue|unless|"
    r"until|if_let|while_let|loop)(_statement|_clause|_expression|_block|_arm)?$"
)


# nodes named like a decision that are a part of one counted already: the clause of a Go
# `for`, the items of a Python `with`, the braces of a Rust `match` or a Java `switch`, the
# body of a Ruby loop (`while x do ... end`)
_PARTS = frozenset({"for_clause", "with_clause", "match_block", "switch_block", "do"})


def _decision(node: ts.Node) -> bool:
    """Whether a node whose type `_DECISIONS` matches is a decision of its own, each counted
    once: a construct's node, unless a part of one (`_PARTS`); a keyword token (`if`,
    `case`) only when it is the one sign of it, its parent not counted itself (Go's `switch`
    in an `expression_switch_statement`, JavaScript's `case` in a `switch_case`), not where
    it is (Python's `if` in an `if_statement`)."""
    if node.is_named:
        return node.type not in _PARTS
    parent = node.parent
    return parent is None or not _DECISIONS.match(parent.type)


def measure(src: Source, start: int, end: int) -> tuple[int, int]:
    """(lines holding code, decision points) on lines [start, end]: comments, strings and
    docstrings are not code; branches, loops, handlers and lambdas are decisions, each
    counted once (a construct's node, else its keyword)."""
    if src.tree is None:
        return end - start + 1, 0
    node = src.tree.root_node.descendant_for_point_range((start, 0), (end + 1, 0))
    if node is None:
        return 0, 0
    decisions = 0
    rows: set[int] = set()
    cursor = node.walk()
    for _ in range(200_000):  # a bound for huge ranges
        n = cursor.node
        assert n is not None
        row = n.start_point[0]
        skip = n.type == "comment" or "string" in n.type
        if start <= row <= end:
            if _DECISIONS.match(n.type) and _decision(n):
                decisions += 1
            if n.child_count == 0 and not skip:
                rows.add(row)
        # into the children from the first that reaches the range (a range in a body of
        # thousands of statements does not walk past them all)
        inside = not skip and n.end_point[0] >= start and row <= end
        if inside and cursor.goto_first_child_for_point((start, 0)) is not None:
            continue
        # the next sibling, unless this node starts past the range (so do the rest)
        while row > end or not cursor.goto_next_sibling():
            if not cursor.goto_parent() or cursor.node == node:
                return len(rows), decisions
            row = -1
    return len(rows), decisions


def rescored(analysis: Analysis, diagnostics: int) -> Analysis:
    """`analysis` as `analyze` makes it with `diagnostics` editor diagnostics on the range:
    they count in the scope's figures alone (its score and reasons), so the uses resolved
    and the sites found are the same (a menu's Fix entry plans the range its other entries
    planned, with the diagnostics of the line it is asked on)."""
    if diagnostics == analysis.scope.diagnostics:
        return analysis
    old = analysis.scope
    fi, start, end = analysis.file, analysis.start, analysis.end
    scope = _score(
        fi, start, end, analysis.target_indices, analysis.uses, analysis.callers, diagnostics,
        old.capped, analysis.notes,
    )  # fmt: skip
    scope.code_lines, scope.branches = old.code_lines, old.branches
    return replace(analysis, scope=scope)


def _score(
    fi: FileIndex,
    start: int,
    end: int,
    targets: list[int],
    resolved: list[Resolved],
    callers: list[CallerSite],
    diagnostics: int,
    capped: bool = False,
    notes: tuple[str, ...] = (),
) -> Scope:
    """The scope's figures, its score (0..100) and the reasons for it (`notes` last)."""
    lines = end - start + 1
    scope = Scope(fi.path, start + 1, end + 1, fi.language, lines)
    scope.capped = capped
    for t in targets:
        d = fi.definitions[t]
        scope.targets.append(
            Symbol(d.name, fi.qualified_name(t), d.kind, fi.path, d.name_line + 1, d.exported)
        )
    scope.defined = len(defined_in(fi, start, end))
    # uses found by name alone count by their confidence: `obj.send()` with three classes
    # defining `send` is a third of a use of each (the expected number, not a certainty)
    scope.fan_in = round(sum(c.confidence for c in callers))
    per_file: dict[str, float] = {}
    for c in callers:
        per_file[c.path] = per_file.get(c.path, 0.0) + c.confidence
    caller_files = sorted(p for p, w in per_file.items() if w >= CONFIDENT)
    scope.fan_in_files = len(caller_files)
    scope.callers = len({(c.path, c.caller) for c in callers if c.confidence >= CONFIDENT})
    used = [r for r in resolved if r.confidence >= CONFIDENT]
    scope.fan_out = len(used)
    scope.public = any(s.exported for s in scope.targets)
    scope.tests = sorted({c.path for c in callers if is_test_path(c.path)})
    scope.files = sorted({fi.path, *caller_files, *(r.path for r in used)})
    scope.syntax_errors = sum(1 for e in fi.errors if start <= e <= end)
    scope.diagnostics = diagnostics

    other_files = [p for p in caller_files if p != fi.path]
    score = 6.0 * math.log2(1 + lines / 10)
    score += 3.0 * max(0, len(targets) - 1)
    score += 7.0 * math.log2(1 + scope.fan_in)
    score += 6.0 * math.log2(1 + len(other_files))
    score += 2.0 * math.log2(1 + scope.fan_out)
    score += 10.0 if scope.public and scope.fan_in else (4.0 if scope.public else 0.0)
    score += min(6.0, 2.0 * len(scope.tests))
    score += min(8.0, 2.0 * diagnostics + 3.0 * scope.syntax_errors)
    scope.score = round(min(100.0, score), 1)
    scope.reasons = [*_reasons(scope, lines, bool(targets), bool(callers), other_files), *notes]
    return scope


def _reasons(
    scope: Scope, lines: int, has_targets: bool, has_callers: bool, other_files: list[str]
) -> list[str]:
    """The scope in a few words, one reason per figure that matters."""
    diagnostics = scope.diagnostics
    kinds = [s.kind for s in scope.targets]
    what = (
        ", ".join(plural(kinds.count(k), k) for k in dict.fromkeys(kinds))
        if kinds
        else "module-level code"
    )
    reasons = [f"{what}, {plural(lines, 'line')}"]
    if scope.fan_in:
        more = "+" if scope.capped else ""
        outside = f" ({len(other_files)}{more} outside this file)" if other_files else ""
        refs = plural(scope.fan_in, "reference", more)
        reasons.append(f"{refs} in {plural(scope.fan_in_files, 'file', more)}{outside}")
    elif has_targets and scope.capped:
        reasons.append("uses not all counted yet")
    elif has_targets:
        reasons.append(
            "0 callers outside the file" if not has_callers else "only uncertain callers"
        )
    if scope.public:
        reasons.append("public API")
    if scope.tests:
        reasons.append(f"{plural(len(scope.tests), 'test file')}")
    if scope.fan_out:
        reasons.append(f"uses {plural(scope.fan_out, 'definition')}")
    if scope.syntax_errors:
        reasons.append(f"{plural(scope.syntax_errors, 'syntax error')}")
    if diagnostics:
        reasons.append(f"{plural(diagnostics, 'diagnostic')}")
    return reasons
