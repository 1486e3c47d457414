"""Explanations shown as they are written, through the real server: a client with the
`stream` capability gets the text in batches (`scopewise/explanation`) before the answer ends;
one without sees the document shown at the first batch and growing on disk. A cancelled
explanation keeps what arrived and says it was cut, and what it cost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
import pytest_asyncio
from lspclient import Editor, capabilities, start_editor, stop_editor
from lsprotocol import types

from fakeapi import FakeAPI, Reply

pytestmark = pytest.mark.asyncio(loop_scope="module")

PRICING = "shop/pricing.py"
ANSWER = "".join(f"Step {n}: `apply_discount` clamps the rate. " for n in range(80))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def streamer(
    shared_poly: Path, module_home: Path, module_api: FakeAPI
) -> AsyncIterator[tuple[Editor, list[dict[str, Any]]]]:
    caps = capabilities()
    caps.experimental = {"scopewise": {"stream": True}}
    ed = await start_editor(shared_poly, module_home / "streamer", api=module_api, caps=caps)
    notes: list[dict[str, Any]] = []

    @ed.client.feature("scopewise/explanation")
    def explanation(params: Any) -> None:
        notes.append(_plain(params))

    yield ed, notes
    await stop_editor(ed)


def _plain(params: Any) -> dict[str, Any]:
    if isinstance(params, dict):
        return params
    return {k: getattr(params, k) for k in params._fields}


def path_of(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


async def start_explain(ed: Editor) -> asyncio.Task[Any]:
    ed.open(PRICING)
    listed = await ed.actions(PRICING, 29, 32, only=["source"])
    action = next(a for a in listed if a.title.startswith("Explain · quick"))
    return asyncio.create_task(ed.run(action))


def cancel_progress(ed: Editor) -> None:
    tokens = [t for t in ed.client.progress_reports if str(t).startswith("scopewise-run-")]
    ed.client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=tokens[-1]))


async def test_a_streaming_client_gets_the_text_in_batches_before_the_end(
    streamer: tuple[Editor, list[dict[str, Any]]], module_api: FakeAPI
) -> None:
    ed, notes = streamer
    notes.clear()
    module_api.push(Reply(text=ANSWER, chunks=80, delay=0.02))
    running = await start_explain(ed)
    await ed.wait_for(lambda: notes)
    assert not running.done()  # the text is there before the answer ends
    first = notes[0]
    assert first["delta"] and ANSWER.startswith(first["delta"]) and first["done"] is False
    assert first["tier"] == "quick" and first["cut"] is False
    result = await running
    ed.close_all()
    assert result["shown"] is True
    assert "".join(n["delta"] for n in notes) == ANSWER  # every character, once, in order
    assert 3 <= len(notes) <= 40  # batched: 80 deltas, far fewer notifications
    assert notes[-1]["done"] is True and notes[-1]["chars"] == len(ANSWER)
    assert all(n["uri"] == result["document"] and n["run"] == first["run"] for n in notes)
    tokens = [n["tokens"] for n in notes]
    assert tokens == sorted(tokens) and tokens[-1] > 0
    assert not ed.client.shown_documents  # the client shows it itself
    doc = path_of(result["document"]).read_text(encoding="utf-8")
    assert ANSWER.strip() in doc and "## Context sent" in doc  # the full document at the end
    reports = [
        v.message
        for t, values in ed.client.progress_reports.items()
        if str(t).startswith("scopewise-run-")
        for v in values
        if isinstance(v, types.WorkDoneProgressReport)
    ]
    assert any(m and m.startswith("writing explanation… quick · ~") for m in reports), reports


async def test_a_cancelled_stream_keeps_what_arrived_and_says_it_was_cut(
    streamer: tuple[Editor, list[dict[str, Any]]], module_api: FakeAPI
) -> None:
    ed, notes = streamer
    notes.clear()
    module_api.push(Reply(text=ANSWER, chunks=80, delay=0.05))
    running = await start_explain(ed)
    await ed.wait_for(lambda: len(notes) >= 2)
    cancel_progress(ed)
    result = await running
    ed.close_all()
    assert result["cancelled"] is True and result["applied"] is False
    last = notes[-1]
    assert last["done"] is True and last["cut"] is True
    assert "(cut) cancelled after" in last["delta"] and "$" in last["delta"]
    arrived = "".join(n["delta"] for n in notes[:-1])
    assert arrived and len(arrived) < len(ANSWER)
    doc = path_of(result["document"]).read_text(encoding="utf-8")
    assert arrived.strip() in doc
    assert doc.rstrip().endswith("so far*") and "(cut) cancelled after" in doc.splitlines()[-1]


async def test_without_stream_the_document_is_shown_at_once_and_grows(
    ed: Editor, module_api: FakeAPI
) -> None:
    module_api.push(Reply(text=ANSWER, chunks=80, delay=0.03))
    running = await start_explain(ed)
    await ed.wait_for(lambda: ed.client.shown_documents)
    assert not running.done()  # shown at the start, while it is written
    path = path_of(ed.client.shown_documents[0].uri)
    early = path.read_text(encoding="utf-8")
    assert early.startswith("# Explain · shop/pricing.py:29-") and "writing…" in early
    await ed.wait_for(lambda: len(path.read_text(encoding="utf-8")) > len(early) + 200)
    result = await running
    assert result["shown"] is True and result["document"] == path.as_uri()
    assert len(ed.client.shown_documents) == 1  # once, not per chunk
    doc = path.read_text(encoding="utf-8")
    assert ANSWER.strip() in doc and "## Context sent" in doc and "writing…" not in doc
    ed.client.shown_documents.clear()


async def test_without_stream_a_cancelled_explanation_is_still_shown_cut(
    ed: Editor, module_api: FakeAPI
) -> None:
    module_api.push(Reply(text=ANSWER, chunks=80, delay=0.05))
    running = await start_explain(ed)
    await ed.wait_for(lambda: ed.client.shown_documents)
    cancel_progress(ed)
    result = await running
    assert result["cancelled"] is True
    (shown,) = ed.client.shown_documents
    assert shown.uri == result["document"]
    lines = path_of(shown.uri).read_text(encoding="utf-8").rstrip().splitlines()
    assert lines[-1].startswith("*(cut) cancelled after ") and "$" in lines[-1]
    assert "Step 0: `apply_discount` clamps the rate." in "\n".join(lines)
    ed.client.shown_documents.clear()
