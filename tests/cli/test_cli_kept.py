"""The site verdicts one command leaves for the next (cli/kept.py): a second command on the
same workspace classifies no using file again and answers the same; verdicts worked out on
another listing — a using file edited, or a file whose shape the verdicts read — are not
read. Files are dated an hour back, as a workspace on disk is (and so is a file after its
edit: a stat within seconds of a listing is never trusted, which would hide the case)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from aged import HOUR_NS, age
from scopewise.analysis.engine import Engine
from scopewise.cli import kept
from scopewise.cli.args import answered
from scopewise.settings import Settings

MODELS = """\
class Box:
    def open(self):
        return 1


class Crate:
    def open(self):
        return 2
"""
MAKE = """\
from shop.models import Box, Crate


def make() -> {kind}:
    return {kind}()
"""
USE = """\
from shop.make import make


def go():
    b = make()
    return b.open()
"""


def _edit(path: Path, text: str) -> None:
    """Rewrite a file in place (its folder's mtime stays), dated back but not as before."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write(text)
    then = time.time_ns() - HOUR_NS // 2
    os.utime(path, ns=(then, then))


def _shop(tmp_path: Path, files: dict[str, str]) -> Path:
    """A workspace of a `shop` package with these files, dated back."""
    root = tmp_path / "ws"
    (root / "shop").mkdir(parents=True)
    (root / ".scopewise.toml").write_text("", encoding="utf-8")
    for name, text in {"__init__.py": "", **files}.items():
        (root / "shop" / name).write_text(text, encoding="utf-8")
    age(root)
    return root


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = _shop(tmp_path, {"models.py": MODELS, "make.py": MAKE.format(kind="Box"), "use.py": USE})
    _sites(root)  # the index built, its listing stored (a build that lists keeps none)
    return root


def _sites(
    root: Path, target: tuple[str, int, int] = ("models.py", 2, 3)
) -> tuple[list[tuple[str, int, bool]], int]:
    """The sites (path, line, certain) of a range's target as a command finds them (Box.open
    unless told), and how many using files it classified (not found kept)."""

    def work(engine: Engine, _: Settings) -> tuple[list[tuple[str, int, bool]], int]:
        name, start, end = target
        analysis = engine.analyze(str(root / "shop" / name), start, end)
        sites = [(s.path, s.line, s.certain) for s in analysis.callers]
        return sites, engine.resolver.verdicts.classified

    return answered(None, str(root), work)


def test_the_next_command_classifies_nothing_again(shop: Path) -> None:
    first, classified = _sites(shop)  # on the stored listing: its verdicts kept
    assert ("shop/use.py", 5, True) in first and classified > 0
    assert _sites(shop) == (first, 0)


def test_verdicts_of_a_using_file_edited_since_are_not_read(shop: Path) -> None:
    assert ("shop/use.py", 5, True) in _sites(shop)[0]  # kept on this listing
    _edit(shop / "shop" / "use.py", USE + "\n\ndef again():\n    return make().open()\n")
    _sites(shop)  # the check fails: answered on a new listing, stored
    sites, _ = _sites(shop)  # on that listing: the old verdicts are another listing's
    assert ("shop/use.py", 9, True) in sites


def test_verdicts_are_not_read_when_the_shape_they_read_moved(shop: Path) -> None:
    """use.py is as it was; what `make()` returns (make.py's shape) is not."""
    assert ("shop/use.py", 5, True) in _sites(shop)[0]  # kept on this listing
    _edit(shop / "shop" / "make.py", MAKE.format(kind="Crate"))
    _sites(shop)
    sites, _ = _sites(shop)
    assert not any(path == "shop/use.py" and certain for path, _, certain in sites)


def test_past_the_cap_only_the_last_command_s_verdicts_are_written(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is read whole by every command: past `SITES_MAX` sites, what the last command
    worked out replaces what it read."""
    monkeypatch.setattr(kept, "SITES_MAX", 2)
    assert len(_sites(shop)[0]) == 1  # Box.open: 1 site, written
    made, classified = _sites(shop, ("make.py", 4, 5))  # make: its import and call
    assert len(made) == 2 and classified > 0
    assert _sites(shop, ("make.py", 4, 5)) == (made, 0)  # the last command's: kept
    assert _sites(shop)[1] > 0  # Box.open's were dropped to stay within the cap


def test_verdicts_worked_out_by_other_code_are_not_read(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An analysis module edited (or scopewise upgraded) since: the verdicts it worked out
    are another code's, worked out again."""
    first, classified = _sites(shop)
    assert classified > 0
    monkeypatch.setattr(kept, "_code", lambda: "another analysis")
    assert _sites(shop) == (first, classified)


BAG = """\
class Bag:
    def add(self, item):
        self.items = [item]
        return self
"""
USER = """\
from shop.bag import Bag


def fill_{n}(thing):
    b = Bag()
    b.add(thing)
    b.add(thing + 1)
    return b
"""


def _context_of_add(root: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int, int]:
    """`context` of Bag.add as a command answers it (budget 300: the site list and a few
    callers fit, the rest is dropped), with how many stored file indexes it loaded and
    how many texts it read from disk."""
    from scopewise.analysis import sources

    reads = [0]
    real = sources.read_regular

    def counted(path: str) -> tuple[bytes, os.stat_result]:
        reads[0] += 1
        return real(path)

    monkeypatch.setattr(sources, "read_regular", counted)

    def work(engine: Engine, _: Settings) -> tuple[str, int]:
        ctx = engine.context(str(root / "shop" / "bag.py"), 2, 4, 300)
        return ctx.render() + "\n" + repr(ctx.to_dict()), engine.workspace.files.loads

    text, loads = answered(None, str(root), work)
    return text, loads, reads[0]


@pytest.fixture
def bag(tmp_path: Path) -> Path:
    """Bag.add, used in 40 files."""
    users = {f"user{n:02}.py": USER.format(n=n) for n in range(40)}
    root = _shop(tmp_path, {"bag.py": BAG, **users})
    _sites(root, ("bag.py", 2, 4))  # the index built, its listing stored
    return root


def test_a_wide_name_s_using_files_are_not_loaded_or_read_again(
    bag: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first command loads and reads each using file (its callers' names and body
    costs, the cost of listing its sites); the next one on the same listing answers the
    same context, the same manifest, from what the first one left — loading and reading
    only the files its context shows."""
    first, loads, reads = _context_of_add(bag, monkeypatch)
    assert "dropped: budget" in first and loads >= 40 and reads >= 40
    again, loads_again, reads_again = _context_of_add(bag, monkeypatch)
    assert again == first
    assert loads_again <= 5 and reads_again <= 5


def test_past_the_caps_no_line_costs_or_callers_are_written(
    bag: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command reads the file whole: past the caps even with this command's alone,
    the next one loads and reads the using files again, and answers the same."""
    monkeypatch.setattr(kept, "LINES_MAX", 10)
    monkeypatch.setattr(kept, "CALLERS_MAX", 10)
    first, loads, reads = _context_of_add(bag, monkeypatch)
    assert _context_of_add(bag, monkeypatch) == (first, loads, reads)


def test_a_method_s_overrides_are_not_looked_for_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A JavaScript method whose class 12 others extend: its symbol (the method and the
    methods overriding it) is looked for across every subclass's file by the first command;
    the next one on the same listing takes it as the first left it, and finds the same."""
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / ".scopewise.toml").write_text("", encoding="utf-8")
    base = "export class Node {\n  add(child) {\n    this.kids = [child];\n  }\n}\n"
    (root / "src" / "node.js").write_text(base, encoding="utf-8")
    for n in range(12):
        body = "  add(child) {\n    super.add(child);\n  }\n" if n == 0 else ""
        text = f"import {{ Node }} from './node.js';\n\nexport class Leaf{n} extends Node {{\n"
        (root / "src" / f"leaf{n:02}.js").write_text(text + body + "}\n", encoding="utf-8")
    age(root)

    def sites(engine: Engine, _: Settings) -> tuple[list[tuple[str, int, bool]], int]:
        analysis = engine.analyze(str(root / "src" / "node.js"), 2, 4)
        found = [(s.path, s.line, s.certain) for s in analysis.callers]
        return found, engine.workspace.files.loads

    answered(None, str(root), sites)  # the index built, its listing stored
    first, loads = answered(None, str(root), sites)
    assert ("src/leaf00.js", 3, True) in first and loads >= 12  # Leaf0's override
    again, loads_again = answered(None, str(root), sites)
    assert again == first and loads_again <= 2
