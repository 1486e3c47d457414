"""What a range's context would need, measured without packing it: the code-action menu's
estimate (a tier and a cost per entry, not the context a run sends).

The measures are the ones packing takes (analysis/context.py): the range as `pack_target`
packs it, what it uses (`candidates.uses_need`), the site list a line each, and the bodies
around the sites (the callers' bodies a change's context takes first). The work is bounded
by a token cap: past it the budget is the ceiling whatever more there is, so reading stops —
a name with thousands of uses costs what the cap lets in, not a file per use. A context at a
budget is then `estimated`: as many tokens as it needs, at most the budget. A change's
context counts its siblings too (their search is capped: siblings.MAX_REFS). Overlaps between
the parts are counted twice, and what packing adds at the floor beyond these is not
counted; `tests/benchmarks/menu_estimates.py` says how far this is from the packed
context's figures."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scopewise.analysis import candidates, packing, siblings
from scopewise.analysis.context import Context, SiteEntry
from scopewise.analysis.resolve import is_test_path
from scopewise.analysis.scope import Analysis
from scopewise.analysis.sources import Derived, Sources
from scopewise.analysis.work import Work
from scopewise.index.graph import in_memory
from scopewise.index.model import FileIndex
from scopewise.index.workspace import WorkspaceIndex
from scopewise.vocab import CONTAINER_KINDS, TYPE_KINDS, Kind

_SKELETON_KINDS = TYPE_KINDS | CONTAINER_KINDS | {Kind.TYPE}
# the site list's files (and callers' bodies) read to price them; the others at the mean
LIST_SAMPLE = 8


@dataclass(frozen=True)
class Needs:
    """A range's context needs in tokens, each counted up to the cap it was measured under:
    the range, its uses and the complete site list (`plan`); with what an explanation reads
    (`core`); with the bodies around the sites (`ripple`)."""

    plan: int
    core: int
    ripple: int
    sites: tuple[SiteEntry, ...]
    siblings: int = 0  # the siblings' lines and bodies (a change's context), when searched


def measure(
    analysis: Analysis,
    sources: Sources,
    cap: int,
    callers_of: siblings.CallersOf | None = None,
    work: Work | None = None,
) -> Needs:
    """The needs of an analysed range, reading files only while the total stays under `cap`
    tokens; with `callers_of`, its siblings' too (their search has its own work cap, and
    stops once the request's `work` is spent: those found so far). Remembered on the
    analysis: a menu measures one range once."""
    key = f"needs@{cap}:{callers_of is not None}"
    hit = analysis.memo.get(key)
    if isinstance(hit, Needs):
        return hit
    ws = sources.workspace
    packer = packing.Packer(sources, cap)
    packing.pack_target(packer, analysis.file.path, analysis.start, analysis.end)
    site_list = candidates.sites(analysis, ws.get, sources.known, sources.derived)
    stops = work.stops if work is not None else 0
    own = packer.cost + candidates.uses_need(analysis, _within(ws, work), packer.line_costs)
    short = work is not None and work.stops > stops  # what the range uses: a lower bound
    own += _skeletons(analysis, packer, cap) - _inside(analysis, packer)
    kept = candidates.derived_from(analysis, sources.derived)
    listing = packing.listing_cost(packer, site_list, max(0.0, cap - own), LIST_SAMPLE, kept)
    plan = own + listing
    bodies = _bodies(packer, site_list, cap - plan) if plan < cap else 0.0
    sibs = 0.0
    if callers_of is not None and plan + bodies < cap:
        sibs = _siblings(analysis, packer, callers_of, work)
    entries = _entries(analysis, site_list, kept)
    core = math.ceil(plan)
    full = math.ceil(plan + bodies)
    if analysis.scope.capped or short:  # a lower bound: the context takes all it may
        core = full = max(full, cap)
    needs = Needs(core, core, full, entries, math.ceil(sibs))
    analysis.memo[key] = needs
    return needs


def _entries(
    analysis: Analysis, site_list: list[candidates.Site], derived: Derived | None
) -> tuple[SiteEntry, ...]:
    """The site list as the menu's plan reads it: made once per analysis (a menu measures
    its range at two caps or more; a class with thousands of uses made thousands twice),
    and once per site list a later request takes from `derived` (`candidates.sites`)."""
    made = analysis.memo.get("site entries")
    if isinstance(made, tuple):
        return made
    key = ("site entries", id(site_list))
    hit = derived.get(key) if derived is not None else None
    if isinstance(hit, tuple) and hit[0] is site_list:  # (an id is reused once it is freed)
        entries: tuple[SiteEntry, ...] = hit[1]
    else:
        entries = tuple(
            SiteEntry(s.path, s.line + 1, s.symbol, s.confidence, s.note, "listed", s.certain)
            for s in site_list
        )
        if derived is not None:
            derived.put(key, (site_list, entries))
    analysis.memo["site entries"] = entries
    return entries


def _within(ws: WorkspaceIndex, work: Work | None) -> candidates.Lookup:
    """`ws.get`, except that once a menu request's `work` is spent a file not in memory is
    left unloaded (None: what asked for it a lower bound, said to `work`)."""
    if work is None:
        return ws.get

    def get(path: str) -> FileIndex | None:
        if in_memory(ws.files, path) is None and path in ws.files and work.spent():
            work.stop()
            return None
        return ws.get(path)

    return get


def _inside(analysis: Analysis, packer: packing.Packer) -> float:
    """What `uses_need` counts of the range itself: the definition around it is counted
    whole there (clipped), the range once already."""
    if analysis.enclosing is None:
        return 0.0
    d = analysis.file.definitions[analysis.enclosing]
    lines = range(max(d.start_line, analysis.start), min(d.end_line, analysis.end) + 1)
    costs = packer.line_costs(analysis.file.path)
    return min(candidates.USE_CLIP, costs.total(lines, cap=candidates.USE_CLIP))


def _skeletons(analysis: Analysis, packer: packing.Packer, budget: int) -> float:
    """The class skeletons around the range's definitions (the range's own file alone)."""
    fi = analysis.file
    enclosing = fi.qualified_name(analysis.enclosing) if analysis.enclosing is not None else None
    found = candidates.enclosing(analysis, packer.line_costs, budget)
    costs = packer.line_costs(fi.path)
    shown = {c.symbol: c.forms[0][1] for c in found if c.forms[0][0] == "skeleton"}
    shown.pop(enclosing or "", None)  # counted with what the range uses
    return sum(costs.total(lines) + packing.RUN_TOKENS for lines in shown.values())


def _siblings(
    analysis: Analysis,
    packer: packing.Packer,
    callers_of: siblings.CallersOf,
    work: Work | None,
) -> float:
    """The siblings as a change's context shows them: a line each, the strongest bodies
    (those found so far when the search stopped short: a lower bound, refined by the next
    request, whose listing is asked again)."""
    ws = packer.sources.workspace
    found = analysis.memo.get("siblings, bounded")
    if not isinstance(found, siblings.Siblings):
        found = siblings.find(analysis, ws, callers_of, bounded=True, work=work)
        analysis.memo["siblings, bounded"] = found
    total = 0.0
    for c in candidates.sibling_candidates(found.found, ws.get, packer.line_costs):
        total += packer.line_costs(c.path).total(c.forms[0][1]) + packing.RUN_TOKENS
    return total


def _bodies(packer: packing.Packer, site_list: Sequence[candidates.Site], cap: float) -> float:
    """The bodies around the sites (each caller's whole definition, when it is worth sending,
    not a class and at most CALLER_BODY_MAX tokens), up to `cap` tokens; past LIST_SAMPLE
    callers read, the others at the read ones' mean."""
    seen: set[tuple[str, int]] = set()
    total = sampled = 0.0  # all of them; the ones read
    read = 0
    for s in site_list:
        if s.caller is None or (s.path, s.caller) in seen:
            continue
        if candidates.caller_value(s.confidence, is_test_path(s.path)) < candidates.MIN_VALUE:
            continue
        seen.add((s.path, s.caller))
        if read >= LIST_SAMPLE:
            total += sampled / read
        else:
            body = _body(packer, s)
            total, sampled, read = total + body, sampled + body, read + 1
        if total > cap:
            break
    return total


