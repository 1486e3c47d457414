"""The context engine: for a range and a token budget, the codebase context it needs, ranked
and packed, with a manifest of what went in, what was left out and why.

Ranking starts from the range itself (not from whole files, as a repo map does): what the
range uses, resolved through imports and classes, ranks by how sure the resolution is; the
enclosing scope, callers, tests and imports follow. Packing runs in two passes: first the
cheapest form of every relevant item (signatures), then upgrades in rank order (bodies,
class skeletons) while the budget allows, so a tight budget still shows every definition.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from scopewise.analysis import redact, tokens
from scopewise.analysis.resolve import is_test_path
from scopewise.analysis.scope import Analysis, Scope
from scopewise.analysis.sources import Sources
from scopewise.index.model import Definition, FileIndex

RUN_TOKENS = 8  # the "@@ 120-135 body" line above each run of lines
MIN_VALUE = 0.2  # items less relevant than this are not sent at all
BODY_SHARE = 0.45  # one definition's body may take at most this share of the budget
MAX_CALLERS = 24
_CLASSY = frozenset({"class", "interface", "enum", "module", "type"})
_VALUEISH = frozenset({"constant", "variable", "field", "macro"})


@dataclass(frozen=True)
class Snippet:
    """One item of the manifest: a definition, caller, ... and the form it was sent in."""

    path: str
    start_line: int  # 1-based inclusive
    end_line: int
    tokens: int
    kind: str  # target, enclosing, body, skeleton, signature, caller, test, import
    symbol: str
    reason: str


@dataclass(frozen=True)
class Dropped:
    path: str
    start_line: int
    end_line: int
    symbol: str
    tokens: int
    reason: str


@dataclass(frozen=True)
class Redaction:
    path: str
    line: int  # 1-based
    what: str


@dataclass(frozen=True)
class Block:
    """A contiguous run of lines as sent."""

    path: str
    start_line: int  # 1-based inclusive
    end_line: int
    text: str
    label: str

    @property
    def marker(self) -> str:
        lines = (
            str(self.start_line)
            if self.start_line == self.end_line
            else f"{self.start_line}-{self.end_line}"
        )
        return f"@@ {lines} {self.label}"


@dataclass
class Context:
    path: str
    start_line: int  # 1-based inclusive
    end_line: int
    budget: int
    tokens: int = 0
    scope: Scope | None = None
    blocks: list[Block] = field(default_factory=list)
    snippets: list[Snippet] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    redactions: list[Redaction] = field(default_factory=list)

    def render(self) -> str:
        """The context as sent: a header per file, then each run of lines under its marker."""
        out: list[str] = []
        last = None
        for b in self.blocks:
            if b.path != last:
                out.append(file_header(b.path))
                last = b.path
            out.append(b.marker)
            out.append(b.text)
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["snippets"] = [
            {"path": b.path, "start_line": b.start_line, "end_line": b.end_line, "label": b.label}
            for b in self.blocks
        ]
        d["manifest"] = [asdict(s) for s in self.snippets]
        del d["blocks"]
        return d


@dataclass
class _Item:
    path: str
    symbol: str
    reason: str
    value: float
    forms: list[tuple[str, frozenset[int]]]  # (kind, 0-based lines), richest first
    chosen: int = -1  # index into forms


class _Packer:
    """Line sets per file under a token budget; a block header is paid per contiguous run."""

    def __init__(self, sources: Sources, budget: int) -> None:
        self.sources = sources
        self.budget = budget
        self.lines: dict[str, set[int]] = {}
        self.order: list[str] = []
        self.cost = 0.0
        self._line_cost: dict[str, list[float]] = {}

    def line_costs(self, path: str) -> list[float]:
        costs = self._line_cost.get(path)
        if costs is None:
            costs = self._line_cost[path] = self.sources.get(path).line_costs()
        return costs

    def delta(self, path: str, add: frozenset[int]) -> float:
        have = self.lines.get(path, set())
        new = add - have
        if not new:
            return 0.0
        costs = self.line_costs(path)
        extra = sum(costs[ln] for ln in new if 0 <= ln < len(costs))
        first = file_tokens(path) if not have else 0
        return extra + first + RUN_TOKENS * max(self.new_runs(have, new), 0)

    @staticmethod
    def new_runs(have: set[int], new: set[int] | frozenset[int]) -> int:
        """runs(have | new) - runs(have) for disjoint sets, in O(len(new)): each run of
        `new` is a run of its own (+1), unless it touches `have` at either end (-1 each:
        extending one run, or joining two). Packing asks this hundreds of times a request;
        recounting every run of `have` each time was half its cost."""
        runs = 0
        for ln in new:
            if ln - 1 not in new:
                runs += 1 - (ln - 1 in have)
            if ln + 1 not in new:
                runs -= ln + 1 in have
        return runs

    def fits(self, path: str, add: frozenset[int]) -> bool:
        return math.ceil(self.cost + self.delta(path, add)) <= self.budget

    def add(self, path: str, add: frozenset[int]) -> float:
        d = self.delta(path, add)
        if path not in self.lines:
            self.lines[path] = set()
            self.order.append(path)
        self.lines[path] |= add
        self.cost += d
        return d


def file_header(path: str) -> str:
    return f"### {path}"


def file_tokens(path: str) -> int:
    return tokens.estimate(file_header(path) + "\n")


def _header(d: Definition) -> frozenset[int]:
    return frozenset(range(d.start_line, d.header_end + 1))


def _full(d: Definition) -> frozenset[int]:
    return frozenset(range(d.start_line, d.end_line + 1))


def _skeleton(fi: FileIndex, index: int) -> frozenset[int]:
    """The class without the bodies of its methods and nested classes: its header, docstring,
    fields and every member's signature."""
    lines = set(_full(fi.definitions[index]))
    for c in fi.definitions:
        if c.parent == index and c.kind not in _VALUEISH and c.kind != "attribute":
            lines -= set(range(c.header_end + 1, c.end_line + 1))
        elif c.parent == index and c.line_count > 12:  # a long table as a field: its head
            lines -= set(range(c.start_line + 3, c.end_line + 1))
    return frozenset(lines)


