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


def contexts_for(
    actions: Sequence[str], pack: Callable[[int], Context], floor: int, ceiling: int
) -> dict[str, Context]:
    """The context of each action on one range: packed at the floor, then once per distinct
    larger budget the actions' reach asks for (never more than once per budget)."""
    first = pack(floor)
    by_budget = {floor: first}
    out: dict[str, Context] = {}
    for action in actions:
        budget = budget_for(need(first, action), floor, max(floor, ceiling))
        if budget not in by_budget:
            by_budget[budget] = pack(budget)
        out[action] = by_budget[budget]
    return out


def kilo(tokens: int) -> str:
    """Tokens in a few characters: 950, 9.2k, 24k."""
    if tokens < 1000:
        return str(tokens)
    k = tokens / 1000
    return f"{k:.0f}k" if k >= 10 or k == int(k) else f"{k:.1f}k"


def describe(ctx: Context, ceiling: int) -> str:
    """The context in one line: "context 9.2k of 10k (up to 24k): 52 sites in 10 files"."""
    line = f"context {kilo(ctx.tokens)} of {kilo(ctx.budget)}"
    if ceiling > ctx.budget:
        line += f" (up to {kilo(ceiling)})"
    return f"{line}: {ctx.site_summary}" if ctx.site_summary else line
