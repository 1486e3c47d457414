"""The advisor rung through the real SDK against the fake API: a deep edit of a body behind its
interface is one call by the writer tier (standard) with the deep model as its advisor, not
plan, then write — the call carries the advisor tool and its beta header, its cost prices each
model at its own rate in the ledger, the progress shows the consultation; other providers keep
plan/write and say why; the setting (`advisor`: off, body, all) switches the rung."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from fakeapi import FakeAPI, Reply
from scopewise.actions import prompts
from scopewise.actions.model import ActionRequest, Plan
from scopewise.actions.plan import Actions
from scopewise.analysis.engine import Engine
from scopewise.claude.call import Usage
from scopewise.claude.client import ClaudeClient
from scopewise.claude.costs import cost_usd
from scopewise.claude.models import BUILTIN_PRICES
from scopewise.settings import build

SONNET, OPUS = "claude-sonnet-5-5", "claude-opus-5-5"
RULES_LINES = 46  # the rules function's lines: a body long and branchy enough to go deep
SIMPLIFY = ActionRequest("refactor", "shop/rules.py", 1, RULES_LINES, intent="simplify")
RENAME = ActionRequest("refactor", "lib/textutil.py", 1, 3, intent="improve names")
ADVICE = "Fold the repeated discount branches into a table; keep the order of the checks."
OLD_LINE = "    total = 0"
NEW_LINE = "    total = 0.0"


def rules_source() -> str:
    """A 46-line function with many branches (deep for a body), and a helper."""
    lines = ["def rules(order, customer):", OLD_LINE]
    for i in range(14):
        lines += [f"    if order.kind == {i}:", f"        total += order.amount * {i + 1}"]
    lines += ["    if customer.vip:", "        total *= 0.9"]
    lines += [f"    total += order.fee{i}" for i in range(14)]
    lines += ["    return total", "", "", "def helper(order):", "    return order.amount", ""]
    assert len(lines) - 6 == RULES_LINES
    return "\n".join(lines)


@pytest.fixture
def shop(wide: Path) -> Path:
    """The wide fixture (a rename over 14 files) plus a long body used in two files."""
    (wide / "shop").mkdir()
    (wide / "shop" / "__init__.py").write_text("", encoding="utf-8")
    (wide / "shop" / "rules.py").write_text(rules_source(), encoding="utf-8")
    (wide / "shop" / "checkout.py").write_text(
        "from shop.rules import rules\n\n\ndef pay(order, who):\n    return rules(order, who)\n",
        encoding="utf-8",
    )
    return wide


@pytest.fixture
def engine(shop: Path) -> Engine:
    e = Engine(shop, use_cache=False)
    e.index(workers=1)
    return e


def actions_with(engine: Engine, **raw: Any) -> Actions:
    settings, warnings = build(raw)
    assert warnings == []
    return Actions(engine, settings)


@pytest.fixture
async def client(fake_api: FakeAPI) -> AsyncIterator[ClaudeClient]:
    c = ClaudeClient(api_key="sk-test", base_url=fake_api.base_url, max_retries=0, timeout=20)
    yield c
    await c.close()


def edit_reply(**extra: Any) -> Reply:
    edit = {"path": "shop/rules.py", "old_text": OLD_LINE + "\n", "new_text": NEW_LINE + "\n"}
    return Reply(text=json.dumps({"summary": "simpler", "edits": [edit]}), **extra)


def shape(plan: Plan) -> list[tuple[str, str, str]]:
    return [(s.role, s.tier, s.advisor) for s in plan.steps]


# ---------------------------------------------------------------------------- the call
async def test_a_deep_body_edit_is_one_call_with_the_deep_model_as_advisor(
    engine: Engine, client: ClaudeClient, fake_api: FakeAPI
) -> None:
    actions = actions_with(engine)  # the default: the rung for a body
    plan = actions.plan(SIMPLIFY)
    assert plan.title.startswith("Refactor: simplify · deep advisor + standard write · ~")
    assert plan.route.summary.startswith(
        "simplify · body of 46 lines, 15 branches; public API → deep advisor + standard write"
    )
    assert shape(plan) == [("write", "standard", OPUS)]
    step = plan.to_dict()["steps"][0]
    assert (step["role"], step["model"], step["advisor"]) == ("write", SONNET, OPUS)
    assert step["estimate"]["usd"] == round(plan.estimate.usd, 4)
    fake_api.push(edit_reply(advice=ADVICE, thinking="ask first"))

    result = await actions.run(plan, client)

    [sent] = fake_api.message_requests  # one call, no plan step
    assert sent.body["model"] == SONNET
    assert {"type": "advisor_20260301", "name": "advisor", "model": OPUS} in sent.body["tools"]
    assert "advisor-tool-2026-03-01" in sent.headers["anthropic-beta"]
    assert sent.body["messages"][0]["content"].endswith(prompts.ADVISOR_NOTE)
    assert [c.path for c in result.changes] == ["shop/rules.py"]
    assert NEW_LINE in result.changes[0].after
    assert result.calls == 1 and result.steps == []
    assert (result.tier, result.model) == ("standard", SONNET)


async def test_its_cost_prices_each_model_at_its_own_rate_in_the_ledger(
    engine: Engine, client: ClaudeClient, fake_api: FakeAPI
) -> None:
    actions = actions_with(engine)
    advisor_tokens = {"input_tokens": 9000, "output_tokens": 1600}
    fake_api.push(edit_reply(advice=ADVICE, advisor_usage=advisor_tokens))

    result = await actions.run(actions.plan(SIMPLIFY), client)

    executor, advisor = sorted(actions.ledger.recent(2), key=lambda e: e.model != SONNET)
    assert (executor.model, executor.tier) == (SONNET, "standard")
    assert (advisor.model, advisor.tier) == (OPUS, "deep")
    assert (advisor.input_tokens, advisor.output_tokens) == (9000, 1600)
    opus = cost_usd(Usage(9000, 1600), BUILTIN_PRICES[OPUS])
    assert advisor.usd == pytest.approx(opus)  # $0.068: Opus's rate, not Sonnet's ($0.034)
    assert opus > 1.9 * cost_usd(Usage(9000, 1600), BUILTIN_PRICES[SONNET])
    sent = Usage(executor.input_tokens, executor.output_tokens, executor.cache_write_tokens)
    assert executor.usd == pytest.approx(cost_usd(sent, BUILTIN_PRICES[SONNET]))
    assert result.usd == pytest.approx(executor.usd + advisor.usd)
    assert result.usage.output_tokens == executor.output_tokens + 1600
    with sqlite3.connect(actions.ledger.path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM reservations").fetchone()[0] == 0
    noted = f"consulted the advisor {OPUS} once: 9,000 tokens in, 1,600 out"
    assert noted in result.notes


async def test_progress_shows_the_consultation(
    engine: Engine, client: ClaudeClient, fake_api: FakeAPI
) -> None:
    actions = actions_with(engine)
    fake_api.push(edit_reply(advice=ADVICE))
    stages: list[str] = []

    await actions.run(actions.plan(SIMPLIFY), client, on_stage=stages.append)

    consult = stages.index(f"consulting the advisor ({OPUS})…")
    assert stages.index("the advisor answered; writing the edit…") == consult + 1
    assert stages.index("checking the edit…") > consult + 1


def test_the_estimate_and_the_daily_cap_count_the_advisor(engine: Engine) -> None:
    """The rung's estimate is the executor's call plus the advisor reading the transcript at
    Opus's input price and writing ~1,600 tokens at its output price: a cap that the
    executor's call alone fits under refuses it."""
    rung = actions_with(engine).plan(SIMPLIFY)
    alone = actions_with(engine, force={"refactor": "standard"}).plan(SIMPLIFY)
    opus = BUILTIN_PRICES[OPUS]
    consult = (alone.estimate.input_tokens * opus.input + 1600 * opus.output) / 1e6
    assert rung.estimate.usd == pytest.approx(alone.estimate.usd + consult, rel=0.05)
    cap = alone.estimate.usd * 1.2
    capped = actions_with(engine, daily_cap_usd=cap).plan(SIMPLIFY)
    assert capped.blocked is not None and "would pass the daily cap" in capped.blocked
    forced = actions_with(engine, daily_cap_usd=cap, force={"refactor": "standard"})
    assert forced.plan(SIMPLIFY).blocked is None


