"""The engine's sources: the recent files are kept up to a size in bytes."""

from __future__ import annotations

from pathlib import Path

from scopewise.analysis.sources import Sources
from scopewise.index.workspace import WorkspaceIndex


def test_the_cache_holds_recent_files_up_to_its_bytes(tmp_path: Path) -> None:
    for i in range(6):
        (tmp_path / f"m{i}.py").write_text(f"def f{i}():\n    return {i}\n" + "#" * 1000 + "\n")
    ws = WorkspaceIndex(tmp_path, use_cache=False)
    ws.build()
    sources = Sources(ws)
    sources.max_bytes = 3000  # room for two of these files
    got = [sources.get(f"m{i}.py") for i in range(6)]
    assert got[5].lines[0] == "def f5():"
    assert sources.get("m5.py") is got[5] and sources.get("m4.py") is got[4]  # kept
    assert sources.get("m0.py") is not got[0]  # read again: past the cache's bytes
    # a file bigger than the whole cache is still kept while it is the last one read
    (tmp_path / "big.py").write_text("x = 1\n" * 1000)
    big = sources.get("big.py")
    assert sources.get("big.py") is big
