"""A wide change through the real server: a rename of a function used from 13 files is
planned by the deep tier, written by quick writers and verified, its stages shown in
`$/progress`, and applied as one annotated WorkspaceEdit over every file (one undo)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from lspclient import Editor, capabilities, start_editor, stop_editor
from lsprotocol import types

from fakeapi import FakeAPI
from widemodel import NEW, OLD, Model

TARGET = "lib/textutil.py"


@pytest_asyncio.fixture
async def editor(wide: Path, tmp_path: Path) -> AsyncIterator[tuple[Editor, FakeAPI]]:
    with FakeAPI() as api:
        ed = await start_editor(wide, tmp_path / "home", api=api)
        yield ed, api
        await stop_editor(ed)


async def test_a_wide_rename_is_planned_written_verified_and_applied_as_one_edit(
    editor: tuple[Editor, FakeAPI], wide: Path
) -> None:
    ed, api = editor
    api.responder = Model()
    ed.open(TARGET)
    actions = await ed.actions(TARGET, 1, 3, only=["refactor"])
    names = [a for a in actions if a.title.startswith("Refactor: improve names")]
    assert names and "deep plan + quick write" in names[0].title, [a.title for a in actions]
    result = await ed.run(names[0])

    # one proposal over every file, asked once, its title counting them; then applied
    (question,) = ed.questions
    assert re.match(r"scopewise: Refactor: \d+ changes in 14 files \(", question.message)
    assert result["applied"] is True
    assert len(result["files"]) == 14  # the definition, 12 modules, the test
    (params,) = ed.edits  # one WorkspaceEdit: one undo
    changes = params.edit.document_changes or []
    assert len(changes) == 14
    annotations = params.edit.change_annotations or {}
    (label,) = {a.label for a in annotations.values()}
    assert label.startswith("scopewise refactor: improve names · deep plan $")
    assert " + quick write ×14 $" in label and label.endswith(" · verified")
    # every file, opened or not, no longer names the old function
    for change in changes:
        assert isinstance(change, types.TextDocumentEdit)
        uri = change.text_document.uri
        text = ed.texts.get(uri) or ed.applied_elsewhere[uri]
        assert not re.search(rf"\b{OLD}\b", text) and NEW in text, uri
    # the stages went through $/progress
    token = next(t for t in ed.client.progress_reports if str(t).startswith("scopewise-run-"))
    reports = [
        v.message
        for v in ed.client.progress_reports[token]
        if isinstance(v, types.WorkDoneProgressReport)
    ]
    assert "planning the change (deep)…" in reports
    assert "writing 14 files in 14 calls (quick)…" in reports
    assert "verifying every site…" in reports


async def test_a_wide_change_with_a_site_left_unverified_is_one_proposal_that_says_so(
    wide: Path, tmp_path: Path
) -> None:
    """A reviewing client gets the wide change as one proposal over its files; the label
    says it is incomplete, the leftovers are listed, and nothing changes until it is applied."""
    caps = capabilities()
    caps.experimental = {"scopewise": {"review": True}}
    with FakeAPI() as api:
        ed = await start_editor(wide, tmp_path / "home", api=api, caps=caps)
        try:
            api.responder = Model(skip={("app/mod3.py", 'a = norm("a2", h["a"])')}, skips=-1)
            ed.open(TARGET)
            actions = await ed.actions(TARGET, 1, 3, only=["refactor"])
            names = [a for a in actions if a.title.startswith("Refactor: improve names")]
            result = await ed.run(names[0])
            assert result["applied"] is False and ed.edits == [] and ed.questions == []
            assert len(result["files"]) >= 13
            assert "incomplete" in result["label"] and result["leftovers"]
            assert "not verified" in result["summary"]
            await ed.wait_for(lambda: ed.proposals)
            assert ed.proposals[-1]["id"] == result["id"]
        finally:
            await stop_editor(ed)
