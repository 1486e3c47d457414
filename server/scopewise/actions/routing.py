"""The sliding scale: from an action and the scope of its range to a tier, a model and how
much it should think, with the reasons in words.

Three tiers, each a model plus a reasoning setting, all configurable:

- ``quick``: a Haiku-class model, thinking off (or at its lowest where it cannot be off);
- ``standard``: a Sonnet-class model at low effort;
- ``deep``: an Opus-class model with adaptive thinking, its effort rising with the scope
  (``low`` .. ``max``); on a model that only takes a thinking budget, the budget grows
  continuously with the scope between configured bounds.

What a model accepts comes from the model catalogue (the Models API, cached; a built-in table
offline), so a tier never sends a parameter its model would refuse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from scopewise.analysis.scope import Scope
from scopewise.claude.models import ModelCatalog, ModelInfo
from scopewise.settings import RoutingSettings, Thresholds, TierConfig
from scopewise.vocab import (
    EDIT_ACTIONS,
    EFFORT_LEVELS,
    INTERFACE_INTENTS,
    TIERS,
    Action,
    Tier,
    plural,
)


@dataclass(frozen=True)
class Reasoning:
    """The request parameters that set how the model thinks."""

    thinking: dict[str, Any] | None
    effort: str | None
    max_tokens: int
    budget_tokens: int | None = None

    def describe(self) -> str:
        if self.budget_tokens:
            return f"thinking budget {self.budget_tokens:,}"
        if self.thinking and self.thinking.get("type") == "disabled":
            return "thinking off" + (f", effort {self.effort}" if self.effort else "")
        if self.effort:
            return f"effort {self.effort}"
        return "default reasoning"


@dataclass(frozen=True)
class Route:
    action: str
    tier: str
    model: str
    reasoning: Reasoning
    depth: float  # how far into the deep range the scope reaches, 0..1
    reasons: list[str]
    forced: bool = False
    # routed as a change of the interface: its sites are edited (else a body behind it)
    interface: bool = False
    # the tier that writes a deep edit's plan (plan, then write); None: one call
    writer: str | None = None
    label: str = ""  # what was asked, for the summary: the intent, else the action
    # the advisor rung: one call by this route's (writer) tier that may consult this model
    # (the deep tier's) mid-answer through the advisor tool; None: no advisor
    advisor: str | None = None

    @property
    def summary(self) -> str:
        """e.g. "refactor · ripples: 38 uses in 7 files; public API → deep, effort high";
        "improve names · interface used at 52 sites in 10 files → deep (plan) + quick (write),
        effort high"."""
        shown = ("public", "auto would", "advisor", "no workspace context", "selection cut")
        extra = [r for r in self.reasons[1:] if r.startswith(shown)]
        why = "; ".join([self.reasons[0], *extra])
        forced = " (forced)" if self.forced else ""
        tiers = f"{self.tier}{forced}"
        if self.writer:
            tiers = f"{self.tier} (plan){forced} + {self.writer} (write)"
        if self.advisor:
            tiers = f"{Tier.DEEP} advisor{forced} + {self.tier} write"
        line = f"{self.label or self.action} · {why} → {tiers}, {self.reasoning.describe()}"
        cheapest = [r for r in self.reasons if r.startswith("cheapest way")]
        return f"{line} ({cheapest[0]})" if cheapest else line


# a decision point weighs as much as this many lines of code (`Scope.branches` counts each
# once; until it did, an `if` counted twice at 1.5 each, the thresholds set against that)
BRANCH_WEIGHT = 3.0


def size_of(scope: Scope) -> float:
    return scope.code_lines + BRANCH_WEIGHT * scope.branches


def moves_interface(action: str, intent: str | None, instruction: str | None) -> bool | None:
    """Whether the change may move the public interface (names, signatures), and so every
    site that uses it: an interface intent or a free instruction may (True); the other intents
    and a fix change a body behind its interface (False); a refactor that says neither is not
    known (None: the scale weighs both, as before intents decided)."""
    if action == Action.FIX:
        return False
    if action != Action.REFACTOR:
        return None
    if instruction:
        return True
    if intent:
        return intent in INTERFACE_INTENTS
    return None


