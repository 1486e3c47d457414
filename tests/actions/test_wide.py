"""A wide change end to end (plan → write → verify → repair) through the real SDK against the
fake API, with a scripted model that answers from what it is shown: the planner names the
sites of the list it was sent, each writer renames the identifier in exactly the text it
was given."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from fakeapi import FakeAPI
from scopewise.actions.model import ActionError, ActionRequest, ActionResult, Plan, StepPlan
from scopewise.actions.plan import Actions
from scopewise.actions.wide.groups import write_groups
from scopewise.actions.wide.writer import spans
from scopewise.analysis.engine import Engine
from scopewise.claude.client import ClaudeClient
from scopewise.claude.errors import CallCancelled
from scopewise.claude.ledger import Ledger
from scopewise.lsp.runs import change_label
from scopewise.settings import Settings, build
from widemodel import NEW, OLD, Model, is_plan, prompt_of, rename_plan, shown_runs, system_of

NORM = ActionRequest("refactor", "lib/textutil.py", 1, 3, intent="improve names")


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture
def engine(wide: Path) -> Engine:
    e = Engine(wide, use_cache=False)
    e.index(workers=1)
    return e


@pytest.fixture
def actions(engine: Engine) -> Actions:
    return Actions(engine, Settings())


@pytest.fixture
async def client(fake_api: FakeAPI) -> AsyncIterator[ClaudeClient]:
    c = ClaudeClient(api_key="sk-test", base_url=fake_api.base_url, max_retries=0, timeout=20)
    yield c
    await c.close()


def wide_plan(actions: Actions, req: ActionRequest = NORM) -> Plan:
    """The plan of a wide rename: its steps as planning gives them, or, where planning does
    not give steps yet, the steps it would give (deep plans, quick writes, verify)."""
    plan = actions.plan(req)
    if plan.steps:
        return plan
    sites: dict[str, list[int]] = {}
    for s in plan.context.sites:
        sites.setdefault(s.path, []).append(s.line)
    files = tuple(p for g in write_groups(sites, plan.path) for p in g)
    steps = (
        StepPlan("plan", "deep", "claude-opus-5-5", "effort max"),
        StepPlan("write", "quick", "claude-haiku-5-5", "thinking off", files),
        StepPlan("verify", "", "", ""),
    )
    return replace(plan, steps=steps)


def applied(root: Path, result: ActionResult) -> Engine:
    """The workspace with the result's changes written, indexed again."""
    for change in result.changes:
        (root / change.path).write_text(change.after, encoding="utf-8")
    e = Engine(root, use_cache=False)
    e.index(workers=1)
    return e


def references(engine: Engine, name: str) -> list[str]:
    out = []
    for path, fi in sorted(engine.workspace.files.items()):
        out += [f"{path}:{line + 1}" for line, _ in fi.ref_lines(name)]
        out += [f"{path}:{fi.definitions[i].name_line + 1} (def)" for i in fi.named(name)]
    return out


