"""Who uses X is kept until a path moves, and a keystroke's splice (graph.repin's fast path:
the same definitions) is no move: a use typed into, or deleted from, an open buffer must still
be seen (a review finding: both tests failed before the fix)."""

from __future__ import annotations

from pathlib import Path

from scopewise.index import incremental
from scopewise.index.buffer import Document, TextChange
from scopewise.index.workspace import WorkspaceIndex


def test_a_use_typed_into_an_open_buffer_is_seen(tmp_path: Path) -> None:
    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(50))
    (tmp_path / "a.py").write_text(body)
    (tmp_path / "b.py").write_text("def g():\n    return helper()\n")
    ws = WorkspaceIndex(tmp_path, use_cache=False)
    ws.build()
    doc = Document("a.py", body, 1, "python")
    assert incremental.refresh(ws, "a.py", doc) is not None
    assert ws.files_using("helper") == ["b.py"]  # asked once: kept
    line = 4 * 20 + 1  # f20's body
    doc.apply([TextChange("    return helper(x)\n", (line, 0), (line + 1, 0))], 2)
    fi = incremental.refresh(ws, "a.py", doc)
    assert fi is not None and fi.spliced is not None and fi.spliced.same_definitions
    assert "helper" in fi.refs
    assert ws.files_using("helper") == ["a.py", "b.py"]


def test_a_use_deleted_from_an_open_buffer_is_gone(tmp_path: Path) -> None:
    body = "".join(f"def f{i}(x):\n    return helper(x) + {i}\n\n\n" for i in range(50))
    (tmp_path / "a.py").write_text(body.replace("helper(x)", "x"))
    ws = WorkspaceIndex(tmp_path, use_cache=False)
    ws.build()
    doc = Document("a.py", body, 1, "python")
    assert incremental.refresh(ws, "a.py", doc) is not None
    # one use left, in f7
    only = "".join(
        f"def f{i}(x):\n    return {'helper(x)' if i == 7 else 'x'} + {i}\n\n\n" for i in range(50)
    )
    doc.apply([TextChange(only)], 2)
    assert incremental.refresh(ws, "a.py", doc) is not None
    assert ws.files_using("helper") == ["a.py"]
    line = 4 * 7 + 1
    doc.apply([TextChange("    return x + 7\n", (line, 0), (line + 1, 0))], 3)
    fi = incremental.refresh(ws, "a.py", doc)
    assert fi is not None and fi.spliced is not None and fi.spliced.same_definitions
    assert "helper" not in fi.refs
    assert ws.files_using("helper") == []
