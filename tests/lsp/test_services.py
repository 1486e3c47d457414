"""The lsp layer's services in-process, each with a fake host instead of a server: the run
registry's cancellation bookkeeping and client retirement, the listing cache's invalidation,
and the wire format. (The subprocess tests drive the same code through a real editor.)"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from scopewise import settings as config
from scopewise.actions.plan import Actions
from scopewise.claude.client import ClaudeClient
from scopewise.claude.ledger import Ledger, Totals
from scopewise.lsp.capabilities import ClientSupport
from scopewise.lsp.documents import OpenDocuments
from scopewise.lsp.listing import Listing, ServerEngine
from scopewise.lsp.proposals import Proposals
from scopewise.lsp.runs import RunHandle, Runs
from scopewise.lsp.wire import (
    ActionData,
    Applied,
    Cancelled,
    Refused,
    Reindexed,
    Shown,
    UsageTotals,
    to_json,
)

PRICING = "shop/pricing.py"


class FakeHost:
    """Just what `runs.Host` asks for; records what the services tell the server."""

    def __init__(self) -> None:
        self.settings = config.Settings()
        self.support = ClientSupport()
        self.docs = OpenDocuments(None)
        self.engine = None
        self.actions = None
        self.changes = 0
        self.messages: list[str] = []
        self.work_done_progress: Any = None
        self.proposals = Proposals()
        self.notified: list[tuple[str, Any]] = []

    def message(self, text: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        self.messages.append(text)

    def log(self, text: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.messages.append(text)

    def changed(self) -> None:
        self.changes += 1

    def new_token(self, what: str) -> str:
        return f"scopewise-{what}-1"

    def read_text(self, rel: str) -> str | None:
        return None

    def read_disk(self, rel: str) -> str | None:
        return None

    async def window_show_document_async(
        self, params: types.ShowDocumentParams
    ) -> types.ShowDocumentResult:
        return types.ShowDocumentResult(success=True)

    async def workspace_apply_edit_async(
        self, params: types.ApplyWorkspaceEditParams
    ) -> types.ApplyWorkspaceEditResult:
        return types.ApplyWorkspaceEditResult(applied=True)

    async def window_show_message_request_async(
        self, params: types.ShowMessageRequestParams
    ) -> types.MessageActionItem | None:
        return None

    def notify(self, method: str, params: Any) -> None:
        self.notified.append((method, params))


async def test_cancelling_a_request_stops_that_run_only() -> None:
    host = FakeHost()
    runs = Runs(host)
    first = RunHandle(asyncio.create_task(asyncio.sleep(10)), "scopewise-run-1", msg_id=1)
    second = RunHandle(asyncio.create_task(asyncio.sleep(10)), "scopewise-run-2", msg_id=2)
    runs.started(first, 1)
    runs.started(second, 2)
    assert runs.running() == 2

    runs.cancel_request(99)  # not a run: nothing happens
    runs.cancel_request(1)
    await asyncio.sleep(0)
    assert first.task.cancelled() and not second.task.done()
    assert runs.request_cancelled(1) and not runs.request_cancelled(2)
    assert not first.cancelled_by_user  # the request was cancelled, not its progress

    runs.finished(first, 1)
    assert not runs.request_cancelled(1)  # forgotten with its run
    assert runs.running() == 1 and host.changes == 1  # the ledger moved: listings are stale

    runs.cancel_progress("scopewise-run-2")
    await asyncio.sleep(0)
    assert second.cancelled_by_user and second.task.cancelled()
    runs.finished(second, 2)
    assert runs.running() == 0 and host.changes == 2
    runs.cancel_progress("scopewise-run-2")  # late: nothing left to cancel


async def test_a_client_replaced_by_new_settings_is_closed_once_no_run_uses_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closed: list[ClaudeClient] = []

    async def close(self: ClaudeClient) -> None:
        closed.append(self)

    monkeypatch.setattr(ClaudeClient, "close", close)
    host = FakeHost()
    runs = Runs(host)
    old = runs.claude()
    assert runs.claude() is old  # the same settings: the same client
    run = RunHandle(asyncio.create_task(asyncio.sleep(10)), "scopewise-run-1", msg_id=1)
    runs.started(run, 1)
    host.settings = dataclasses.replace(host.settings, timeout_s=5.0)
    new = runs.claude()
    assert new is not old
    runs.shutdown()
    runs.finished(run, 1)
    await asyncio.sleep(0.01)
    assert closed == [old]


def test_the_listing_is_reused_until_something_changes(poly: Path) -> None:
    settings = config.Settings()
    docs = OpenDocuments(poly, "utf-16")
    engine = ServerEngine(poly, settings.index, documents=docs.by_rel)
    engine.index(workers=1)
    engine.menu_s = None  # bounded in units alone: on a busy machine a menu cut short by
    # its CPU time is not kept, and this is about reuse, not time (the work ahead: test_ahead)
    actions = Actions(engine, settings, ledger=Ledger())
    listing = Listing(ClientSupport(code_action_literals=True, disabled=True))
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=(poly / PRICING).as_uri()),
        range=types.Range(start=types.Position(28, 0), end=types.Position(31, 0)),
        context=types.CodeActionContext(diagnostics=[], only=["refactor"]),
    )
    first = listing.code_actions(params, actions, engine, docs)
    assert first and len(first) == 10  # five intents, each with its sibling
    again = listing.code_actions(params, actions, engine, docs)
    assert again is not None and all(a is b for a, b in zip(first, again, strict=True))

    listing.changed()
    fresh = listing.code_actions(params, actions, engine, docs)
    assert fresh is not None and not any(a is b for a, b in zip(first, fresh, strict=True))
    assert [a.title for a in fresh] == [a.title for a in first]


def test_action_data_on_the_wire() -> None:
    raw = {
        "action": "refactor",
        "uri": "file:///w/a.py",
        "path": "a.py",
        "startLine": 3,
        "endLine": 9,
        "versions": {"file:///w/a.py": 4},
        "intent": "simplify",
        "instruction": None,
        "diagnostics": [{"line": 4, "message": "m", "severity": "warning", "source": None}],
        "tier": None,
        "overrideCap": False,
        "title": "Refactor: simplify",
        "reason": "a contained change",
        "planId": "7",
        "projectAction": None,
    }
    data = ActionData.from_json(raw)
    assert data.to_json() == raw and list(data.to_json()) == list(raw)  # keys in order
    assert ActionData.from_json({**raw, "tier": "auto"}).tier is None
    assert ActionData.from_json({**raw, "tier": "deep"}).to_json()["tier"] == "deep"
    for bad in (
        {**raw, "action": "delete"},
        {**raw, "startLine": True},
        {**raw, "startLine": "3"},
        {**raw, "endLine": 2},
        {**raw, "intent": "golf"},
        {**raw, "versions": {"file:///w/a.py": "4"}},
        {**raw, "diagnostics": [{"line": "4", "message": "m"}]},
        {k: v for k, v in raw.items() if k != "uri"},
        [raw],
    ):
        with pytest.raises(ValueError, match=r"scopewise\.run"):
            ActionData.from_json(bad)


def test_command_answers_on_the_wire() -> None:
    assert to_json(Refused(reason="no")) == {"applied": False, "reason": "no"}
    assert list(to_json(Refused(reason="x", usd=0.5, tier="quick", model="m"))) == [
        "applied",
        "reason",
        "usd",
        "tier",
        "model",
    ]
    assert to_json(Cancelled(usd=0.1)) == {"applied": False, "cancelled": True, "usd": 0.1}
    assert list(to_json(Shown(document="u", shown=True, usd=0.1, tier="deep"))) == [
        "document",
        "shown",
        "usd",
        "tier",
        "run",  # for a revise: its run id, and what a revise would cost
        "revise",
    ]
    applied = to_json(Applied(files=["a"], summary="", usd=0.1, tier="quick", model="m"))
    assert applied == {
        "applied": True,
        "files": ["a"],
        "summary": "",
        "usd": 0.1,
        "tier": "quick",
        "model": "m",
        "tests": [],  # the test files that use what changed
    }
    usage = to_json(UsageTotals(Totals(), Totals(calls=2), Totals()))
    assert list(usage) == ["session", "today", "allTime"]
    assert usage["today"] == dataclasses.asdict(Totals(calls=2))  # the ledger's own keys
    assert to_json(Reindexed(1, 2, 3, 0.5, 0)) == {
        "files": 1,
        "symbols": 2,
        "references": 3,
        "seconds": 0.5,
        "skipped": 0,
    }