@dataclass(frozen=True)
class Choice:
    """The tier the scope calls for, how far into the deep range it reaches (0..1), the rule
    that decided in words, and whether it was routed as a change of the interface (its sites
    are edited) or of a body."""

    tier: str
    depth: float
    why: str
    interface: bool = False


def choose_tier(
    action: str,
    scope: Scope,
    settings: RoutingSettings,
    moves: bool | None = None,
    sites: int | None = None,
) -> Choice:
    """The tier for (action, scope): by the reach of the interface when the change may move it
    (``moves``), by the size and coupling of the body when it may not, by both when unknown.
    ``sites``: the site list's size (every use found, candidates by name included)."""
    t = settings.thresholds
    if action == Action.EXPLAIN:
        return _explain(scope, t)
    if action == Action.FIX:
        problems = scope.diagnostics + scope.syntax_errors
        if scope.lines <= t.small_fix_lines and problems <= 2:
            depth = min(1.0, size_of(scope) / t.full_size)
            said = f"{plural(scope.lines, 'line')}, {plural(problems, 'problem')}"
            return Choice(Tier.QUICK, depth, f"a small fix ({said})")
    if moves is True:
        return _interface(scope, t, sites)
    if moves is False:
        return _body(scope, t)
    return _either(scope, t)


def _code(scope: Scope) -> str:
    return f"{plural(scope.code_lines, 'line')} of code, {_branches(scope)}"


def _branches(scope: Scope) -> str:
    return "1 branch" if scope.branches == 1 else f"{scope.branches} branches"


def _explain(scope: Scope, t: Thresholds) -> Choice:
    size = size_of(scope)
    depth = max(0.0, min(1.0, max(size / t.full_size, scope.fan_in / t.full_reach)))
    code = _code(scope)
    if size >= t.explain_deep_size:
        return Choice(Tier.DEEP, depth, f"a long read ({code})")
    if size >= t.explain_standard_size:
        return Choice(Tier.STANDARD, depth, f"a long read ({code})")
    if scope.fan_out >= t.explain_standard_fan_out:
        return Choice(Tier.STANDARD, depth, f"uses {scope.fan_out} definitions")
    return Choice(Tier.QUICK, depth, f"a short read ({code})")


def _interface(scope: Scope, t: Thresholds, sites: int | None) -> Choice:
    """An interface that moves: every use must follow, so its reach decides (uses, files,
    public); the body's size only separates quick from standard, never deep."""
    uses, files = scope.fan_in, scope.fan_in_files
    depth = _reach_depth(scope, t)
    where = f"interface used at {_count(uses, 'site', scope)} in {_count(files, 'file', scope)}"
    if sites is not None and sites > uses:
        where += f" ({sites - uses} more found by name)"
    if uses >= t.deep_reach or files >= t.deep_files:
        return Choice(Tier.DEEP, depth, where, True)
    if scope.capped:  # routed on what was counted, and said so
        where += f" ({UNCOUNTED})"
    if uses == 0 and not scope.capped and not scope.public and size_of(scope) < t.quick_size:
        return Choice(
            Tier.QUICK, depth, f"a private interface used nowhere else ({_code(scope)})", True
        )
    public = ", public" if scope.public else ""
    return Choice(Tier.STANDARD, depth, where + public, True)


def _body(scope: Scope, t: Thresholds) -> Choice:
    """A body behind its interface: its size and coupling decide, not how many callers it has
    (they do not change)."""
    size = size_of(scope)
    depth = max(0.0, min(1.0, size / t.full_size))
    body = f"body of {plural(scope.code_lines, 'line')}, {_branches(scope)}"
    if size >= t.deep_size:
        return Choice(Tier.DEEP, depth, body)
    if size >= t.coupled_size and scope.fan_out >= t.coupled_fan_out:
        return Choice(Tier.DEEP, depth, f"{body}, uses {scope.fan_out} definitions")
    if size < t.quick_size:
        return Choice(Tier.QUICK, depth, f"a short {body}")
    return Choice(Tier.STANDARD, depth, body)


# a menu's count is bounded (lsp/listing.MENU_SITE_FILES): routed on the uses counted so far,
# which the next request on the same target carries on; a run counts every use
UNCOUNTED = "counted so far; the run counts every use"


