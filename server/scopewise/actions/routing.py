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
from dataclasses import dataclass
from typing import Any

from scopewise.analysis.scope import Scope
from scopewise.claude.models import ModelCatalog, ModelInfo
from scopewise.settings import RoutingSettings, TierConfig
from scopewise.vocab import EFFORT_LEVELS, TIERS, Action, Tier


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

    @property
    def summary(self) -> str:
        """e.g. "refactor · ripples: 38 uses in 7 files; public API → deep, effort high"."""
        extra = [r for r in self.reasons[1:] if r.startswith(("public", "auto would"))]
        why = "; ".join([self.reasons[0], *extra])
        forced = " (forced)" if self.forced else ""
        return f"{self.action} · {why} → {self.tier}{forced}, {self.reasoning.describe()}"


def size_of(scope: Scope) -> float:
    return scope.code_lines + 1.5 * scope.branches


def choose_tier(action: str, scope: Scope, settings: RoutingSettings) -> tuple[str, float, str]:
    """The tier the scope calls for, how far into the deep range it reaches (0..1), and the
    rule that decided, in words."""
    t = settings.thresholds
    size = size_of(scope)
    reach = scope.fan_in
    depth = max(0.0, min(1.0, max(size / t.full_size, reach / t.full_reach)))
    code = f"{scope.code_lines} lines of code, {scope.branches} branches"
    if action == Action.FIX:
        problems = scope.diagnostics + scope.syntax_errors
        if scope.lines <= t.small_fix_lines and problems <= 2:
            return Tier.QUICK, depth, f"a small fix ({scope.lines} lines, {problems} problems)"
    if action == Action.EXPLAIN:
        if size >= t.explain_deep_size:
            return Tier.DEEP, depth, f"a long read ({code})"
        if size >= t.explain_standard_size:
            return Tier.STANDARD, depth, f"a long read ({code})"
        if scope.fan_out >= t.explain_standard_fan_out:
            return Tier.STANDARD, depth, f"uses {scope.fan_out} definitions"
        return Tier.QUICK, depth, f"a short read ({code})"
    if size >= t.deep_size:
        return Tier.DEEP, depth, f"a large change ({code})"
    if reach >= t.deep_reach:
        return Tier.DEEP, depth, f"ripples: {reach} uses in {scope.fan_in_files} files"
    if size >= t.coupled_size and scope.fan_out >= t.coupled_fan_out:
        return Tier.DEEP, depth, f"tightly coupled ({code}, uses {scope.fan_out} definitions)"
    if size < t.quick_size and reach == 0 and not scope.public:
        return Tier.QUICK, depth, f"a small private change ({code}, no uses elsewhere)"
    return Tier.STANDARD, depth, f"a contained change ({code}, {reach} uses elsewhere)"


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
) -> Route:
    """Map (action, scope) to a tier and its reasoning, with the reasons in words."""
    chosen, depth, why = choose_tier(action, scope, settings)
    forced = forced_tier or settings.forced.get(action)
    is_forced = bool(forced and forced != "auto")
    tier = forced if (forced and forced != "auto") else chosen
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r} (quick, standard, deep or auto)")
    cfg = settings.tier(tier)
    reasoning = reasoning_for(cfg, models.get(cfg.model), depth)
    reasons = [why, *scope.reasons]
    if is_forced and tier != chosen:
        reasons.append(f"auto would pick {chosen}")
    return Route(action, tier, cfg.model, reasoning, depth, reasons, is_forced)


def tier_models(catalog: ModelCatalog, settings: RoutingSettings) -> dict[str, ModelInfo | None]:
    """What the catalogue knows of each tier's model (None: unknown to it)."""
    return {
        t.model: catalog.lookup(t.model) for t in (settings.quick, settings.standard, settings.deep)
    }
