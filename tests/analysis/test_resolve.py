"""Name resolution: through classes and their bases, and across languages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from scopewise.analysis.engine import Engine

LinesOf = Callable[[str, str], int]


def test_self_attribute_resolves_through_the_class_and_bases(
    engine: Engine, poly: Path, lines_of: LinesOf
) -> None:
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
