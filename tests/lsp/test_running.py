"""Running actions through the real server: progress, explain documents, edits applied (or
refused) exactly, cancellation, API faults. One server (UTF-8 positions) for the module."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
import pytest_asyncio
from lspclient import Editor, capabilities, start_editor, stop_editor
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from fakeapi import FakeAPI, Reply

pytestmark = pytest.mark.asyncio(loop_scope="module")

PRICING = "shop/pricing.py"
CART = "shop/cart.py"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def editor(
    shared_poly: Path, module_home: Path, module_api: FakeAPI
) -> AsyncIterator[Editor]:
    ed = await start_editor(
        shared_poly,
        module_home,
        api=module_api,
        caps=capabilities(encodings=("utf-16", "utf-8")),
        init_options={"scopewise": {"maxRetries": 0}},
    )
    yield ed
    await stop_editor(ed)


def edits(*items: tuple[str, str, str], summary: str = "done") -> str:
    return json.dumps(
        {
            "summary": summary,
            "edits": [{"path": p, "old_text": o, "new_text": n} for p, o, n in items],
        }
    )


def pick(
    actions: list[types.CodeAction], prefix: str, forced: str | None = None
) -> types.CodeAction:
    """The entry titled so, on the sliding scale (or the sibling forced to that tier)."""
    found = [a for a in actions if a.title.startswith(prefix) and a.data["tier"] == forced]
    assert found, [a.title for a in actions]
    return found[0]


def run_tokens(ed: Editor) -> list[str]:
    return [t for t in ed.client.progress_reports if str(t).startswith("scopewise-run-")]


def progress_of(ed: Editor, token: Any) -> list[Any]:
    return ed.client.progress_reports[token]


async def test_explain_streams_progress_and_shows_a_document(
    ed: Editor, module_api: FakeAPI
) -> None:
    assert ed.encoding == "utf-8"  # offered second by the client, still preferred
    module_api.push(
        Reply(text="`apply_discount` clamps the rate with `clamp`.", thinking="let me see " * 20)
    )
    ed.open(PRICING)
    action = pick(await ed.actions(PRICING, 29, 32, only=["source"]), "Explain · quick")
    before = set(run_tokens(ed))
    result = await ed.run(action)
    assert result["shown"] is True
    shown = ed.client.shown_documents[-1]
    assert shown.uri == result["document"] and shown.take_focus
    path = Path(unquote(urlparse(shown.uri).path))
    assert path.parent.name == "explanations" and path.suffix == ".md"
    assert "cache" in path.parts  # the user's cache folder, never the workspace
    doc = path.read_text(encoding="utf-8")
    assert doc.startswith("# Explain · shop/pricing.py:29-32")
    assert "quick · claude-haiku-5-5" in doc
    assert "clamps the rate" in doc and "## Context sent" in doc
    # progress: titled with the reason for the tier, streams, ends with the cost
    (token,) = set(run_tokens(ed)) - before
    values = progress_of(ed, token)
    begin, end = values[0], values[-1]
    assert isinstance(begin, types.WorkDoneProgressBegin) and begin.cancellable
    # titled as the menu entry the user picked: the tier, why, the cost
    assert begin.title == f"scopewise {action.title}"
    assert begin.title.startswith("scopewise Explain · quick: a short read · <$0.01")
    assert begin.message and re.fullmatch(r"~[\d.]+k? tok \(estimated\)", begin.message)
    reports = [v.message for v in values if isinstance(v, types.WorkDoneProgressReport)]
    assert any(m.startswith("thinking… ") and m.endswith(" tokens") for m in reports), reports
    assert isinstance(end, types.WorkDoneProgressEnd) and "$" in (end.message or "")
    line = ed.logs()[-1]
    assert "explain · ok · quick · claude-haiku-5-5 · in " in line
    assert "cache read" in line and "out" in line and "$" in line and line.endswith(" s")


async def test_refactor_applies_one_versioned_annotated_edit(
    ed: Editor, module_api: FakeAPI
) -> None:
    module_api.push(
        Reply(
            text=edits(
                (PRICING, "    rate = clamp(rate, 0.0, MAX_DISCOUNT)\n",
                 "    rate = clamp(rate, 0.0, MAX_DISCOUNT)  # café ☕ capped\n"),
                summary="documented the cap",
            )
        )
    )  # fmt: skip
    uri = ed.open(PRICING)
    ed.replace(PRICING, '"""Prices and discounts."""', '"""Prices — and discounts 💶."""')
    expected = ed.texts[uri].replace(
        "    rate = clamp(rate, 0.0, MAX_DISCOUNT)\n",
        "    rate = clamp(rate, 0.0, MAX_DISCOUNT)  # café ☕ capped\n",
    )
    action = pick(await ed.actions(PRICING, 29, 32, only=["refactor"]), "Refactor: simplify")
    assert action.kind == "refactor.rewrite"
    result = await ed.run(action)
    assert result["applied"] is True and result["files"] == [PRICING]
    (params,) = ed.edits
    (change,) = params.edit.document_changes or []
    assert isinstance(change, types.TextDocumentEdit)
    assert change.text_document.uri == uri and change.text_document.version == 2
    (text_edit,) = change.edits
    assert isinstance(text_edit, types.AnnotatedTextEdit)
    annotation = (params.edit.change_annotations or {})[text_edit.annotation_id]
    assert annotation.needs_confirmation is False  # confirmed already: no refactor preview
    assert result["tier"] in annotation.label and "$" in annotation.label
    assert annotation.description == "documented the cap"
    assert ed.texts[uri] == expected  # exactly, after a multi-byte edit earlier in the file
    assert any("applied to shop/pricing.py" in m for m in ed.shown_messages())


async def test_refactor_across_two_files_one_of_them_closed(
    ed: Editor, module_api: FakeAPI
) -> None:
    # deep: the deep tier plans, a writer per file writes (the selection's file first)
    plan = {"summary": "a default rate", "files": [
        {"path": PRICING, "sites": [29], "how": "rate defaults to 0.0"},
        {"path": CART, "sites": [24], "how": "pass rate by name"},
    ], "interface": {"renames": [], "removed": [], "signature": None}}  # fmt: skip
    module_api.push(
        Reply(text=json.dumps(plan)),
        Reply(text=edits((PRICING, "def apply_discount(price: Price, rate: float) -> Price:",
                          "def apply_discount(price: Price, rate: float = 0.0) -> Price:"))),
        Reply(text=edits((CART, "        return apply_discount(base, 0.1)",
                          "        return apply_discount(base, rate=0.1)"))),
    )  # fmt: skip
    pricing_uri = ed.open(PRICING)
    before = {rel: ed.text(rel) for rel in (PRICING, CART)}
    action = pick(await ed.actions(PRICING, 29, 32), "Refactor: improve names", "deep")
    result = await ed.run(action)
    assert result["applied"] is True and sorted(result["files"]) == [CART, PRICING]
    assert result["tier"] == "deep"
    changes = ed.edits[-1].edit.document_changes or []
    versions = {c.text_document.uri: c.text_document.version for c in changes}  # type: ignore[union-attr]
    assert versions == {pricing_uri: 1, ed.uri(CART): None}  # cart.py is not open
    assert ed.text(PRICING) == before[PRICING].replace(
        "rate: float) -> Price:", "rate: float = 0.0) -> Price:"
    )
    assert ed.text(CART) == before[CART].replace(
        "apply_discount(base, 0.1)", "apply_discount(base, rate=0.1)"
    )
    assert (ed.root / CART).read_text() == before[CART]  # the editor writes, not the server


async def test_fix_sends_the_diagnostics_and_applies(ed: Editor, module_api: FakeAPI) -> None:
    module_api.push(Reply(text=edits((PRICING, "MAX_DISCOUNT = 0.5", "MAX_DISCOUNT = 0.25"))))
    uri = ed.open(PRICING)
    diag = types.Diagnostic(
        range=types.Range(
            start=types.Position(line=7, character=0), end=types.Position(line=7, character=12)
        ),
        message="discount too generous",
        severity=types.DiagnosticSeverity.Warning,
        source="reviewer",
    )
    listed = await ed.actions(PRICING, 8, 8, only=["quickfix"], diagnostics=[diag])
    fix = pick(listed, "Fix · quick")
    assert fix.kind == "quickfix" and list(fix.diagnostics or []) == [diag]
    result = await ed.run(fix)
    assert result["applied"] is True
    prompt = module_api.last.body["messages"][0]["content"]
    assert "line 8: warning: discount too generous (reviewer)" in prompt
    assert "MAX_DISCOUNT = 0.25\n" in ed.texts[uri]


async def test_an_edit_made_while_the_model_writes_is_never_overwritten(
    ed: Editor, module_api: FakeAPI
) -> None:
    """The user types on the line above while the model writes: the paid answer is re-based
    on the typed text (its own line did not change), and the typing stays."""
    module_api.push(
        Reply(text=edits((PRICING, "MAX_DISCOUNT = 0.5", "MAX_DISCOUNT = 0.3")), chunks=30,
              delay=0.03)
    )  # fmt: skip
    uri = ed.open(PRICING)
    action = pick(await ed.actions(PRICING, 8, 8, only=["refactor"]), "Refactor: simplify")
    calls = len(module_api.message_requests)
    running = asyncio.create_task(ed.run(action))
    await ed.wait_for(lambda: len(module_api.message_requests) > calls)
    ed.replace(PRICING, "TAX_RATE = 0.2", "TAX_RATE = 0.21")  # the user types meanwhile
    result = await running
    assert result["applied"] is True, result
    assert "TAX_RATE = 0.21\nMAX_DISCOUNT = 0.3\n" in ed.texts[uri]


async def test_an_edit_made_inside_the_change_while_the_model_writes_is_never_overwritten(
    ed: Editor, module_api: FakeAPI
) -> None:
    module_api.push(
        Reply(text=edits((PRICING, "MAX_DISCOUNT = 0.5", "MAX_DISCOUNT = 0.3")), chunks=30,
              delay=0.03)
    )  # fmt: skip
    uri = ed.open(PRICING)
    action = pick(await ed.actions(PRICING, 8, 8, only=["refactor"]), "Refactor: simplify")
    calls = len(module_api.message_requests)
    running = asyncio.create_task(ed.run(action))
    await ed.wait_for(lambda: len(module_api.message_requests) > calls)
    ed.replace(PRICING, "MAX_DISCOUNT = 0.5", "MAX_DISCOUNT = 0.45")  # the user types meanwhile
    result = await running
    assert result["applied"] is False and "changed" in result["reason"], result
    assert ed.edits == []  # nothing stale was sent
    assert "MAX_DISCOUNT = 0.45\n" in ed.texts[uri]
    assert any("nothing was" in m for m in ed.shown_messages()), ed.shown_messages()


async def test_a_document_changed_since_listing_is_refused_before_any_call(
    ed: Editor, module_api: FakeAPI
) -> None:
    ed.open(PRICING)
    action = pick(await ed.actions(PRICING, 29, 32), "Refactor: simplify")
    ed.replace(PRICING, "TAX_RATE = 0.2", "TAX_RATE = 0.3")
    calls = len(module_api.message_requests)
    result = await ed.run(action)
    assert (
        result["applied"] is False and "changed since the actions were listed" in result["reason"]
    )
    assert len(module_api.message_requests) == calls


async def test_the_editor_declining_the_edit_is_reported(ed: Editor, module_api: FakeAPI) -> None:
    module_api.push(Reply(text=edits((PRICING, "MAX_DISCOUNT = 0.5", "MAX_DISCOUNT = 0.1"))))
    uri = ed.open(PRICING)
    ed.accept = False
    result = await ed.run(pick(await ed.actions(PRICING, 29, 32), "Refactor: add types"))
    assert result["applied"] is False and "user declined" in result["reason"]
    assert len(ed.edits) == 1 and "MAX_DISCOUNT = 0.5\n" in ed.texts[uri]
    assert any("did not apply the edit: user declined" in m for m in ed.shown_messages())


async def test_cancelling_the_progress_closes_the_stream_and_logs_the_cost(
    ed: Editor, module_api: FakeAPI
) -> None:
    module_api.push(Reply(text="word " * 300, thinking="step " * 100, chunks=60, delay=0.05))
    ed.open(PRICING)
    action = pick(await ed.actions(PRICING, 29, 32, only=["source"]), "Explain · quick")
    before = set(run_tokens(ed))
    running = asyncio.create_task(ed.run(action))

    def streaming() -> Any:
        new = set(run_tokens(ed)) - before
        return new and any(
            isinstance(v, types.WorkDoneProgressReport) for v in progress_of(ed, next(iter(new)))
        )

    await ed.wait_for(streaming)
    (token,) = set(run_tokens(ed)) - before
    ed.client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    result = await running
    assert result["cancelled"] is True and result["applied"] is False
    assert module_api.wait_for_disconnect(timeout=3.0)
    line = ed.logs()[-1]
    assert "explain · cancelled · quick" in line and "$" in line
    assert isinstance(progress_of(ed, token)[-1], types.WorkDoneProgressEnd)
    # what arrived is kept and shown, ending with the line saying it was cut
    assert any(d.uri == result["document"] for d in ed.client.shown_documents)
    doc = Path(unquote(urlparse(result["document"]).path)).read_text(encoding="utf-8")
    assert doc.rstrip().splitlines()[-1].startswith("*(cut) cancelled after ")


async def test_cancel_request_stops_the_call(ed: Editor, module_api: FakeAPI) -> None:
    module_api.push(Reply(text="word " * 300, chunks=60, delay=0.05))
    ed.open(PRICING)
    action = pick(await ed.actions(PRICING, 35, 36, only=["source"]), "Explain")
    assert action.command is not None
    calls = len(module_api.message_requests)
    future = ed.client.protocol.send_request(
        types.WORKSPACE_EXECUTE_COMMAND,
        types.ExecuteCommandParams(
            command=action.command.command, arguments=action.command.arguments
        ),
        msg_id="run-to-cancel",
    )
    await ed.wait_for(lambda: len(module_api.message_requests) > calls)
    await asyncio.sleep(0.2)
    ed.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="run-to-cancel"))
    with pytest.raises(JsonRpcException, match="cancel"):
        await asyncio.wait_for(asyncio.wrap_future(future), 10)
    assert module_api.wait_for_disconnect(timeout=3.0)
    await ed.wait_for(lambda: "explain · cancelled" in ed.logs()[-1])


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (Reply.error(429, retry_after=7), "rate limited by the API; retry in 7 s"),
        (Reply.error(401), "API key was rejected"),
        (Reply(text="x" * 400, chunks=10, disconnect_after=5), "dropped mid-answer"),
        (Reply.error(529), "overloaded"),
    ],
)
async def test_api_faults_reach_the_user_with_the_fix(
    ed: Editor, module_api: FakeAPI, reply: Reply, words: str
) -> None:
    module_api.push(reply)
    ed.open(PRICING)
    result = await ed.run(pick(await ed.actions(PRICING, 35, 36, only=["source"]), "Explain"))
    assert result["applied"] is False and words in result["reason"]
    errors = ed.shown_messages(types.MessageType.Error)
    assert errors and words in errors[-1]
    assert " · error (" in ed.logs()[-1]


async def test_usage_totals(ed: Editor, module_api: FakeAPI) -> None:
    async def usage() -> Any:
        return await ed.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="scopewise.usage")
        )

    before = await usage()
    module_api.push(Reply.error(500), Reply(text="fine"))
    ed.open(PRICING)
    action = pick(await ed.actions(PRICING, 35, 36, only=["source"]), "Explain")
    await ed.run(action)  # fails, and still counts
    await ed.run(action)
    after = await usage()
    assert after["session"]["calls"] == before["session"]["calls"] + 2
    assert after["session"]["usd"] > before["session"]["usd"]
    assert after["today"]["usd"] >= after["session"]["usd"] > 0
    assert after["allTime"]["calls"] >= after["session"]["calls"]
    assert any("this session $" in m for m in ed.shown_messages(types.MessageType.Info))


async def test_bad_commands_get_an_error_and_the_server_lives_on(ed: Editor) -> None:
    for args in ([], [{"action": "explode"}], ["not an object"], [{"action": "explain"}]):
        with pytest.raises(JsonRpcException, match=r"Invalid Params|scopewise\.run"):
            await ed.client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="scopewise.run", arguments=args)
            )
    with pytest.raises(JsonRpcException):
        await ed.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="scopewise.nope")
        )
    ed.open(PRICING)
    assert await ed.actions(PRICING, 29, 32)


async def test_plain_edits_in_utf16_without_annotations_or_show_document(
    tmp_path: Path, poly: Path, module_api: FakeAPI
) -> None:
    """A plainer editor: UTF-16 positions, no change annotations, no showDocument."""
    root = poly
    caps = capabilities(annotations=False, show_document=False)
    ed = await start_editor(root, tmp_path / "home", api=module_api, caps=caps)
    try:
        assert ed.encoding == "utf-16"
        uri = ed.open(PRICING)
        # astral characters before the edit on the same line: UTF-16 columns differ
        ed.replace(PRICING, "MAX_DISCOUNT = 0.5", 'MAX_DISCOUNT = 0.5; TAG = "💶💶"; LIMIT = 1')
        module_api.push(Reply(text=edits((PRICING, "LIMIT = 1", "LIMIT = 2  # ☕"))))
        result = await ed.run(pick(await ed.actions(PRICING, 8, 8), "Refactor: simplify"))
        assert result["applied"] is True
        edit = ed.edits[-1].edit
        assert edit.change_annotations is None
        (change,) = edit.document_changes or []
        assert isinstance(change, types.TextDocumentEdit)
        (text_edit,) = change.edits
        assert type(text_edit) is types.TextEdit
        # only what changes is replaced: "1" after "LIMIT = "
        column = len('MAX_DISCOUNT = 0.5; TAG = "💶💶"; LIMIT = ') + 2
        assert text_edit.range.start.character == column
        assert 'MAX_DISCOUNT = 0.5; TAG = "💶💶"; LIMIT = 2  # ☕\n' in ed.texts[uri]

        module_api.push(Reply(text="Short."))
        result = await ed.run(pick(await ed.actions(PRICING, 35, 36), "Explain"))
        assert result["shown"] is False and ed.client.shown_documents == []
        assert any("the explanation is in " in m for m in ed.shown_messages())
        assert Path(unquote(urlparse(result["document"]).path)).is_file()
    finally:
        await stop_editor(ed)
