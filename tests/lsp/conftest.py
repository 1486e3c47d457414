"""Fixtures for the language-server tests (the editor itself is in lspclient.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from lspclient import Editor, copy_poly, start_editor, stop_editor

from fakeapi import FakeAPI


@pytest.fixture(scope="module")
def module_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lsp-home")


@pytest.fixture(scope="module")
def module_api() -> Iterator[FakeAPI]:
    with FakeAPI() as api:
        yield api


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_poly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_poly(tmp_path_factory.mktemp("ws") / "poly")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def editor(
    shared_poly: Path, module_home: Path, module_api: FakeAPI
) -> AsyncIterator[Editor]:
    """One server for a module's tests (each test closes what it opened)."""
    ed = await start_editor(shared_poly, module_home, api=module_api)
    yield ed
    await stop_editor(ed)


@pytest.fixture
def ed(editor: Editor, module_api: FakeAPI) -> Iterator[Editor]:
    """The module's editor, left as found: documents closed, no replies queued."""
    yield editor
    editor.close_all()
    editor.client.messages.clear()
    assert module_api.pending() == 0, "a scripted reply was not used"
