"""A client that offers no file watching (Neovim on Linux): the server watches the workspace
itself (watchfiles, else polling), so a change made outside the editor reaches the index
without a reindex — here, 3 new callers of a function change its rename's reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from lspclient import capabilities, start_editor, stop_editor
from lsprotocol import types

pytestmark = pytest.mark.asyncio(loop_scope="function")

PRICING = "shop/pricing.py"
CALLERS = """from shop.pricing import apply_discount, Price


def one(p: Price) -> Price:
    return apply_discount(p, 0.1)


def two(p: Price) -> Price:
    return apply_discount(p, 0.2)


def three(p: Price) -> Price:
    return apply_discount(p, 0.3)
"""


def uses(listed: list[types.CodeAction]) -> str:
    renames = [a for a in listed if a.data["intent"] == "improve names" and not a.data["tier"]]
    return str(renames[0].data["reason"]) if renames else ""


@pytest.mark.parametrize("how", ["watchfiles", "polling"])
async def test_an_external_change_is_noticed_without_reindex(
    tmp_path: Path, poly: Path, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if how == "polling":
        monkeypatch.setenv("SCOPEWISE_WATCH", "polling")
    ed = await start_editor(poly, tmp_path / "home", caps=capabilities(watch=False))
    try:
        assert not ed.registrations  # nothing asked of the client
        await ed.wait_for(lambda: any(f"the server itself ({how})" in m for m in ed.logs()))

        async def menu(e: object) -> list[types.CodeAction]:
            return await ed.actions(PRICING, 29, 32, only=["refactor"])

        await ed.wait_for_menu(lambda m: "interface used at 7 sites" in uses(m), menu)
        (poly / "shop" / "callers.py").write_text(CALLERS, encoding="utf-8")  # not opened
        listed = await ed.wait_for_menu(lambda m: "at 7 sites" not in uses(m), menu, 20)
        assert "interface used at 11 sites in 4 files" in uses(listed)  # 3 calls, an import
    finally:
        await stop_editor(ed)
