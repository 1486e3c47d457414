"""A 50 MB buffer: followed, never parsed; the server keeps answering for other files, and
for the buffer itself on its own text."""

from __future__ import annotations

import time

import pytest
from lspclient import Editor

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_a_50_mb_buffer_does_not_stall_the_server(ed: Editor) -> None:
    big = "x = 1  # " + "a" * 70 + "\n"
    text = big * (50_000_000 // len(big))
    t0 = time.monotonic()
    ed.open("shop/huge.py", text)
    ed.replace("shop/huge.py", "x = 1", "y = 2")  # typing into it: followed, not parsed
    ed.open("shop/pricing.py")
    menu = await ed.actions("shop/pricing.py", 29, 32)
    assert any(a.title.startswith("Refactor") for a in menu)
    # sending 50 MB takes a few seconds; parsing and indexing it would take half a minute
    assert time.monotonic() - t0 < 12
    # over max_file_bytes: actions on its own text, and the menu says why there is no more
    t1 = time.monotonic()
    menu = await ed.actions("shop/huge.py", 1, 1)
    assert "no workspace context: file over max_file_bytes (1 MB)" in menu[0].data["reason"]
    print(f"actions on the 50 MB buffer: {time.monotonic() - t1:.2f} s")
    assert time.monotonic() - t1 < 5
    ed.close("shop/huge.py")