def _count(n: int, word: str, scope: Scope) -> str:
    """`n word(s)`, `n+ words` when the uses were counted in part (a lower bound)."""
    if scope.capped:
        return f"{n}+ {word}s"
    return f"{n} {word}{'s' * (n != 1)}"


def _reach_depth(scope: Scope, t: Thresholds) -> float:
    """How far the uses reach into the deep range (0..1), on the uses counted so far."""
    return max(0.0, min(1.0, scope.fan_in / t.full_reach))


def _either(scope: Scope, t: Thresholds) -> Choice:
    """A refactor that does not say whether the interface moves: size, reach and coupling,
    whichever calls for more (routed as an interface change when the reach decided)."""
    size = size_of(scope)
    reach = scope.fan_in
    depth = min(1.0, max(size / t.full_size, _reach_depth(scope, t)))
    code = _code(scope)
    if size >= t.deep_size:
        return Choice(Tier.DEEP, depth, f"a large change ({code})")
    more = "+" if scope.capped else ""
    ripples = f"ripples: {reach}{more} uses in {scope.fan_in_files}{more} files"
    if reach >= t.deep_reach:
        return Choice(Tier.DEEP, depth, ripples, True)
    if size >= t.coupled_size and scope.fan_out >= t.coupled_fan_out:
        why = f"tightly coupled ({code}, uses {scope.fan_out} definitions)"
        return Choice(Tier.DEEP, depth, why)
    if size < t.quick_size and reach == 0 and not scope.public:
        return Choice(Tier.QUICK, depth, f"a small private change ({code}, no uses elsewhere)")
    elsewhere = f"{reach}{more} uses elsewhere" + (f"; {UNCOUNTED}" if more else "")
    return Choice(Tier.STANDARD, depth, f"a contained change ({code}, {elsewhere})")


def reasoning_for(cfg: TierConfig, model: ModelInfo | None, reach: float) -> Reasoning:
    """The thinking and effort parameters a tier sends to its model; `reach` (0..1) is how far
    the scope goes into the deep range and scales effort or the thinking budget."""
    levels: list[str] = list(EFFORT_LEVELS)
    effort: str | None = cfg.effort
    if cfg.effort_range is not None:
        lo, hi = (levels.index(x) for x in cfg.effort_range)
        effort = levels[lo + min(hi - lo, math.floor(reach * (hi - lo + 1)))]
    if model is not None and not model.supports_effort():
        # an older model: thinking budget only, growing continuously with the scope
        if cfg.thinking == "off" or not model.supports_thinking("enabled"):
            thinking = {"type": "disabled"} if model.supports_thinking("disabled") else None
            return Reasoning(thinking, None, cfg.max_tokens)
        lo_b, hi_b = cfg.budget_range
        budget = int(lo_b + (hi_b - lo_b) * reach)
        budget = max(1024, budget - budget % 256)
        max_tokens = min(model.max_tokens, budget + cfg.max_tokens)
        budget = min(budget, max_tokens - 1024)
        return Reasoning({"type": "enabled", "budget_tokens": budget}, None, max_tokens, budget)
    if effort is not None and model is not None and not model.supports_effort(effort):
        supported = [lv for lv in levels if model.supports_effort(lv)]
        below = [lv for lv in supported if levels.index(lv) <= levels.index(effort)]
        # the nearest level the model takes: the highest below, else the lowest above
        effort = below[-1] if below else (supported[0] if supported else None)
    max_tokens = cfg.max_tokens if model is None else min(cfg.max_tokens, model.max_tokens)
    if cfg.thinking == "off":
        if model is None or model.supports_thinking("disabled"):
            return Reasoning({"type": "disabled"}, effort, max_tokens)
        return Reasoning(None, "low" if effort is None else effort, max_tokens)
    thinking = {"type": "adaptive", "display": "summarized"}
    if model is not None and not model.supports_thinking("adaptive"):
        thinking = None
    # room for thinking on top of the answer when the model thinks a lot
    if effort in ("high", "xhigh", "max"):
        extra = {"high": 8192, "xhigh": 16384, "max": 32768}[effort]
        max_tokens = min(max_tokens + extra, model.max_tokens if model else max_tokens + extra)
    return Reasoning(thinking, effort, max_tokens)


