"""A definition's sites kept per using file: a keystroke in one file classifies that file's
uses again, not every user's (analysis/verdicts.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from small_workspace import editing, indexed

from scopewise.analysis.engine import Engine

USERS = 40


def _engine(root: Path, files: dict[str, str]) -> Engine:
    return indexed(root, files)


def _user(i: int, extra: str = "") -> str:
    body = f"def use{i}(v):\n    w = v * {i}{extra}\n    return helper(w)\n"
    return "from lib import helper\n\n\n" + body


@pytest.fixture
def crowd(tmp_path: Path) -> Engine:
    files = {f"users/u{i}.py": _user(i) for i in range(USERS)}
    return _engine(tmp_path, {"lib.py": "def helper(x):\n    return x + 1\n", **files})


def test_a_keystroke_in_one_user_classifies_that_user_alone(crowd: Engine) -> None:
    ws, resolver = crowd.workspace, crowd.resolver
    lib = ws.get("lib.py")
    assert lib is not None
    first = resolver.callers(lib, 0)
    assert len({s.path for s in first}) == USERS
    ws.update("users/u1.py", _user(1, " + 1").encode())  # the buffer's first edit
    resolver.callers(lib, 0)
    before = resolver.verdicts.classified
    for extra in (" + 12", " + 123", " + 1234"):  # keystrokes in a body
        ws.update("users/u1.py", _user(1, extra).encode())
        assert resolver.callers(lib, 0) == first
    assert resolver.verdicts.classified - before == 3  # u1's uses, once per keystroke
    other = ws.get("users/u2.py")
    assert other is not None
    ws.update("users/u2.py", _user(2, " + 9").encode())  # a second edited file
    resolver.callers(lib, 0)
    before = resolver.verdicts.classified
    ws.update("users/u2.py", _user(2, " + 98").encode())
    assert resolver.callers(lib, 0) == first
    assert resolver.verdicts.classified - before == 1


def test_a_first_keystroke_in_a_stored_file_keeps_the_other_files_verdicts(
    tmp_path: Path,
) -> None:
    """A file the cache holds (not in memory) edited for the first time: its shape is the
    stored index's, so only its own uses are classified again."""
    files = {f"users/u{i}.py": _user(i) for i in range(USERS)}
    for rel, text in {
        ".scopewise.toml": "",
        "lib.py": "def helper(x):\n    return x\n",
        **files,
    }.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    Engine(tmp_path).index(workers=1)  # fills the cache
    engine = Engine(tmp_path)
    engine.index(workers=1)  # a warm start: every file stored, none in memory
    ws, resolver = engine.workspace, engine.resolver
    assert not ws.files.pinned()
    lib = ws.get("lib.py")
    assert lib is not None
    first = resolver.callers(lib, 0)
    assert len({s.path for s in first}) == USERS
    before = resolver.verdicts.classified
    ws.update("users/u1.py", _user(1, " + 1").encode())  # u1's first edit
    assert resolver.callers(lib, 0) == first
    assert resolver.verdicts.classified - before == 1
    ws.update("users/u2.py", (_user(2) + "import os\n").encode())  # an import: a move
    assert resolver.callers(lib, 0) == first
    assert resolver.verdicts.classified - before == 1 + USERS


def test_a_new_use_in_the_edited_file_is_a_new_site(crowd: Engine) -> None:
    ws, resolver = crowd.workspace, crowd.resolver
    lib = ws.get("lib.py")
    assert lib is not None
    first = resolver.callers(lib, 0)
    ws.update("users/u3.py", _user(3, " + 1").encode())
    assert resolver.callers(lib, 0) == first
    ws.update("users/u3.py", _user(3, " + helper(1)").encode())
    again = resolver.callers(lib, 0)
    assert len(again) == len(first) + 1
    assert any(s.path == "users/u3.py" and s.line == 4 and s.certain for s in again)


BASE = "class Base:\n    def run(self):\n        return 1\n\n\n" + (
    "class Other:\n    def run(self):\n        return 2\n"
)
KID = "from base import Base, Other\n\n\nclass Kid({}):\n    pass{}\n"
USE = "from kid import Kid\n\n\ndef go():\n    k = Kid()\n    return k.run()\n"