def _body(packer: packing.Packer, s: candidates.Site) -> float:
    """What a caller's body adds to its listed lines (0: none sent); the caller's kind and
    lines as the site knows them (else from its file's index)."""
    kind, span = s.kind, s.span
    if span is None:
        cfi = packer.sources.workspace.get(s.path)
        if cfi is None or s.caller is None or s.caller >= len(cfi.definitions):
            return 0.0
        d = cfi.definitions[s.caller]
        kind, span = d.kind, (d.start_line, d.end_line)
    if kind in _SKELETON_KINDS:
        return 0.0
    try:
        costs = packer.line_costs(s.path)
        body = costs.total(range(span[0], span[1] + 1), cap=candidates.CALLER_BODY_MAX)
    except OSError:
        return 0.0
    if body > candidates.CALLER_BODY_MAX:
        return 0.0
    return body + packing.RUN_TOKENS - costs.total(s.lines, packing.LIST_TOKENS)


def estimated(analysis: Analysis, needs: Needs, budget: int) -> Context:
    """The context packed at `budget`, as the menu estimates it: the tokens it needs up to
    the budget, its site list, its needs; no text (`measured`)."""
    return Context(
        analysis.file.path,
        analysis.start + 1,
        analysis.end + 1,
        budget,
        min(budget, needs.ripple + needs.siblings),
        analysis.scope,
        sites=list(needs.sites),
        need_core=needs.core,
        need_ripple=needs.ripple + needs.siblings,
        need_plan=needs.plan,
        measured=True,
    )
