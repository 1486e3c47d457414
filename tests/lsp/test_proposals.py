"""A refactor is a proposal nothing applies until the user accepts it, through the real
server. A client with the `review` capability gets `scopewise/proposal` and applies the hunks
it accepts with `scopewise.applyProposal` (one versioned edit), discards with
`scopewise.discardProposal`; a file changed since is re-based, or refused hunk by hunk. Any
other client is asked: Apply / Show diff / Discard."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote, urlparse

import pytest
import pytest_asyncio
from lspclient import Editor, capabilities, start_editor, stop_editor
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from fakeapi import FakeAPI, Reply
from scopewise.actions.model import ActionRequest, Plan
from scopewise.actions.plan import Actions
from scopewise.analysis.engine import Engine
from scopewise.lsp.runs import Host, _confirm_override
from scopewise.settings import Settings
from scopewise.vocab import (
    APPLY_PROPOSAL_COMMAND,
    DISCARD_PROPOSAL_COMMAND,
    PROPOSAL_DIFF_COMMAND,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

PRICING = "shop/pricing.py"
CART = "shop/cart.py"
# three changes: two far apart in pricing.py (two hunks), one in cart.py
THREE = json.dumps(
    {
        "summary": "tidied",
        "edits": [
            {"path": PRICING, "old_text": "TAX_RATE = 0.2", "new_text": "TAX_RATE = 0.25"},
            {"path": PRICING, "old_text": "    pass", "new_text": "    return None"},
            {"path": CART, "old_text": "self.discount = 0.0", "new_text": "self.discount = 0.1"},
        ],
    }
)


def reviewing() -> types.ClientCapabilities:
    caps = capabilities(encodings=("utf-16", "utf-8"))
    caps.experimental = {"scopewise": {"review": True, "stream": False}}
    return caps


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def reviewer(
    tmp_path_factory: pytest.TempPathFactory, shared_poly: Path, module_api: FakeAPI
) -> AsyncIterator[Editor]:
    home = tmp_path_factory.mktemp("review-home")
    ed = await start_editor(shared_poly, home, api=module_api, caps=reviewing())
    yield ed
    await stop_editor(ed)


@pytest.fixture
def rv(reviewer: Editor, module_api: FakeAPI) -> AsyncIterator[Editor]:
    yield reviewer  # type: ignore[misc]
    reviewer.close_all()
    reviewer.client.messages.clear()
    assert module_api.pending() == 0, "a scripted reply was not used"


def pick(actions: list[types.CodeAction], prefix: str) -> types.CodeAction:
    found = [a for a in actions if a.title.startswith(prefix) and "(" not in a.title]
    assert found, [a.title for a in actions]
    return found[0]


async def command(ed: Editor, name: str, arg: Any) -> Any:
    return await ed.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=name, arguments=[arg])
    )


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else json.loads(json.dumps(value, default=vars))


async def propose(ed: Editor, api: FakeAPI, reply: str = THREE) -> dict[str, Any]:
    api.push(Reply(text=reply))
    action = pick(await ed.actions(PRICING, 29, 32, only=["refactor"]), "Refactor: simplify")
    return as_dict(await ed.run(action))


def files_on_disk(root: Path) -> dict[str, bytes]:
    return {rel: (root / rel).read_bytes() for rel in (PRICING, CART)}


async def test_a_refactor_is_a_proposal_and_nothing_changes_until_applied(
    rv: Editor, module_api: FakeAPI
) -> None:
    p_uri, c_uri = rv.open(PRICING), rv.open(CART)
    before = {p_uri: rv.texts[p_uri], c_uri: rv.texts[c_uri]}
    result = await propose(rv, module_api)
    assert result["applied"] is False and result["id"]
    assert result["title"].startswith("Refactor: 3 changes in 2 files (")
    assert "refactor" in result["label"] and result["summary"] == "tidied"
    files = {f["path"]: f for f in result["files"]}
    assert set(files) == {PRICING, CART}
    hunks = files[PRICING]["hunks"]
    assert [h["id"] for h in hunks] == [1, 2] and files[CART]["hunks"][0]["id"] == 3
    assert "TAX_RATE = 0.2" in hunks[0]["old_lines"]
    assert "TAX_RATE = 0.25" in hunks[0]["new_lines"]
    assert files[PRICING]["version"] == rv.versions[p_uri]
    await rv.wait_for(lambda: rv.proposals)
    assert rv.proposals[-1]["id"] == result["id"]  # the notification carries the same
    assert rv.edits == [] and rv.questions == []
    assert {u: rv.texts[u] for u in before} == before

    # accept hunks 1 and 3 (one in each file), reject 2: ONE edit with exactly those
    answer = as_dict(
        await command(rv, APPLY_PROPOSAL_COMMAND, {"id": result["id"], "hunks": [1, 3]})
    )
    assert answer == {"applied": [1, 3], "refused": [], "files": [PRICING, CART]}
    assert len(rv.edits) == 1
    assert "TAX_RATE = 0.25\n" in rv.texts[p_uri] and "    pass\n" in rv.texts[p_uri]
    assert "self.discount = 0.1" in rv.texts[c_uri]
    with pytest.raises(JsonRpcException, match="no proposal"):  # applied: gone
        await command(rv, APPLY_PROPOSAL_COMMAND, {"id": result["id"], "hunks": None})


async def test_discard_leaves_the_files_byte_identical(rv: Editor, module_api: FakeAPI) -> None:
    before = files_on_disk(rv.root)
    result = await propose(rv, module_api)
    assert as_dict(await command(rv, DISCARD_PROPOSAL_COMMAND, {"id": result["id"]})) == {
        "discarded": True,
        "id": result["id"],
    }
    assert rv.edits == [] and files_on_disk(rv.root) == before
    with pytest.raises(JsonRpcException, match="no proposal"):
        await command(rv, APPLY_PROPOSAL_COMMAND, {"id": result["id"]})


async def test_bad_arguments_are_one_clear_error_and_the_proposal_stays(
    rv: Editor, module_api: FakeAPI
) -> None:
    uri = rv.open(PRICING)
    result = await propose(rv, module_api)
    pid = result["id"]
    for bad, why in [
        ({"hunks": [1]}, "id"),
        ({"id": pid, "hunks": ["1"]}, "hunks"),
        ({"id": pid, "hunks": [99]}, "no hunk 99"),
        ("just a string", "one object argument"),
    ]:
        with pytest.raises(JsonRpcException, match=why):
            await command(rv, APPLY_PROPOSAL_COMMAND, bad)
    assert rv.edits == []
    answer = as_dict(await command(rv, APPLY_PROPOSAL_COMMAND, {"id": pid, "hunks": None}))
    assert answer["applied"] == [1, 2, 3]
    assert "TAX_RATE = 0.25\n" in rv.texts[uri] and "return None" in rv.texts[uri]


async def test_a_file_changed_since_is_rebased_or_refused_by_hunk(
    rv: Editor, module_api: FakeAPI
) -> None:
    uri = rv.open(PRICING)
    result = await propose(rv, module_api)
    rv.replace(PRICING, '"""Prices and discounts."""', '"""Prices.\n\nAnd discounts."""')
    rv.replace(PRICING, "    pass\n", "    print('edited')\n")  # inside hunk 2
    answer = as_dict(await command(rv, APPLY_PROPOSAL_COMMAND, {"id": result["id"]}))
    assert answer["applied"] == [1, 3]
    (refused,) = answer["refused"]
    assert refused["hunk"] == 2 and "changed since" in refused["reason"]
    text = rv.texts[uri]
    assert text.startswith('"""Prices.\n\nAnd discounts."""')  # the edit above stays
    assert "TAX_RATE = 0.25\n" in text and "print('edited')" in text
    assert any("hunk 2" in m for m in rv.shown_messages(types.MessageType.Warning))


async def test_the_diff_command_writes_a_unified_diff(rv: Editor, module_api: FakeAPI) -> None:
    result = await propose(rv, module_api)
    answer = as_dict(await command(rv, PROPOSAL_DIFF_COMMAND, {"id": result["id"]}))
    path = Path(unquote(urlparse(answer["uri"]).path))
    text = path.read_text(encoding="utf-8")
    assert f"--- a/{PRICING}" in text and "-TAX_RATE = 0.2\n+TAX_RATE = 0.25\n" in text
    assert rv.client.shown_documents[-1].uri == answer["uri"]
    await command(rv, DISCARD_PROPOSAL_COMMAND, {"id": result["id"]})


async def test_the_models_summary_stays_a_comment_in_the_diff(
    rv: Editor, module_api: FakeAPI
) -> None:
    """The summary is the model's text: a line break in it cannot start diff lines the user
    would read as part of the change."""
    forged = json.loads(THREE) | {"summary": "tidied\n--- a/evil.py\n+++ b/evil.py\n+pwned"}
    result = await propose(rv, module_api, json.dumps(forged))
    answer = as_dict(await command(rv, PROPOSAL_DIFF_COMMAND, {"id": result["id"]}))
    text = Path(unquote(urlparse(answer["uri"]).path)).read_text(encoding="utf-8")
    head = text[: text.index(f"--- a/{PRICING}")].splitlines()
    assert "# --- a/evil.py" in head and all(line.startswith("#") for line in head)
    assert "\n+++ b/evil.py" not in text
    await command(rv, DISCARD_PROPOSAL_COMMAND, {"id": result["id"]})


# ---------------------------------------------------------------- the stock question
async def test_stock_apply_asks_first_then_applies_all(ed: Editor, module_api: FakeAPI) -> None:
    uri = ed.open(PRICING)
    ed.answers = ["Apply"]
    result = await propose(ed, module_api)
    (question,) = ed.questions
    assert question.message.startswith("scopewise: Refactor: 3 changes in 2 files (")
    assert [a.title for a in question.actions or []] == ["Apply", "Show diff", "Discard"]
    assert result["applied"] is True and result["files"] == [PRICING, CART]
    assert len(ed.edits) == 1 and "TAX_RATE = 0.25\n" in ed.texts[uri]


async def test_stock_show_diff_opens_it_and_asks_again(ed: Editor, module_api: FakeAPI) -> None:
    before = files_on_disk(ed.root)
    ed.answers = ["Show diff", "Discard"]
    result = await propose(ed, module_api)
    assert len(ed.questions) == 2
    shown = ed.client.shown_documents[-1].uri
    assert shown.endswith(".diff")
    assert "+TAX_RATE = 0.25" in Path(unquote(urlparse(shown).path)).read_text(encoding="utf-8")
    assert result["applied"] is False and result["reason"] == "discarded"
    assert ed.edits == [] and files_on_disk(ed.root) == before


async def test_stock_discard_and_dismissal_change_nothing(ed: Editor, module_api: FakeAPI) -> None:
    before = files_on_disk(ed.root)
    ed.answers = ["Discard"]
    result = await propose(ed, module_api)
    assert result["reason"] == "discarded"
    ed.answers = None  # the user closes the question
    result = await propose(ed, module_api)
    assert result["applied"] is False and "dismissed" in result["reason"]
    assert ed.edits == [] and files_on_disk(ed.root) == before


# ---------------------------------------------------------------- over the daily cap
async def test_an_over_cap_run_asks_before_anything_is_spent(
    tmp_path: Path, poly: Path, module_api: FakeAPI
) -> None:
    ed = await start_editor(
        poly, tmp_path / "home", api=module_api, init_options={"dailyCapUsd": 0.000001}
    )
    try:
        listed = await ed.actions(PRICING, 29, 32, only=["source"])
        over = next(a for a in listed if a.title.endswith("(over the daily cap)"))
        calls = len(module_api.message_requests)
        for answer in ("Cancel", None):
            ed.answers = [answer]
            result = await ed.run(over)
            assert result["applied"] is False and "over the daily cap: not run" in result["reason"]
            assert len(module_api.message_requests) == calls  # nothing was spent
        question = ed.questions[-1]
        assert question.message.startswith("scopewise: spent $0.00 of $0.0000 today; this run ~$")
        assert question.message.split(" — ")[1].startswith("run anyway?")
        assert [a.title for a in question.actions or []] == ["Run", "Cancel"]

        module_api.push(Reply(text="It takes a rate off a price."))
        ed.answers = ["Run"]
        result = await ed.run(over)
        assert "document" in result and len(module_api.message_requests) == calls + 1
    finally:
        await stop_editor(ed)


async def test_an_override_no_longer_needed_does_not_lift_the_cap(poly: Path) -> None:
    """The "(over the daily cap)" entry picked once the run fits again (another run's
    reservation ended, a new day): nothing is asked, and the run goes on WITHOUT the
    override, so nothing it later spends (a retry, a wide change's writers) passes the cap
    unasked."""
    engine = Engine(poly, use_cache=False)
    engine.index(workers=1)
    actions = Actions(engine, Settings(daily_cap_usd=100.0))
    over = actions.plan(ActionRequest("explain", PRICING, 29, 32, override_cap=True))
    assert over.request.override_cap and actions.ledger.check_cap(over.estimate.usd) is None
    kept = await _confirm_override(cast(Host, None), actions, over)  # nothing to ask: no host
    assert isinstance(kept, Plan) and kept.request.override_cap is False