def test_a_class_base_changed_elsewhere_is_seen(tmp_path: Path) -> None:
    """`k.run()` on a Kid reaches Base.run while Kid derives from Base; once kid.py's header
    says Other (the same definitions: no definitions version moves), it no longer does."""
    engine = _engine(tmp_path, {"base.py": BASE, "kid.py": KID.format("Base", ""), "use.py": USE})
    ws, resolver = engine.workspace, engine.resolver
    base = ws.get("base.py")
    assert base is not None
    run = base.top_level()["Base"] + 1
    assert base.definitions[run].name == "run"

    def certain_in_use() -> bool:
        return any(s.path == "use.py" and s.certain for s in resolver.callers(base, run))

    assert certain_in_use()
    ws.update("kid.py", KID.format("Base", "  # x").encode())  # pinned, same shape
    assert certain_in_use()
    before = resolver.verdicts.classified
    ws.update("kid.py", KID.format("Base", "  # xy").encode())
    assert certain_in_use() and resolver.verdicts.classified == before  # nothing used changed
    at = ws.defs_version
    ws.update("kid.py", KID.format("Other", "  # xy").encode())
    assert ws.defs_version == at
    assert not certain_in_use()


SVC = "class Client:\n    def send(self):\n        return 1\n\n\n" + (
    "class Other:\n    def send(self):\n        return 2\n\n\n"
    "class App:\n    def __init__(self):\n        self.c = {}()\n\n\n"
    "def local():\n    x = {}()\n    return x\n"
)
APP_USE = "from svc import App\n\n\ndef go(app: App):\n    return app.c.send()\n"


def test_an_attributes_new_type_elsewhere_is_seen_a_local_is_not_read(tmp_path: Path) -> None:
    """`app.c.send()` reaches Client.send while App sets `self.c = Client()`; a new local in a
    plain function of that file keeps every verdict; `self.c = Other()` is seen."""
    engine = _engine(tmp_path, {"svc.py": SVC.format("Client", "Client"), "use.py": APP_USE})
    ws, resolver = engine.workspace, engine.resolver
    svc = ws.get("svc.py")
    assert svc is not None
    send = svc.top_level()["Client"] + 1

    def certain_in_use() -> bool:
        return any(s.path == "use.py" and s.certain for s in resolver.callers(svc, send))

    assert certain_in_use()
    ws.update("svc.py", SVC.format("Client", "Other").encode())  # the buffer's first edit
    assert certain_in_use()
    before = resolver.verdicts.classified
    ws.update("svc.py", SVC.format("Client", "App").encode())  # a local's type: not read
    assert certain_in_use() and resolver.verdicts.classified == before  # use.py kept
    ws.update("svc.py", SVC.format("Other", "App").encode())
    assert not certain_in_use()


def test_a_private_index_neither_reads_nor_fills_the_kept(crowd: Engine) -> None:
    """A file analysed from a text the index does not hold (a private index) has its own
    definition indexes: its sites are worked out, never kept under the indexed file's."""
    lib = crowd.workspace.get("lib.py")
    assert lib is not None
    private = replace(lib, digest="not the indexed text")
    before = crowd.resolver.verdicts.classified
    found = crowd.resolver._sites.sites(private, 0)
    assert crowd.resolver.verdicts.classified == before  # nothing kept under lib.py's
    assert found == crowd.resolver.callers(lib, 0)


BASE_SVC = (
    SVC.split("class App")[0] + "class Holder:\n    def __init__(self):\n        self.c = {}()\n"
)
KID_USE = "from svc import Holder\n\n\nclass Kid(Holder):\n" + "".join(
    f"    def m{i}(self):\n        return self.c.send()\n\n" for i in range(30)
)


