"""Revising a finished run at the actions layer (actions/followup.py, `Actions.revise`): a
wide change (plan, write, verify) is revised by ONE call of its writer tier, shown the whole
change as the one-call answer and the instruction; its answer is checked as any edit is and
replaces the change, in the ledger like every call."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fakeapi import FakeAPI, Reply
from scopewise.actions.model import ActionError, ActionRequest
from scopewise.actions.plan import Actions
from scopewise.analysis.engine import Engine
from scopewise.claude.client import ClaudeClient
from scopewise.settings import Settings
from widemodel import NEW, OLD, Model

NORM = ActionRequest("refactor", "lib/textutil.py", 1, 3, intent="improve names")


@pytest.fixture
def actions(wide: Path) -> Actions:
    e = Engine(wide, use_cache=False)
    e.index(workers=1)
    return Actions(e, Settings())


@pytest.fixture
async def client(fake_api: FakeAPI) -> AsyncIterator[ClaudeClient]:
    c = ClaudeClient(api_key="sk-test", base_url=fake_api.base_url, max_retries=0, timeout=20)
    yield c
    await c.close()


async def test_a_wide_change_is_revised_by_one_writer_call_on_the_whole_change(
    actions: Actions, client: ClaudeClient, fake_api: FakeAPI, wide: Path
) -> None:
    plan = actions.plan(NORM)
    assert plan.steps and plan.route.writer == "quick", plan.title  # planned, then written
    fake_api.responder = Model()
    done = await actions.run(plan, client)
    assert len(done.changes) == 14 and done.conversation is not None
    estimate = actions.revise_estimate(done, "keep the old name in the tests")
    assert estimate is not None and estimate.cached_tokens == 0  # this prefix was never sent

    fake_api.responder = None
    sent = len(fake_api.message_requests)
    calls = actions.ledger.session_totals().calls
    text = (wide / "lib/textutil.py").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines(keepends=True) if f"def {OLD}" in x)
    answer = {"summary": "only the definition", "edits": [
        {"path": "lib/textutil.py", "old_text": line, "new_text": line.replace(OLD, NEW)}
    ]}  # fmt: skip
    fake_api.push(Reply(text=json.dumps(answer)))
    revised = await actions.revise(done, "only rename the definition", client)

    (follow,) = fake_api.message_requests[sent:]  # one call ...
    assert follow.body["model"] == "claude-haiku-5-5"  # ... by the writer tier
    turns = follow.body["messages"]
    shown = json.loads(turns[1]["content"][0]["text"])  # the whole change as the answer
    assert {e["path"] for e in shown["edits"]} == {c.path for c in done.changes}
    assert turns[1]["role"] == "assistant" and "only rename the definition" in turns[2]["content"]
    assert [c.path for c in revised.changes] == ["lib/textutil.py"]
    assert f"def {NEW}" in revised.changes[0].after
    assert revised.calls == 1 and actions.ledger.session_totals().calls == calls + 1
    assert revised.conversation is not None  # revisable in turn
    assert len(revised.conversation.request.history) == 2


async def test_a_revise_does_not_inherit_the_runs_cap_override(
    wide: Path, client: ClaudeClient, fake_api: FakeAPI
) -> None:
    e = Engine(wide, use_cache=False)
    e.index(workers=1)
    actions = Actions(e, Settings(daily_cap_usd=1e-9))
    req = ActionRequest("explain", "lib/textutil.py", 1, 3, override_cap=True)
    fake_api.push(Reply(text="It normalises text."))
    done = await actions.run(actions.plan(req), client)  # the user said: over the cap, run it
    sent = len(fake_api.message_requests)
    with pytest.raises(ActionError, match="cap"):
        await actions.revise(done, "shorter", client)  # not said again: refused, not billed
    assert len(fake_api.message_requests) == sent
