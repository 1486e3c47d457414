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
