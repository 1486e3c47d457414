"""The deep tier's look-ups: each tool's answer over the index, the privacy rules of a
context (excluded, ignored, secret and outside files never read; credentials redacted), the
caps, and a bad request answered as an error line, never an exception."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from test_receivers import line_of, workspace

from scopewise.analysis import lookup
from scopewise.analysis.engine import Engine
from scopewise.analysis.lookup import NOT_INDEXED, TOOLS, Lookups

KEY = "sk-ant-api03-" + "Zq7" * 12


def test_the_tools_are_described_for_the_api() -> None:
    assert set(TOOLS) == {"find_references", "read_definition", "read_lines", "search_text"}
    for description, schema in TOOLS.values():
        assert description and schema["type"] == "object"
        assert set(schema["required"]) <= set(schema["properties"])


# ---------------------------------------------------------------------- find_references
def test_find_references_lists_every_call_site_by_line(engine: Engine, poly: Path) -> None:
    a = Lookups(engine).answer("find_references", {"symbol": "apply_discount"})
    assert not a.error
    assert a.doing == "looking up the callers of apply_discount"
    lines = a.text.splitlines()
    assert lines[0] == ("uses of apply_discount (function, shop/pricing.py:29): 7 sites in 3 files")
    total = line_of(poly, "shop/cart.py", "return apply_discount(Price(cents)")
    assert f"shop/cart.py:{total}: return apply_discount(Price(cents), self.discount)" in lines
    test = line_of(poly, "tests/test_pricing.py", "0.9).cents")
    assert (
        f"tests/test_pricing.py:{test}: assert apply_discount(Price(1000), 0.9).cents == 500"
        in lines
    )
    assert a.tokens > 0


def test_find_references_puts_the_unsure_last_and_marks_them(engine: Engine, poly: Path) -> None:
    a = Lookups(engine).answer("find_references", {"symbol": "Cart.total"})
    lines = a.text.splitlines()
    assert "(1 unsure)" in lines[0]
    vip = line_of(poly, "shop/cart.py", "return cart.total().with_tax()")
    assert lines[-1].startswith(f"shop/cart.py:{vip}: ")
    assert "<- unsure" in lines[-1]
    assert all("unsure" not in line for line in lines[1:-1])
    assert any("<- overrides Cart.total" in line for line in lines)


def test_find_references_by_module_path_and_unknown_names(engine: Engine) -> None:
    lk = Lookups(engine)
    assert lk.answer("find_references", {"symbol": "shop.pricing.apply_discount"}).text == (
        lk.answer("find_references", {"symbol": "apply_discount"}).text
    )
    missing = lk.answer("find_references", {"symbol": "no_such_function"})
    assert missing.error and missing.text == (
        "no definition named 'no_such_function' in the workspace's indexed files"
    )
    wrong = lk.answer("find_references", {"symbol": "Basket.total"})
    assert wrong.error and "Cart.total" in wrong.text and "VipCart.total" in wrong.text


def test_find_references_cut_at_the_token_cap_says_how_many_more(wide: Path) -> None:
    engine = Engine(wide, use_cache=False)
    engine.index(workers=1)
    whole = Lookups(engine, max_tokens=100_000).answer("find_references", {"symbol": "norm"})
    # 120 calls and 12 imports in app/, 3 calls and an import in the test
    assert whole.text.splitlines()[0].endswith("136 sites in 13 files")
    assert len(whole.text.splitlines()) == 137
    cut = Lookups(engine, max_tokens=500).answer("find_references", {"symbol": "norm"})
    lines = cut.text.splitlines()
    listed = len(lines) - 2
    assert 5 < listed < 136
    assert lines[-1].startswith(f"{136 - listed} more sites in ")
    assert lines[-1].endswith("(cut at 500 tokens)")
    assert cut.tokens <= 500


# ---------------------------------------------------------------------- read_definition
def test_read_definition_numbered_like_the_context(engine: Engine, poly: Path) -> None:
    a = Lookups(engine).answer("read_definition", {"symbol": "pricing.clamp"})
    start = line_of(poly, "shop/pricing.py", "def clamp(")
    assert a.text == (
        "### shop/pricing.py\n"
        f"@@ {start}-{start + 1} function clamp\n"
        "def clamp(value: float, low: float, high: float) -> float:\n"
        "    return max(low, min(high, value))"
    )
    assert a.doing == "reading the definition of pricing.clamp"


def test_read_definition_of_an_ambiguous_name_shows_each(engine: Engine) -> None:
    a = Lookups(engine).answer("read_definition", {"symbol": "total"})
    assert a.text.startswith("total is ambiguous: 2 definitions, each below\n")
    assert "method Cart.total\n" in a.text and "method VipCart.total\n" in a.text
    assert a.text.count("### shop/cart.py") == 2


def test_read_definition_cut_at_the_cap_points_at_the_rest(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i} * 2 + {i}\n" for i in range(300))
    engine = workspace(tmp_path, {"big.py": "def big():\n" + body + "    return x0\n"})
    a = Lookups(engine, max_tokens=300).answer("read_definition", {"symbol": "big"})
    last = a.text.splitlines()[-1]
    assert last.startswith("… cut at 300 tokens: read_lines big.py ")
    assert last.endswith("-302 for the rest")
    assert a.tokens <= 300


# ---------------------------------------------------------------------- read_lines
def test_read_lines_numbers_the_lines(engine: Engine) -> None:
    a = Lookups(engine).answer("read_lines", {"path": "shop/cart.py", "start": 8, "end": 9})
    assert a.text == (
        "### shop/cart.py\n@@ 8-9 of 30 lines\n8: class Cart:\n9:     def __init__(self) -> None:"
    )
    assert a.doing == "reading shop/cart.py:8-9"
    past = Lookups(engine).answer("read_lines", {"path": "shop/cart.py", "start": 28, "end": 99})
    assert past.text.splitlines()[1] == "@@ 28-30 of 30 lines"


def test_read_lines_span_and_token_caps(tmp_path: Path) -> None:
    engine = workspace(tmp_path, {"long.py": "".join(f"v{i} = {i}\n" for i in range(1000))})
    lk = Lookups(engine, max_tokens=100_000)
    a = lk.answer("read_lines", {"path": "long.py", "start": 1, "end": 1000})
    lines = a.text.splitlines()
    assert lines[1] == "@@ 1-400 of 1000 lines"
    assert lines[-2] == "400: v399 = 399"
    assert lines[-1] == "… cut at 400 lines: ask for 401-1000 next"
    small = Lookups(engine, max_tokens=300).answer(
        "read_lines", {"path": "./long.py", "start": 10, "end": 20_000}
    )
    assert small.tokens <= 300
    assert small.text.splitlines()[-1].startswith("… cut at 300 tokens: ask for ")
    assert small.text.splitlines()[-1].endswith("-1000 next")


def test_bad_ranges_are_errors(engine: Engine) -> None:
    lk = Lookups(engine)
    back = lk.answer("read_lines", {"path": "shop/cart.py", "start": 5, "end": 2})
    assert back.error and back.text == "bad range 5-2 (1-based, start <= end)"
    far = lk.answer("read_lines", {"path": "shop/cart.py", "start": 31, "end": 40})
    assert far.error and far.text == "shop/cart.py: line 31 is past the end (30 lines)"


# ---------------------------------------------------------------------- search_text
def test_search_text_literal_and_regex(engine: Engine, poly: Path) -> None:
    lk = Lookups(engine)
    a = lk.answer("search_text", {"pattern": "MAX_DISCOUNT"})
    assert a.doing == "searching the workspace for 'MAX_DISCOUNT'"
    lines = a.text.splitlines()
    assert lines[0] == "3 matching lines in 1 file"
    first = line_of(poly, "shop/pricing.py", "MAX_DISCOUNT = 0.5")
    assert lines[1] == f"shop/pricing.py:{first}: MAX_DISCOUNT = 0.5"
    rx = lk.answer("search_text", {"pattern": r"def \w+\(self", "regex": True})
    assert rx.text.splitlines()[0] == "6 matching lines in 2 files"
    literal = lk.answer("search_text", {"pattern": r"def \w+\(self"})
    assert literal.text.startswith("no line matches")
    assert not literal.error


def test_search_text_caps_matches(wide: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = Engine(wide, use_cache=False)
    engine.index(workers=1)
    a = Lookups(engine, max_tokens=100_000).answer("search_text", {"pattern": "norm("})
    lines = a.text.splitlines()
    assert lines[0] == "125 matching lines in 14 files"  # the calls and the def line
    assert len(lines) == 126
    monkeypatch.setattr(lookup, "MAX_MATCHES", 50)
    capped = Lookups(engine, max_tokens=100_000).answer("search_text", {"pattern": "norm("})
    lines = capped.text.splitlines()
    assert lines[0] == "125 matching lines in 14 files" and len(lines) == 52
    assert lines[-1].startswith("75 more lines in ") and lines[-1].endswith("(cut at 50 lines)")
    tight = Lookups(engine, max_tokens=300).answer("search_text", {"pattern": "norm("})
    assert tight.tokens <= 300 and tight.text.endswith("(cut at 300 tokens)")


def test_a_catastrophic_regex_stops_at_the_time_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = workspace(tmp_path, {"a.py": "x = '" + "a" * 100 + "!'\n"})
    monkeypatch.setattr(lookup, "SEARCH_SECONDS", 0.3)
    t0 = time.monotonic()
    a = Lookups(engine).answer("search_text", {"pattern": "(a|aa)+$", "regex": True})
    assert time.monotonic() - t0 < 3
    assert not a.error and "the search stopped after 0.3 s" in a.text
    bad = Lookups(engine).answer("search_text", {"pattern": "(a", "regex": True})
    assert bad.error and bad.text.startswith("not a valid regular expression")


# ---------------------------------------------------------------------- privacy
def _private(root: Path) -> Engine:
    outside = root.parent / "outside.py"
    outside.write_text("OUTSIDE_MARKER = 1\n", encoding="utf-8")
    engine = workspace(
        root,
        {
            ".scopewise.toml": "",
            ".gitignore": "private.py\n",
            ".scopewiseignore": "vendor/\n",
            ".env": "ANTHROPIC_KEY=ENV_MARKER\n",
            "private.py": "PRIVATE_MARKER = 1\n",
            "vendor/lib.py": "VENDOR_MARKER = 1\n",
            "app.py": f'api_key = "{KEY}"\n\n\ndef call():\n    return api_key or "{KEY}"\n',
        },
    )
    os.symlink(outside, root / "link.py")
    return engine


@pytest.mark.parametrize(
    "path",
    [".env", "private.py", "vendor/lib.py", "link.py", "../outside.py", "/etc/passwd", "",
     "nope.py", "app.py/../private.py"],
)  # fmt: skip
def test_read_lines_never_reads_a_file_the_index_leaves_out(tmp_path: Path, path: str) -> None:
    engine = _private(tmp_path / "ws")
    a = Lookups(engine).answer("read_lines", {"path": path, "start": 1, "end": 5})
    assert a.error
    assert a.text.endswith(NOT_INDEXED) or a.text.startswith("'path'")
    assert "MARKER" not in a.text


def test_search_text_never_finds_in_left_out_files(tmp_path: Path) -> None:
    engine = _private(tmp_path / "ws")
    a = Lookups(engine).answer("search_text", {"pattern": "MARKER"})
    assert a.text.startswith("no line matches 'MARKER'")
    b = Lookups(engine).answer("search_text", {"pattern": "MARKER.*", "regex": True})
    assert b.text.startswith("no line matches")


def test_credentials_are_redacted_in_every_answer(tmp_path: Path) -> None:
    lk = Lookups(_private(tmp_path / "ws"))
    answers = [
        lk.answer("read_lines", {"path": "app.py", "start": 1, "end": 5}),
        lk.answer("search_text", {"pattern": "api_key"}),
        lk.answer("find_references", {"symbol": "api_key"}),
        lk.answer("read_definition", {"symbol": "api_key"}),
    ]
    for a in answers:
        assert not a.error, a.text
        assert KEY not in a.text and "[REDACTED]" in a.text
    probe = lk.answer("search_text", {"pattern": KEY[:20]})  # the key cannot be probed for
    assert probe.text.startswith("no line matches")


# ---------------------------------------------------------------------- bad requests
@pytest.mark.parametrize(
    ("name", "args", "said"),
    [
        ("grep", {"pattern": "x"}, "unknown tool 'grep'"),
        ("find_references", {}, "'symbol' must be a non-empty string"),
        ("find_references", {"symbol": 3}, "'symbol' must be a non-empty string"),
        ("read_definition", {"symbol": "a b"}, "'a b' is not a symbol name"),
        ("read_lines", {"path": "shop/cart.py", "start": "1", "end": 2}, "'start' must be"),
        ("read_lines", {"path": "shop/cart.py", "start": True, "end": 2}, "'start' must be"),
        ("read_lines", {"path": 7, "start": 1, "end": 2}, NOT_INDEXED),
        ("search_text", {"pattern": ""}, "'pattern' must be a non-empty string"),
        ("search_text", {"pattern": "x" * 500}, "'pattern' is too long"),
        ("search_text", {"pattern": "x", "regex": "yes"}, "'regex' must be true or false"),
    ],
)
def test_bad_requests_are_one_line_errors(
    engine: Engine, name: str, args: dict[str, object], said: str
) -> None:
    a = Lookups(engine).answer(name, args)
    assert a.error and said in a.text and "\n" not in a.text


def test_input_that_is_not_an_object(engine: Engine) -> None:
    a = Lookups(engine).answer("read_lines", ["shop/cart.py", 1, 2])  # type: ignore[arg-type]
    assert a.error and a.text == "the tool's input must be an object"


OVERLOADED = """\
    from typing import overload


    class Client:
        @overload
        def send(self, data: str) -> str: ...
        @overload
        def send(self, data: bytes) -> bytes: ...
        def send(self, data):
            return data


    def use(c: Client) -> None:
        c.send("a")
        c.send(b"b")
"""


def test_overloads_are_one_symbol(tmp_path: Path) -> None:
    lk = Lookups(workspace(tmp_path, {"client.py": OVERLOADED}))
    refs = lk.answer("find_references", {"symbol": "Client.send"})
    assert refs.text.splitlines()[0] == (
        "uses of Client.send (method, client.py:6, 3 overloads): 2 sites in 1 file"
    )
    defs = lk.answer("read_definition", {"symbol": "Client.send"})
    assert defs.text.startswith("Client.send: 3 overloads, each below\n")
    assert defs.text.count("### client.py") == 3