def route(
    action: str,
    scope: Scope,
    settings: RoutingSettings,
    models: dict[str, ModelInfo | None],
    forced_tier: str | None = None,
    *,
    intent: str | None = None,
    instruction: str | None = None,
    sites: int | None = None,
    scale: str | None = None,
) -> Route:
    """Map (action, scope) to a tier and its reasoning, with the reasons in words. The intent
    and instruction say whether the interface may move (see `moves_interface`); ``sites`` is
    the site list's size. A deep edit is planned by the deep tier and written by a cheaper one
    (`writer`): quick for an interface's mechanical site edits, standard for a body.
    ``scale``: the action whose scale picks the tier, when not the action's own (a project
    action routed as explain or refactor)."""
    scaled = scale or action
    moves = moves_interface(scaled, intent, instruction)
    chosen = choose_tier(scaled, scope, settings, moves, sites)
    forced = forced_tier or settings.forced.get(scaled)
    is_forced = bool(forced and forced != "auto")
    tier = forced if (forced and forced != "auto") else chosen.tier
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r} (quick, standard, deep or auto)")
    cfg = settings.tier(tier)
    reasoning = reasoning_for(cfg, models.get(cfg.model), chosen.depth)
    reasons = [chosen.why, *scope.reasons]
    if is_forced and tier != chosen.tier:
        reasons.append(f"auto would pick {chosen.tier}")
    writer = None
    if tier == Tier.DEEP and action in EDIT_ACTIONS:
        writer = settings.write_tier_interface if chosen.interface else settings.write_tier_body
    label = intent if action == Action.REFACTOR and intent and not instruction else action
    return Route(
        action,
        tier,
        cfg.model,
        reasoning,
        chosen.depth,
        reasons,
        is_forced,
        chosen.interface,
        writer,
        label,
    )


def writer_route(
    plan_route: Route, settings: RoutingSettings, models: dict[str, ModelInfo | None]
) -> Route | None:
    """The route of a split change's writers: the writer tier, no or low thinking (the tier's
    own reasoning; the plan did the thinking); None when the change is one call."""
    if plan_route.writer is None:
        return None
    cfg = settings.tier(plan_route.writer)
    reasoning = reasoning_for(cfg, models.get(cfg.model), 0.0)
    return replace(
        plan_route, tier=plan_route.writer, model=cfg.model, reasoning=reasoning, writer=None
    )


def advised(mode: str, interface: bool) -> bool:
    """Whether the advisor setting (``off``, ``body``, ``all``) puts a deep edit on the
    advisor rung: every deep edit for ``all``, a body behind its interface for ``body``."""
    return mode == "all" or (mode == "body" and not interface)


def advisor_route(
    plan_route: Route,
    settings: RoutingSettings,
    models: dict[str, ModelInfo | None],
    provider: str,
) -> Route:
    """The advisor rung, where the setting asks for it: a deep edit as ONE call by its writer
    tier (the writer's reasoning) with the deep model as advisor, instead of plan, then write.
    The advisor tool is on the Anthropic API only: on another provider the change stays
    plan/write and the reasons say why. The rung sits below the top of the scale, so a tier
    forced to deep keeps the deep tier planning; any other route is returned as it is."""
    if plan_route.writer is None or plan_route.forced:
        return plan_route
    if not advised(settings.advisor, plan_route.interface):
        return plan_route
    if provider != "anthropic":
        why = f"advisor: not on {provider} (Anthropic API only), so plan/write"
        return replace(plan_route, reasons=[*plan_route.reasons, why])
    writer = writer_route(plan_route, settings, models)
    assert writer is not None  # plan_route has a writer
    why = f"one call by {writer.model} with {plan_route.model} as its advisor"
    return replace(writer, advisor=plan_route.model, reasons=[*plan_route.reasons, why])


def tier_models(catalog: ModelCatalog, settings: RoutingSettings) -> dict[str, ModelInfo | None]:
    """What the catalogue knows of each tier's model (None: unknown to it)."""
    return {
        t.model: catalog.lookup(t.model) for t in (settings.quick, settings.standard, settings.deep)
    }
