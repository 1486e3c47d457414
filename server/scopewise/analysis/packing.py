"""What fits: the candidates packed under a token budget, as runs of lines per file, with
the manifest of what went in (and in which form), what was left out and why.

Packing runs in two passes: first the cheapest form of every relevant candidate
(signatures), then upgrades in rank order (bodies, class skeletons) while the budget allows,
so a tight budget still shows every definition. The range itself goes in first, cut only
when it alone passes the budget. What may go in, and its value, is candidates.py's question.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scopewise.analysis import redact, tokens
from scopewise.analysis.candidates import MIN_VALUE, Candidate
from scopewise.analysis.sources import Sources

RUN_TOKENS = 8  # the "@@ 120-135 body" line above each run of lines


@dataclass(frozen=True)
class Lines:
    """Lines of a file: 1-based, inclusive."""

    path: str
    start_line: int
    end_line: int


@dataclass(frozen=True)
class Snippet(Lines):
    """One item of the manifest: a definition, caller, ... and the form it was sent in."""

    tokens: int
    kind: str  # target, enclosing, body, skeleton, signature, caller, test, import
    symbol: str
    reason: str


@dataclass(frozen=True)
class Dropped(Lines):
    """A candidate (or a part of the range) left out, and why."""

    symbol: str
    tokens: int
    reason: str


@dataclass(frozen=True)
class Redaction:
    """A secret replaced in the text sent."""

    path: str
    line: int  # 1-based
    what: str


@dataclass(frozen=True)
class Block(Lines):
    """A contiguous run of lines as sent."""

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
class Packed:
    """The outcome of packing: the runs as sent and the manifest."""

    blocks: list[Block]
    snippets: list[Snippet]
    dropped: list[Dropped]
    redactions: list[Redaction]
    tokens: int


def file_header(path: str) -> str:
    return f"### {path}"


def file_tokens(path: str) -> int:
    return tokens.estimate(file_header(path) + "\n")


def render(blocks: list[Block]) -> str:
    """The blocks as sent: a header per file, then each run of lines under its marker."""
    out: list[str] = []
    last = None
    for b in blocks:
        if b.path != last:
            out.append(file_header(b.path))
            last = b.path
        out.append(b.marker)
        out.append(b.text)
    return "\n".join(out)


class Packer:
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


def pack_target(packer: Packer, path: str, start: int, end: int) -> tuple[Snippet, list[Dropped]]:
    """The range (0-based lines [start, end]) itself: always, truncated only when it alone
    passes the budget."""
    dropped: list[Dropped] = []
    target = frozenset(range(start, end + 1))
    if not packer.fits(path, target):
        costs = packer.line_costs(path)
        acc, last = float(file_tokens(path) + RUN_TOKENS), start - 1
        for ln in range(start, end + 1):
            if math.ceil(acc + costs[ln]) > packer.budget:
                break
            acc += costs[ln]
            last = ln
        if last >= start:
            packer.add(path, frozenset(range(start, last + 1)))
        dropped.append(
            Dropped(path, last + 2, end + 1, "(selection)", 0, "selection cut to fit the budget")
        )
    else:
        packer.add(path, target)
    kept = Snippet(path, start + 1, end + 1, math.ceil(packer.cost), "target", "", "the selection")
    return kept, dropped


def pack(candidates: list[Candidate], packer: Packer) -> tuple[list[Snippet], list[Dropped]]:
    """The two passes over the candidates, best first; what went in and what did not."""
    items = sorted(candidates, key=lambda c: -c.value)
    chosen: dict[int, int] = {}  # item -> index of the form it went in as
    chosen_cost: dict[int, float] = {}
    # pass 1: the cheapest form of every relevant item
    for i, it in enumerate(items):
        if it.value < MIN_VALUE:
            continue
        _, lines = it.forms[-1]
        if packer.fits(it.path, lines):
            chosen_cost[i] = packer.add(it.path, lines)
            chosen[i] = len(it.forms) - 1
    # pass 2: upgrade to richer forms in rank order, the cheaper first among equals
    upgrade_order = sorted(
        (i for i in chosen if chosen[i] > 0),  # only these have richer forms
        key=lambda i: (
            -round(items[i].value, 2),
            packer.delta(items[i].path, items[i].forms[0][1]),
        ),
    )
    for i in upgrade_order:
        it = items[i]
        for f in range(chosen[i]):
            _, lines = it.forms[f]
            if packer.fits(it.path, lines):
                chosen_cost[i] = chosen_cost.get(i, 0.0) + packer.add(it.path, lines)
                chosen[i] = f
                break
    kept: list[Snippet] = []
    dropped: list[Dropped] = []
    for i, it in enumerate(items):
        if i in chosen:
            kind, lines = it.forms[chosen[i]]
            cost = math.ceil(chosen_cost.get(i, 0.0))
            kept.append(
                Snippet(it.path, min(lines) + 1, max(lines) + 1, cost, kind, it.symbol, it.reason)
            )
        else:
            _, lines = it.forms[-1]
            why = f"low relevance ({it.value:.2f})" if it.value < MIN_VALUE else "over the budget"
            cost = math.ceil(packer.delta(it.path, lines))
            dropped.append(Dropped(it.path, min(lines) + 1, max(lines) + 1, it.symbol, cost, why))
    return kept, dropped


def _label(snippets: list[Snippet], path: str, line: int) -> str:
    """The kind of the first manifest item that covers a line (0-based)."""
    for s in snippets:
        if s.path == path and s.start_line - 1 <= line <= s.end_line - 1:
            return s.kind
    return "context"


def _runs(lines: list[int], line_count: int) -> list[list[int]]:
    """Sorted 0-based lines (those past the end left out) as runs of consecutive lines."""
    runs: list[list[int]] = []
    for ln in lines:
        if ln >= line_count:
            continue
        if runs and runs[-1][-1] == ln - 1:
            runs[-1].append(ln)
        else:
            runs.append([ln])
    return runs


def assemble(packer: Packer, first: str, snippets: list[Snippet], dropped: list[Dropped]) -> Packed:
    """The packed lines as blocks of redacted text, the range's file first, cut to the
    budget when per-line estimates rounded under the whole text's."""
    out = Packed([], snippets, dropped, [], 0)
    for path in [first] + [p for p in packer.order if p != first]:
        lines = sorted(packer.lines.get(path, ()))
        if not lines:
            continue
        try:
            text_lines = packer.sources.get(path).lines
        except OSError as exc:  # vanished between packing and now: leave it out, say so
            out.snippets = [sn for sn in out.snippets if sn.path != path]
            out.dropped.append(
                Dropped(path, lines[0] + 1, lines[-1] + 1, "", 0, f"unreadable: {exc.strerror}")
            )
            continue
        for run in _runs(lines, len(text_lines)):
            clean, findings = redact.redact_lines([text_lines[ln] for ln in run])
            for f in findings:
                out.redactions.append(Redaction(path, run[0] + f.line + 1, f.what))
            label = _label(out.snippets, path, run[0])
            out.blocks.append(Block(path, run[0] + 1, run[-1] + 1, "\n".join(clean), label))
    out.tokens = tokens.estimate(render(out.blocks))
    # a safety net: estimates per line round differently from the whole text
    while out.tokens > packer.budget and len(out.blocks) > 1:
        b = out.blocks.pop()
        out.dropped.append(Dropped(b.path, b.start_line, b.end_line, b.label, 0, "over the budget"))
        out.tokens = tokens.estimate(render(out.blocks))
    return out