def test_an_inherited_attribute_is_worked_out_once_per_class_and_seen_when_it_moves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thirty `self.c.send()` in one class (a common name's test file) read what `self.c` is
    from the class and its bases once, not once a use; when the base in another file sets
    `self.c = Other()`, the uses are no longer Client.send's."""
    from scopewise.analysis.receivers import Types

    engine = _engine(tmp_path, {"svc.py": BASE_SVC.format("Client"), "kid.py": KID_USE})
    ws, resolver = engine.workspace, engine.resolver
    svc = ws.get("svc.py")
    assert svc is not None
    send = svc.top_level()["Client"] + 1
    looked: list[str] = []
    evidence = Types._attr_evidence

    def counted(self: Types, cls: object, part: str, depth: int) -> object:
        looked.append(part)
        return evidence(self, cls, part, depth)  # type: ignore[arg-type]

    monkeypatch.setattr(Types, "_attr_evidence", counted)

    def certain_in_kid() -> int:
        return sum(s.path == "kid.py" and s.certain for s in resolver.callers(svc, send))

    assert certain_in_kid() == 30
    assert looked.count("c") == 1
    ws.update("svc.py", BASE_SVC.format("Client").encode() + b"# x\n")  # the buffer's first edit
    ws.update("svc.py", BASE_SVC.format("Other").encode())
    assert certain_in_kid() == 0


TS_BASE = "export class Base {\n  run(): number {\n    return 1;\n  }\n}\n\nexport class Other {}\n"
TS_MID = 'import {{ Base, Other }} from "./base";\n\nexport class Mid extends {} {{}}\n'
TS_KID = 'import { Mid } from "./mid";\n\nexport class Kid extends Mid {}\n'
TS_USE = (
    'import { Kid } from "./kid";\n\nexport function go(k: Kid): number {\n  return k.run();\n}\n'
)


def test_a_typescript_base_changed_two_files_away_is_seen(tmp_path: Path) -> None:
    """The declared-type languages' ancestors are kept under the class file's version, but
    they depend on the files of its bases too: `k.run()` on a Kid (extends Mid) stops
    reaching Base.run once mid.ts says `Mid extends Other`, kid.ts unchanged."""
    files = {
        "base.ts": TS_BASE,
        "mid.ts": TS_MID.format("Base"),
        "kid.ts": TS_KID,
        "use.ts": TS_USE,
    }
    engine = _engine(tmp_path, files)
    ws, resolver = engine.workspace, engine.resolver
    base = ws.get("base.ts")
    assert base is not None
    run = base.top_level()["Base"] + 1
    assert base.definitions[run].name == "run"

    def certain_in_use() -> bool:
        return any(s.path == "use.ts" and s.certain for s in resolver.callers(base, run))

    assert certain_in_use()
    ws.update("mid.ts", TS_MID.format("Other").encode())
    assert not certain_in_use()


LIB = (
    "class Base:\n    pass\n\n\n"
    + "".join(f"def h{i}(x):\n    y = x\n    return y\n\n\n" for i in range(60))
    + "def helper(x):\n    return x + 1\n"
)


def test_a_keystroke_in_a_body_takes_no_pass_over_the_file_and_a_rename_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An open buffer typed into inside a function body, then a request (`Engine.sync`, the
    callers): the request sees the edit; the file table keeps its entries by name, the
    definitions version holds without a compare, and the shape check reuses the definitions,
    evidence and class headers (no pass over the file): the other files' verdicts are kept.
    A rename typed next is seen at once (its callers are gone, the old name's too)."""
    from scopewise.analysis import verdicts
    from scopewise.index import graph, workspace
    from scopewise.index.buffer import Document, TextChange

    doc = Document("lib.py", LIB, 1, "python")
    for rel, text in {
        ".scopewise.toml": "",
        "lib.py": LIB,
        **{f"users/u{i}.py": _user(i) for i in range(USERS)},
    }.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    engine = Engine(tmp_path, use_cache=False, documents={"lib.py": doc}.get)
    engine.index(workers=1)
    ws, resolver = engine.workspace, engine.resolver

    def callers(name: str = "helper") -> tuple[object, ...] | None:
        engine.sync("lib.py")
        fi = ws.get("lib.py")
        assert fi is not None
        named = fi.named(name)
        return tuple(resolver.callers(fi, named[0])) if named else None

    row = LIB.split("\n").index("    return y", 4 * 30)  # in h29's body
    doc.apply([TextChange("z", (row, 12), (row, 12))], 2)  # a first edit: the file is pinned
    first = callers()
    assert first is not None and len({s.path for s in first}) == USERS  # type: ignore[attr-defined]
    passes: dict[str, int] = {}
    for module, name in ((verdicts, "_headers"), (verdicts, "_evidence"),
                         (workspace, "_defined"), (graph.FileTable, "_forget")):  # fmt: skip
        real = getattr(module, name)

        def counted(*args: object, _real: object = real, _name: str = name) -> object:
            passes[_name] = passes.get(_name, 0) + 1
            return _real(*args)  # type: ignore[operator]

        monkeypatch.setattr(module, name, counted)
    at, classified = ws.defs_version, resolver.verdicts.classified
    for i, key in enumerate("abcd"):
        doc.apply([TextChange(key, (row, 13 + i), (row, 13 + i))], 3 + i)  # `return yzabcd`
        assert callers() == first
    fi = ws.get("lib.py")
    assert fi is not None and "yzabcd" in fi.refs  # the request saw the keystrokes
    assert passes == {} and ws.defs_version == at
    assert resolver.verdicts.classified == classified  # every user's verdict kept
    line = LIB.split("\n").index("def helper(x):")
    doc.apply([TextChange("helped", (line, 4), (line, 10))], 10)
    assert callers("helped") == () and callers("helper") is None
    assert ws.defs_version != at and passes.get("_headers", 0) >= 1  # a new shape


GO_LIB = "package shop\n\ntype Cart struct{}\n\nfunc (c *Cart) Total() int {\n\treturn 0\n}\n"
GO_USER = "package shop\n\nfunc report() int {\n\tvar c Cart\n\treturn c.Total()\n}\n"
GO_EDIT = (
    "package shop\n"
    "\n"
    "var Default Cart\n"  # line 2: a package variable, which other files read
    "\n"
    "func checkout() int {\n"
    "\tvar cart Cart\n"  # line 5: a local binding
    "\tn := 1\n"
    "\treturn cart.Total() + n\n"
    "}\n"
)


def test_typing_a_go_local_keeps_the_other_files_verdicts(tmp_path: Path) -> None:
    """A keystroke on a function's own `var` changes what that function binds, not what
    another file reads: the shape holds (no file classified again but the edited one), and
    the sites are a fresh resolver's. A package variable's type changed moves it."""
    from scopewise.analysis.resolve import Resolver
    from scopewise.index.buffer import TextChange

    files = {"lib.go": GO_LIB, "edit.go": GO_EDIT}
    files.update({f"u{i}.go": GO_USER.replace("report", f"report{i}") for i in range(8)})
    engine, doc = editing(tmp_path, files, "edit.go", "go")
    ws, resolver = engine.workspace, engine.resolver

    def sites() -> list[tuple[str, int, bool]]:
        engine.sync("edit.go")
        lib = ws.get("lib.go")
        assert lib is not None
        index = lib.named("Total")[0]
        kept = resolver.callers(lib, index)
        assert kept == Resolver(ws).callers(lib, index)
        return sorted((s.path, s.line, s.certain) for s in kept)

    doc.apply([TextChange("", (6, 7), (6, 7))], 2)  # a first edit: the file pinned
    first = sites()
    assert ("edit.go", 7, True) in first and ("u3.go", 4, True) in first
    moves, classified = resolver.verdicts.moves, resolver.verdicts.classified
    end = len("\tvar cart Cart")
    doc.apply([TextChange("x", (5, end), (5, end))], 3)  # `var cart Cartx`
    now = sites()
    assert ("edit.go", 7, True) not in now  # a Cartx has no Total of the workspace's
    assert resolver.verdicts.moves == moves
    assert resolver.verdicts.classified - classified <= 1  # the edited file's alone
    doc.apply([TextChange("", (5, end), (5, end + 1))], 4)
    assert sites() == first
    doc.apply([TextChange("x", (2, 16), (2, 16))], 5)  # `var Default Cartx`: read elsewhere
    sites()
    assert resolver.verdicts.moves > moves


def test_the_evidence_said_on_lines_is_found_whatever_its_order() -> None:
    """The evidence is in order of where it holds from, not of where it is said: a binding
    in a three-line statement (said on line 10, from line 13) comes after one said inside it
    (line 11, from 12). Each is found on the lines that say it (the lines asked about are
    whole statements: a splice's region)."""
    from scopewise.analysis.verdicts import evidence_in
    from scopewise.index.model import Evidence, FileIndex

    inner = Evidence("y", 12, -1, "Bar()", 11)
    outer = Evidence("x", 13, -1, "Foo()", 10)
    later = Evidence("z", 21, -1, "Baz()", 20)
    fi = FileIndex("m.py", "python", "d", 30, evidence=[inner, outer, later])
    assert evidence_in(fi, 10, 12) == [inner, outer]  # the statement, whole
    assert evidence_in(fi, 13, 19) == []
    assert evidence_in(fi, 20, 20) == [later]
    assert evidence_in(fi, 0, 29) == [inner, outer, later]


JS_EDIT = (
    'import { Cart } from "./lib.js";\n'
    "let cart = null;\n"
    "function reset() {\n"
    "  cart = new Cart();\n"  # line 3: the module's variable, assigned in a function
    "}\n"
    "function local() {\n"
    "  const own = new Cart();\n"  # line 6: the function's own
    "  return own.total();\n"
    "}\n"
)


def test_a_module_variable_assigned_in_a_function_moves_the_shape(tmp_path: Path) -> None:
    """Outside Python, a function's own binding typed keeps the shape; the module's variable
    bound again inside a function (which other files may read) moves it."""
    from scopewise.index.buffer import TextChange

    files = {
        "lib.js": "export class Cart {\n  total() {\n    return 0;\n  }\n}\n",
        "edit.js": JS_EDIT,
        "use.js": 'import { Cart } from "./lib.js";\nexport const t = new Cart().total();\n',
    }
    engine, doc = editing(tmp_path, files, "edit.js", "javascript")
    ws, resolver = engine.workspace, engine.resolver

    def ask() -> None:
        engine.sync("edit.js")
        lib = ws.get("lib.js")
        assert lib is not None
        resolver.callers(lib, lib.named("total")[0])

    doc.apply([TextChange("", (7, 2), (7, 2))], 2)  # a first edit: the file pinned
    ask()
    moves = resolver.verdicts.moves
    end = len("  const own = new Cart")
    doc.apply([TextChange("x", (6, end), (6, end))], 3)  # `new Cartx()`: the function's own
    ask()
    assert resolver.verdicts.moves == moves
    end = len("  cart = new Cart")
    doc.apply([TextChange("x", (3, end), (3, end))], 4)  # `cart = new Cartx()`
    ask()
    assert resolver.verdicts.moves > moves
