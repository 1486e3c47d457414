"""Definitions, references and imports per language, and the workspace-wide tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from scopewise.index.model import REF_MEMBER, REF_TYPE, FileIndex
from scopewise.index.workspace import WorkspaceIndex


@pytest.fixture
def ws(poly: Path) -> WorkspaceIndex:
    w = WorkspaceIndex(poly, use_cache=False)
    w.build(workers=1)
    return w


def defs(fi: FileIndex) -> dict[str, tuple[str, int, int, bool]]:
    """qualified name -> (kind, first line, last line, exported), lines 1-based."""
    return {
        fi.qualified_name(i): (d.kind, d.start_line + 1, d.end_line + 1, d.exported)
        for i, d in enumerate(fi.definitions)
    }


EXPECTED = {
    "shop/pricing.py": {
        "TAX_RATE": ("constant", 7, 7, True),
        "Price": ("class", 11, 22, True),  # the decorator belongs to the class
        "Price.cents": ("field", 15, 15, True),
        "Price.with_tax": ("method", 18, 19, True),
        "Price._internal": ("method", 21, 22, False),
        "apply_discount": ("function", 29, 32, True),
        "_helper": ("function", 35, 36, False),
    },
    "shop/cart.py": {
        "Cart": ("class", 8, 18, True),
        "Cart.__init__.discount": ("attribute", 11, 11, False),
        "VipCart.total": ("method", 22, 24, True),
        "checkout": ("function", 27, 30, True),
    },
    "web/util.js": {
        "VERSION": ("constant", 3, 3, True),
        "greet": ("function", 5, 7, True),
        "Greeter": ("class", 9, 17, False),
        "Greeter.hello": ("method", 14, 16, False),
    },
    "web/api.ts": {
        "User": ("interface", 3, 6, True),
        "UserId": ("type", 8, 8, True),
        "Role": ("enum", 10, 13, True),
        "UserService": ("class", 15, 25, True),
        "UserService.find": ("method", 18, 20, True),
    },
    "web/view.tsx": {"UserCard": ("function", 3, 5, True)},
    "go/shapes.go": {
        "Pi": ("constant", 5, 5, True),
        "Circle": ("type", 11, 13, True),
        "Area": ("method", 15, 17, True),
        "TotalArea": ("function", 19, 25, True),
        "helper": ("function", 27, 27, False),
    },
    "rust/src/lib.rs": {
        "LIMIT": ("constant", 3, 3, True),
        "Counter": ("class", 5, 7, True),
        "add": ("method", 14, 16, True),
        "private_helper": ("function", 19, 21, False),
        "Summary": ("interface", 23, 25, True),
    },
    "java/com/shop/Inventory.java": {
        "Inventory": ("class", 6, 20, True),
        "Inventory.add": ("method", 9, 11, True),
        "Inventory.reset": ("method", 17, 19, False),
    },
    "c/stack.c": {
        "clamp_top": ("function", 3, 5, False),  # static
        "stack_push": ("function", 7, 9, True),
    },
    "c/stack.h": {"STACK_MAX": ("macro", 4, 4, True), "stack": ("class", 6, 9, True)},
    "c/matrix.cpp": {
        "linalg.Matrix": ("class", 5, 14, True),
        "linalg.Matrix.at": ("method", 8, 8, True),
        "linalg.trace": ("function", 16, 20, True),
    },
    "ruby/bank.rb": {
        "Bank": ("module", 3, 21, True),
        "Bank.RATE": ("constant", 4, 4, True),
        "Bank.Account.deposit": ("method", 12, 15, True),
    },
}


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_definitions_per_language(ws: WorkspaceIndex, path: str) -> None:
    fi = ws.get(path)
    assert fi is not None, f"{path} was not indexed"
    got = defs(fi)
    for name, expected in EXPECTED[path].items():
        assert got.get(name) == expected, f"{path}: {name} is {got.get(name)}, want {expected}"


def test_every_language_is_indexed(ws: WorkspaceIndex) -> None:
    assert set(ws.stats().languages) == {
        "python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp", "ruby"
    }  # fmt: skip


def test_python_references_go_beyond_calls(ws: WorkspaceIndex) -> None:
    cart = ws.get("shop/cart.py")
    assert cart is not None
    # base class (line 21), isinstance argument (line 28) and annotation (line 27)
    vip_lines = {line + 1 for line, _ in cart.ref_lines("VipCart")}
    assert 28 in vip_lines
    cart_lines = {line + 1 for line, _ in cart.ref_lines("Cart")}
    assert {21, 27} <= cart_lines
    # attribute reads are member references
    with_tax = cart.ref_lines("with_tax")
    assert with_tax and all(kind == REF_MEMBER for _, kind in with_tax)
    # self/cls are not references to anything
    assert "self" not in cart.refs


def test_type_references_in_typescript(ws: WorkspaceIndex) -> None:
    api = ws.get("web/api.ts")
    assert api is not None
    kinds = {kind for _, kind in api.ref_lines("UserId")}
    assert REF_TYPE in kinds


def test_imports_are_parsed(ws: WorkspaceIndex) -> None:
    cart = ws.get("shop/cart.py")
    util = ws.get("web/util.js")
    go = ws.get("go/shapes.go")
    java = ws.get("java/com/shop/Inventory.java")
    assert cart and util and go and java
    assert ("shop.pricing", ("Price", "apply_discount")) in [
        (i.module, i.names) for i in cart.imports
    ]
    assert [(i.module, i.names) for i in util.imports] == [("./format.js", ("format",))]
    assert [i.module for i in go.imports] == ["math"]
    assert ("java.util", ("List",)) in [(i.module, i.names) for i in java.imports]


def test_workspace_tables_cross_files(ws: WorkspaceIndex) -> None:
    assert {fi.path for fi, _ in ws.definitions_named("apply_discount")} == {"shop/pricing.py"}
    users = ws.files_using("apply_discount")
    assert {"shop/cart.py", "tests/test_pricing.py", "shop/__init__.py"} <= set(users)
    assert "greet" in ws.get("web/api.ts").refs  # type: ignore[union-attr]


def test_broken_syntax_is_indexed_with_errors(poly: Path) -> None:
    (poly / "shop" / "broken.py").write_text("def ok():\n    return 1\n\ndef bad(:\n    pass\n")
    w = WorkspaceIndex(poly, use_cache=False)
    w.build(workers=1)
    fi = w.get("shop/broken.py")
    assert fi is not None
    assert fi.errors, "the syntax error was not recorded"
    assert "ok" in defs(fi)


def test_update_replaces_a_files_contributions(ws: WorkspaceIndex) -> None:
    ws.update("shop/cart.py", b"def renamed():\n    return 1\n")
    assert ws.definitions_named("Cart") == []
    assert [fi.path for fi, _ in ws.definitions_named("renamed")] == ["shop/cart.py"]
    assert "shop/cart.py" not in ws.files_using("apply_discount")
    ws.remove("shop/cart.py")
    assert ws.definitions_named("renamed") == []


def test_parallel_build_matches_serial(poly: Path) -> None:
    for i in range(60):  # enough files for the process pool to start
        (poly / "shop" / f"gen_{i}.py").write_text(f"def f{i}(x):\n    return x + {i}\n")
    serial = WorkspaceIndex(poly, use_cache=False)
    serial.build(workers=1)
    parallel = WorkspaceIndex(poly, use_cache=False)
    parallel.build(workers=2)
    assert serial.files.keys() == parallel.files.keys()
    for path, fi in serial.files.items():
        other = parallel.files[path]
        assert fi.definitions == other.definitions, path
        assert fi.refs == other.refs, path


def test_invalid_utf8_and_crlf_files_are_indexed(poly: Path) -> None:
    (poly / "shop" / "latin1.py").write_bytes(b"# caf\xe9\ndef ok():\n    return '\xff'\n")
    (poly / "shop" / "dos.py").write_bytes(
        b"def a():\r\n    return 1\r\n\r\ndef b():\r\n    return a()\r\n"
    )
    w = WorkspaceIndex(poly, use_cache=False)
    w.build(workers=1)
    latin = w.get("shop/latin1.py")
    dos = w.get("shop/dos.py")
    assert latin is not None and [d.name for d in latin.definitions] == ["ok"]
    assert dos is not None
    assert [(d.name, d.start_line, d.end_line) for d in dos.definitions] == [
        ("a", 0, 1),
        ("b", 3, 4),
    ]
    assert dos.ref_lines("a") == [(4, 0)]


def test_a_file_deleted_while_indexed_leaves_the_index_consistent(poly: Path) -> None:
    w = WorkspaceIndex(poly, use_cache=False)
    w.build(workers=1)
    (poly / "shop" / "cart.py").unlink()
    assert w.refresh_from_disk("shop/cart.py") is None
    assert w.get("shop/cart.py") is None
    assert w.definitions_named("Cart") == []
    assert "shop/cart.py" not in w.files_using("apply_discount")


_DOCUMENTED = {  # source, and the definitions in it: documented or not
    "javascript": (
        b"// a comment\n/** doc */\nclass A {\n  // m\n  m() {}\n  n() {}\n}\n// f\n"
        b"function f() {}\nconst g = () => 1;\nvar h = function () {};\nfunction k() {}\n",
        {"A", "m", "n", "f", "g", "h", "k"},
    ),
    "go": (
        b"package p\n\n// F does\nfunc F() {}\n\nfunc G() {}\n\n// M\nfunc (t T) M() {}\n",
        {"F", "G", "M"},
    ),
    "ruby": (
        b"# doc\nclass A\n  # m\n  def m; end\n  def n; end\nend\n# B\nmodule B; end\n",
        {"A", "m", "n", "B"},
    ),
}


@pytest.mark.parametrize("language", sorted(_DOCUMENTED))
def test_the_index_query_asks_for_no_doc_comments_and_finds_every_definition(
    language: str,
) -> None:
    """The wheels' `(comment)* @doc .` patterns made a JavaScript query cost twice its
    walk (tests/benchmarks/query_captures.py: the same captures without them over every
    file of ws10k); every definition is still found, documented or not."""
    import tree_sitter as ts

    from scopewise.index import extract, languages

    source, names = _DOCUMENTED[language]
    tree = languages.parser(language).parse(source)
    assert "doc" not in ts.QueryCursor(languages.index_query(language)).captures(tree.root_node)
    fi = extract.extract(f"f.{language}", language, source)
    assert {d.name for d in fi.definitions} == names


_TOP_LEVEL = {
    "python": (
        b"X = 1\nif a:\n    Y = 2\nelse:\n    Z = 3\ntry:\n    W = 4\nexcept E:\n    W = 5\n"
        b"def f():\n    if b:\n        V = 6\n",
        {"X", "Y", "Z", "W", "f"},
    ),
    "go": (
        b"package p\nvar X = 1\nconst Y = 2\nfunc f() {\n\tvar z = 3\n\t_ = z\n}\n",
        {"X", "Y", "f"},
    ),
    "javascript": (
        b"const X = 1;\nexport const Y = 2;\nfunction f() { const z = 3; }\n",
        {"X", "Y", "f"},
    ),
}


@pytest.mark.parametrize("language", sorted(_TOP_LEVEL))
def test_no_index_pattern_starts_at_the_root_and_top_level_names_are_found(
    language: str,
) -> None:
    """A pattern under the root node (`(module (if_statement ...))`) kept a match open for
    the whole walk: Python's were a third of its query's CPU. They are matched at the root's
    children by `languages.top_query` (start depth 1), the wheel's own switched off in the
    index query: no index pattern matches at the root, and the top-level names (not the
    nested ones) are still definitions."""
    import tree_sitter as ts

    from scopewise.index import extract, languages

    source, names = _TOP_LEVEL[language]
    tree = languages.parser(language).parse(source)
    cursor = ts.QueryCursor(languages.index_query(language))
    cursor.set_max_start_depth(0)
    assert cursor.captures(tree.root_node) == {}
    fi = extract.extract(f"f.{language}", language, source)
    assert {d.name for d in fi.definitions} == names
