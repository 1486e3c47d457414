"""A definition's sites kept across keystrokes (analysis/kept.py): a keystroke inside a body
keeps the answers it cannot change (their sites in the edited file moved with the lines),
and an edit that changes one is seen at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from scopewise.analysis.engine import Engine
from scopewise.analysis.resolve import Resolver
from scopewise.analysis.sites import CallerSite, SiteFinder
from scopewise.index.buffer import Document, TextChange

USERS = 6
LIB = (
    "def helper(x):\n    return x + 1\n\n\ndef far(x):\n    return x\n\n\n"
    "class Foo:\n    def meth(self):\n        return 1\n\n\nclass Base:\n    pass\n"
)
EDIT = (
    "from lib import Base, Foo, helper\n"
    "\n\n"
    "def work(v):\n"
    "    y = v\n"
    "    return y\n"  # line 5: the keystrokes' body
    "\n\n"
    "def later(v):\n"
    "    return helper(v) + target(v)\n"  # line 9: sites after the body
    "\n\n"
    "def target(v):\n"
    "    return v\n"
    "\n\n"
    "def typed():\n"
    "    f = Foo()\n"  # line 17: evidence, whose line a site's `via` names
    "    pass\n"
    "    return f.meth()\n"
    "\n\n"
    "class Sub(Base):\n"
    "    pass\n"
)
BODY = 5


def _user(i: int, calls: str = "helper(v) + far(v) + target(v)") -> str:
    head = "from lib import helper, far\nfrom edit import target\n\n\n"
    return f"{head}def use{i}(v):\n    return {calls}\n"


@pytest.fixture
def engine(tmp_path: Path) -> tuple[Engine, Document]:
    files = {".scopewise.toml": "", "lib.py": LIB, "edit.py": EDIT}
    files.update({f"users/u{i}.py": _user(i) for i in range(USERS)})
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    doc = Document("edit.py", EDIT, 1, "python")
    engine = Engine(tmp_path, use_cache=False, documents={"edit.py": doc}.get)
    engine.index(workers=1)
    return engine, doc


def _count_finds(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The definitions whose sites are worked out (not found kept) from now on."""
    found: list[str] = []
    real = SiteFinder.bounded

    def bounded(self: SiteFinder, fi, index, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self is engine.resolver._sites:  # not a fresh resolver's
            found.append(fi.definitions[index].name)
        return real(self, fi, index, *args, **kwargs)

    monkeypatch.setattr(SiteFinder, "bounded", bounded)
    return found


def _asked(engine: Engine, name: str, path: str) -> tuple[list[CallerSite], list[CallerSite]]:
    """The sites of `path`'s definition `name` as kept, and as a resolver new to the
    workspace works them out."""
    engine.sync("edit.py")
    fi = engine.workspace.get(path)
    assert fi is not None
    index = fi.named(name)[0]
    return engine.resolver.callers(fi, index), Resolver(engine.workspace).callers(fi, index)


ASKED = (("helper", "lib.py"), ("far", "lib.py"), ("target", "edit.py"))


def test_a_keystroke_in_a_body_keeps_the_sites_it_cannot_change(
    engine: tuple[Engine, Document], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keystrokes in `work`'s body: the sites of `helper` and `far` (lib.py) and of `target`
    (the edited file's own) are kept, never worked out again, and they are what a fresh
    resolver says. A line added there: the answers with sites in the edited file (`helper`,
    `target`) are worked out again, a line further down; `far`'s is kept."""
    eng, doc = engine
    doc.apply([TextChange("z", (BODY, 12), (BODY, 12))], 2)  # a first edit: the file pinned
    before = {name: _asked(eng, name, path)[0] for name, path in ASKED}
    assert {s.line for s in before["helper"] if s.path == "edit.py"} == {0, 9}
    finds = _count_finds(eng, monkeypatch)
    for version, (text, at) in enumerate([("a", (BODY, 13)), ("s", (BODY, 14))], 3):
        doc.apply([TextChange(text, at, at)], version)
        for name, path in ASKED:
            kept, fresh = _asked(eng, name, path)
            assert kept == fresh, name
    assert finds == []  # none worked out again
    doc.apply([TextChange("\n    pass", (BODY, 15), (BODY, 15))], 5)
    after = {}
    for name, path in ASKED:
        after[name], fresh = _asked(eng, name, path)
        assert after[name] == fresh, name
    assert sorted(finds) == ["helper", "target"]
    assert {s.line for s in after["helper"] if s.path == "edit.py"} == {0, 10}  # moved down
    assert after["far"] == before["far"]


def test_an_edit_that_changes_the_sites_is_seen_at_once(
    engine: tuple[Engine, Document], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call typed into the body, a definition of the edited file renamed, a user edited
    (another file): each request's sites are a fresh resolver's."""
    eng, doc = engine
    doc.apply([TextChange("z", (BODY, 12), (BODY, 12))], 2)
    for name, path in ASKED:
        _asked(eng, name, path)
    doc.apply([TextChange("helper(y)", (BODY, 11), (BODY, 13))], 3)  # `return helper(y)`
    kept, fresh = _asked(eng, "helper", "lib.py")
    assert kept == fresh and BODY in {s.line for s in kept if s.path == "edit.py"}
    assert _asked(eng, "far", "lib.py")[0] == _asked(eng, "far", "lib.py")[1]
    line = EDIT.split("\n").index("def target(v):")
    doc.apply([TextChange("targeted", (line, 4), (line, 10))], 4)  # a rename
    kept, fresh = _asked(eng, "helper", "lib.py")
    assert kept == fresh
    kept, fresh = _asked(eng, "targeted", "edit.py")
    assert kept == fresh == []  # its users call `target`, which is no more
    ws = eng.workspace
    ws.update("users/u0.py", _user(0).replace("(v)", "(v) ").encode())  # u0 pinned
    for name, path in ASKED[:2]:
        assert _asked(eng, name, path)[0] == _asked(eng, name, path)[1]
    finds = _count_finds(eng, monkeypatch)
    ws.update("users/u0.py", _user(0, "far(v)").encode())  # u0 calls helper no more
    kept, fresh = _asked(eng, "helper", "lib.py")
    assert kept == fresh and ("users/u0.py", 5) not in {(s.path, s.line) for s in kept}
    assert _asked(eng, "far", "lib.py")[0] == _asked(eng, "far", "lib.py")[1]
    assert finds == ["helper", "far"]  # not a splice: the names u0 uses, worked out again
    kept, fresh = _asked(eng, "meth", "lib.py")
    assert [s.via for s in kept if s.path == "edit.py"] == ["Foo(...) at 18"]
    swap = TextChange("    pass\n    f = Foo()", (17, 0), (18, 8))  # the evidence a line down
    doc.apply([swap], 5)
    kept, fresh = _asked(eng, "meth", "lib.py")
    assert kept == fresh and [s.via for s in kept if s.path == "edit.py"] == ["Foo(...) at 19"]


def test_a_keystroke_in_a_body_keeps_the_subclasses_found(
    engine: tuple[Engine, Document], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A class's subclasses (found in other files) are kept across keystrokes in a body,
    the edited file's own (`Sub`) as its index now says, a line further down once a line is
    added; a base renamed is seen at once."""
    from scopewise.analysis.hierarchy import Hierarchy

    eng, doc = engine
    ws, hierarchy = eng.workspace, eng.resolver.hierarchy
    doc.apply([TextChange("z", (BODY, 12), (BODY, 12))], 2)

    def subclasses() -> tuple[list[tuple[str, int, int]], list[tuple[str, int, int]]]:
        eng.sync("edit.py")
        lib = ws.get("lib.py")
        assert lib is not None
        base = lib.named("Base")[0]
        fresh = Resolver(ws).hierarchy.subclasses(lib, base)
        found = hierarchy.subclasses(lib, base)
        assert all(f is ws.get(f.path) for f, _ in found)  # the indexes now
        return [(f.path, i, f.definitions[i].start_line) for f, i in found], [
            (f.path, i, f.definitions[i].start_line) for f, i in fresh
        ]

    before, _ = subclasses()
    assert [p for p, _, _ in before] == ["edit.py"]
    searches: list[int] = []
    real = Hierarchy._search

    def find(self: Hierarchy, search, language, work):  # type: ignore[no-untyped-def]
        if self is hierarchy:
            searches.append(search.todo[0][1])
        return real(self, search, language, work)

    monkeypatch.setattr(Hierarchy, "_search", find)
    for version, (text, at) in enumerate([("a", (BODY, 13)), ("\n    pass", (BODY, 14))], 3):
        doc.apply([TextChange(text, at, at)], version)
        kept, fresh = subclasses()
        assert kept == fresh
    assert searches == [] and kept[0][2] == before[0][2] + 1  # a line further down
    line = EDIT.split("\n").index("class Sub(Base):") + 1
    doc.apply([TextChange("Bass", (line, 10), (line, 14))], 5)  # no longer a subclass
    kept, fresh = subclasses()
    assert kept == fresh == []


def test_a_keystroke_on_an_evidence_line_that_keeps_it_keeps_the_answers(
    engine: tuple[Engine, Document], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A space typed into `g = Foo()` (a body's middle statement: the lines re-extracted)
    says the same evidence on the same line: `meth`'s answer, with its site in the edited
    file (whose `via` names that evidence), is kept; the evidence changed is seen at once."""
    eng, doc = engine
    doc.apply([TextChange("    g = Foo()\n    g.meth()", (18, 0), (18, 8))], 2)  # for `pass`
    kept, _ = _asked(eng, "meth", "lib.py")
    assert {s.via for s in kept if s.path == "edit.py"} == {"Foo(...) at 18", "Foo(...) at 19"}
    finds = _count_finds(eng, monkeypatch)
    doc.apply([TextChange(" ", (18, 12), (18, 12))], 3)  # `g = Foo( )`
    kept, fresh = _asked(eng, "meth", "lib.py")
    assert kept == fresh and finds == []
    doc.apply([TextChange("f", (18, 4), (18, 5))], 4)  # `f = Foo( )`: `f` bound again
    kept, fresh = _asked(eng, "meth", "lib.py")
    assert kept == fresh and "Foo(...) at 18" not in {s.via for s in kept}
    assert finds == ["meth"]


def test_the_edited_files_verdicts_are_carried_over_a_keystroke_elsewhere(
    engine: tuple[Engine, Document],
) -> None:
    """Answers not kept whole (a menu's lower bound) are put together again from each using
    file's verdicts: after keystrokes in `work`'s body, the edited file's uses of `helper`
    and `target` (line 9) are not classified again — they are what a fresh resolver says —;
    once `helper` is typed there, its uses in the edited file are."""
    eng, doc = engine
    resolver = eng.resolver
    doc.apply([TextChange("z", (BODY, 12), (BODY, 12))], 2)

    def asked(name: str, path: str) -> list[CallerSite]:
        resolver._kept._callers.clear()  # as for a lower bound: not kept as an answer
        kept, fresh = _asked(eng, name, path)
        assert kept == fresh, name
        return kept

    for name, path in ASKED:
        asked(name, path)
    before = resolver.verdicts.classified
    for version, (text, at) in enumerate([("a", (BODY, 13)), ("s", (BODY, 14))], 3):
        doc.apply([TextChange(text, at, at)], version)
        for name, path in ASKED:
            asked(name, path)
    assert resolver.verdicts.classified == before  # nothing classified again
    doc.apply([TextChange(" + helper(y)", (BODY, 15), (BODY, 15))], 5)
    sites = asked("helper", "lib.py")
    assert BODY in {s.line for s in sites if s.path == "edit.py"}
    assert resolver.verdicts.classified == before + 1  # the edited file's, again
    doc.apply([TextChange("\n    pass", (BODY, 27), (BODY, 27))], 6)  # a line added
    sites = asked("target", "edit.py")
    assert {s.line for s in sites if s.path == "edit.py"} == {10}  # a line further down
