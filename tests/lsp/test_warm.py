"""The Claude client is built (the SDK imported) in the background right after initialize,
so a new user's first Explain does not wait seconds for the import before its first text."""

from __future__ import annotations

from pathlib import Path

import pytest
from lspclient import start_editor, stop_editor

from fakeapi import FakeAPI

pytestmark = pytest.mark.asyncio(loop_scope="function")


async def test_the_claude_client_is_ready_before_the_first_action(
    tmp_path: Path, poly: Path
) -> None:
    with FakeAPI() as api:
        ed = await start_editor(poly, tmp_path / "home", api=api)
        try:
            await ed.wait_for(lambda: any("Claude client ready in" in m for m in ed.logs()))
            assert api.message_requests == [], "warming calls no model"
        finally:
            await stop_editor(ed)
