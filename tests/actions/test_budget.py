"""The budget follows the scope: a local tweak gets the floor, a wide change what its ripple
needs (up to the ceiling), and the plan says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from scopewise.actions.plan import ActionRequest, Actions
from scopewise.analysis.context import Context
from scopewise.analysis.engine import Engine
from scopewise.analysis.scope import Analysis
from scopewise.settings import Settings

FLOOR = 1000


@pytest.fixture
def wide_engine(wide: Path) -> Engine:
    e = Engine(wide, use_cache=False)
    e.index(workers=1)
    return e


def _norm(action: str) -> ActionRequest:
    return ActionRequest(action, "lib/textutil.py", 1, 3)


def test_a_local_tweak_gets_the_floor(wide_engine: Engine) -> None:
    actions = Actions(wide_engine, Settings(context_budget=FLOOR))
    plan = actions.plan(ActionRequest("refactor", "lib/textutil.py", 6, 7))  # local(): 1 use
    assert plan.context.budget == FLOOR
    assert plan.context_line.startswith("context ") and "(up to 24k): 1 site in 1 file" in (
        plan.context_line
    )


def test_a_wide_change_gets_its_whole_ripple_and_explain_less(wide_engine: Engine) -> None:
    actions = Actions(wide_engine, Settings(context_budget=FLOOR))
    explain, refactor = actions.plan_all([_norm("explain"), _norm("refactor")])
    assert FLOOR < explain.context.budget <= refactor.context.budget <= 24_000
    for plan in (explain, refactor):  # every site is shown: the budget grew to fit them
        assert all(s.shown for s in plan.context.sites)
        assert f"{len(plan.context.sites)} sites in 13 files" in plan.context_line
    bodies = [s for s in refactor.context.sites if s.shown == "body"]
    assert len(bodies) > len([s for s in explain.context.sites if s.shown == "body"])
    assert refactor.to_dict()["context"]["budget_max"] == 24_000


def test_the_ceiling_bounds_it(wide_engine: Engine) -> None:
    actions = Actions(wide_engine, Settings(context_budget=FLOOR, context_budget_max=1500))
    plan = actions.plan(_norm("refactor"))
    assert plan.context.budget == 1500 and plan.context.tokens <= 1500
    assert "more dropped" in plan.context_line


def test_the_menu_packs_once_per_budget(
    wide_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    packed: list[tuple[int, bool]] = []
    real = wide_engine.context_for

    def counting(analysis: Analysis, budget: int, siblings: bool = False) -> Context:
        packed.append((budget, siblings))
        return real(analysis, budget, siblings)

    monkeypatch.setattr(wide_engine, "context_for", counting)
    actions = Actions(wide_engine, Settings(context_budget=FLOOR))
    plans = actions.plan_all([_norm("explain"), _norm("refactor"), _norm("fix")])
    # each (budget, kind) once: the floor and each budget the reach asks for, for an
    # explanation (no siblings) and for a change (siblings)
    wanted = {(FLOOR, False), (FLOOR, True)} | {
        (p.context.budget, p.request.action != "explain") for p in plans
    }
    assert len(packed) == len(set(packed)) and set(packed) == wanted
    packed.clear()
    actions.plan_all([ActionRequest(a, "lib/textutil.py", 6, 7) for a in ("refactor", "fix")])
    assert packed == [(FLOOR, True)]  # a local tweak: one packing for the whole menu
