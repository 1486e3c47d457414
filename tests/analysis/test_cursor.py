"""A cursor inside a definition too long for any context: the menu is for the statement
around the cursor that fits, not the whole definition (a run would see its first lines
only; the menu read the 42,846-line function whole, a second per request)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from scopewise.analysis import cursor, tokens
from scopewise.analysis.cursor import expand_cursor
from scopewise.analysis.engine import Engine

STATEMENTS = 3_000  # ~10 estimated tokens each: ~30,000 tokens, past a 24,000 budget


def _giant(root: Path) -> list[str]:
    """giant.py: a short helper, then one function of STATEMENTS statements with an `if`
    block, a blank line and a nested function in its middle."""
    head = ["def helper(x):", "    return x", "", "", "def giant():"]
    body = [f"    v{i} = helper(v{i - 1} if {i} else 0)" for i in range(STATEMENTS)]
    middle = [
        "    if v1 > 2:",
        "        w = helper(v2)",
        "        w = w + 1",
        "",
        "    # doubles what it is given",
        "    def inner(y):",
        "        return y * 2",
    ]
    lines = head + body[: STATEMENTS // 2] + middle + body[STATEMENTS // 2 :] + ["    return v1"]
    (root / "giant.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lines


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    (tmp_path / ".scopewise.toml").write_text("", encoding="utf-8")
    _giant(tmp_path)
    engine = Engine(tmp_path, use_cache=False)
    engine.index(workers=1)
    return engine


def test_a_cursor_in_a_definition_too_long_for_the_budget_means_the_statement_there(
    engine: Engine,
) -> None:
    lines = (engine.root / "giant.py").read_text(encoding="utf-8").splitlines()
    first = lines.index("    if v1 > 2:") + 1
    whole = (5, len(lines))  # the function, without a budget: as every cursor had it
    assert expand_cursor(engine, "giant.py", first + 1) == whole
    for line in (first, first + 1, first + 2):  # the `if` block, from its header or body
        assert expand_cursor(engine, "giant.py", line, 24_000) == (first, first + 2)
    assert expand_cursor(engine, "giant.py", first + 3, 24_000) == (first + 3,) * 2  # blank
    statement = lines.index("    v7 = helper(v6 if 7 else 0)") + 1
    assert expand_cursor(engine, "giant.py", statement, 24_000) == (statement, statement)
    # a comment on a nested function, and its body: that function, short enough as it is
    assert expand_cursor(engine, "giant.py", first + 4, 24_000) == (first + 5, first + 6)
    assert expand_cursor(engine, "giant.py", first + 6, 24_000) == (first + 5, first + 6)
    assert expand_cursor(engine, "giant.py", 2, 24_000) == (1, 2)  # a short function
    # a budget the whole function fits: the function
    assert expand_cursor(engine, "giant.py", first + 1, 200_000) == whole


def test_a_statement_too_long_itself_leaves_the_cursor_its_line(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = (engine.root / "giant.py").read_text(encoding="utf-8").splitlines()
    first = lines.index("    if v1 > 2:") + 1
    monkeypatch.setattr(cursor, "SHORT_LINES", 0)
    # not even the line's statement fits: the line (a menu asks of no less)
    assert expand_cursor(engine, "giant.py", first + 1, 1) == (first + 1, first + 1)
    assert expand_cursor(engine, "giant.py", 2, 1) == (2, 2)  # so the short function too


def test_the_quick_bound_never_passes_the_estimate() -> None:
    """`fits` tells a definition too long from a lower bound of its cost before it prices
    it: the bound must never pass the estimate, line by line (the package's own source and
    the text tokens.py counts otherwise: runs of capitals, digits, underscores, non-ASCII,
    base64, punctuation, blanks inside a line)."""
    package = Path(cursor.__file__).resolve().parent.parent
    lines = [ln for f in sorted(package.rglob("*.py")) for ln in f.read_text().splitlines()]
    lines += [
        "ABCDEFGHIJKLMNOP",
        "aaaaaaaaaaaaaaaaaaaaaaa",
        "x = 123456789012",
        "日本語のテキスト",
        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=",
        "a_b_c__________d_e",
        "))))))))))",
        "    /*                     Negotiation Performed",
        "\tx\t\ty\u00a0z\r",
    ]
    for line in lines:
        assert not cursor._surely_over([line], 0, 0, math.ceil(tokens.line_cost(line)))
        assert cursor._surely_over([line] * 3, 0, 2, 2)  # 3 lines cost 3 at least
