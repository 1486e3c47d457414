"""The engine's sources: the recent files are kept up to a size in bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from scopewise.analysis import tokens
from scopewise.analysis.sources import BYTE_COSTS_MIN, ByteCosts, LineCosts, Sources, plain
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


TEXTS = [
    b"",
    b"\n",
    b"a\nb",
    b"a\nb\n",
    b"a\n\n\nb\n\n",
    b"def f(x):\r\n    return x\r\n\r\ny = 1",
    "d\u00e9f \u00e9t\u00e9(x):\n    return '\u2014 \u00e9'\n".encode(),
    b"ok\n\xff\xfe broken \xe2\x80\nend \xc3",
    b"\n".join(b"line %d " % i + b"x = y.z(w) " * (i % 7) for i in range(300)),
]


def test_byte_costs_are_the_split_lines_costs() -> None:
    for data in TEXTS:
        crlf = plain(data)
        assert crlf is not None, data
        split = LineCosts(data.decode("utf-8", "replace").splitlines())
        n = len(split)
        for asked in ([n - 1, 0, n, -1, 5, n + 3], list(range(n + 2)), [*range(n, -2, -1)]):
            costs = ByteCosts(data, crlf)  # fresh: each order of asking finds its own way
            assert costs.total(asked, 2.5) == split.total(asked, 2.5)
            assert costs.total(set(asked)) == split.total(set(asked))
        probe = [n + 1, 0, -1, n - 1, n, 2]
        assert ByteCosts(data, crlf).within(probe) == split.within(probe)
        costs = ByteCosts(data, crlf)
        assert len(costs) == n and costs[0:n] == split[0:n]
        if n:
            assert costs[-1] == split[-1] and costs[n // 2] == split[n // 2]
            with pytest.raises(IndexError):
                costs[n]
        assert costs.known() == split.known()


def test_other_line_endings_are_split_whole() -> None:
    for data in (b"a\rb\n", b"a\x0cb", b"a\x1db", "a\u2028b".encode(), "a\x85b".encode()):
        assert plain(data) is None
        assert len(data.decode().splitlines()) == 2
    # a continuation byte alone, or the same bytes inside another letter, is not a break
    assert plain("\u00e9\u00a9\u2026".encode()) is False


def test_a_big_file_priced_is_not_split(tmp_path: Path) -> None:
    text = "".join(f"def f{i}(a, b):\n    return a + b * {i}\n" for i in range(4000))
    assert len(text) >= BYTE_COSTS_MIN
    (tmp_path / "big.py").write_text(text)
    ws = WorkspaceIndex(tmp_path, use_cache=False)
    ws.build()
    sources = Sources(ws)
    costs = sources.line_costs("big.py")
    lines = text.splitlines()
    asked = {6001, 7, 7999}
    assert costs.total(asked) == sum(tokens.line_cost(lines[i]) for i in asked)
    src = sources.get("big.py")
    assert src._lines is None  # priced from its bytes, the text never split whole
    assert src.lines == lines and src.line_costs() is costs
    (tmp_path / "small.py").write_text("x = 1\n" * 100)  # split: cheaper than found
    small = sources.line_costs("small.py")
    assert type(small) is LineCosts and sources.get("small.py")._lines is not None
