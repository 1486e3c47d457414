"""Big workspaces and big files degrade visibly: the server says what `max_files` left out
(the open files' folders kept on a rebuild), and a file over `max_file_bytes` still gets
actions, its menu saying why it has no workspace context."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lspclient import TIMEOUT, copy_poly, start_editor, stop_editor
from lsprotocol import types

pytestmark = pytest.mark.asyncio(loop_scope="function")


def big_module(path: Path, size: int = 1_200_000) -> None:
    out, i = ['"""Handlers."""', ""], 0
    written = sum(len(line) + 1 for line in out)  # kept as it grows: the file's size
    while written < size:
        block = [f"def handler_{i}(request, limit=10):", "    total = 0",
                 "    for x in range(limit):", f"        total += x * {i}",
                 "    return total + len(request)", "", ""]  # fmt: skip
        out += block
        written += sum(len(line) + 1 for line in block)
        i += 1
    path.write_text("\n".join(out) + "\n")
    assert len(path.read_bytes()) >= size


async def test_the_server_says_what_max_files_left_out(tmp_path: Path) -> None:
    root = copy_poly(tmp_path / "poly")  # 15 files
    for i in range(4):
        (root / "vendor" / "lib").mkdir(parents=True, exist_ok=True)
        (root / "vendor" / "lib" / f"m{i}.py").write_text(f"def v{i}():\n    return {i}\n")
    (root / ".scopewise.toml").write_text("max_files = 15\n")
    ed = await start_editor(root, tmp_path / "home")
    try:
        warned = await ed.wait_for(lambda: ed.shown_messages(types.MessageType.Warning))
        assert "Left out 4 files past max_files (15)" in warned[0]
        assert "vendor/ (4)" in warned[0] and ".scopewiseignore" in warned[0]
        # an open file's folder is left out last: a rebuild keeps it, and says what went
        ed.open("vendor/lib/m0.py")
        ed.client.messages.clear()
        stats = await asyncio.wait_for(
            ed.client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="scopewise.reindex")
            ),
            TIMEOUT,
        )
        assert stats["files"] == 15
        warned = await ed.wait_for(lambda: ed.shown_messages(types.MessageType.Warning))
        assert "Left out 4 files past max_files (15)" in warned[0]
        assert "web/ (4)" in warned[0] and "vendor/" not in warned[0]  # its folder stays
    finally:
        await stop_editor(ed)


async def test_a_file_over_max_file_bytes_still_gets_actions(tmp_path: Path) -> None:
    root = copy_poly(tmp_path / "poly")
    big_module(root / "shop" / "handlers.py")
    ed = await start_editor(root, tmp_path / "home")
    try:
        ed.open("shop/handlers.py")
        menu = await ed.actions("shop/handlers.py", 3, 7)
        explain = next(a for a in menu if a.title.startswith("Explain"))
        assert explain.data is not None
        reason = explain.data["reason"]
        assert "no workspace context: file over max_file_bytes (1 MB)" in reason, reason
        assert any(a.title.startswith("Refactor") for a in menu)
    finally:
        await stop_editor(ed)
