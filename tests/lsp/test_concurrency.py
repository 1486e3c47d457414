"""Two actions at once: on different files both land; on the same file the second is refused
as stale, never applied over the first. Nothing the user typed is lost."""

from __future__ import annotations

import asyncio
import json

import pytest
from lspclient import Editor
from lsprotocol import types

from fakeapi import FakeAPI, Reply

pytestmark = pytest.mark.asyncio(loop_scope="module")

PRICING = "shop/pricing.py"
CART = "shop/cart.py"


def edit(path: str, old: str, new: str) -> Reply:
    answer = {"summary": "s", "edits": [{"path": path, "old_text": old, "new_text": new}]}
    return Reply(text=json.dumps(answer), chunks=10, delay=0.02)


def pick(actions: list[types.CodeAction], prefix: str) -> types.CodeAction:
    found = [a for a in actions if a.title.startswith(prefix) and "(" not in a.title]
    assert found, [a.title for a in actions]
    return found[0]


async def test_two_runs_on_different_files_both_apply(ed: Editor, module_api: FakeAPI) -> None:
    # either run may take either reply: each reply edits its own file, so both always apply
    module_api.push(
        edit(PRICING, "MAX_DISCOUNT = 0.5", "MAX_DISCOUNT = 0.4"),
        edit(CART, "self.discount = 0.0", "self.discount = 0.05"),
    )
    p_uri = ed.open(PRICING)
    c_uri = ed.open(CART)
    a = pick(await ed.actions(PRICING, 29, 32, only=["refactor"]), "Refactor: simplify")
    b = pick(await ed.actions(CART, 9, 11, only=["refactor"]), "Refactor: simplify")
    results = await asyncio.gather(ed.run(a), ed.run(b))
    assert all(r["applied"] is True for r in results), results
    assert "MAX_DISCOUNT = 0.4\n" in ed.texts[p_uri]
    assert "self.discount = 0.05\n" in ed.texts[c_uri]


async def test_two_runs_on_the_same_file_never_apply_stale(ed: Editor, module_api: FakeAPI) -> None:
    """Two refactors of one file at once, each applied when the user says so: the second
    one's proposal is re-based on the text the first one left (its own line did not
    change), so both land, each exactly once, as versioned edits."""
    module_api.push(
        edit(PRICING, "TAX_RATE = 0.2", "TAX_RATE = 0.25"),
        edit(PRICING, "MAX_DISCOUNT = 0.5", "MAX_DISCOUNT = 0.6"),
    )
    uri = ed.open(PRICING)
    menu = await ed.actions(PRICING, 29, 32, only=["refactor"])
    a, b = pick(menu, "Refactor: simplify"), pick(menu, "Refactor: add types")
    results = await asyncio.gather(ed.run(a), ed.run(b))
    assert [r["applied"] for r in results] == [True, True], results
    assert len(ed.edits) == 2  # the second made against the text the first left
    text = ed.texts[uri]
    assert text.count("TAX_RATE = 0.25\n") == 1 and text.count("MAX_DISCOUNT = 0.6\n") == 1


async def test_typing_in_another_file_while_a_run_works_loses_no_keystroke(
    ed: Editor, module_api: FakeAPI
) -> None:
    """300 keystrokes (inserts, a multi-byte character, backspaces) land in cart.py while a
    refactor of pricing.py streams. The pricing edit applies (cart.py is not in it), and
    the server's copy of cart.py matches the editor's to the character: a second edit
    written against the typed text applies exactly."""
    module_api.push(
        Reply(
            text=json.dumps(
                {
                    "summary": "s",
                    "edits": [
                        {"path": PRICING, "old_text": "TAX_RATE = 0.2", "new_text": "TAX = 0.2"}
                    ],
                }
            ),
            chunks=40,
            delay=0.02,
        )
    )
    p_uri = ed.open(PRICING)
    c_uri = ed.open(CART)
    action = pick(await ed.actions(PRICING, 29, 32, only=["refactor"]), "Refactor: simplify")
    calls = len(module_api.message_requests)
    running = asyncio.create_task(ed.run(action))
    await ed.wait_for(lambda: len(module_api.message_requests) > calls)
    typed = "    # déjà vu: the quick brown fox jumps over the lazy dog " * 5
    anchor = "self.discount = 0.0"
    cursor = ed.texts[c_uri].index(anchor) + len(anchor)
    ed._change(c_uri, cursor, cursor, "\n")
    cursor += 1
    for n, ch in enumerate(typed):
        if n % 25 == 24:  # a typo, deleted with a backspace, then retyped
            ed._change(c_uri, cursor, cursor, "x")
            ed._change(c_uri, cursor, cursor + 1, "")
        ed._change(c_uri, cursor, cursor, ch)
        cursor += len(ch)
        if n % 10 == 0:
            await asyncio.sleep(0)
    assert not running.done()  # all of it typed while the model was still writing
    result = await running
    assert result["applied"] is True, result
    assert "TAX = 0.2\n" in ed.texts[p_uri]
    expected = ed.texts[c_uri]
    assert anchor + "\n" + typed in expected

    line = typed.rstrip()  # the last typed line, as the server must have it
    module_api.push(
        Reply(
            text=json.dumps(
                {
                    "summary": "s",
                    "edits": [{"path": CART, "old_text": line, "new_text": "    # typed"}],
                }
            )
        )
    )
    fix = pick(await ed.actions(CART, 9, 11, only=["refactor"]), "Refactor: simplify")
    result = await ed.run(fix)
    assert result["applied"] is True, result
    assert ed.texts[c_uri] == expected.replace(line, "    # typed")
