"""Actions end to end: plan (offline) and run through the real SDK against the fake API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fakeapi import FakeAPI, Reply, model_json
from scopewise.actions.estimate import estimate_call
from scopewise.actions.plan import ActionError, ActionRequest, Actions, explanation_markdown
from scopewise.actions.routing import route
from scopewise.analysis.engine import Engine
from scopewise.claude.client import ClaudeClient, ClaudeError
from scopewise.claude.ledger import Ledger
from scopewise.claude.models import BUILTIN_MODELS, ModelInfo
from scopewise.settings import Settings, build
from scopewise.vocab import DiagnosticInfo


@pytest.fixture
def actions(engine: Engine) -> Actions:
    return Actions(engine, Settings())


@pytest.fixture
async def client(fake_api: FakeAPI) -> AsyncIterator[ClaudeClient]:
    c = ClaudeClient(api_key="sk-test", base_url=fake_api.base_url, max_retries=0, timeout=10)
    yield c
    await c.close()


def edits(*items: tuple[str, str, str], summary: str = "done") -> str:
    return json.dumps(
        {
            "summary": summary,
            "edits": [{"path": p, "old_text": o, "new_text": n} for p, o, n in items],
        }
    )


MODELS: dict[str, ModelInfo | None] = dict(BUILTIN_MODELS)
APPLY = ActionRequest("refactor", "shop/pricing.py", 29, 32)  # apply_discount: public, wide
HELPER = ActionRequest("explain", "shop/pricing.py", 35, 36)  # _helper: private, unused


# ---------------------------------------------------------------------------- planning
def test_sliding_scale_on_the_fixture(actions: Actions) -> None:
    wide = actions.plan(APPLY)
    small = actions.plan(HELPER)
    explain_wide = actions.plan(ActionRequest("explain", "shop/pricing.py", 29, 32))
    assert small.route.tier == "quick"
    assert wide.route.tier in ("standard", "deep")
    order = ["quick", "standard", "deep"]
    assert order.index(explain_wide.route.tier) <= order.index(wide.route.tier)
    # explain is cheaper than refactor for the same scope
    assert explain_wide.estimate.usd < wide.estimate.usd
    assert wide.estimate.usd > small.estimate.usd
    assert "·" in wide.title and wide.route.tier in wide.title and "$" in wide.title


def test_a_one_line_fix_stays_quick(actions: Actions) -> None:
    diag = (DiagnosticInfo(26, "unused variable"),)
    plan = actions.plan(ActionRequest("fix", "shop/pricing.py", 26, 26, diagnostics=diag))
    assert plan.route.tier == "quick"
    assert "line 26: error: unused variable" in plan.prompt


def test_forced_tier_and_reasoning_parameters(actions: Actions) -> None:
    deep = actions.plan(ActionRequest("explain", "shop/pricing.py", 35, 36, tier="deep"))
    assert deep.route.tier == "deep" and deep.route.forced
    assert deep.route.model == "claude-opus-5-5"
    assert deep.route.reasoning.thinking == {"type": "adaptive", "display": "summarized"}
    assert deep.route.reasoning.effort == "low"  # a small scope: the low end of deep
    assert any("auto would pick quick" in r for r in deep.route.reasons)
    quick = actions.plan(ActionRequest("refactor", "shop/pricing.py", 29, 32, tier="quick"))
    assert quick.route.model == "claude-haiku-5-5"


def test_thinking_budget_models_scale_continuously(engine: Engine) -> None:
    settings, warnings = build({"tiers": {"deep": {"model": "claude-opus-4-5"}}})
    assert warnings == []
    acts = Actions(engine, settings)
    small = acts.plan(ActionRequest("refactor", "shop/pricing.py", 35, 36, tier="deep"))
    wide = acts.plan(ActionRequest("refactor", "shop/pricing.py", 11, 36, tier="deep"))
    for plan in (small, wide):
        r = plan.route.reasoning
        assert r.thinking is not None and r.thinking["type"] == "enabled"
        assert r.effort is None
        assert 1024 <= r.thinking["budget_tokens"] < r.max_tokens
    assert wide.route.reasoning.budget_tokens > small.route.reasoning.budget_tokens  # type: ignore[operator]


def test_spending_cap_blocks_with_a_reason(engine: Engine) -> None:
    settings, _ = build({"daily_cap_usd": 0.000001})
    acts = Actions(engine, settings, ledger=Ledger(daily_cap_usd=0.000001))
    plan = acts.plan(APPLY)
    assert plan.blocked and "daily cap" in plan.blocked
    over = acts.plan(ActionRequest("refactor", "shop/pricing.py", 29, 32, override_cap=True))
    assert over.blocked is None


def test_bad_settings_are_named_and_defaulted() -> None:
    settings, warnings = build(
        {"contextBudget": "lots", "tiers": {"deep": {"effort": "extreme"}}, "force": {"fix": "x"}}
    )
    assert settings.context_budget == Settings().context_budget
    assert any("scopewise.context_budget" in w for w in warnings)
    assert any("scopewise.tiers.deep.effort" in w for w in warnings)
    assert any("scopewise.force.fix" in w for w in warnings)


# ---------------------------------------------------------------------------- running
async def test_explain_request_shape_and_document(
    actions: Actions, client: ClaudeClient, fake_api: FakeAPI, poly: Path
) -> None:
    fake_api.push(Reply(text="`apply_discount` clamps the rate with `clamp`.", thinking="hmm"))
    plan = actions.plan(ActionRequest("explain", "shop/pricing.py", 29, 32, tier="standard"))
    result = await actions.run(plan, client)
    body = fake_api.last.body
    assert body["model"] == "claude-sonnet-5-5"
    assert body["output_config"]["effort"] == "low"
    system = body["system"]
    assert system[-1]["cache_control"] == {"type": "ephemeral"}
    assert "def clamp(value: float" in system[-1]["text"]  # the packed context
    assert "Explain the selected code, shop/pricing.py:29-32" in body["messages"][0]["content"]
    doc = explanation_markdown(result, poly)
    assert doc.startswith("# Explain · shop/pricing.py:29-32")
    assert "standard · claude-sonnet-5-5" in doc
    assert "clamps the rate" in doc
    assert "## Symbols" in doc and "shop/pricing.py:25" in doc  # clamp, linked
    assert "## Context sent" in doc
    assert actions.ledger.session_totals().calls == 1


async def test_refactor_across_two_files(
    actions: Actions, client: ClaudeClient, fake_api: FakeAPI
) -> None:
    fake_api.push(
        Reply(
            text=edits(
                ("shop/pricing.py", "def apply_discount(price: Price, rate: float) -> Price:",
                 "def apply_discount(price: Price, rate: float = 0.0) -> Price:"),
                ("shop/cart.py", "        return apply_discount(base, 0.1)",
                 "        return apply_discount(base, rate=0.1)"),
            )
        )
    )  # fmt: skip
    result = await actions.run(actions.plan(APPLY), client)
    by_path = {c.path: c for c in result.changes}
    assert set(by_path) == {"shop/pricing.py", "shop/cart.py"}
    assert "rate: float = 0.0) -> Price:" in by_path["shop/pricing.py"].after
    assert "apply_discount(base, rate=0.1)" in by_path["shop/cart.py"].after
    assert "+        return apply_discount(base, rate=0.1)" in result.diff()
    assert fake_api.last.body["output_config"]["format"]["type"] == "json_schema"


async def test_whitespace_tolerant_match_keeps_the_files_indentation(
    actions: Actions, client: ClaudeClient, fake_api: FakeAPI
) -> None:
    fake_api.push(
        Reply(text=edits(("shop/pricing.py", "rate = clamp(rate, 0.0, MAX_DISCOUNT)\n",
                          "rate = clamp(rate, 0.0, MAX_DISCOUNT)  # capped\n")))
    )  # fmt: skip
    result = await actions.run(actions.plan(APPLY), client)
    after = result.changes[0].after
    assert "    rate = clamp(rate, 0.0, MAX_DISCOUNT)  # capped\n" in after


async def test_failed_match_asks_once_more_then_succeeds(
    actions: Actions, client: ClaudeClient, fake_api: FakeAPI
) -> None:
    fake_api.push(
        Reply(text=edits(("shop/pricing.py", "def nothing_like_this():", "x"))),
        Reply(text=edits(("shop/pricing.py", "MAX_DISCOUNT = 0.5", "MAX_DISCOUNT = 0.6"))),
    )
    result = await actions.run(actions.plan(APPLY), client)
    assert "MAX_DISCOUNT = 0.6" in result.changes[0].after
    assert len(fake_api.message_requests) == 2
    second = fake_api.message_requests[1].body["messages"][0]["content"]
    assert "could not be applied" in second and "was not found" in second
    assert result.calls == 2 and actions.ledger.session_totals().calls == 2


async def test_garbage_twice_gives_up_cleanly(
    actions: Actions, client: ClaudeClient, fake_api: FakeAPI, poly: Path
) -> None:
    before = (poly / "shop/pricing.py").read_text()
    fake_api.push(Reply(text="I think you should rename things."), Reply(text="{not json"))
    with pytest.raises(ActionError, match=r"could not be applied.*nothing was changed"):
        await actions.run(actions.plan(APPLY), client)
    assert (poly / "shop/pricing.py").read_text() == before
    assert actions.ledger.session_totals().calls == 2  # both calls are accounted for


async def test_syntax_errors_escalate_once_then_refuse(
    actions: Actions, client: ClaudeClient, fake_api: FakeAPI
) -> None:
    broken = edits(("shop/pricing.py", "def clamp(value: float, low: float, high: float) -> float:",
                    "def clamp(value: float, low: float, high: float -> float:"))  # fmt: skip
    good = edits(("shop/pricing.py", "MAX_DISCOUNT = 0.5", "MAX_DISCOUNT = 0.4"))
    fake_api.push(Reply(text=broken), Reply(text=good))
    plan = actions.plan(ActionRequest("refactor", "shop/pricing.py", 29, 32, tier="quick"))
    result = await actions.run(plan, client)
    models = [r.body["model"] for r in fake_api.message_requests]
    assert models == ["claude-haiku-5-5", "claude-sonnet-5-5"]
    assert result.tier == "standard" and any("escalated" in n for n in result.notes)
    fake_api.push(Reply(text=broken), Reply(text=broken))  # and again once escalated
    standard = actions.plan(ActionRequest("refactor", "shop/pricing.py", 29, 32, tier="standard"))
    with pytest.raises(ActionError, match="syntax errors"):
        await actions.run(standard, client)
    assert [r.body["model"] for r in fake_api.message_requests][2:] == [
        "claude-sonnet-5-5",
        "claude-opus-5-5",
    ]


async def test_second_action_reads_context_from_the_cache(
    actions: Actions, client: ClaudeClient, fake_api: FakeAPI
) -> None:
    fake_api.push(Reply(text=edits()), Reply(text=edits()))
    fix = actions.plan(ActionRequest("fix", "shop/cart.py", 16, 18, tier="standard"))
    await actions.run(fix, client)
    refactor = actions.plan(ActionRequest("refactor", "shop/cart.py", 16, 18, tier="standard"))
    assert refactor.estimate.cached_tokens > 0  # the estimate knows the prefix is warm
    result = await actions.run(refactor, client)
    u = result.usage
    context_tokens = u.cache_read_tokens + u.cache_write_tokens
    assert u.cache_read_tokens >= 0.8 * (u.input_tokens + context_tokens - 50)
    assert u.cache_read_tokens > 0


async def test_api_errors_are_clear_and_recorded(
    actions: Actions, client: ClaudeClient, fake_api: FakeAPI
) -> None:
    fake_api.push(Reply.error(529))
    with pytest.raises(ClaudeError) as info:
        await actions.run(actions.plan(HELPER), client)
    assert info.value.kind == "overloaded"
    assert actions.ledger.session_totals().calls == 1


async def test_missing_key_fails_before_any_request(actions: Actions, fake_api: FakeAPI) -> None:
    no_key = ClaudeClient(api_key=None, base_url=fake_api.base_url)
    with pytest.raises(ClaudeError, match="ANTHROPIC_API_KEY"):
        await actions.run(actions.plan(HELPER), no_key)
    assert fake_api.requests == []


async def test_models_api_capabilities_shape_the_request(
    actions: Actions, client: ClaudeClient, fake_api: FakeAPI
) -> None:
    # the Models API says this deep model no longer takes effort "low"
    fake_api.models["claude-opus-5-5"] = model_json("claude-opus-5-5", efforts=("medium", "high"))
    nothing = {"summary": "fine as it is", "files": [],
               "interface": {"renames": [], "removed": [], "signature": None}}  # fmt: skip
    fake_api.push(Reply(text=json.dumps(nothing)))
    small = ActionRequest("refactor", "shop/pricing.py", 29, 32, tier="deep")
    plan = actions.plan(small)
    assert plan.route.reasoning.effort == "low"  # offline: the built-in table
    await actions.run(plan, client)
    # a deep refactor is planned by the deep model (and written by a cheaper one)
    first = fake_api.message_requests[0].body
    assert first["model"] == "claude-opus-5-5"
    assert first["output_config"]["effort"] == "medium"
    assert any(r.path.startswith("/v1/models/claude-opus-5-5") for r in fake_api.requests)
    # cached on disk: the next plan knows without asking
    assert actions.plan(small).route.reasoning.effort == "medium"


async def test_cancelling_mid_stream_closes_it_and_records_the_partial_cost(
    actions: Actions, client: ClaudeClient, fake_api: FakeAPI
) -> None:
    fake_api.push(Reply(text="word " * 200, thinking="step " * 50, chunks=40, delay=0.05))
    task = asyncio.create_task(actions.run(actions.plan(HELPER), client))
    for _ in range(200):  # until the stream is under way (the SDK loads on first use)
        if fake_api.message_requests:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert fake_api.wait_for_disconnect(timeout=2.0)
    recent = actions.ledger.recent(1)[0]
    assert recent.outcome == "cancelled"
    assert recent.input_tokens > 0  # what was spent before the cancel is accounted for


def test_a_zero_budget_is_refused_not_the_default(actions: Actions) -> None:
    """A caller's budget of 0 is an error; it used to mean "the default" silently."""
    with pytest.raises(ActionError, match="too small"):
        actions.plan(HELPER, budget=0)
    assert actions.plan(HELPER, budget=64).context.budget == 64


