"""Affected tests: the test files that use a definition an edit touches, from the index (and a
changed test file itself); filled into a run's result by `Actions.run`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fakeapi import FakeAPI, Reply
from scopewise.actions.affected import affected_line, affected_tests, changed_lines
from scopewise.actions.edits import FileChange, Replacement
from scopewise.actions.plan import ActionRequest, Actions
from scopewise.analysis.engine import Engine
from scopewise.claude.client import ClaudeClient
from scopewise.settings import Settings

TESTS = {
    # uses Cart and Price, but not Cart.total, clamp or apply_discount
    "tests/test_cart.py": (
        "from shop.cart import Cart\nfrom shop.pricing import Price\n\n\n"
        "def test_add():\n    cart = Cart()\n    cart.add(Price(100))\n"
        "    assert len(cart.items) == 1\n"
    ),
    "tests/test_vip.py": (
        "from shop.cart import VipCart\n\n\n"
        "def test_vip_total():\n    assert VipCart().total().cents == 0\n"
    ),
    "tests/test_clamp.py": (
        "from shop.pricing import clamp\n\n\ndef test_clamp():\n    assert clamp(5, 0, 1) == 1\n"
    ),
}


@pytest.fixture
def shop(poly: Path) -> Engine:
    """The fixture workspace with three more test files, indexed."""
    for rel, text in TESTS.items():
        (poly / rel).write_text(text, encoding="utf-8")
    e = Engine(poly, use_cache=False)
    e.index(workers=1)
    return e


@pytest.fixture
async def client(fake_api: FakeAPI) -> AsyncIterator[ClaudeClient]:
    c = ClaudeClient(api_key="sk-test", base_url=fake_api.base_url, max_retries=0, timeout=10)
    yield c
    await c.close()


def change(engine: Engine, path: str, old: str, new: str) -> FileChange:
    text = (engine.root / path).read_text(encoding="utf-8")
    i = text.index(old)
    return FileChange(path, text, [Replacement(i, i + len(old), new)])


def test_a_multi_file_change_affects_the_tests_of_each_definition_it_touches(
    shop: Engine,
) -> None:
    clamp = change(
        shop, "shop/pricing.py", "max(low, min(high, value))", "min(high, max(low, value))"
    )
    vip = change(shop, "shop/cart.py", "apply_discount(base, 0.1)", "apply_discount(base, 0.15)")
    assert affected_tests(shop, [clamp]) == ["tests/test_clamp.py"]
    assert affected_tests(shop, [vip]) == ["tests/test_vip.py"]
    # test_cart (Cart, Price) and test_pricing (apply_discount, Price) use nothing that changed
    assert affected_tests(shop, [clamp, vip]) == ["tests/test_clamp.py", "tests/test_vip.py"]
    add = change(shop, "shop/cart.py", "self.items.append(price)", "self.items.insert(0, price)")
    assert affected_tests(shop, [add]) == ["tests/test_cart.py"]


def test_what_an_edit_touches(shop: Engine) -> None:
    # a module-level line (an import) touches no definition: no test
    imports = change(shop, "shop/cart.py", "from __future__ import annotations\n", "")
    assert changed_lines(imports) == {2}
    assert affected_tests(shop, [imports]) == []
    # a constant touched is a definition of its own: its users' tests
    rate = change(shop, "shop/pricing.py", "MAX_DISCOUNT = 0.5", "MAX_DISCOUNT = 0.4")
    assert affected_tests(shop, [rate]) == []  # used by apply_discount only, not by a test
    # a changed test file is affected itself; a created one too
    edited = change(shop, "tests/test_cart.py", "== 1", "== 1  # one item")
    created = FileChange("tests/test_new.py", "", [Replacement(0, 0, "def test_x(): pass\n")], True)
    assert affected_tests(shop, [edited, created]) == ["tests/test_cart.py", "tests/test_new.py"]


def test_the_line_names_the_tests() -> None:
    assert affected_line(["tests/a.py"]) == "1 test uses what changed: tests/a.py"
    many = [f"tests/t{i}.py" for i in range(7)]
    assert affected_line(many).startswith("7 tests use what changed: tests/t0.py, ")
    assert affected_line(many).endswith("tests/t4.py and 2 more")
    assert affected_line([]) == "no test file uses what changed"


async def test_a_run_lists_the_tests_of_what_it_changed(
    shop: Engine, fake_api: FakeAPI, client: ClaudeClient
) -> None:
    """The model edits apply_discount and its caller VipCart.total: the result names the
    tests of both (and not test_clamp or test_cart, which use neither)."""
    answer = {
        "summary": "a gentler cap",
        "edits": [
            {
                "path": "shop/pricing.py",
                "old_text": "rate = clamp(rate, 0.0, MAX_DISCOUNT)",
                "new_text": "rate = clamp(rate, 0.0, MAX_DISCOUNT * 0.9)",
            },
            {
                "path": "shop/cart.py",
                "old_text": "apply_discount(base, 0.1)",
                "new_text": "apply_discount(base, 0.15)",
            },
        ],
    }
    fake_api.push(Reply(text=json.dumps(answer)))
    actions = Actions(shop, Settings())
    req = ActionRequest("refactor", "shop/pricing.py", 29, 32, instruction="cap lower")
    result = await actions.run(actions.plan(req), client)
    assert sorted(c.path for c in result.changes) == ["shop/cart.py", "shop/pricing.py"]
    assert result.tests == ["tests/test_pricing.py", "tests/test_vip.py"]
