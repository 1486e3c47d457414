"""Every API fault, through an action: a clear message, nothing applied, the spend recorded."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fakeapi import FakeAPI, Reply
from scopewise.actions.plan import ActionError, ActionRequest, Actions
from scopewise.analysis.engine import Engine
from scopewise.claude.client import ClaudeClient, ClaudeError
from scopewise.settings import Settings

EDIT = json.dumps(
    {
        "summary": "x",
        "edits": [
            {"path": "shop/pricing.py", "old_text": "MAX_DISCOUNT = 0.5", "new_text": "M = 1"}
        ],
    }
)

FAULTS = [
    ("401", Reply.error(401), "auth", "key"),
    ("403", Reply.error(403), "permission", ""),
    ("429", Reply.error(429, retry_after=7), "rate_limit", "7"),
    ("529", Reply.error(529), "overloaded", "overloaded"),
    ("500", Reply.error(500), "server", ""),
    ("cut mid-thinking", Reply(text=EDIT, thinking="hmm " * 50, chunks=20, disconnect_after=6),
     "connection", ""),
    ("cut mid-edit", Reply(text=EDIT, chunks=30, disconnect_after=14), "connection", ""),
    ("error event mid-stream", Reply(text=EDIT, chunks=20, error_event_after=8), "overloaded", ""),
    ("malformed reply", Reply(text=EDIT, malformed=True), "stream_error", ""),
    ("slow stream past the deadline", Reply(text=EDIT, chunks=40, delay=0.1), "timeout",
     "did not finish"),
]  # fmt: skip


@pytest.fixture
async def client(fake_api: FakeAPI) -> AsyncIterator[ClaudeClient]:
    c = ClaudeClient(api_key="sk-test", base_url=fake_api.base_url, max_retries=0, timeout=5)
    yield c
    await c.close()


@pytest.mark.parametrize(("name", "reply", "kind", "says"), FAULTS, ids=[f[0] for f in FAULTS])
async def test_fault(
    name: str,
    reply: Reply,
    kind: str,
    says: str,
    engine: Engine,
    client: ClaudeClient,
    fake_api: FakeAPI,
    poly: Path,
) -> None:
    settings = Settings(timeout_s=1.0) if "deadline" in name else Settings()
    actions = Actions(engine, settings)
    before = (poly / "shop/pricing.py").read_text()
    fake_api.push(reply)
    plan = actions.plan(ActionRequest("refactor", "shop/pricing.py", 29, 32, tier="standard"))
    with pytest.raises(ClaudeError) as info:
        await actions.run(plan, client)
    err = info.value
    assert err.kind == kind, (err.kind, err.message)
    assert says.lower() in err.message.lower()
    assert "\n" not in err.message and len(err.message) < 300
    assert (poly / "shop/pricing.py").read_text() == before  # nothing applied
    entry = actions.ledger.recent(1)[0]
    assert entry.outcome == "error"
    if name.startswith(("cut", "error event", "slow")):
        assert entry.input_tokens > 0  # what was spent before the fault is accounted for


async def test_edits_that_do_not_match_give_up_after_one_retry(
    engine: Engine, client: ClaudeClient, fake_api: FakeAPI, poly: Path
) -> None:
    actions = Actions(engine, Settings())
    wrong = json.dumps(
        {
            "summary": "x",
            "edits": [{"path": "shop/pricing.py", "old_text": "nope", "new_text": "y"}],
        }
    )
    fake_api.push(Reply(text=wrong), Reply(text=wrong))
    before = (poly / "shop/pricing.py").read_text()
    with pytest.raises(ActionError, match="nothing was changed"):
        await actions.run(actions.plan(ActionRequest("fix", "shop/pricing.py", 30, 30)), client)
    assert (poly / "shop/pricing.py").read_text() == before
    assert [e.outcome for e in actions.ledger.recent(5)] == ["ok", "ok"]
