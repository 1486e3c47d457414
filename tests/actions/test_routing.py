"""The sliding scale's rules, on scopes a user would recognise."""

from __future__ import annotations

from dataclasses import replace

from scopewise.actions.routing import route, writer_route
from scopewise.analysis.scope import Scope
from scopewise.claude.models import BUILTIN_MODELS, ModelInfo
from scopewise.settings import RoutingSettings, TierConfig

SETTINGS = RoutingSettings()
MODELS: dict[str, ModelInfo | None] = dict(BUILTIN_MODELS)


def scope(**kw: object) -> Scope:
    base = Scope("a.py", 1, 10, "python", 10, code_lines=8, reasons=["1 function, 10 lines"])
    return replace(base, **kw)  # type: ignore[arg-type]


def test_small_private_things_stay_quick() -> None:
    assert route("explain", scope(), SETTINGS, MODELS).tier == "quick"
    assert route("refactor", scope(code_lines=5), SETTINGS, MODELS).tier == "quick"
    one_line_fix = scope(lines=1, code_lines=1, diagnostics=1, fan_in=40, public=True)
    assert route("fix", one_line_fix, SETTINGS, MODELS).tier == "quick"


def test_reasons_count_one_line_and_one_branch_in_the_singular() -> None:
    one = scope(lines=1, code_lines=1, branches=1)
    assert "(1 line of code, 1 branch)" in route("explain", one, SETTINGS, MODELS).summary
    fix = route("fix", replace(one, diagnostics=1), SETTINGS, MODELS).summary
    assert "a small fix (1 line, 1 problem)" in fix
    two = scope(code_lines=2, branches=2)
    assert "(2 lines of code, 2 branches)" in route("explain", two, SETTINGS, MODELS).summary


def test_a_decision_weighs_three_lines_of_code() -> None:
    """Each decision is counted once (scope.measure) and weighs 3 lines: a 39-line body
    with two `if`s is as large as 45 lines of code (deep_size: deep), with one it stays
    standard — the tiers a body had when its `if`s were counted twice at 1.5 each."""
    two = route("refactor", scope(code_lines=39, branches=2), SETTINGS, MODELS)
    one = route("refactor", scope(code_lines=39, branches=1), SETTINGS, MODELS)
    assert (two.tier, one.tier) == ("deep", "standard"), (two.reasons, one.reasons)


def test_reach_size_and_coupling_go_deep() -> None:
    wide = scope(fan_in=38, fan_in_files=7, public=True)
    big = scope(code_lines=60, branches=20)
    coupled = scope(code_lines=20, branches=6, fan_out=10)
    for s in (wide, big, coupled):
        r = route("refactor", s, SETTINGS, MODELS)
        assert r.tier == "deep", r.reasons
        assert r.model == "claude-opus-5-5"
        assert r.reasoning.thinking == {"type": "adaptive", "display": "summarized"}
    assert "ripples: 38 uses in 7 files" in route("refactor", wide, SETTINGS, MODELS).summary


def test_explain_costs_less_than_refactor_for_the_same_scope() -> None:
    s = scope(code_lines=60, branches=20, fan_in=12, fan_in_files=4, public=True)
    assert route("explain", s, SETTINGS, MODELS).tier == "standard"
    assert route("refactor", s, SETTINGS, MODELS).tier == "deep"
    assert route("explain", scope(fan_out=9), SETTINGS, MODELS).tier == "standard"


def test_public_or_used_code_is_at_least_standard() -> None:
    assert route("refactor", scope(code_lines=4, public=True), SETTINGS, MODELS).tier == "standard"
    assert route("refactor", scope(code_lines=4, fan_in=3), SETTINGS, MODELS).tier == "standard"


