"""Scope analysis and the context engine on the fixture workspace."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scopewise.analysis import tokens
from scopewise.analysis.context import _Packer
from scopewise.analysis.engine import Engine, EngineError


@pytest.fixture
def engine(poly: Path) -> Engine:
    e = Engine(poly, use_cache=False)
    e.index(workers=1)
    return e


def lines_of(text: str, needle: str) -> int:
    """1-based line of the first line containing needle."""
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(needle)


def test_scope_of_a_widely_used_public_function(engine: Engine, poly: Path) -> None:
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


def test_scope_of_a_private_unused_helper_is_small(engine: Engine, poly: Path) -> None:
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


def test_context_has_bodies_skeletons_callers_and_tests(engine: Engine, poly: Path) -> None:
    src = (poly / "shop/pricing.py").read_text()
    a = lines_of(src, "def apply_discount")
    ctx = engine.context("shop/pricing.py", a, a + 3, 2000)
    text = ctx.render()
    kinds = {(s.kind, s.symbol) for s in ctx.snippets}
    assert ("body", "clamp") in kinds  # a small function it calls: its body
    assert ("skeleton", "Price") in kinds  # a class it uses: its skeleton
    assert ("body", "MAX_DISCOUNT") in kinds
    assert ("caller", "Cart.total") in kinds or ("caller", "VipCart.total") in kinds
    assert any(k == "test" for k, _ in kinds)
    assert "return max(low, min(high, value))" in text  # clamp's body
    assert "def with_tax(self) -> Price:" in text  # method signature in the skeleton
    assert "round(self.cents" not in text  # but not the method body
    for s in ctx.snippets:
        assert s.reason, s


def test_a_caller_file_gone_from_disk_before_the_index_knows(engine: Engine, poly: Path) -> None:
    """The index still lists a file that was just deleted (or a closed unsaved buffer) when
    a code action comes: the context leaves it out instead of failing the whole request."""
    src = (poly / "shop/pricing.py").read_text()
    a = lines_of(src, "def apply_discount")
    before = engine.context("shop/pricing.py", a, a + 3, 4000)
    assert any(s.path == "shop/cart.py" for s in before.snippets)
    (poly / "shop/cart.py").unlink()  # no refresh: the index has not heard yet
    ctx = engine.context("shop/pricing.py", a, a + 3, 4000)
    assert not any(s.path == "shop/cart.py" for s in ctx.snippets)
    assert any(s.kind == "test" for s in ctx.snippets)  # the rest is still there
    assert "class Cart" not in ctx.render()


def test_self_attribute_resolves_through_the_class_and_bases(engine: Engine, poly: Path) -> None:
    src = (poly / "shop/cart.py").read_text()
    a = lines_of(src, "class VipCart")
    ctx = engine.context("shop/cart.py", a + 1, a + 3, 2000)
    symbols = {s.symbol for s in ctx.snippets}
    assert "Cart" in symbols or "Cart.total" in symbols  # super().total() / the base class
    a = lines_of(src, "    def total")
    ctx = engine.context("shop/cart.py", a, a + 2, 2000)
    symbols = {s.symbol for s in ctx.snippets}
    assert "Cart.__init__.items" in symbols and "Cart.__init__.discount" in symbols


def test_context_across_languages(engine: Engine, poly: Path) -> None:
    ctx = engine.context("web/api.ts", 22, 24, 1500)  # welcome() calls greet from util.js
    assert any(s.path == "web/util.js" and s.symbol == "greet" for s in ctx.snippets)
    ctx = engine.context("c/stack.c", 11, 14, 1500)  # stack_pop uses clamp_top
    assert any(s.symbol == "clamp_top" for s in ctx.snippets)


def test_packing_never_exceeds_the_budget(engine: Engine, poly: Path) -> None:
    rng = random.Random(3)
    files = sorted(engine.workspace.files)
    for _ in range(60):
        path = rng.choice(files)
        n = len((poly / path).read_text().splitlines())
        a = rng.randint(1, n)
        b = rng.randint(a, n)
        budget = rng.choice([64, 100, 200, 400, 1000, 4000])
        ctx = engine.context(path, a, b, budget)
        rendered = ctx.render()
        assert ctx.tokens <= budget, (path, a, b, budget)
        assert tokens.estimate(rendered) <= budget, (path, a, b, budget)


def test_tight_budget_keeps_signatures_and_says_what_was_dropped(
    engine: Engine, poly: Path
) -> None:
    src = (poly / "shop/cart.py").read_text()
    a = lines_of(src, "def checkout")
    roomy = engine.context("shop/cart.py", a, a + 3, 4000)
    budget = roomy.tokens // 2
    tight = engine.context("shop/cart.py", a, a + 3, budget)
    assert tight.tokens <= budget < roomy.tokens
    assert tight.dropped, "a tight budget must say what it left out"
    assert all(d.reason for d in tight.dropped)


def test_selection_larger_than_budget_is_cut_with_a_note(engine: Engine) -> None:
    ctx = engine.context("shop/pricing.py", 1, 36, 64)
    assert ctx.tokens <= 64
    assert any(d.symbol == "(selection)" for d in ctx.dropped)


def test_secrets_are_redacted_and_noted(engine: Engine, poly: Path) -> None:
    key = "sk-ant-api03-" + "A" * 40
    (poly / "shop" / "config.py").write_text(
        f'API_KEY = "{key}"\npassword = "hunter2hunter2"\n\n\n'
        "def connect():\n    return API_KEY, password\n"
    )
    engine.workspace.refresh_from_disk("shop/config.py")
    ctx = engine.context("shop/config.py", 5, 6, 1000)
    text = ctx.render()
    assert key not in text and "hunter2hunter2" not in text
    assert "[REDACTED]" in text
    assert {r.what for r in ctx.redactions} >= {"Anthropic API key", "password or secret"}


@pytest.mark.parametrize(
    ("file", "start", "end", "message"),
    [
        ("shop/missing.py", 1, 1, "no such file"),
        ("shop/pricing.py", 500, 501, "past the end"),
        ("shop/pricing.py", 0, 1, "bad range"),
    ],
)
def test_bad_requests_raise_clear_errors(
    engine: Engine, file: str, start: int, end: int, message: str
) -> None:
    with pytest.raises(EngineError, match=message):
        engine.context(file, start, end, 1000)


def test_unsupported_and_secret_files(engine: Engine, poly: Path) -> None:
    (poly / "notes.txt").write_text("hello\n")
    with pytest.raises(EngineError, match="unsupported language"):
        engine.scope("notes.txt", 1, 1)
    (poly / ".env").write_text("KEY=1\n")
    with pytest.raises(EngineError, match="secrets file"):
        engine.scope(".env", 1, 1)


@given(
    have=st.sets(st.integers(0, 60), max_size=40),
    add=st.sets(st.integers(0, 60), max_size=40),
)
def test_run_counting_shortcut_matches_a_full_recount(have: set[int], add: set[int]) -> None:
    """Packing counts the code blocks (runs of lines) an addition opens without recounting
    the file's; the block headers it pays for must be exactly those of a full recount."""

    def runs(lines: set[int]) -> int:
        return sum(1 for ln in lines if ln - 1 not in lines)

    new = add - have
    assert _Packer.new_runs(have, new) == runs(have | new) - runs(have)
