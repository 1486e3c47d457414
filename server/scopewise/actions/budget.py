"""How much context an action gets: the budget follows the change's reach (the sliding scale
applied to the context). A local tweak gets the floor (`context_budget`); a range whose uses
reach far gets what its context needs, up to a ceiling (`context_budget_max`).

What an action needs depends on what it does with the ripple: an explanation reads the range,
what it uses and where it is used (the site list: `need_core`); a refactor or a fix may have
to edit every site, so it wants the bodies around them too (`need_ripple`). The context is
packed once at the floor, which measures both needs, then once more per distinct budget."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from scopewise.analysis.context import Context
from scopewise.vocab import Action

HEADROOM = 1.1  # estimates overlap and round: ask a little more than the sum
STEP = 500  # budgets are rounded up to this, so nearby ranges share a packed context


def need(ctx: Context, action: str) -> int:
    """The tokens an action's context needs, as measured by a context packed at the floor."""
    return ctx.need_core if action == Action.EXPLAIN else ctx.need_ripple


def budget_for(needed: int, floor: int, ceiling: int) -> int:
    """The budget for a context that needs `needed` tokens: the floor when that is enough,
    else the need with some headroom, rounded up, at most the ceiling."""
    if needed <= floor:
        return floor
    return max(floor, min(ceiling, math.ceil(needed * HEADROOM / STEP) * STEP))


def planner_budget(explained: Context, ceiling: int) -> int:
    """The budget of a wide change's plan step: the range, what it uses and the site list
    (`need_plan`), not the floor and not the bodies around the sites — the writers get the
    text around each site, and the deep model can look the rest up."""
    return max(STEP, min(ceiling, math.ceil(explained.need_plan * HEADROOM / STEP) * STEP))


def wants_siblings(action: str) -> bool:
    """Whether an action's context shows the range's siblings (the other users of what it
    uses): a change may have to follow them; an explanation reads the range and its uses."""
    return action != Action.EXPLAIN


def contexts_for(
    actions: Sequence[str], pack: Callable[[int, bool], Context], floor: int, ceiling: int
) -> dict[str, Context]:
    """The context of each action on one range: packed at the floor (with or without
    siblings, as the action wants), then once per distinct larger budget its reach asks for
    (never more than once per budget and kind)."""
    packed: dict[tuple[int, bool], Context] = {}
    out: dict[str, Context] = {}
    for action in actions:
        wide = wants_siblings(action)
        first = packed.get((floor, wide))
        if first is None:
            first = packed[(floor, wide)] = pack(floor, wide)
        budget = budget_for(need(first, action), floor, max(floor, ceiling))
        if (budget, wide) not in packed:
            packed[(budget, wide)] = pack(budget, wide)
        out[action] = packed[(budget, wide)]
    return out


def kilo(tokens: int) -> str:
    """Tokens in a few characters: 950, 9.2k, 24k."""
    if tokens < 1000:
        return str(tokens)
    k = tokens / 1000
    return f"{k:.0f}k" if k >= 10 or k == int(k) else f"{k:.1f}k"


def describe(ctx: Context, ceiling: int) -> str:
    """The context in one line: "context 9.2k of 10k (up to 24k): 52 sites in 10 files"; a
    measured one's size is an estimate: "context ~9.2k of 10k"."""
    line = f"context {'~' * ctx.measured}{kilo(ctx.tokens)} of {kilo(ctx.budget)}"
    if ceiling > ctx.budget:
        line += f" (up to {kilo(ceiling)})"
    return f"{line}: {ctx.site_summary}" if ctx.site_summary else line
