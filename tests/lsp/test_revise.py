""" "Revise…" through the real server (`scopewise.revise`): a follow-up on a pending proposal or
an explanation with a short instruction — one metered call on the SAME cached prefix (system
and context with the same cache breakpoint), the previous answer as the assistant turn and the
instruction as the new user turn. A revised edit is a NEW proposal that supersedes the old one
(discarded); a revised explanation streams into a new document. A bad instruction is refused
in one line and leaves the proposal as it was; so does a revise whose edit does not apply."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
import pytest_asyncio
from lspclient import Editor, capabilities, start_editor, stop_editor
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from fakeapi import FakeAPI, RecordedRequest, Reply
from scopewise.vocab import (
    APPLY_PROPOSAL_COMMAND,
    DISCARD_PROPOSAL_COMMAND,
    PROPOSAL_DIFF_COMMAND,
    REVISE_COMMAND,
    USAGE_COMMAND,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

PRICING = "shop/pricing.py"
CART = "shop/cart.py"
FIRST = json.dumps(
    {
        "summary": "renamed the rate",
        "edits": [
            {"path": PRICING, "old_text": "TAX_RATE = 0.2", "new_text": "VAT_RATE = 0.2"},
            {"path": CART, "old_text": "self.discount = 0.0", "new_text": "self.discount = 0.1"},
        ],
    }
)
REVISED = json.dumps(
    {
        "summary": "kept the old name",
        "edits": [
            {"path": CART, "old_text": "self.discount = 0.0", "new_text": "self.discount = 0.1"}
        ],
    }
)
EXPLAINED = "## What it does\n\nIt applies the discount, then the tax, at length. " * 8
SHORTER = "## In short\n\nDiscount, then tax."


def caps() -> types.ClientCapabilities:
    c = capabilities(encodings=("utf-16", "utf-8"))
    c.experimental = {"scopewise": {"review": True, "stream": True}}
    return c


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(
    tmp_path_factory: pytest.TempPathFactory, shared_poly: Path, module_api: FakeAPI
) -> AsyncIterator[tuple[Editor, list[dict[str, Any]]]]:
    home = tmp_path_factory.mktemp("revise-home")
    ed = await start_editor(shared_poly, home, api=module_api, caps=caps())
    notes: list[dict[str, Any]] = []

    @ed.client.feature("scopewise/explanation")
    def explanation(params: Any) -> None:
        notes.append(plain(params))

    yield ed, notes
    await stop_editor(ed)


@pytest.fixture
def rv(
    client: tuple[Editor, list[dict[str, Any]]], module_api: FakeAPI
) -> AsyncIterator[tuple[Editor, list[dict[str, Any]]]]:
    client[1].clear()
    yield client  # type: ignore[misc]
    client[0].close_all()
    client[0].client.messages.clear()
    assert module_api.pending() == 0, "a scripted reply was not used"


def plain(value: Any) -> Any:
    """A message's params as plain JSON values (pygls gives named tuples or objects)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if hasattr(value, "_fields"):
        return {k: plain(getattr(value, k)) for k in value._fields}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "__dict__"):
        return plain(vars(value))
    return value


async def command(ed: Editor, name: str, arg: Any) -> dict[str, Any]:
    return plain(
        await ed.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=[arg])
        )
    )


async def propose(ed: Editor, api: FakeAPI) -> dict[str, Any]:
    ed.open(PRICING)
    api.push(Reply(text=FIRST))
    listed = await ed.actions(PRICING, 29, 32, only=["refactor"])
    action = next(a for a in listed if a.title.startswith("Refactor: simplify"))
    return plain(await ed.run(action))


def texts(req: RecordedRequest) -> list[str]:
    """A request's messages as text, in order: "role: text"."""
    out = []
    for m in req.body["messages"]:
        content = m["content"]
        text = content if isinstance(content, str) else "".join(b["text"] for b in content)
        out.append(f"{m['role']}: {text}")
    return out


async def calls_today(ed: Editor) -> int:
    return int((await command(ed, USAGE_COMMAND, {}))["today"]["calls"])


