"""A code action asked right after keystrokes (an editor asks on every cursor move, while
the user types): it sees the text as typed, whichever way the index took it in (a splice
of the edited statements on the request path)."""

from __future__ import annotations

import pytest
from lspclient import Editor

pytestmark = pytest.mark.asyncio(loop_scope="module")

PRICING = "shop/pricing.py"
CALL = "    rate = clamp(rate, 0.0, MAX_DISCOUNT)"


async def test_an_action_right_after_keystrokes_sees_them(ed: Editor) -> None:
    ed.open(PRICING)
    cursor = await ed.actions(PRICING, 31, cursor=True, only=["source"])
    assert (cursor[0].data["startLine"], cursor[0].data["endLine"]) == (29, 32)
    ed.replace(PRICING, CALL, CALL + "\n    rate = rate * 1")  # a line more in the body
    for key in "0.5":  # and keystrokes on it, each followed by an action
        ed.replace(PRICING, "    rate = rate * 1", f"    rate = rate * 1{key}")
        listed = await ed.actions(PRICING, 31, cursor=True, only=["source"])
        assert (listed[0].data["startLine"], listed[0].data["endLine"]) == (29, 33)
        assert listed[0].data["versions"] == {ed.uri(PRICING): ed.versions[ed.uri(PRICING)]}
        ed.replace(PRICING, f"    rate = rate * 1{key}", "    rate = rate * 1")
    ed.replace(PRICING, "def clamp(", "def clamped(")  # a rename, then its callers follow
    ed.replace(PRICING, "rate = clamp(rate", "rate = clamped(rate")
    renamed = await ed.actions(PRICING, 25, cursor=True, only=["source"])
    assert (renamed[0].data["startLine"], renamed[0].data["endLine"]) == (25, 26)
    ed.replace(PRICING, "def clamped(value: float, low: float, high: float) -> float:", "")
    gone = await ed.actions(PRICING, 25, cursor=True, only=["source"])  # an empty line now
    assert not gone or (gone[0].data["startLine"], gone[0].data["endLine"]) != (25, 26)