# ---------------------------------------------------------------------------- wide changes
def test_a_wide_rename_is_planned_deep_then_written_by_quick_file_by_file(wide: Path) -> None:
    e = Engine(wide, use_cache=False)
    e.index(workers=1)
    acts = Actions(e, Settings())
    rename = acts.plan(ActionRequest("refactor", "lib/textutil.py", 1, 3, intent="improve names"))
    simplify = acts.plan(ActionRequest("refactor", "lib/textutil.py", 1, 3, intent="simplify"))
    # the same range: its interface reaches 13 files; its body is three lines
    assert rename.route.tier == "deep" and simplify.route.tier in ("quick", "standard")
    assert simplify.steps == ()
    roles = [s.role for s in rename.steps]
    assert roles == ["plan", "write", "verify"]
    plan_step, write_step, verify_step = rename.steps
    assert (plan_step.tier, plan_step.model) == ("deep", "claude-opus-5-5")
    assert (write_step.tier, write_step.model) == ("quick", "claude-haiku-5-5")
    with_sites = {s.path for s in rename.context.sites}
    assert len(with_sites) == 13  # 12 app modules and the test
    assert set(write_step.files) == with_sites | {"lib/textutil.py"}
    assert write_step.files[0] == "lib/textutil.py"
    assert verify_step.estimate.usd == 0 and verify_step.model == ""
    # the plan's estimate is its steps' sum
    assert rename.estimate.usd == pytest.approx(sum(s.estimate.usd for s in rename.steps))
    assert rename.estimate.output_tokens == sum(s.estimate.output_tokens for s in rename.steps)
    assert write_step.estimate.cached_tokens > 0  # the writers share the plan's prefix
    assert rename.title.startswith("Refactor: improve names · deep plan + quick write · ~")
    d = rename.to_dict()
    assert [s["role"] for s in d["steps"]] == roles
    assert d["steps"][1]["estimate"]["usd"] > 0 and len(d["steps"][1]["files"]) == 14
    assert len(d["sites"]) >= 120 and {"path", "line"} <= set(d["sites"][0])


