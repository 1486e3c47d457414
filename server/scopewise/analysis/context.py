"""The context of a range: for a range and a token budget, the codebase context it needs,
ranked (analysis/candidates.py: what may go in) and packed (analysis/packing.py: what
fits), with a manifest of what went in, what was left out and why.

This module owns the `Context` the engine returns and `build`, which composes the two."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from scopewise.analysis import candidates, packing, siblings
from scopewise.analysis.packing import Block, Dropped, Redaction, Snippet
from scopewise.analysis.scope import Analysis, Scope
from scopewise.analysis.sources import Sources
from scopewise.analysis.work import Work
from scopewise.vocab import plural

__all__ = ["Block", "Context", "Dropped", "Redaction", "SiteEntry", "Snippet", "build"]


@dataclass(frozen=True)
class SiteEntry:
    """One use of the range's definitions elsewhere, and whether the context shows it."""

    path: str
    line: int  # 1-based
    symbol: str  # its enclosing definition ("(module level)": none)
    confidence: float
    via: str  # how it was found, when resolution says
    shown: str  # "listed" (in the site list), "body" (in a body sent), "" (dropped: budget)
    certain: bool = False  # evidence says it is a use; else a candidate found by name


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
    sites: list[SiteEntry] = field(default_factory=list)
    # estimated tokens for everything to fit: the range, its uses and site list (need_core),
    # and with the bodies of the sites' definitions (need_ripple)
    need_core: int = 0
    need_ripple: int = 0
    # the range, what it uses and the complete site list, no bodies around the sites: what
    # a wide change's plan step needs (the writers get the text around each site)
    need_plan: int = 0
    # estimated from measures, not packed (analysis/measure.py: the menu's): no text
    measured: bool = False

    @property
    def site_summary(self) -> str:
        """The site list in a few words: "52 sites in 10 files (38 more dropped)"."""
        if not self.sites:
            return ""
        shown = [s for s in self.sites if s.shown]
        files = len({s.path for s in shown})
        text = f"{plural(len(shown), 'site')} in {plural(files, 'file')}"
        missing = len(self.sites) - len(shown)
        return f"{text} ({missing} more dropped)" if missing else text

    def render(self, sites: bool = True) -> str:
        """The context as sent: a header per file, then each run of lines under its marker;
        without its site list (``sites=False``) where the complete list is sent apart."""
        return packing.render(self.blocks if sites else [b for b in self.blocks if not b.listed])

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["snippets"] = [
            {"path": b.path, "start_line": b.start_line, "end_line": b.end_line, "label": b.label}
            for b in self.blocks
        ]
        d["manifest"] = [asdict(s) for s in self.snippets]
        del d["blocks"], d["measured"]
        return d


def build(
    analysis: Analysis,
    sources: Sources,
    budget: int,
    callers_of: siblings.CallersOf | None = None,
    work: Work | None = None,
) -> Context:
    """Rank and pack the context of an analysed range under `budget` tokens: the range, its
    site list (every use elsewhere, while it fits) and siblings (the other users of what it
    uses; with `callers_of`, the resolver's; searched within a menu request's `work`, then
    a lower bound past it), then the ranked candidates."""
    fi = analysis.file
    ws = sources.workspace
    packer = packing.Packer(sources, budget)
    target, cut = packing.pack_target(packer, fi.path, analysis.start, analysis.end)
    own = packer.cost
    site_list = candidates.sites(analysis, ws.get, sources.known, sources.derived)
    sibs = _siblings(analysis, sources, callers_of, work)
    ranked = candidates.rank(analysis, ws.get, packer.line_costs, budget, site_list, sibs.found)
    reserve = candidates.uses_need(analysis, ws.get, packer.line_costs)
    plan_need = own + reserve + packing.listing_cost(packer, site_list)
    # a change's context (with siblings) takes the ripple's bodies before the rest; an
    # explanation lists the sites, and the bodies around them come after what it uses
    steps = packing.ripple(ranked, packer)
    packing.pack_sites(packer, site_list, steps, reserve, change=callers_of is not None)
    kept, dropped, missing = packing.pack(ranked, packer)
    left = packing.unlisted(packer, site_list)
    dropped += left + _unsearched(analysis, sibs)
    packed = packing.assemble(packer, fi.path, [target, *kept], [*cut, *dropped])
    entries = [_entry(packer, s) for s in site_list]
    core = packed.tokens + missing.core + sum(d.tokens for d in left)
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
        entries,
        core,
        core + missing.ripple,
        math.ceil(plan_need),
    )


def _siblings(
    analysis: Analysis,
    sources: Sources,
    callers_of: siblings.CallersOf | None,
    work: Work | None = None,
) -> siblings.Siblings:
    """The range's siblings when `callers_of` is given (none otherwise), searched once per
    analysis (an action packs one range at two budgets or more); within `work`, bounded
    (and kept apart from the unbounded search's answer)."""
    if callers_of is None:
        return siblings.Siblings()
    key = "siblings" if work is None else "siblings within work"
    found = analysis.memo.get(key)
    if not isinstance(found, siblings.Siblings):
        ws = sources.workspace
        found = siblings.find(analysis, ws, callers_of, bounded=work is not None, work=work)
        analysis.memo[key] = found
    return found


def _unsearched(analysis: Analysis, sibs: siblings.Siblings) -> list[Dropped]:
    """What the search for siblings left out, as lines of the manifest: the dependencies
    whose users were not searched (the work cap), the links too weak to count."""
    out: list[Dropped] = []
    line = analysis.start + 1
    n, names = len(sibs.unsearched), ", ".join(sibs.unsearched[:5])
    if n:
        more = ", ..." if n > 5 else ""
        why = f"users of {n} more dependenc{'y' if n == 1 else 'ies'} ({names}{more}) not searched"
        out.append(Dropped(analysis.file.path, line, line, "(siblings)", 0, f"{why}: work cap"))
    if sibs.weak:
        why = f"{sibs.weak} more users of widely used dependencies: low relevance"
        out.append(Dropped(analysis.file.path, line, line, "(siblings)", 0, why))
    return out


def _entry(packer: packing.Packer, site: candidates.Site) -> SiteEntry:
    shown = (
        "body"
        if site.line in packer.full.get(site.path, ())
        else "listed"
        if site.line in packer.listed.get(site.path, ())
        else ""
    )
    return SiteEntry(
        site.path, site.line + 1, site.symbol, site.confidence, site.note, shown, site.certain
    )