def test_deep_effort_rises_with_the_scope() -> None:
    efforts = [
        route("refactor", scope(code_lines=n, branches=n // 2), SETTINGS, MODELS).reasoning.effort
        for n in (50, 90, 130, 170, 260)
    ]
    order = ["low", "medium", "high", "xhigh", "max"]
    ranks = [order.index(e) for e in efforts if e is not None]
    assert ranks == sorted(ranks) and ranks[0] < ranks[-1]
    assert efforts[-1] == "max"
    tokens = [
        route("refactor", scope(code_lines=n, branches=n // 2), SETTINGS, MODELS).reasoning
        for n in (50, 260)
    ]
    assert tokens[1].max_tokens > tokens[0].max_tokens  # room for the extra thinking


def test_budget_only_models_get_a_growing_budget() -> None:
    settings = replace(SETTINGS, deep=TierConfig("claude-opus-4-5", effort_range=("low", "max")))
    budgets = []
    for n in (50, 100, 150, 200):
        r = route("refactor", scope(code_lines=n), settings, MODELS).reasoning
        assert r.thinking is not None and r.thinking["type"] == "enabled"
        assert r.effort is None and r.budget_tokens is not None
        assert r.budget_tokens < r.max_tokens
        budgets.append(r.budget_tokens)
    assert budgets == sorted(budgets) and len(set(budgets)) == 4


def test_forcing_a_tier_per_action() -> None:
    settings = replace(SETTINGS, forced={"explain": "deep"})
    r = route("explain", scope(), settings, MODELS)
    assert r.tier == "deep" and r.forced
    assert "auto would pick quick" in r.reasons
    assert route("refactor", scope(), settings, MODELS).forced is False
    assert route("refactor", scope(fan_in=80), SETTINGS, MODELS, "quick").tier == "quick"


def test_effort_outside_a_models_levels_is_brought_down() -> None:
    limited = replace(BUILTIN_MODELS["claude-opus-5-5"], effort_levels=("low", "medium"))
    models = {**MODELS, "claude-opus-5-5": limited}
    r = route("refactor", scope(code_lines=300, branches=100), SETTINGS, models)
    assert r.reasoning.effort == "medium"


# ---------------------------------------------------------------- intent decides the interface
DECORATOR = scope(code_lines=7, fan_in=215, fan_in_files=25, public=True)  # tiny, used widely
SEND = scope(code_lines=72, branches=41, fan_in=2, fan_in_files=2, public=True)  # long, few uses


def test_an_interface_that_moves_routes_by_its_reach() -> None:
    renamed = route("refactor", DECORATOR, SETTINGS, MODELS, intent="improve names", sites=290)
    assert renamed.tier == "deep" and renamed.interface and renamed.writer == "quick"
    assert renamed.summary.startswith(
        "improve names · interface used at 215 sites in 25 files (75 more found by name)"
        " → deep (plan) + quick (write), effort max"
    )
    # a long body used twice: renaming its names is not deep work
    assert route("refactor", SEND, SETTINGS, MODELS, intent="improve names").tier == "standard"
    # a free instruction may move the interface too
    told = route("refactor", DECORATOR, SETTINGS, MODELS, instruction="take a list of methods")
    assert told.tier == "deep" and told.writer == "quick" and told.label == "refactor"


def test_a_body_behind_its_interface_routes_by_size_not_callers() -> None:
    simplified = route("refactor", DECORATOR, SETTINGS, MODELS, intent="simplify")
    assert simplified.tier == "quick" and not simplified.interface
    assert simplified.writer is None
    long = route("refactor", SEND, SETTINGS, MODELS, intent="simplify")
    assert long.tier == "deep" and long.writer == "standard" and not long.interface
    assert long.summary.startswith(
        "simplify · body of 72 lines, 41 branches → deep (plan) + standard (write)"
    )
    coupled = scope(code_lines=20, branches=6, fan_out=10)
    assert route("refactor", coupled, SETTINGS, MODELS, intent="make idiomatic").tier == "deep"
    # a fix is a body change: a wide reach alone does not send it deep
    fix = scope(lines=20, code_lines=20, diagnostics=1, fan_in=80, fan_in_files=12, public=True)
    assert route("fix", fix, SETTINGS, MODELS).tier == "standard"


def test_an_interface_in_many_files_goes_deep_and_the_threshold_is_a_setting() -> None:
    spread = scope(code_lines=12, fan_in=12, fan_in_files=10, public=True)
    assert route("refactor", spread, SETTINGS, MODELS, intent="improve names").tier == "deep"
    fewer = replace(SETTINGS, thresholds=replace(SETTINGS.thresholds, deep_files=11))
    assert route("refactor", spread, fewer, MODELS, intent="improve names").tier == "standard"


def test_writer_tiers_and_forcing() -> None:
    small = scope(code_lines=4)
    # deep forced on a small change: still planned, then written
    forced = route("refactor", small, SETTINGS, MODELS, "deep", intent="simplify")
    assert forced.forced and forced.writer == "standard"
    # quick or standard forced: one call at that tier
    assert route("refactor", DECORATOR, SETTINGS, MODELS, "standard").writer is None
    # explanations are never split
    assert route("explain", SEND, SETTINGS, MODELS, "deep").writer is None
    settings = replace(SETTINGS, write_tier_interface="standard")
    again = route("refactor", DECORATOR, settings, MODELS, intent="improve names")
    assert again.writer == "standard"
    writer = writer_route(again, settings, MODELS)
    assert writer is not None and writer.model == "claude-sonnet-5-5"
    assert writer.reasoning.effort == "low"  # the plan did the thinking
    assert writer_route(route("refactor", small, SETTINGS, MODELS), SETTINGS, MODELS) is None
