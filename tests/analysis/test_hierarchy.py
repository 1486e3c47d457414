"""The class hierarchy across files: bases, subclasses, lookup through the bases, and the
overrides that belong to a method's ripple (both ways, ABC implementations included)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_receivers import line_of, sites_of, workspace

from scopewise.analysis.engine import Engine
from scopewise.index.model import FileIndex

FILES = {
    "shapes/base.py": """\
        import abc

        class Shape(abc.ABC):
            @abc.abstractmethod
            def area(self) -> float: ...

            def describe(self) -> str:
                return f"{self.area()}"
    """,
    "shapes/square.py": """\
        from shapes.base import Shape

        class Square(Shape):
            def __init__(self, side: float) -> None:
                self.side = side

            def area(self) -> float:
                return self.side**2
    """,
    "shapes/tile.py": """\
        from shapes import square

        class Tile(square.Square):
            pass

        def total(t: Tile, s: square.Square) -> float:
            return t.area() + s.describe()
    """,
}


def _index(engine: Engine, path: str, qualified: str) -> int:
    fi = engine.workspace.get(path)
    assert fi is not None
    return next(i for i in range(len(fi.definitions)) if fi.qualified_name(i) == qualified)


def test_subclasses_and_bases_across_files(tmp_path: Path) -> None:
    engine = workspace(tmp_path, FILES)
    h = engine.resolver.hierarchy
    base = engine.workspace.get("shapes/base.py")
    assert base is not None
    subs = h.subclasses(base, _index(engine, "shapes/base.py", "Shape"))
    assert {(f.path, f.definitions[i].name) for f, i in subs} == {
        ("shapes/square.py", "Square"),
        ("shapes/tile.py", "Tile"),  # through `square.Square`, a module attribute
    }
    tile = engine.workspace.get("shapes/tile.py")
    assert tile is not None
    found, named = h.bases(base, _index(engine, "shapes/base.py", "Shape"))
    assert found == [] and named == ["ABC"]  # outside the workspace: named
    hit = h.lookup(tile, _index(engine, "shapes/tile.py", "Tile"), "area")
    assert hit is not None and hit[0].path == "shapes/square.py"


def test_changing_a_base_method_involves_its_overrides_and_their_calls(tmp_path: Path) -> None:
    engine = workspace(tmp_path, FILES)
    sites = sites_of(engine, "shapes/base.py", "Shape.area")
    override = sites[("shapes/square.py", line_of(tmp_path, "shapes/square.py", "def area"))]
    assert override.certain and override.via == "overrides Shape.area"
    call = sites[("shapes/tile.py", line_of(tmp_path, "shapes/tile.py", "t.area()"))]
    assert not call.certain and "Square.area" in call.via  # reaches the override
    own = sites[("shapes/base.py", line_of(tmp_path, "shapes/base.py", "self.area()"))]
    assert own.certain and own.via == "self"


def test_changing_an_override_names_the_base_method(tmp_path: Path) -> None:
    engine = workspace(tmp_path, FILES)
    sites = sites_of(engine, "shapes/square.py", "Square.area")
    base = sites[("shapes/base.py", line_of(tmp_path, "shapes/base.py", "def area"))]
    assert base.certain and base.via == "overridden Shape.area"
    call = sites[("shapes/tile.py", line_of(tmp_path, "shapes/tile.py", "t.area()"))]
    assert call.certain  # Tile inherits Square.area
    # `self.area()` in the base may dispatch to the override: a candidate
    dispatch = sites[("shapes/base.py", line_of(tmp_path, "shapes/base.py", "self.area()"))]
    assert not dispatch.certain and dispatch.confidence < 0.5


def test_an_inherited_method_called_on_a_subclass_is_certain(tmp_path: Path) -> None:
    engine = workspace(tmp_path, FILES)
    sites = sites_of(engine, "shapes/base.py", "Shape.describe")
    call = sites[("shapes/tile.py", line_of(tmp_path, "shapes/tile.py", "s.describe()"))]
    assert call.certain and "annotation" in call.via


def test_bases_come_out_the_same_whatever_order_the_index_stored_names_in(
    tmp_path: Path,
) -> None:
    """asyncio's SubprocessStreamProtocol(streams.FlowControlMixin, protocols.SubprocessProtocol):
    which base's connection_lost a `self.connection_lost` reaches flipped from run to run with
    the order the file's names were stored in; the same index, stored the other way round,
    gives the same bases in the same order."""
    engine = workspace(
        tmp_path,
        {
            ".scopewise.toml": "",
            "streams.py": "class FlowControlMixin:\n    def connection_lost(self, exc): ...\n",
            "protocols.py": "class SubprocessProtocol:\n    def connection_lost(self, exc): ...\n",
            "subprocess.py": "import protocols\nimport streams\n\n\n"
            "class Stream(streams.FlowControlMixin, protocols.SubprocessProtocol):\n"
            "    def close(self):\n        self.connection_lost(None)\n",
        },
    )
    fi = engine.workspace.get("subprocess.py")
    assert fi is not None
    cls = _index(engine, "subprocess.py", "Stream")
    h = engine.resolver.hierarchy
    before = [(f.path, i) for f, i in h.bases(fi, cls)[0]]
    fi.refs = dict(reversed(list(fi.refs.items())))  # the same names, stored the other way
    h._headers.clear()
    after = [(f.path, i) for f, i in h.bases(fi, cls)[0]]
    assert before == after and len(before) == 2


DIAMOND = {
    "zoo/a.py": "class A:\n    def m(self):\n        return 1\n",
    "zoo/b.py": "from zoo.a import A\n\nclass B(A):\n    pass\n\nclass F(B):\n    pass\n",
    "zoo/c.py": "from zoo.a import A\n\nclass C(A):\n    pass\n",
    "zoo/d.py": "from zoo.b import B\nfrom zoo.c import C\n\nclass D(B, C):\n    pass\n",
    "zoo/e.py": "from zoo.d import D\n\nclass E(D):\n    def m(self):\n        return 2\n",
}


def _names(refs: list[tuple[object, int]]) -> list[str]:
    return [f.definitions[i].name for f, i in refs]  # type: ignore[attr-defined]


def test_a_finished_search_gives_each_subclass_its_own_subclasses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After `A`'s subclasses are found, `B`'s, `C`'s, `D`'s... are known without a search
    of their own (`D` derives from both `B` and `C`: a subclass of each), the same and in the
    same order as each one's own search finds them."""
    fresh = workspace(tmp_path / "fresh", DIAMOND)
    own = {
        name: _names(fresh.resolver.hierarchy.subclasses(*_ref(fresh, name))) for name in "BCDEF"
    }
    assert own["B"] == ["F", "D", "E"] and own["C"] == ["D", "E"] and own["F"] == []
    engine = workspace(tmp_path / "ws", DIAMOND)
    h = engine.resolver.hierarchy
    assert _names(h.subclasses(*_ref(engine, "A"))) == ["B", "C", "F", "D", "E"]
    searched: list[object] = []
    monkeypatch.setattr(h, "_search", lambda *args: searched.append(args) or True)
    assert {name: _names(h.subclasses(*_ref(engine, name))) for name in "BCDEF"} == own
    assert not searched


