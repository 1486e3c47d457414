"""The context of a range: what goes in, in which form, under the budget."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from test_receivers import workspace

from scopewise.analysis import packing, tokens
from scopewise.analysis.context import Context
from scopewise.analysis.engine import Engine

LinesOf = Callable[[str, str], int]


def test_context_has_bodies_skeletons_callers_and_tests(
    engine: Engine, poly: Path, lines_of: LinesOf
) -> None:
    src = (poly / "shop/pricing.py").read_text()
    a = lines_of(src, "def apply_discount")
    ctx = engine.context_for(engine.analyze("shop/pricing.py", a, a + 3), 2000, siblings=True)
    text = ctx.render()
    kinds = {(s.kind, s.symbol) for s in ctx.snippets}
    assert ("body", "clamp") in kinds  # a small function it calls: its body
    assert ("skeleton", "Price") in kinds  # a class it uses: its skeleton
    assert ("body", "MAX_DISCOUNT") in kinds
    assert {("body", "Cart.total"), ("body", "VipCart.total")} & kinds  # callers: bodies
    assert any(k == "test" for k, _ in kinds)
    assert "return max(low, min(high, value))" in text  # clamp's body
    assert "def with_tax(self) -> Price:" in text  # method signature in the skeleton
    # the skeleton holds no method body: with_tax's is there as a sibling (it reads
    # Price's fields too), and the manifest says so
    sibling = {s.reason for s in ctx.snippets if s.symbol == "Price.with_tax"}
    assert "round(self.cents" not in text or sibling == {"also uses currency, cents"}
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


# ---------------------------------------------------------------------------- the site list
def _wide_engine(wide: Path) -> Engine:
    e = Engine(wide, use_cache=False)
    e.index(workers=1)
    return e


def _site_lines(ctx: Context) -> set[tuple[str, int]]:
    """Every (path, 1-based line) the context shows, in a run or in a site list."""
    return {(b.path, ln) for b in ctx.blocks for ln in range(b.start_line, b.end_line + 1)}


def test_every_site_of_a_wide_function_is_listed_compactly(wide: Path) -> None:
    """120 calls in 60 functions of 12 files, an import in each and a test: all of them in
    the context, a line each under the line naming their function, no marker per line."""
    engine = _wide_engine(wide)
    ctx = engine.context("lib/textutil.py", 1, 3, 3500)
    assert len(ctx.sites) >= 133  # 120 calls, 12 imports, the test's import and call
    shown = _site_lines(ctx)
    assert all((s.path, s.line) in shown for s in ctx.sites)
    assert all(s.shown for s in ctx.sites)
    assert sum(s.shown == "listed" for s in ctx.sites) >= 40  # not all in bodies yet
    assert not any(d.symbol == "(sites)" for d in ctx.dropped)
    text = ctx.render()
    assert "### app/mod7.py" in text
    # grouped: a handler's def line, then its two calls, each as "line: text"
    assert re.search(r"\n(\d+): def handler\d\(req, h\):\n\d+:     a = norm\(", text)
    assert text.count("@@ sites") == len({b.path for b in ctx.blocks if b.listed})
    listed = [b for b in ctx.blocks if b.listed]
    raw = sum(tokens.estimate(b.text + "\n") for b in listed)
    overhead = tokens.estimate(packing.render(listed)) - raw
    assert overhead <= 3 * len(listed), (overhead, len(listed))  # a line number, no "@@"


def test_sites_left_out_are_counted_in_the_manifest(wide: Path) -> None:
    engine = _wide_engine(wide)
    ctx = engine.context("lib/textutil.py", 1, 3, 1200)
    assert ctx.tokens <= 1200
    shown = [s for s in ctx.sites if s.shown]
    missing = [s for s in ctx.sites if not s.shown]
    assert shown and missing
    (summary,) = [d for d in ctx.dropped if d.symbol == "(sites)"]
    files = len({s.path for s in missing})
    assert summary.reason == f"{len(missing)} more sites in {files} files, dropped: budget"
    assert summary.tokens > 0  # what listing them would take
    assert ctx.need_core > 1200
    in_files = len({s.path for s in shown})
    assert (
        ctx.site_summary == f"{len(shown)} sites in {in_files} files ({len(missing)} more dropped)"
    )


def test_a_bigger_budget_never_shows_less(wide: Path) -> None:
    """Packed at growing budgets, one range's site lines and bodies only grow."""
    engine = _wide_engine(wide)
    before_lines: set[tuple[str, int]] = set()
    before_bodies: set[tuple[str, str]] = set()
    for budget in (300, 600, 1000, 1500, 2500, 4000, 6000, 9000, 16000):
        ctx = engine.context("lib/textutil.py", 1, 3, budget)
        lines = {(s.path, s.line) for s in ctx.sites if s.shown}
        bodies = {(s.path, s.symbol) for s in ctx.snippets if s.kind == "body"}
        assert lines >= before_lines, budget
        assert bodies >= before_bodies, budget
        before_lines, before_bodies = lines, bodies
    assert len(before_lines) == len(ctx.sites)


