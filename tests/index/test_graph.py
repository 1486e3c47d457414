"""The reference graph on disk (index/graph.py, index/cache.py): a warm workspace answers
"who defines X" and "who uses X" from the cache's rows without loading a file, keeps a bounded
number of file indexes in memory, lets an edited buffer's text win over the stored rows, and
parses again a file whose stored entry another process has forgotten."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from scopewise.analysis.engine import Engine
from scopewise.index import graph
from scopewise.index.workspace import WorkspaceIndex

NAMES = ("apply_discount", "Cart", "Price", "format", "greet", "__init__", "helper", "nothing")


def _warm(root: Path, cache: Path) -> WorkspaceIndex:
    cold = WorkspaceIndex(root, cache_path=cache)
    cold.build(workers=1)
    cold.close()
    warm = WorkspaceIndex(root, cache_path=cache)
    stats = warm.build(workers=1)
    assert stats.parsed == 0 and stats.cache_hits == stats.files > 0
    return warm


def _answers(ws: WorkspaceIndex) -> dict[str, tuple[list[str], list[tuple[str, int, str]]]]:
    return {
        name: (
            ws.files_using(name),
            [(fi.path, i, fi.definitions[i].kind) for fi, i in ws.definitions_named(name)],
        )
        for name in NAMES
    }


def test_a_warm_start_loads_no_file_and_answers_as_the_memory_index_does(
    poly: Path, tmp_path: Path
) -> None:
    warm = _warm(poly, tmp_path / "c.sqlite3")
    assert warm.files.loaded() == 0, "a warm start read file indexes"
    assert "shop/cart.py" in warm.files and len(warm.files) == len(warm.paths())
    assert warm.files_using("apply_discount")
    assert warm.count_definitions("Cart") == 1
    assert warm.files.loaded() == 0, "a name query read file indexes"
    memory = WorkspaceIndex(poly, use_cache=False)
    memory.build(workers=1)
    assert _answers(warm) == _answers(memory)
    w, m = warm.stats(), memory.stats()
    assert (w.files, w.symbols, w.references, w.languages) == (
        m.files,
        m.symbols,
        m.references,
        m.languages,
    )


def test_memory_holds_a_bounded_number_of_files(
    poly: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(graph, "RECENT", 8)
    for i in range(30):
        (poly / "shop" / f"gen_{i}.py").write_text(f"def f{i}(x):\n    return helper(x) + {i}\n")
    warm = _warm(poly, tmp_path / "c.sqlite3")
    users = warm.files_using("helper")
    assert len(users) >= 30
    for path in users:
        fi = warm.get(path)
        assert fi is not None and fi.path == path and "helper" in fi.refs
    assert warm.files.loaded() <= 8


def test_an_edited_buffer_wins_over_the_stored_rows(poly: Path, tmp_path: Path) -> None:
    warm = _warm(poly, tmp_path / "c.sqlite3")
    warm.update("shop/cart.py", b"def renamed():\n    return 1\n")
    assert warm.definitions_named("Cart") == []
    assert [fi.path for fi, _ in warm.definitions_named("renamed")] == ["shop/cart.py"]
    assert "shop/cart.py" not in warm.files_using("apply_discount")
    warm.refresh_from_disk("shop/cart.py")  # the buffer closed: the disk's text again
    assert [fi.path for fi, _ in warm.definitions_named("Cart")] == ["shop/cart.py"]
    assert "shop/cart.py" in warm.files_using("apply_discount")
    assert warm.definitions_named("renamed") == []
    warm.remove("shop/cart.py")
    assert warm.definitions_named("Cart") == [] and "shop/cart.py" not in warm.files


def test_who_uses_a_name_is_kept_until_a_path_moves(
    poly: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A menu asks "who uses X" of the same names at every request: the sorted paths are
    made once (not from the rows again) until a file is stored, pinned or dropped, and
    each answer is the caller's own list."""
    warm = _warm(poly, tmp_path / "c.sqlite3")
    made: list[int] = []
    real = graph.FileTable._stored_paths

    def counting(self: graph.FileTable, entries: list[int]) -> list[str]:
        made.append(len(entries))
        return real(self, entries)

    monkeypatch.setattr(graph.FileTable, "_stored_paths", counting)
    first = warm.files_using("apply_discount")
    assert "shop/cart.py" in first and len(made) == 1
    first.clear()  # the caller's own list: the one kept is not changed
    assert "shop/cart.py" in warm.files_using("apply_discount") and len(made) == 1
    warm.update("shop/cart.py", b"def renamed():\n    return 1\n")  # pinned
    assert "shop/cart.py" not in warm.files_using("apply_discount") and len(made) == 2
    warm.refresh_from_disk("shop/cart.py")  # stored again
    assert "shop/cart.py" in warm.files_using("apply_discount") and len(made) == 3
    warm.remove("shop/cart.py")
    assert "shop/cart.py" not in warm.files_using("apply_discount") and len(made) == 4


