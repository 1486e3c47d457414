"""Scope analysis: how far a change to a range reaches."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from scopewise.analysis.engine import Engine

LinesOf = Callable[[str, str], int]


def test_scope_of_a_widely_used_public_function(
    engine: Engine, poly: Path, lines_of: LinesOf
) -> None:
    src = (poly / "shop/pricing.py").read_text()
    a = lines_of(src, "def apply_discount")
    scope = engine.scope("shop/pricing.py", a, a + 3)
    assert [t.qualified for t in scope.targets] == ["apply_discount"]
    assert scope.public
    # used in cart.py (twice, plus the import), the test file and the package __init__
    assert scope.fan_in_files >= 3
    assert scope.tests == ["tests/test_pricing.py"]
    assert scope.fan_out >= 3  # clamp, Price, MAX_DISCOUNT
    assert any("public API" in r for r in scope.reasons)
    assert any("references in" in r for r in scope.reasons)


def test_scope_of_a_private_unused_helper_is_small(
    engine: Engine, poly: Path, lines_of: LinesOf
) -> None:
    src = (poly / "shop/pricing.py").read_text()
    a = lines_of(src, "def _helper")
    small = engine.scope("shop/pricing.py", a, a + 1)
    wide_a = lines_of(src, "def apply_discount")
    wide = engine.scope("shop/pricing.py", wide_a, wide_a + 3)
    assert not small.public and small.fan_in == 0
    assert small.score < wide.score / 2
    assert "0 callers outside the file" in small.reasons


def test_scope_counts_syntax_errors(engine: Engine, poly: Path) -> None:
    path = poly / "shop" / "broken.py"
    path.write_text("def bad(:\n    return 1\n")
    scope = engine.scope("shop/broken.py", 1, 2)
    assert scope.syntax_errors >= 1
    assert any("syntax error" in r for r in scope.reasons)


def test_a_range_scored_again_with_diagnostics_is_the_one_analysed_with_them(
    engine: Engine, poly: Path, lines_of: LinesOf
) -> None:
    """A menu's Fix entry takes the range's analysis scored again with the editor's
    diagnostics (`rescored`): the same figures, reasons and score as analysing the range with
    them, the analysis' own notes (an oversize file's) kept last."""
    from dataclasses import replace

    from scopewise.analysis.scope import rescored

    src = (poly / "shop/pricing.py").read_text()
    a = lines_of(src, "def apply_discount")
    plain = engine.analyze("shop/pricing.py", a, a + 3)
    direct = engine.analyze("shop/pricing.py", a, a + 3, diagnostics=2).scope
    again = rescored(plain, 2)
    assert again.scope.to_dict() == direct.to_dict() and "2 diagnostics" in again.scope.reasons
    assert again.uses is plain.uses and again.memo is plain.memo  # nothing worked out twice
    noted = rescored(replace(plain, notes=("no workspace context: a note",)), 1).scope
    assert noted.reasons[-1] == "no workspace context: a note" and "1 diagnostic" in noted.reasons


# one function per language: its decisions written out, each one counted once (a construct's
# node and its keyword are one decision; a Go `switch` and its `case`s are seen by keyword)
DECISIONS = {
    "a.py": (
        "def f(x, ys):\n"
        "    if x:\n"  # 1
        "        return 1\n"
        "    elif x > 2 and x < 4:\n"  # 2 (elif), 3 (and)
        "        pass\n"
        "    for y in ys:\n"  # 4
        "        while y:\n"  # 5
        "            y -= 1\n"
        "    with open(x) as h:\n"  # 6
        "        pass\n"
        "    try:\n"  # 7
        "        g = lambda: 1\n"  # 8
        "    except ValueError:\n"  # 9
        "        pass\n"
        "    z = [y for y in ys if y]\n"  # 10 (its for), 11 (its if)
        "    return 2 if x else 3\n",  # 12
        12,
    ),
    "a.go": (
        "package a\n\nfunc f(x int) int {\n"
        "\tif x > 1 {\n\t\treturn 1\n\t}\n"  # 1
        "\tswitch x {\n\tcase 1:\n\t\treturn 2\n\tcase 2:\n\t\treturn 3\n\t}\n"  # 2, 3, 4
        "\tfor i := 0; i < x; i++ {\n\t}\n"  # 5
        "\treturn 0\n}\n",
        5,
    ),
    "a.js": (
        "function f(x) {\n"
        "  if (x) { return 1; }\n"  # 1
        "  switch (x) { case 1: return 2; case 2: return 3; }\n"  # 2, 3, 4
        "  try { g(); } catch (e) {}\n"  # 5, 6
        "  const h = () => x ? 1 : 2;\n"  # 7, 8
        "  for (const k of x) {}\n"  # 9
        "}\n",
        9,
    ),
    "a.rb": (
        "def f(x)\n  if x\n    1\n  end\n"  # 1
        "  case x\n  when 1 then 2\n  when 2 then 3\n  end\n"  # 2, 3, 4
        "  while x do\n    x = nil\n  end\nend\n",  # 5
        5,
    ),
    "a.rs": (
        "fn f(x: i32) -> i32 {\n"
        "    if x > 1 { return 1; }\n"  # 1
        "    match x { 1 => 2, _ => 3 };\n"  # 2, 3, 4
        "    for i in 0..x {}\n"  # 5
        "    loop { break; }\n"  # 6
        "    0\n}\n",
        6,
    ),
    "A.java": (
        "class A {\n  int f(int x) {\n"
        "    if (x > 1) { return 1; }\n"  # 1
        "    switch (x) { case 1: return 2; default: return 3; }\n"  # 2, 3
        "    for (int i : xs) {}\n"  # 4
        "    try { g(); } catch (Exception e) {}\n"  # 5, 6
        "    return 0;\n  }\n}\n",
        6,
    ),
}


def test_each_decision_is_counted_once_in_every_language(tmp_path: Path) -> None:
    """The reasons say "8 lines of code, 3 branches" for a function with three `if`s: a
    construct's node and its keyword token (`if_statement` and `if`) are one decision, as
    are a `for` loop and its clause, a comprehension and its `for`."""
    for name, (text, _) in DECISIONS.items():
        (tmp_path / name).write_text(text)
    engine = Engine(tmp_path)
    engine.index(workers=1)
    counted = {
        name: engine.scope(name, 1, text.count("\n")).branches
        for name, (text, _) in DECISIONS.items()
    }
    assert counted == {name: want for name, (_, want) in DECISIONS.items()}