def _forms(
    fi: FileIndex, index: int, budget: int, costs: list[float]
) -> list[tuple[str, frozenset[int]]]:
    d = fi.definitions[index]
    header = _header(d)
    if d.kind in _CLASSY:
        return [("skeleton", _skeleton(fi, index)), ("signature", header)]
    full = _full(d)
    full_cost = sum(costs[ln] for ln in full if ln < len(costs))
    if d.kind in _VALUEISH:
        return [("body", full)] if d.line_count <= 20 else [("body", full), ("signature", header)]
    if full_cost > budget * BODY_SHARE:
        return [("signature", header)]
    if full == header:
        return [("body", full)]
    return [("body", full), ("signature", header)]


def build(analysis: Analysis, sources: Sources, budget: int) -> Context:
    """Rank and pack the context of an analysed range under `budget` tokens."""
    fi = analysis.file
    start, end = analysis.start, analysis.end
    ctx = Context(fi.path, start + 1, end + 1, budget, scope=analysis.scope)
    packer = _Packer(sources, budget)
    ws_files = sources.workspace

    # 1. the range itself: always, truncated only when it alone passes the budget
    target = frozenset(range(start, end + 1))
    if not packer.fits(fi.path, target):
        costs = packer.line_costs(fi.path)
        acc, last = float(file_tokens(fi.path) + RUN_TOKENS), start - 1
        for ln in range(start, end + 1):
            if math.ceil(acc + costs[ln]) > budget:
                break
            acc += costs[ln]
            last = ln
        if last >= start:
            packer.add(fi.path, frozenset(range(start, last + 1)))
        ctx.dropped.append(
            Dropped(fi.path, last + 2, end + 1, "(selection)", 0, "selection cut to fit the budget")
        )
    else:
        packer.add(fi.path, target)
    ctx.snippets.append(
        Snippet(fi.path, start + 1, end + 1, math.ceil(packer.cost), "target", "", "the selection")
    )

    items: list[_Item] = []
    costs_here = packer.line_costs(fi.path)
    # 2. the enclosing scope, and the class skeleton around a method
    enc = analysis.enclosing
    if enc >= 0:
        d = fi.definitions[enc]
        if not (d.start_line >= start and d.end_line <= end):
            forms = _forms(fi, enc, budget, costs_here)
            if d.kind not in _CLASSY:
                forms = [f for f in forms if f[0] != "body"] if _full(d) == target else forms
            items.append(
                _Item(fi.path, fi.qualified_name(enc), "encloses the selection", 1.3, forms)
            )
    for t in analysis.target_indices or ([enc] if enc >= 0 else []):
        p = fi.definitions[t].parent
        while p >= 0:
            pd = fi.definitions[p]
            if pd.kind in _CLASSY:
                items.append(
                    _Item(
                        fi.path,
                        fi.qualified_name(p),
                        f"class of {fi.definitions[t].name}",
                        0.9,
                        [("skeleton", _skeleton(fi, p)), ("signature", _header(pd))],
                    )
                )
            p = pd.parent

    # 3. what the range uses
    for r in analysis.uses:
        rfi = ws_files.get(r.path)
        if rfi is None or r.index >= len(rfi.definitions):
            continue
        d = rfi.definitions[r.index]
        where = "" if r.path == fi.path or r.via == "same file" else f", {r.path}"
        lines_used = ", ".join(str(ln + 1) for ln in sorted(set(r.lines))[:4])
        try:
            costs = packer.line_costs(r.path)
        except OSError:
            continue
        items.append(
            _Item(
                r.path,
                rfi.qualified_name(r.index),
                f"used at line {lines_used} ({r.via}{where}, confidence {r.confidence:.2f})",
                r.confidence,
                _forms(rfi, r.index, budget, costs),
            )
        )

    # 4. callers and tests of the range's symbols
    by_caller: dict[tuple[str, int], list[int]] = {}
    conf_of: dict[tuple[str, int], float] = {}
    for site in analysis.callers:
        key = (site.path, site.caller)
        by_caller.setdefault(key, []).append(site.line)
        conf_of[key] = max(conf_of.get(key, 0.0), site.confidence)
    ranked = sorted(by_caller, key=lambda k: (-conf_of[k], is_test_path(k[0]), k))
    for n, (path, caller) in enumerate(ranked):
        cfi = ws_files.get(path)
        if cfi is None:
            continue
        try:
            packer.line_costs(path)
        except OSError:  # gone since it was indexed (deleted, or a closed unsaved buffer)
            continue
        call_lines = frozenset(by_caller[(path, caller)][:3])
        test = is_test_path(path)
        if caller >= 0:
            cd = cfi.definitions[caller]
            forms = [("test" if test else "caller", _header(cd) | call_lines)]
            symbol = cfi.qualified_name(caller)
        else:
            forms = [("test" if test else "caller", call_lines)]
            symbol = "(module level)"
        conf = conf_of[(path, caller)]
        value = conf if conf < 0.15 else (0.2 if test else 0.25) + (0.25 if test else 0.35) * conf
        if n >= MAX_CALLERS:
            value = min(value, MIN_VALUE / 2)
        items.append(
            _Item(
                path,
                symbol,
                "uses the selection" if not test else "tests the selection",
                value,
                forms,
            )
        )

    # 5. imports of the target file that bind names the range uses
    imp_lines = frozenset(
        imp.line for imp in fi.imports if any(a in analysis.names for a in imp.aliases)
    )
    if imp_lines:
        items.append(
            _Item(
                fi.path,
                "(imports)",
                "imports the selection relies on",
                0.3,
                [("import", imp_lines)],
            )
        )

    unique: dict[tuple[str, str, str], _Item] = {}
    for it in items:  # one class skeleton, however many of its members the range holds
        ukey = (it.path, it.symbol, it.forms[0][0])
        if ukey not in unique or unique[ukey].value < it.value:
            unique[ukey] = it
    _pack(list(unique.values()), packer, ctx)
    _render(ctx, packer, sources)
    return ctx