# ---------------------------------------------------------------------------- where it applies
@pytest.mark.parametrize("provider", ["bedrock", "vertex"])
def test_other_providers_keep_plan_write_and_say_why(engine: Engine, provider: str) -> None:
    plan = actions_with(engine, provider=provider).plan(SIMPLIFY)
    assert shape(plan) == [("plan", "deep", ""), ("write", "standard", ""), ("verify", "", "")]
    assert plan.route.advisor is None
    assert f"advisor: not on {provider} (Anthropic API only), so plan/write → deep (plan)" in (
        plan.route.summary
    )
    assert plan.title.startswith("Refactor: simplify · deep plan + standard write")


def test_the_setting_switches_the_rung(engine: Engine) -> None:
    off, body, every = (actions_with(engine, advisor=m) for m in ("off", "body", "all"))
    split = [("plan", "deep", ""), ("write", "standard", ""), ("verify", "", "")]
    assert shape(off.plan(SIMPLIFY)) == split
    assert shape(body.plan(SIMPLIFY)) == [("write", "standard", OPUS)]
    assert shape(every.plan(SIMPLIFY)) == [("write", "standard", OPUS)]
    # an interface that moves: plan/write by default (one call edits only what it is shown)
    wide = [("plan", "deep", ""), ("write", "quick", ""), ("verify", "", "")]
    assert shape(off.plan(RENAME)) == wide and shape(body.plan(RENAME)) == wide
    renamed = every.plan(RENAME)
    assert shape(renamed) == [("write", "quick", OPUS)]
    assert len(renamed.steps[0].files) == 14  # the files of its sites, as one call sees them
    # a tier forced to deep keeps the deep tier planning
    forced = body.plan(ActionRequest(**{**SIMPLIFY.__dict__, "tier": "deep"}))
    assert shape(forced) == split
    # a bad value is named and the default kept
    settings, warnings = build({"advisor": "sometimes"})
    assert settings.routing.advisor == "body" and "advisor" in warnings[0]