async def test_a_revised_proposal_is_a_new_one_on_the_cached_prefix(
    rv: tuple[Editor, list[dict[str, Any]]], module_api: FakeAPI
) -> None:
    ed, _ = rv
    old = await propose(ed, module_api)
    assert old["revise"]["tier"] == old["tier"] and old["revise"]["usd"] > 0
    assert old["revise"]["cached"] is True  # the prefix was just sent
    # ... for the cache's lifetime (5 min); a revise asked after it writes the prefix again
    assert 290 < old["revise"]["cachedUntil"] - time.time() <= 300.1  # sent to a tenth of a s
    assert old["revise"]["uncachedUsd"] > old["revise"]["usd"]
    first = module_api.message_requests[-1]
    calls = await calls_today(ed)

    module_api.push(Reply(text=REVISED))
    new = await command(
        ed, REVISE_COMMAND, {"proposal": old["id"], "instruction": "keep the old name"}
    )
    follow = module_api.message_requests[-1]
    # the same prefix, breakpoint included; the answer, then the instruction
    assert follow.system_blocks == first.system_blocks
    assert follow.system_blocks[-1]["cache_control"] == {"type": "ephemeral"}
    sent = texts(follow)
    assert sent[:2] == [*texts(first), f"assistant: {FIRST}"] and len(sent) == 3
    assert sent[2].startswith("user: Revise your change: keep the old name")

    assert new["supersedes"] == old["id"] and new["id"] != old["id"]
    assert new["summary"] == "kept the old name" and new["applied"] is False
    assert [f["path"] for f in new["files"]] == [CART]  # the rename is gone
    assert new["revise"]["usd"] > 0  # a revised proposal can be revised again
    await ed.wait_for(lambda: ed.proposals and ed.proposals[-1]["id"] == new["id"])
    assert await calls_today(ed) == calls + 1  # one metered call, in the ledger
    line = next(x for x in reversed(ed.logs()) if x.startswith("scopewise: refactor · ok"))
    assert "cache read 0 " not in line  # read from the cache
    with pytest.raises(JsonRpcException, match="no proposal"):  # the old one is discarded
        await command(ed, APPLY_PROPOSAL_COMMAND, {"id": old["id"], "hunks": None})
    assert ed.edits == []


@pytest.mark.parametrize(
    ("arg", "why"),
    [
        ({"instruction": "   "}, "say how to revise it"),
        ({"instruction": "x" * 501}, "at most 500"),
        ({"instruction": 3}, "expected str"),
        ({"instruction": "shorter", "explanation": "run-9"}, "give either"),
        ({"instruction": "shorter", "proposal": "nope"}, "no proposal 'nope'"),
    ],
)
async def test_a_bad_revise_is_one_line_and_leaves_the_proposal(
    rv: tuple[Editor, list[dict[str, Any]]], module_api: FakeAPI, arg: dict[str, Any], why: str
) -> None:
    ed, _ = rv
    old = await propose(ed, module_api)
    sent = len(module_api.message_requests)
    given = {"proposal": old["id"], **arg} if "proposal" not in arg else arg
    out = await command(ed, REVISE_COMMAND, given)
    assert out["applied"] is False and why in out["reason"] and "\n" not in out["reason"]
    assert any(why in m for m in ed.shown_messages())
    assert len(module_api.message_requests) == sent  # nothing was called
    diff = await command(ed, PROPOSAL_DIFF_COMMAND, {"id": old["id"]})  # still there, whole
    text = path_of(diff["uri"]).read_text(encoding="utf-8")
    assert "+VAT_RATE = 0.2" in text and "+        self.discount = 0.1" in text
    await command(ed, DISCARD_PROPOSAL_COMMAND, {"id": old["id"]})


async def test_a_revise_whose_edit_does_not_apply_keeps_the_old_proposal(
    rv: tuple[Editor, list[dict[str, Any]]], module_api: FakeAPI
) -> None:
    ed, _ = rv
    old = await propose(ed, module_api)
    wrong = json.dumps(
        {"summary": "s", "edits": [{"path": PRICING, "old_text": "NOT THERE", "new_text": "x"}]}
    )
    module_api.push(Reply(text=wrong), Reply(text=wrong))  # checked, asked again once
    out = await command(ed, REVISE_COMMAND, {"proposal": old["id"], "instruction": "shorter"})
    assert out["applied"] is False and "could not be applied" in out["reason"]
    retry = texts(module_api.message_requests[-1])
    assert "shorter" in retry[-1] and "could not be applied" in retry[-1]  # not lost
    assert await command(ed, DISCARD_PROPOSAL_COMMAND, {"id": old["id"]}) == {
        "discarded": True,
        "id": old["id"],
    }


def path_of(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


async def test_a_revised_explanation_streams_into_a_new_document(
    rv: tuple[Editor, list[dict[str, Any]]], module_api: FakeAPI
) -> None:
    ed, notes = rv
    ed.open(PRICING)
    module_api.push(Reply(text=EXPLAINED))
    listed = await ed.actions(PRICING, 29, 32, only=["source"])
    action = next(a for a in listed if a.title.startswith("Explain · quick"))
    shown = plain(await ed.run(action))
    last = notes[-1]
    assert last["done"] is True and last["revise"]["tier"] == "quick"
    assert shown["run"] == last["run"] and shown["revise"] == last["revise"]
    first = module_api.message_requests[-1]
    notes.clear()

    module_api.push(Reply(text=SHORTER))
    again = await command(
        ed, REVISE_COMMAND, {"explanation": shown["run"], "instruction": "shorter"}
    )
    follow = module_api.message_requests[-1]
    assert follow.system_blocks == first.system_blocks
    sent = texts(follow)
    assert sent[1] == f"assistant: {EXPLAINED}" and "Revise your explanation: shorter" in sent[2]
    assert again["document"] != shown["document"] and again["run"] != shown["run"]
    assert "".join(n["delta"] for n in notes) == SHORTER  # streamed as an explanation
    assert all(n["uri"] == again["document"] for n in notes) and notes[-1]["done"]
    assert SHORTER in path_of(again["document"]).read_text(encoding="utf-8")
    assert EXPLAINED.strip() in path_of(shown["document"]).read_text(encoding="utf-8")
