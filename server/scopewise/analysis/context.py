"""The context of a range: for a range and a token budget, the codebase context it needs,
ranked (analysis/candidates.py: what may go in) and packed (analysis/packing.py: what
fits), with a manifest of what went in, what was left out and why.

This module owns the `Context` the engine returns and `build`, which composes the two."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from scopewise.analysis import candidates, packing
from scopewise.analysis.packing import Block, Dropped, Redaction, Snippet
from scopewise.analysis.scope import Analysis, Scope
from scopewise.analysis.sources import Sources

__all__ = ["Block", "Context", "Dropped", "Redaction", "Snippet", "build"]


@dataclass
class Context:
    """The context of a range as sent (blocks) and its manifest (snippets, dropped)."""

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
        return packing.render(self.blocks)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["snippets"] = [
            {"path": b.path, "start_line": b.start_line, "end_line": b.end_line, "label": b.label}
            for b in self.blocks
        ]
        d["manifest"] = [asdict(s) for s in self.snippets]
        del d["blocks"]
        return d


def build(analysis: Analysis, sources: Sources, budget: int) -> Context:
    """Rank and pack the context of an analysed range under `budget` tokens."""
    fi = analysis.file
    packer = packing.Packer(sources, budget)
    target, cut = packing.pack_target(packer, fi.path, analysis.start, analysis.end)
    ranked = candidates.rank(analysis, sources.workspace.get, packer.line_costs, budget)
    kept, dropped = packing.pack(ranked, packer)
    packed = packing.assemble(packer, fi.path, [target, *kept], [*cut, *dropped])
    return Context(
        fi.path,
        analysis.start + 1,
        analysis.end + 1,
        budget,
        packed.tokens,
        analysis.scope,
        packed.blocks,
        packed.snippets,
        packed.dropped,
        packed.redactions,
    )