def test_a_file_forgotten_by_another_process_is_parsed_again(poly: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite3"
    first = _warm(poly, cache)
    (poly / "shop" / "cart.py").write_text("class Basket:\n    pass\n")
    other = WorkspaceIndex(poly, cache_path=cache)
    other.build(workers=1)  # stores the new text and forgets the old entry
    other.close()
    fi = first.get("shop/cart.py")
    assert fi is not None and [d.name for d in fi.definitions] == ["Basket"]
    assert [f.path for f, _ in first.definitions_named("Basket")] == ["shop/cart.py"]


def test_forgotten_entries_rows_are_swept(poly: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite3"
    target = poly / "shop" / "churn.py"
    for i in range(100):  # each version of the file is a new entry, the last one forgets it
        target.write_text(f"def v{i}():\n    return {i}\n")
        ws = WorkspaceIndex(poly, cache_path=cache)
        ws.build(workers=1)
        ws.close()
    db = sqlite3.connect(cache)
    live = {r[0] for r in db.execute("SELECT id FROM entries")}
    rows = {r[0] for r in db.execute("SELECT entry FROM defs")}
    db.close()
    assert len(rows - live) * 4 <= max(len(live), 64), "the rows of forgotten entries stay"
    ws = WorkspaceIndex(poly, cache_path=cache)
    ws.build(workers=1)
    assert [fi.path for fi, _ in ws.definitions_named("v99")] == ["shop/churn.py"]
    assert ws.definitions_named("v3") == []


def test_a_cache_lost_mid_session_leaves_the_answers_whole(poly: Path, tmp_path: Path) -> None:
    warm = _warm(poly, tmp_path / "c.sqlite3")
    before = _answers(warm)
    assert warm._cache is not None
    warm._cache.close()  # unreadable from now on (as after a storage error)
    assert _answers(warm) == before
    fi = warm.get("shop/cart.py")
    assert fi is not None and "Cart" in [d.name for d in fi.definitions]


@pytest.mark.parametrize("ahead", [False, True])
def test_files_are_found_by_their_ending_as_a_scan_would(
    poly: Path, tmp_path: Path, ahead: bool
) -> None:
    """Asked first, or with the lookups made ahead (a server's index thread makes them, and
    then every change must keep them true)."""
    warm = _warm(poly, tmp_path / "c.sqlite3")
    if ahead:
        graph.made_ahead(warm.files)

    def scan(tails: tuple[str, ...]) -> list[str]:
        return sorted(p for p in warm.files if p.endswith(tuple("/" + t for t in tails)))

    asks = [
        ("pricing.py",),
        ("shop/pricing.py",),
        ("__init__.py", "cart.py"),
        ("a/b.py",),
        ("shop/__init__.py",),
        ("sub/pricing.py", "poly/shop/cart.py"),  # asked before the file is added: kept
    ]
    for tails in asks:
        assert warm.files.ending(tails) == scan(tails), tails
    assert warm.files.ending(("pricing.py",))
    assert "shop/pricing.py" in warm.files_using("Price")
    warm.update("shop/sub/pricing.py", b"x = 1\n")  # a new buffer, then one gone
    for tails in asks:
        assert warm.files.ending(tails) == scan(tails), tails
    warm.remove("shop/pricing.py")
    for tails in asks:
        assert warm.files.ending(tails) == scan(tails), tails
    assert "shop/sub/pricing.py" in warm.files.ending(("pricing.py",))
    assert "shop/pricing.py" not in warm.files_using("Price")  # its rows' entry: gone


def test_a_file_stored_while_its_name_is_asked_is_not_left_out(
    poly: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file saved (the watcher's thread) while another thread reads the rows for a name:
    the rows read before it existed answer that one question, and are not remembered."""
    warm = _warm(poly, tmp_path / "c.sqlite3")
    assert warm._cache is not None
    real, raced = warm._cache.entries_using, []

    def racing(name: str) -> list[int]:
        rows = real(name)
        if not raced:
            raced.append(name)
            (poly / "shop" / "extra.py").write_text("from shop.cart import Cart\n\nc = Cart()\n")
            warm.refresh_from_disk("shop/extra.py")
        return rows

    monkeypatch.setattr(warm._cache, "entries_using", racing)
    assert "shop/extra.py" not in warm.files_using("Cart")  # asked before it was stored
    assert raced and "shop/extra.py" in warm.files_using("Cart")


def test_a_name_asked_by_name_loads_no_file(poly: Path, tmp_path: Path) -> None:
    """A common method name defined in many classes: look-ups by name, a top-level one (a
    bare call), one past its limit and one within it, are answered from the rows (kind,
    level) as the memory index answers them, loading no file."""
    for i in range(40):
        (poly / "shop" / f"model_{i}.py").write_text(
            f"class Model{i}:\n    def describe(self):\n        return {i}\n"
        )
    (poly / "shop" / "free.py").write_text("def describe():\n    return 0\n")
    warm = _warm(poly, tmp_path / "c.sqlite3")
    memory = WorkspaceIndex(poly, use_cache=False)
    memory.build(workers=1)

    def top(lang: str, kind: str, top: bool) -> bool:
        return top and kind != "attribute"

    def member(lang: str, kind: str, top: bool) -> bool:
        return not top

    found = warm.definitions_where("describe", top, 12)
    assert found == [("shop/free.py", 0)]
    assert warm.files.loaded() == 0, "a file was loaded to name its definitions"
    assert warm.definitions_where("describe", member, 12) is None  # 40 > 12: none named
    expect = memory.definitions_where("describe", member, 100)
    got = warm.definitions_where("describe", member, 100)
    assert expect is not None and got == expect and len(got) == 40
    assert warm.files.loaded() == 0


def test_a_common_name_is_read_only_as_far_as_its_answer_needs(
    poly: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A method name defined in 80 classes of 40 files and once at the top level (as
    `__init__`: 9,168 definitions at 50k files): "more than 12 members" reads pages of its
    rows until past 12, not all 81; the top-level one is asked of the cache by its level;
    its count reads a row per file, not per definition; "used in at least N files" reads
    rows up to N; every answer the memory index's."""
    monkeypatch.setattr(graph, "PAGE", 8, raising=False)
    for i in range(40):
        (poly / "shop" / f"model_{i}.py").write_text(
            f"class A{i}:\n    def describe(self):\n        return {i}\n\n\n"
            f"class B{i}:\n    def describe(self):\n        return helper({i})\n"
        )
    (poly / "shop" / "free.py").write_text("def describe():\n    return 0\n")
    warm = _warm(poly, tmp_path / "c.sqlite3")
    memory = WorkspaceIndex(poly, use_cache=False)
    memory.build(workers=1)
    assert warm._cache is not None
    real, read = warm._cache._read, []

    def counting(query: str, args: tuple[object, ...] = ()) -> list[object]:
        rows = real(query, args)
        read.append(len(rows))
        return rows

    monkeypatch.setattr(warm._cache, "_read", counting)

    def member(lang: str, kind: str, top: bool) -> bool:
        return not top

    def top(lang: str, kind: str, top: bool) -> bool:
        return top

    assert warm.definitions_where("describe", member, 12) is None
    assert sum(read) == 16, "past the limit after two pages of 8"
    read.clear()
    assert warm.definitions_where("describe", top, 12, top=True) == [("shop/free.py", 0)]
    assert sum(read) == 1
    read.clear()
    assert warm.count_definitions("describe") == 81 == len(memory.definitions_named("describe"))
    assert sum(read) == 41
    read.clear()
    assert graph.count_using(warm.files, "helper", 10) == 10
    assert sum(read) <= 16
    users = len(memory.files_using("helper"))
    assert graph.count_using(warm.files, "helper", 1000) == users == len(warm.files_using("helper"))
    got = warm.definitions_where("describe", member, 100)
    assert got == memory.definitions_where("describe", member, 100) and got and len(got) == 80
    read.clear()  # every row read: remembered, the level asked filtered from them

    def anything(lang: str, kind: str, top: bool) -> bool:
        return True

    assert warm.definitions_where("describe", anything, 12, top=True) == [("shop/free.py", 0)]
    assert warm.definitions_where("describe", anything, 100, top=False) == got
    assert sum(read) == 0
    assert warm.files.loaded() == 0
    warm.update("shop/free.py", b"def other():\n    return helper()\n")  # a pinned user
    assert graph.count_using(warm.files, "helper", 1000) == users + 1
    assert warm.count_definitions("describe") == 80


def test_imports_are_rows_by_module_and_by_file(poly: Path, tmp_path: Path) -> None:
    warm = _warm(poly, tmp_path / "c.sqlite3")
    memory = WorkspaceIndex(poly, use_cache=False)
    memory.build(workers=1)
    importers = warm.files_importing("shop.pricing")
    assert ("shop/cart.py", "apply_discount") in importers
    assert ("tests/test_pricing.py", "Price") in importers
    assert ("shop/__init__.py", "apply_discount") in warm.files_importing(".pricing")
    assert warm.imports_of("shop/cart.py") == memory.imports_of("shop/cart.py")
    assert ("shop.pricing", "Price") in warm.imports_of("shop/cart.py")
    assert warm.files.loaded() == 0, "an import question loaded a file"
    for module in ("shop.pricing", ".pricing", "dataclasses", "__future__", "nothing"):
        assert warm.files_importing(module) == memory.files_importing(module), module
    warm.update("shop/cart.py", b"import json\n")  # an edited buffer wins over its rows
    assert ("shop/cart.py", "") in warm.files_importing("json")
    assert not any(p == "shop/cart.py" for p, _ in warm.files_importing("shop.pricing"))
    assert warm.imports_of("shop/cart.py") == [("json", "")]


def test_who_derives_from_a_class_loads_only_the_files_whose_class_headers_name_it(
    poly: Path,
) -> None:
    """A class used in many files and derived from in one: the subclass query reads the
    `heads` rows (the names on each file's class headers), so the files that only call,
    annotate or import it are never loaded, and the answer is the memory index's."""
    (poly / "shop" / "base.py").write_text("class Base:\n    def run(self):\n        return 1\n")
    for i in range(30):
        (poly / "shop" / f"user_{i}.py").write_text(
            f"from shop.base import Base\n\n\ndef use_{i}(b: Base) -> int:\n"
            "    return Base().run()\n"
        )
    (poly / "shop" / "child.py").write_text(
        "from shop import base\nfrom shop.base import Base\n\n\nclass Child(\n    Base,\n):\n"
        "    def run(self):\n        return 2\n\n\nclass Other(base.Base):\n    pass\n"
    )
    Engine(poly).index(workers=1)  # the cache, written
    warm = Engine(poly)
    warm.index(workers=1)
    assert warm.workspace.files_heading("Base") == ["shop/child.py"]
    assert len(warm.workspace.files_using("Base")) == 31  # child.py and 30 users
    memory = Engine(poly, use_cache=False)
    memory.index(workers=1)

    def subclasses(engine: Engine) -> list[tuple[str, str]]:
        fi = engine.workspace.get("shop/base.py")
        assert fi is not None
        found = engine.resolver.hierarchy.subclasses(fi, 0)
        return sorted((f.path, f.definitions[i].name) for f, i in found)

    assert warm.workspace.files.loaded() == 0
    assert (
        subclasses(warm)
        == subclasses(memory)
        == [
            ("shop/child.py", "Child"),
            ("shop/child.py", "Other"),
        ]
    )
    assert warm.workspace.files.loaded() <= 3, "files that only use Base were loaded"
    warm.workspace.update("shop/user_3.py", b"from shop.base import Base\nclass Mine(Base): ...\n")
    assert warm.workspace.files_heading("Base") == ["shop/child.py", "shop/user_3.py"]
    assert ("shop/user_3.py", "Mine") in subclasses(warm)  # an edited buffer's own header


def test_a_stored_files_class_header_names_come_from_its_rows(
    poly: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stored file asked which names its class headers use answers from the rows written
    with it (no pass over every name of the file: 25 ms for a 5,900-name bundle), the same
    names a pass finds; a file whose entry is gone works them out."""
    from scopewise.index import model

    warm = _warm(poly, tmp_path / "c.sqlite3")
    memory = WorkspaceIndex(poly, use_cache=False)
    memory.build(workers=1)
    want = {p: memory.get(p).head_names() for p in memory.paths()}  # type: ignore[union-attr]
    assert any(want.values())  # some classes derive from something
    passes: list[str] = []
    real = model.header_names

    def counted(defs, refs):  # type: ignore[no-untyped-def]
        passes.append("pass")
        return real(defs, refs)

    monkeypatch.setattr(model, "header_names", counted)
    got = {p: warm.get(p).head_names() for p in warm.paths()}  # type: ignore[union-attr]
    assert got == want and passes == []
    cache = sqlite3.connect(tmp_path / "c.sqlite3")
    with cache:
        cache.execute("DELETE FROM entries")  # forgotten by another process meanwhile
    warm.files._recent.clear()
    fi = warm.get("shop/cart.py")
    assert fi is not None
    assert fi.head_names() == want["shop/cart.py"]
