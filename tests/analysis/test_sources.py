"""The engine's sources: an ASCII file's lines are the lines `str.splitlines` makes (the
analysis numbers lines that way), and the recent files are kept up to a size in bytes."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from scopewise.analysis.sources import Lines, Sources
from scopewise.index.workspace import WorkspaceIndex

BREAKS = ["\n", "\r\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\t", "ab", "x = 1", ""]


@pytest.mark.parametrize("seed", range(200))
def test_lines_are_splitlines(seed: int) -> None:
    rng = random.Random(seed)
    text = "".join(rng.choice(BREAKS) for _ in range(rng.randint(0, 12)))
    lines = Lines(text.encode())
    assert list(lines) == text.splitlines()
    assert len(lines) == len(text.splitlines())
    assert [lines[i] for i in range(len(lines))] == text.splitlines()
    assert lines[1:4] == text.splitlines()[1:4]


def test_the_cache_holds_recent_files_up_to_its_bytes(tmp_path: Path) -> None:
    for i in range(6):
        (tmp_path / f"m{i}.py").write_text(f"def f{i}():\n    return {i}\n" + "#" * 1000 + "\n")
    ws = WorkspaceIndex(tmp_path, use_cache=False)
    ws.build()
    sources = Sources(ws)
    sources.max_bytes = 3000  # room for two of these files
    got = [sources.get(f"m{i}.py") for i in range(6)]
    assert got[5].lines[0] == "def f5():" and isinstance(got[5].lines, Lines)
    assert sources.get("m5.py") is got[5] and sources.get("m4.py") is got[4]  # kept
    assert sources.get("m0.py") is not got[0]  # read again: past the cache's bytes
    # a file bigger than the whole cache is still kept while it is the last one read
    (tmp_path / "big.py").write_text("x = 1\n" * 1000)
    big = sources.get("big.py")
    assert sources.get("big.py") is big
