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


def test_a_package_import_finds_the_package_not_a_test_module_of_its_name(tmp_path: Path) -> None:
    """flask's examples import `flask`; its tests hold a test app's `flask.py`: the import is
    the package (src/flask/__init__.py), so the examples' calls are certain sites."""
    files = {
        ".scopewise.toml": "",
        "src/flask/__init__.py": "from .helpers import url_for as url_for\n",
        "src/flask/helpers.py": "def url_for(endpoint):\n    return '/' + endpoint\n",
        "tests/test_apps/cliapp/inner1/inner2/flask.py": "app = None\n",
        "examples/tutorial/flaskr/auth.py": "from flask import url_for\n\n\n"
        "def login():\n    return url_for('auth.login')\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    engine = Engine(tmp_path, use_cache=False)
    engine.index(workers=1)
    sites = engine.analyze("src/flask/helpers.py", 1, 2).callers
    call = [s for s in sites if s.path == "examples/tutorial/flaskr/auth.py" and s.line == 4]
    assert call and call[0].certain