def test_a_split_costs_less_than_one_deep_call_writing_every_site(wide: Path) -> None:
    e = Engine(wide, use_cache=False)
    e.index(workers=1)
    acts = Actions(e, Settings())
    rename = ActionRequest("refactor", "lib/textutil.py", 1, 3, intent="improve names")
    split = acts.plan(rename)
    one = acts.plan(ActionRequest(**{**rename.__dict__, "tier": "standard"}))
    # one call at any tier has to write all 120 site edits itself: counted in its estimate
    assert one.steps == () and one.estimate.output_tokens > 120 * 50
    deep = route(
        "refactor", split.scope, acts.settings.routing, MODELS, "deep", intent="improve names"
    )
    one_deep = estimate_call(
        "refactor",
        deep,
        split.scope,
        split.context.render(),
        split.prompt,
        acts.price(deep.model),
        None,
        len(split.context.sites),
    )
    # the deep tier writing 120 edits at its price costs more than planning them
    assert split.estimate.usd < one_deep.usd
    assert split.steps[0].estimate.output_tokens < one_deep.output_tokens
    # forced deep on a body-only change is planned too; its writer is standard and edits
    # only the selection's file
    body = acts.plan(ActionRequest("refactor", "lib/textutil.py", 6, 7, intent="simplify"))
    forced = acts.plan(
        ActionRequest("refactor", "lib/textutil.py", 6, 7, intent="simplify", tier="deep")
    )
    assert body.steps == () and body.route.tier == "quick"
    assert [s.tier for s in forced.steps] == ["deep", "standard", ""]
    assert forced.steps[1].files == ("lib/textutil.py",)