def open_reservations(ledger: Ledger) -> int:
    with sqlite3.connect(ledger.path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM reservations").fetchone()[0])


# ---------------------------------------------------------------------------- the change
async def test_a_rename_reaches_every_site_in_one_result(
    actions: Actions, client: ClaudeClient, fake_api: FakeAPI, wide: Path, engine: Engine
) -> None:
    assert len(references(engine, OLD)) > 100  # 120 calls, 13 imports, the definition
    model = Model()
    fake_api.responder = model
    stages: list[str] = []
    plan = wide_plan(actions)
    result = await actions.run(plan, client, on_stage=stages.append)

    assert result.leftovers == []
    assert result.text.startswith("verified")
    # every file in one result: the definition, 12 modules and the test
    assert {c.path for c in result.changes} == {
        "lib/textutil.py",
        "tests/test_textutil.py",
        *(f"app/mod{i}.py" for i in range(12)),
    }
    assert references(applied(wide, result), OLD) == []
    assert len(references(applied(wide, result), NEW)) == len(references(engine, OLD))
    # plan once (deep), one writer per group (quick), nothing to repair
    groups = write_groups(plan_sites(plan), plan.path)
    assert model.requests == ["plan"] + ["write"] * len(groups)
    assert [(s.role, s.tier, s.calls) for s in result.steps] == [
        ("plan", "deep", 1),
        ("write", "quick", len(groups)),
        ("verify", "", 0),
    ]
    assert result.tier == "deep" and result.model == "claude-opus-5-5"
    assert result.tests == ["tests/test_textutil.py"]  # the tests of what changed
    assert result.usd == pytest.approx(sum(s.usd for s in result.steps))
    assert result.calls == 1 + len(groups)
    assert actions.ledger.session_totals().calls == result.calls  # one entry per call
    assert open_reservations(actions.ledger) == 0
    assert any(s.startswith("writing 14 files") for s in stages)
    assert "plan · deep" in result.text and "write · quick" in result.text
    # the edit's label in the editor: the plan, the tiers, each step's cost, verified
    label = change_label(result)
    assert label.startswith("scopewise refactor: improve names · deep plan $0.0")
    assert f" + quick write ×{len(groups)} $0.0" in label and label.endswith(" · verified")


def plan_sites(plan: Plan) -> dict[str, list[int]]:
    sites: dict[str, list[int]] = {plan.path: [1]}
    for s in plan.context.sites:
        sites.setdefault(s.path, []).append(s.line)
    return sites


def long_callers(root: Path) -> Engine:
    """`lib/text.py:norm`, called once from each of 8 modules, each call inside a function
    of 40 lines."""
    files = {
        ".scopewise.toml": "",
        "lib/__init__.py": "",
        "lib/text.py": "def norm(s: str) -> str:\n    return s.strip().lower()\n",
    }
    for i in range(8):
        body = "".join(f"    total += len(str({k} * x))  # step {k} of mod{i}\n" for k in range(40))
        files[f"app/mod{i}.py"] = (
            "from lib.text import norm\n\n\ndef handle(x: int, s: str) -> int:\n"
            f"    total = 0\n{body}    return total + len(norm(s))\n"
        )
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    e = Engine(root, use_cache=False)
    e.index(workers=1)
    return e


async def test_the_planner_reads_the_selection_and_the_site_list_not_the_callers_bodies(
    tmp_path: Path, client: ClaudeClient, fake_api: FakeAPI
) -> None:
    """The deep model reads what an explanation would (the range, what it uses) and every
    site a line each; the text around the sites goes to the cheap writers."""
    actions = Actions(long_callers(tmp_path), Settings())
    fake_api.responder = Model(old="norm", new="normalized")
    plan = wide_plan(
        actions, ActionRequest("refactor", "lib/text.py", 1, 2, intent="improve names", tier="deep")
    )
    assert "step 20 of mod3" in plan.context.render()  # a change's context has the bodies
    result = await actions.run(plan, client)
    assert result.leftovers == [] and len(result.changes) == 9
    bodies = [r.body for r in fake_api.message_requests]
    planned = next(b for b in bodies if is_plan(b))
    assert "def norm(s: str) -> str:" in system_of(planned)
    assert "step 20 of" not in system_of(planned)  # no caller's body
    assert "\n@@ sites\n" not in system_of(planned)  # the sites are listed once, in the prompt
    listed = re.findall(r"^\d+: ", prompt_of(planned).split("## Sites", 1)[1], re.M)
    assert len(listed) == len(plan.context.sites) == 16  # 8 imports, 8 calls
    writers = [prompt_of(b) for b in bodies if not is_plan(b)]
    assert any("return total + len(norm(s))" in w for w in writers)


async def test_the_writers_share_one_cached_prefix(
    actions: Actions, client: ClaudeClient, fake_api: FakeAPI
) -> None:
    fake_api.responder = Model()
    await actions.run(wide_plan(actions), client)
    writers = [r for r in fake_api.message_requests if not is_plan(r.body)]
    assert len(writers) > 4
    systems = {json.dumps(r.body["system"]) for r in writers}
    assert len(systems) == 1  # the writer prompt and the plan, identical for every writer
    assert "rename norm to normalize_header" in system_of(writers[0].body).replace("`", "")
    # each writer is shown only its own files and may edit only those
    for r in writers:
        paths = {p for p, _, _ in shown_runs(prompt_of(r.body))}
        assert f"Edit only {', '.join(sorted(paths, key=prompt_of(r.body).index))}" in prompt_of(
            r.body
        )


async def test_a_skipped_site_is_caught_and_repaired(
    actions: Actions, client: ClaudeClient, fake_api: FakeAPI, wide: Path
) -> None:
    line = 'a = norm("a2", h["a"])'
    model = Model(skip={("app/mod3.py", line)}, skips=1)
    fake_api.responder = model
    result = await actions.run(wide_plan(actions), client)

    assert model.requests.count("repair") == 1
    repair = next(r for r in fake_api.message_requests if "A previous attempt" in prompt_of(r.body))
    assert "17: still uses `norm` (renamed to normalize_header)" in prompt_of(repair.body)
    assert [p for p, _, _ in shown_runs(prompt_of(repair.body))] == ["app/mod3.py"]
    assert result.leftovers == []
    assert references(applied(wide, result), OLD) == []


async def test_a_site_still_skipped_is_reported_not_applied_as_complete(
    actions: Actions, client: ClaudeClient, fake_api: FakeAPI, wide: Path
) -> None:
    model = Model(skip={("app/mod3.py", 'a = norm("a2", h["a"])')}, skips=-1)
    fake_api.responder = model
    result = await actions.run(wide_plan(actions), client)

    # back once to its writer (quick), then once to the deep tier
    assert model.requests.count("repair") == 2
    repairs = [
        r.body["model"] for r in fake_api.message_requests if "A previous" in prompt_of(r.body)
    ]
    assert repairs == ["claude-haiku-5-5", "claude-opus-5-5"]
    assert result.leftovers == ["app/mod3.py:17: still uses `norm` (renamed to normalize_header)"]
    assert result.text.startswith(
        "incomplete: 1 site not verified\n  app/mod3.py:17: still uses `norm`"
    )
    assert [(s.role, s.tier) for s in result.steps][-2:] == [("write", "deep"), ("verify", "")]
    assert references(applied(wide, result), OLD) == ["app/mod3.py:17"]
    tail = r" \+ deep write \$0\.\d{3} · incomplete: 1 site not verified$"
    assert re.search(tail, change_label(result))


async def test_a_syntax_error_from_a_writer_is_caught(
    actions: Actions, client: ClaudeClient, fake_api: FakeAPI, wide: Path
) -> None:
    fake_api.responder = Model(breaks={"app/mod5.py"})
    result = await actions.run(wide_plan(actions), client)

    assert any(x.startswith("app/mod5.py:") and "syntax error" in x for x in result.leftovers)
    assert "app/mod5.py" not in {c.path for c in result.changes}  # never written broken
    assert any("app/mod5.py: left unchanged" in n for n in result.notes)
    assert result.text.startswith("incomplete")


async def test_a_plan_naming_a_file_outside_the_site_list_is_trimmed(
    actions: Actions, client: ClaudeClient, fake_api: FakeAPI, wide: Path
) -> None:
    def plan(sites: dict[str, list[int]]) -> dict[str, Any]:
        answer = rename_plan(sites)
        answer["files"].append({"path": "app/extra.py", "sites": [3], "how": "rewrite it"})
        answer["files"].append({"path": "lib/textutil.py", "sites": [10], "how": "and this"})
        return answer

    model = Model(plan=plan)
    fake_api.responder = model
    result = await actions.run(wide_plan(actions), client)

    assert "app/extra.py: not in the site list; dropped from the plan" in result.notes
    assert "lib/textutil.py:10: not in the site list; dropped" in result.notes
    shown = {p for r in fake_api.message_requests for p, _, _ in shown_runs(prompt_of(r.body))}
    assert "app/extra.py" not in shown
    assert result.leftovers == []


async def test_an_answer_that_is_not_a_plan_changes_nothing(
    actions: Actions, client: ClaudeClient, fake_api: FakeAPI
) -> None:
    fake_api.responder = Model(plan=lambda sites: {"summary": "x", "files": "all of them"})
    with pytest.raises(ActionError, match="plan could not be used: 'files' is not a list"):
        await actions.run(wide_plan(actions), client)
    assert len(fake_api.message_requests) == 1  # no writer ran
    assert actions.ledger.session_totals().calls == 1


# ---------------------------------------------------------------------------- time and money
async def test_writers_run_in_parallel(
    engine: Engine, client: ClaudeClient, fake_api: FakeAPI
) -> None:
    settings, _ = build({"write_parallel": 16})
    actions = Actions(engine, settings)
    plan = wide_plan(actions)
    model = Model(writer_reply={"delay": 0.05, "chunks": 12})  # ~0.7 s a writer
    fake_api.responder = model
    t0 = time.perf_counter()
    result = await actions.run(plan, client)
    wall = time.perf_counter() - t0
    write = next(s for s in result.steps if s.role == "write")
    one = 0.05 * 16  # the events of one writer's stream, each after the delay
    assert write.calls >= 10, result.notes
    assert write.duration_s < 3 * one  # ≈ gate + max(write), not the sum (> 8 s)
    assert wall < result.steps[0].duration_s + 4 * one


async def test_cancelling_mid_write_settles_every_call(
    actions: Actions, client: ClaudeClient, fake_api: FakeAPI
) -> None:
    fake_api.responder = Model(writer_reply={"delay": 0.5, "chunks": 20})  # slow writers
    stages: list[str] = []
    task = asyncio.create_task(actions.run(wide_plan(actions), client, on_stage=stages.append))
    for _ in range(200):
        await asyncio.sleep(0.02)
        if len(fake_api.message_requests) >= 3:  # the plan, and writers streaming
            break
    task.cancel()
    with pytest.raises(CallCancelled) as caught:
        await task
    assert caught.value.usage.input_tokens > 0  # the plan's and the writers' so far
    entries = actions.ledger.recent(50)
    plans = [r for r in fake_api.message_requests if is_plan(r.body)]
    assert len([e for e in entries if e.tier != "quick"]) == len(plans)  # the plan's, once
    # one entry per call made: a writer cancelled before its request reached the API (a
    # busy machine) has its entry too, so the API may have seen fewer
    assert len(entries) >= len(fake_api.message_requests)
    assert {e.outcome for e in entries if e.tier == "quick"} == {"cancelled"}
    assert open_reservations(actions.ledger) == 0


# ---------------------------------------------------------------------------- look-ups
async def test_the_planner_looks_things_up_then_plans(
    actions: Actions, client: ClaudeClient, fake_api: FakeAPI, wide: Path
) -> None:
    fake_api.responder = Model(lookups=[("find_references", {"symbol": "norm"})])
    stages: list[str] = []
    result = await actions.run(wide_plan(actions), client, on_stage=stages.append)

    first, second = [r.body for r in fake_api.message_requests if is_plan(r.body)]
    assert [t["name"] for t in first["tools"]] == sorted(t["name"] for t in first["tools"])
    assert "find_references" in [t["name"] for t in first["tools"]]
    assert second["tools"] == first["tools"]  # the same prefix and thinking throughout
    assert second["thinking"] == first["thinking"]
    echoed, answered = second["messages"][1:]
    assert echoed == {"role": "assistant", "content": fake_api.sent[0]}  # verbatim
    assert [b["type"] for b in echoed["content"]] == ["thinking", "tool_use"]
    (tool_result,) = answered["content"]
    assert tool_result["tool_use_id"] == echoed["content"][1]["id"]
    assert "app/mod7.py" in tool_result["content"]  # the references, from the index
    assert "looking up the callers of norm…" in stages
    plan_step = result.steps[0]
    assert plan_step.calls == 2 and plan_step.usage.input_tokens > 0
    assert actions.ledger.session_totals().calls == result.calls
    assert result.leftovers == []


async def test_the_look_up_budget_is_bounded(
    engine: Engine, client: ClaudeClient, fake_api: FakeAPI
) -> None:
    settings, _ = build({"lookup_max_steps": 1})
    actions = Actions(engine, settings)
    lookup = ("search_text", {"pattern": "norm("})
    fake_api.responder = Model(lookups=[lookup], lookup_rounds=2)
    result = await actions.run(wide_plan(actions), client)
    plans = [r.body for r in fake_api.message_requests if is_plan(r.body)]
    assert len(plans) == 3
    spent = plans[2]["messages"][4]["content"][0]
    assert spent["content"] == "look-up budget spent; answer with the plan now"
    assert result.leftovers == []

    fake_api.responder = Model(lookups=[lookup], lookup_rounds=3)  # asks on regardless
    with pytest.raises(ActionError, match="kept looking things up"):
        await actions.run(wide_plan(actions), client)
    assert open_reservations(actions.ledger) == 0


# ---------------------------------------------------------------------------- arity
async def test_call_arity_is_checked_against_a_new_signature(
    actions: Actions, client: ClaudeClient, fake_api: FakeAPI
) -> None:
    """The plan adds a parameter; writers that rename but pass two arguments leave calls the
    new signature refuses, each reported by site."""

    def plan(sites: dict[str, list[int]]) -> dict[str, Any]:
        answer = rename_plan(sites)
        answer["interface"]["signature"] = {
            "name": NEW,
            "params": ["name: str", "value: str", "sep: str"],
        }
        return answer

    fake_api.responder = Model(plan=plan)
    result = await actions.run(wide_plan(actions), client)
    assert "app/mod0.py:5: passes 2 arguments without 'sep'; normalize_header takes 3" in (
        result.leftovers
    )
    assert len(result.leftovers) == 12 * 10 + 3  # every call; the test calls it 3 times
    assert result.text.startswith("incomplete: 123 sites not verified")


# ---------------------------------------------------------------------------- what a writer sees
def test_a_writer_is_shown_runs_it_can_copy_whole() -> None:
    """Around each site ±3 lines, grown until the run occurs once in the file (a test file
    repeats the same few lines often), merged when runs touch; a short file whole."""
    block = ["", "@cli.command()", "@click.pass_context", "def cli(ctx):", "    pass", ""]
    lines = ["import click", *(block * 20), "def last():", "    return 1"]
    runs = spans(lines, [4, 64])
    text = "\n".join(lines)
    for a, b in runs:
        assert text.count("\n".join(lines[a - 1 : b])) == 1
    # grown to the lines that occur once: the import above, the last function below
    assert runs[0][0] == 1 and lines[runs[-1][1] - 1] == "def last():"
    assert all(b + 1 < c for (_, b), (c, _) in itertools.pairwise(runs))
    assert spans(lines[:40], [4]) == [(1, 40)]
