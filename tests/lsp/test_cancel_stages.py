"""Cancelling a run at each of its stages, both ways an editor can (the progress's cancel
button and `$/cancelRequest`): the call stops at once, the API stream is closed, nothing is
applied, the cost so far is logged, and the next action runs normally."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lspclient import Editor, start_editor, stop_editor
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from fakeapi import FakeAPI, Reply

pytestmark = pytest.mark.asyncio(loop_scope="module")

PRICING = "shop/pricing.py"


def edit(old: str, new: str) -> str:
    return json.dumps(
        {"summary": "s", "edits": [{"path": PRICING, "old_text": old, "new_text": new}]}
    )


GOOD = edit("MAX_DISCOUNT = 0.5", "MAX_DISCOUNT = 0.4")
NO_MATCH = edit("MAX_DISCOUNT = 0.75", "MAX_DISCOUNT = 0.4")
BROKEN = edit("MAX_DISCOUNT = 0.5", "MAX_DISCOUNT = (0.4")
HANGS = Reply(text=GOOD, wait=30)  # accepted, then silent: the first byte never comes


@dataclass
class Stage:
    name: str
    replies: list[Reply]
    reached: Callable[[list[str], int], bool]  # (progress messages, requests made) -> bool
    sibling: str | None = None  # "quick" / "deep": the action that forces that end of the scale
    stream_open: bool = True  # an HTTP response is in flight when we cancel


def says(word: str) -> Callable[[list[str], int], bool]:
    return lambda messages, _: any(word in m for m in messages)


def requests(n: int) -> Callable[[list[str], int], bool]:
    return lambda _, made: made >= n


STAGES = [
    Stage("waiting for the first byte", [HANGS], requests(1)),
    Stage(
        "thinking",
        [Reply(text=GOOD, thinking="weigh the callers. " * 80, chunks=80, delay=0.05)],
        says("thinking…"),
        sibling="deep",  # the deep tier thinks
    ),
    Stage("writing the edit", [Reply(text=GOOD, chunks=80, delay=0.05)], says("writing edit…")),
    Stage("asking again after an edit that did not match", [Reply(text=NO_MATCH), HANGS],
          requests(2)),
    Stage("escalating after an edit with syntax errors", [Reply(text=BROKEN), HANGS],
          requests(2)),
    Stage("the SDK's wait before retrying a 429", [Reply.error(429, retry_after=20)],
          says("rate limited; retrying in 20 s"), stream_open=False),
]  # fmt: skip


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def editor(
    shared_poly: Path, module_home: Path, module_api: FakeAPI
) -> AsyncIterator[Editor]:
    ed = await start_editor(
        shared_poly, module_home, api=module_api, init_options={"scopewise": {"maxRetries": 1}}
    )
    yield ed
    await stop_editor(ed)


def run_messages(ed: Editor, token: Any) -> list[str]:
    return [
        v.message or ""
        for v in ed.client.progress_reports.get(token, [])
        if isinstance(v, types.WorkDoneProgressReport)
    ]


def pick(actions: list[types.CodeAction], sibling: str | None) -> types.CodeAction:
    found = [
        a for a in actions if a.title.startswith("Refactor: simplify") and a.data["tier"] == sibling
    ]
    assert found, (sibling, [a.title for a in actions])
    return found[0]


@pytest.mark.parametrize("how", ["progress cancel", "$/cancelRequest"])
@pytest.mark.parametrize("stage", STAGES, ids=[s.name for s in STAGES])
async def test_cancel_at_each_stage(
    ed: Editor, module_api: FakeAPI, stage: Stage, how: str
) -> None:
    uri = ed.open(PRICING)
    before = ed.texts[uri]
    listed = await ed.actions(PRICING, 8, 8, only=["refactor"])
    action = pick(listed, stage.sibling)
    assert action.command is not None
    module_api.push(*stage.replies)
    made_before = len(module_api.message_requests)
    tokens_before = set(ed.client.progress_reports)
    edits_before = len(ed.edits)
    msg_id = f"cancel-{stage.name}-{how}"
    future = ed.client.protocol.send_request(
        types.WORKSPACE_EXECUTE_COMMAND,
        types.ExecuteCommandParams(
            command=action.command.command, arguments=action.command.arguments
        ),
        msg_id=msg_id,
    )

    def run_token() -> Any:
        new = [t for t in set(ed.client.progress_reports) - tokens_before if "run" in str(t)]
        return new[0] if new else None

    def reached() -> bool:
        token = run_token()
        made = len(module_api.message_requests) - made_before
        return token is not None and stage.reached(run_messages(ed, token), made)

    await ed.wait_for(reached)
    token = run_token()
    cancelled_at = time.monotonic()
    if how == "progress cancel":
        ed.client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
        result = await asyncio.wait_for(asyncio.wrap_future(future), 10)
        assert result["cancelled"] is True and result["applied"] is False
    else:
        ed.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
        with pytest.raises(JsonRpcException, match="cancel"):
            await asyncio.wait_for(asyncio.wrap_future(future), 10)
    stopped_in = time.monotonic() - cancelled_at
    assert stopped_in < 2.0, f"the run took {stopped_in:.1f} s to stop"
    if stage.stream_open:
        assert module_api.wait_for_disconnect(timeout=3.0), "the API stream was left open"
    assert len(ed.edits) == edits_before and ed.texts[uri] == before  # nothing applied
    await ed.wait_for(lambda: "cancelled" in ed.logs()[-1])
    assert "$" in ed.logs()[-1]
    assert module_api.pending() == 0

    # the server is none the worse: the next action runs to the end
    module_api.push(Reply(text="It caps the discount."))
    explain = await ed.actions(PRICING, 8, 8, only=["source"])
    result = await ed.run(explain[0])
    assert result.get("shown") is True