def test_sure_sites_come_first_and_callers_bodies_before_tests(wide: Path) -> None:
    engine = _wide_engine(wide)
    ctx = engine.context("lib/textutil.py", 1, 3, 16_000)
    order = [(s.certain, s.confidence) for s in ctx.sites]
    assert order == sorted(order, reverse=True)
    change = engine.context_for(engine.analyze("lib/textutil.py", 1, 3), 3500, siblings=True)
    kinds = {(s.path.startswith("tests/"), s.kind) for s in change.snippets}
    assert (False, "body") in kinds  # some caller's body fits
    assert (True, "test") in kinds and (True, "body") not in kinds  # a test's is listed


# ---------------------------------------------------------------------------- siblings
SIB_FILES, SIB_JOBS = 12, 3  # `log` is used everywhere: 12 files of 3 jobs each


@pytest.fixture
def sibs(tmp_path: Path) -> Engine:
    """`lib/client.py`: get, post and put all call `request` (and get and post `log`); a
    function elsewhere and a test call `request` too; 36 jobs in 12 files call `log` only."""
    root = tmp_path / "sibs"
    for d in ("lib", "app", "tests"):
        (root / d).mkdir(parents=True)
        (root / d / "__init__.py").write_text("", encoding="utf-8")
    (root / ".scopewise.toml").write_text("", encoding="utf-8")
    (root / "lib" / "log.py").write_text("def log(msg):\n    print(msg)\n", encoding="utf-8")
    (root / "lib" / "client.py").write_text(
        "from lib.log import log\n\n\n"
        "def request(method, url, data=None):\n    return (method, url, data)\n\n\n"
        'def get(url):\n    log("get")\n    return request("GET", url)\n\n\n'
        'def post(url, data):\n    log("post")\n    return request("POST", url, data)\n\n\n'
        'def put(url, data):\n    return request("PUT", url, data)\n',
        encoding="utf-8",
    )
    (root / "app" / "auth.py").write_text(
        "from lib.client import request\n\n\n"
        'def login(user):\n    return request("POST", "/login", user)\n',
        encoding="utf-8",
    )
    (root / "tests" / "test_client.py").write_text(
        "from lib.client import request\n\n\n"
        'def test_request():\n    assert request("GET", "/")[0] == "GET"\n',
        encoding="utf-8",
    )
    for i in range(SIB_FILES):
        jobs = "".join(f'\n\ndef job{j}():\n    log("{i}.{j}")\n' for j in range(SIB_JOBS))
        (root / "app" / f"jobs{i}.py").write_text(f"from lib.log import log\n{jobs}", "utf-8")
    e = Engine(root, use_cache=False)
    e.index(workers=1)
    return e


def _post(engine: Engine, budget: int, siblings: bool = True) -> Context:
    """The context of `post` as a change gets it (with siblings), or as an explanation does."""
    return engine.context_for(engine.analyze("lib/client.py", 13, 15), budget, siblings)


def test_an_explanation_reads_no_siblings(sibs: Engine) -> None:
    assert _sibling_order(_post(sibs, 16_000))  # a change sees who else uses log, request
    assert not _sibling_order(_post(sibs, 16_000, siblings=False))
    assert not _sibling_order(sibs.context("lib/client.py", 13, 15, 16_000))  # the default