def test_a_body_change_takes_the_cheapest_of_its_ways(engine: Engine) -> None:
    """The same edit of one body three ways: plan/write, one deep call, the advisor rung —
    the cheapest is kept and the reason names the others. Make the standard writer dear and
    the one deep call wins."""
    plan = actions_with(engine).plan(SIMPLIFY)
    why = next(r for r in plan.route.reasons if r.startswith("cheapest way: "))
    others = [float(x) for x in re.findall(r"\$(\d+\.\d+)", why)]
    assert len(others) == 3 and others[0] == min(others)
    assert others[0] == pytest.approx(plan.estimate.usd, abs=0.005)

    dear = {"input": 400.0, "output": 2000.0, "cache_write_5m": 500.0, "cache_read": 40.0}
    one_call = actions_with(engine, prices={SONNET: dear}).plan(SIMPLIFY)
    assert one_call.steps == () and one_call.route.tier == "deep"
    assert one_call.route.model == OPUS and one_call.route.advisor is None
    assert any(r.startswith("cheapest way: one deep call") for r in one_call.route.reasons)


def test_an_interface_change_is_planned_and_written_whatever_it_costs(engine: Engine) -> None:
    """Renaming a name used in 14 files: one call edits only what it is shown, so the
    plan/write split stays even when a single deep call would be estimated cheaper."""
    dear = {"input": 400.0, "output": 2000.0, "cache_write_5m": 500.0, "cache_read": 40.0}
    plan = actions_with(engine, prices={"claude-haiku-5-5": dear}).plan(RENAME)
    assert [s.role for s in plan.steps] == ["plan", "write", "verify"]
    assert not any(r.startswith("cheapest way") for r in plan.route.reasons)