def _pack(items: list[_Item], packer: _Packer, ctx: Context) -> None:
    items.sort(key=lambda it: -it.value)
    chosen_cost: dict[int, float] = {}
    # pass 1: the cheapest form of every relevant item
    for i, it in enumerate(items):
        if it.value < MIN_VALUE:
            continue
        kind, lines = it.forms[-1]
        if packer.fits(it.path, lines):
            chosen_cost[i] = packer.add(it.path, lines)
            it.chosen = len(it.forms) - 1
    # pass 2: upgrade to richer forms in rank order, the cheaper first among equals
    upgrade_order = sorted(
        (i for i, it in enumerate(items) if it.chosen > 0),  # only these have richer forms
        key=lambda i: (
            -round(items[i].value, 2),
            packer.delta(items[i].path, items[i].forms[0][1]),
        ),
    )
    for i in upgrade_order:
        it = items[i]
        for f in range(it.chosen):
            kind, lines = it.forms[f]
            if packer.fits(it.path, lines):
                chosen_cost[i] = chosen_cost.get(i, 0.0) + packer.add(it.path, lines)
                it.chosen = f
                break
    for i, it in enumerate(items):
        if it.chosen >= 0:
            kind, lines = it.forms[it.chosen]
            ctx.snippets.append(
                Snippet(
                    it.path,
                    min(lines) + 1,
                    max(lines) + 1,
                    math.ceil(chosen_cost.get(i, 0.0)),
                    kind,
                    it.symbol,
                    it.reason,
                )
            )
        else:
            kind, lines = it.forms[-1]
            why = f"low relevance ({it.value:.2f})" if it.value < MIN_VALUE else "over the budget"
            ctx.dropped.append(
                Dropped(
                    it.path,
                    min(lines) + 1,
                    max(lines) + 1,
                    it.symbol,
                    math.ceil(packer.delta(it.path, lines)),
                    why,
                )
            )