def _ref(engine: Engine, name: str) -> tuple[FileIndex, int]:
    path = f"zoo/{name.lower()}.py" if name != "F" else "zoo/b.py"
    fi = engine.workspace.get(path)
    assert fi is not None
    return fi, _index(engine, path, name)


def test_a_base_bound_again_through_another_files_import_is_seen(tmp_path: Path) -> None:
    """Kid's header is unchanged, but the module it takes `Base` from now re-exports the
    other `Base`: its bases (kept between requests) follow, and so does the lookup."""
    run = "class Base:\n    def run(self):\n        return {}\n"
    engine = workspace(
        tmp_path,
        {
            "a.py": run.format(1),
            "b.py": run.format(2),
            "mid.py": "from a import Base\n",
            "kid.py": "from mid import Base\n\n\nclass Kid(Base):\n    pass\n",
        },
    )
    h, ws = engine.resolver.hierarchy, engine.workspace
    kid = ws.get("kid.py")
    assert kid is not None
    cls = _index(engine, "kid.py", "Kid")
    assert [f.path for f, _ in h.bases(kid, cls)[0]] == ["a.py"]
    assert [f.path for f, _ in h.bases(kid, cls)[0]] == ["a.py"]  # asked again: kept
    ws.update("mid.py", b"from b import Base\n")  # the same definitions, another import
    assert [f.path for f, _ in h.bases(kid, cls)[0]] == ["b.py"]
    hit = h.lookup(kid, cls, "run")
    assert hit is not None and hit[0].path == "b.py"


def test_a_keystroke_in_a_body_keeps_the_classes_bases_a_header_edit_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Typing in a method's body keeps the edited file's classes' bases (not worked out
    again: at each keystroke a menu's member lookups asked them anew), a base in the same
    file the new index's; typing in the class's header works them out again."""
    from small_workspace import editing

    from scopewise.analysis.hierarchy import Hierarchy
    from scopewise.index.buffer import TextChange

    methods = [f"    def m{i}(self):\n        return {i}\n" for i in range(30)]
    run = "    def run(self):\n        a = 1\n        b = 2\n        return a + b\n"
    kid = "from lib import Far\n\n\nclass Near:\n    pass\n\n\nclass Kid(Near, Far):\n"
    kid += "\n".join([*methods[:15], run, *methods[15:]])
    files = {"lib.py": "class Far:\n    pass\n", "kid.py": kid}
    engine, doc = editing(tmp_path, files, "kid.py", "python")
    h, ws = engine.resolver.hierarchy, engine.workspace
    worked: list[str] = []
    real = Hierarchy._bases_now

    def now(self: Hierarchy, fi: FileIndex, cls: int) -> object:
        worked.append(fi.definitions[cls].name)
        return real(self, fi, cls)

    monkeypatch.setattr(Hierarchy, "_bases_now", now)

    def bases() -> tuple[FileIndex, list[tuple[str, str]]]:
        engine.sync("kid.py")
        fi = ws.get("kid.py")
        assert fi is not None
        found = h.bases(fi, _index(engine, "kid.py", "Kid"))[0]
        assert all(f is fi for f, _ in found if f.path == "kid.py")  # the new index's
        return fi, [(f.path, f.definitions[i].name) for f, i in found]

    row = kid.splitlines().index("        b = 2")
    doc.apply([TextChange("", (row, 13), (row, 13))], 2)  # a first edit: the file pinned
    first = bases()[1]
    assert sorted(first) == [("kid.py", "Near"), ("lib.py", "Far")] and worked == ["Kid"]
    for col, version in ((13, 3), (14, 4), (15, 5)):  # `b = 22`, `b = 222`, ...
        doc.apply([TextChange("2", (row, col), (row, col))], version)
        fi, found = bases()
        assert found == first and fi.spliced is not None
    assert worked == ["Kid"]  # carried over each keystroke
    header = kid.splitlines().index("class Kid(Near, Far):")
    doc.apply([TextChange(", object", (header, 19), (header, 19))], 6)  # (Near, Far, object)
    assert bases()[1] == first and worked == ["Kid", "Kid"]
