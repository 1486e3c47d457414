"""The context of a range: what goes in, in which form, under the budget."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from scopewise.analysis import tokens
from scopewise.analysis.engine import Engine

LinesOf = Callable[[str, str], int]


def test_context_has_bodies_skeletons_callers_and_tests(
    engine: Engine, poly: Path, lines_of: LinesOf
) -> None:
    src = (poly / "shop/pricing.py").read_text()
    a = lines_of(src, "def apply_discount")
    ctx = engine.context("shop/pricing.py", a, a + 3, 2000)
    text = ctx.render()
    kinds = {(s.kind, s.symbol) for s in ctx.snippets}
    assert ("body", "clamp") in kinds  # a small function it calls: its body
    assert ("skeleton", "Price") in kinds  # a class it uses: its skeleton
    assert ("body", "MAX_DISCOUNT") in kinds
    assert {("body", "Cart.total"), ("body", "VipCart.total")} & kinds  # callers: bodies
    assert any(k == "test" for k, _ in kinds)
    assert "return max(low, min(high, value))" in text  # clamp's body
    assert "def with_tax(self) -> Price:" in text  # method signature in the skeleton
    assert "round(self.cents" not in text  # but not the method body
    for s in ctx.snippets:
        assert s.reason, s


def test_a_caller_file_gone_from_disk_before_the_index_knows(
    engine: Engine, poly: Path, lines_of: LinesOf
) -> None:
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
    engine: Engine, poly: Path, lines_of: LinesOf
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