def _label(ctx: Context, path: str, line: int) -> str:
    """The kind of the first manifest item that covers a line (0-based)."""
    for s in ctx.snippets:
        if s.path == path and s.start_line - 1 <= line <= s.end_line - 1:
            return s.kind
    return "context"


def _render(ctx: Context, packer: _Packer, sources: Sources) -> None:
    order = [ctx.path] + [p for p in packer.order if p != ctx.path]
    for path in order:
        lines = sorted(packer.lines.get(path, ()))
        if not lines:
            continue
        try:
            text_lines = sources.get(path).lines
        except OSError as exc:  # vanished between packing and now: leave it out, say so
            ctx.snippets = [sn for sn in ctx.snippets if sn.path != path]
            ctx.dropped.append(
                Dropped(path, lines[0] + 1, lines[-1] + 1, "", 0, f"unreadable: {exc.strerror}")
            )
            continue
        runs: list[list[int]] = []
        for ln in lines:
            if ln >= len(text_lines):
                continue
            if runs and runs[-1][-1] == ln - 1:
                runs[-1].append(ln)
            else:
                runs.append([ln])
        for run in runs:
            raw = [text_lines[ln] for ln in run]
            clean, findings = redact.redact_lines(raw)
            for f in findings:
                ctx.redactions.append(Redaction(path, run[0] + f.line + 1, f.what))
            label = _label(ctx, path, run[0])
            ctx.blocks.append(Block(path, run[0] + 1, run[-1] + 1, "\n".join(clean), label))
    ctx.tokens = tokens.estimate(ctx.render())
    # a safety net: estimates per line round differently from the whole text
    while ctx.tokens > ctx.budget and len(ctx.blocks) > 1:
        b = ctx.blocks.pop()
        ctx.dropped.append(Dropped(b.path, b.start_line, b.end_line, b.label, 0, "over the budget"))
        ctx.tokens = tokens.estimate(ctx.render())