def _sibling_order(ctx: Context) -> list[str]:
    return [s.symbol for s in ctx.snippets if s.reason.startswith("also uses")]


def test_siblings_are_in_the_context_strongest_first(sibs: Engine) -> None:
    """post's siblings: get (request and log, same file), put (request, same file), login
    (request, elsewhere), the test of request, then the jobs that only share `log`."""
    ctx = _post(sibs, 16_000)
    order = _sibling_order(ctx)
    assert order[:4] == ["get", "put", "login", "test_request"]
    assert len(order) == 4 + SIB_FILES * SIB_JOBS  # every job: a line each
    assert "request" not in order and "post" not in order  # a use, the range itself
    text = ctx.render()
    assert 'return request("PUT", url, data)' in text  # a strong sibling: its body
    for i in range(SIB_FILES):
        assert f"### app/jobs{i}.py" in text
    assert re.search(r"\n\d+: def job0\(\):  <- also uses log", text)  # a line each, why


def test_a_tight_budget_keeps_the_strongest_siblings(sibs: Engine) -> None:
    ctx = _post(sibs, 700)
    text = ctx.render()
    assert "def get(url):" in text and "def put(url, data):" in text
    assert 'return request("PUT", url, data)' in text  # before the weakest's lines
    assert len(_sibling_order(ctx)) < 4 + SIB_FILES * SIB_JOBS  # the weakest do not fit
    dropped = [d for d in ctx.dropped if d.symbol.startswith("job")]
    assert dropped and all(d.reason == "over the budget" for d in dropped)  # and are named


def test_the_refactor_need_counts_the_siblings(sibs: Engine) -> None:
    """post has no caller: what its ripple needs is its siblings; at that budget all of
    them are shown."""
    small = _post(sibs, 500)
    assert small.need_ripple > small.need_core > 0
    assert small.need_ripple > 500
    ctx = _post(sibs, math.ceil(small.need_ripple * 1.1))
    assert len(_sibling_order(ctx)) == 4 + SIB_FILES * SIB_JOBS
    assert not [d for d in ctx.dropped if d.reason == "over the budget"]


def test_a_bigger_budget_never_shows_fewer_siblings(sibs: Engine) -> None:
    before: set[tuple[str, int]] = set()
    before_bodies: set[str] = set()
    for budget in (300, 500, 700, 1000, 1500, 2500, 4000, 8000):
        ctx = _post(sibs, budget)
        shown = _site_lines(ctx)
        bodies = {s.symbol for s in ctx.snippets if s.kind == "body"}
        assert shown >= before, budget
        assert bodies >= before_bodies, budget
        before, before_bodies = shown, bodies
    assert len(_sibling_order(ctx)) == 4 + SIB_FILES * SIB_JOBS


def _helper_and_callers() -> dict[str, str]:
    """`lib/core.py:f` uses a 14-line helper and is called by six 16-line functions."""
    helper = "def h(x):\n" + "".join(f"    x = x + {i}  # step {i}\n" for i in range(12))
    out = {
        ".scopewise.toml": "",
        "lib/util.py": helper + "    return x\n",
        "lib/core.py": "from lib.util import h\n\n\ndef f(x):\n    return h(x) * 2\n",
    }
    for k in range(6):
        body = "".join(f"    y = y + {j}  # caller {k} work {j}\n" for j in range(14))
        out[f"app/m{k}.py"] = f"from lib.core import f\n\n\ndef run{k}(y):\n{body}    return f(y)\n"
    return out


def test_an_explanation_reads_what_the_range_uses_then_the_callers_bodies(tmp_path: Path) -> None:
    engine = workspace(tmp_path, _helper_and_callers())

    def bodies(c: Context) -> set[str]:
        return {s.symbol for s in c.snippets if s.kind == "body"}

    tight = engine.context("lib/core.py", 4, 5, 700)
    assert bodies(tight) == {"h"}  # what it uses first
    roomy = engine.context("lib/core.py", 4, 5, 4000)
    assert "h" in bodies(roomy) and {f"run{k}" for k in range(6)} <= bodies(roomy)
