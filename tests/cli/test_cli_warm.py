"""The `scopewise` command on a warm cache: the stored listing is taken as true while a child
process checks it against the disk (index/listing.py's `Apart`, cli/args.py's `answered`);
an answer is given only when the check holds. A file edited in place, added or deleted since
the last run is in the next answer. Files are dated an hour back first, as a workspace on
disk is (a stat within seconds of a listing is never trusted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aged import age
from scopewise.cli import args as cli_args
from scopewise.index import listing, workspace

TARGET = "shop/pricing.py:29-32"  # apply_discount: 7 uses in 3 files (cart.py's 3 among them)


def _scope(root: Path) -> dict[str, object]:
    return _answer(root, "-m", "scopewise.cli", "scope", TARGET, "--json")


def _answer(root: Path, *args: str) -> dict[str, object]:
    """The JSON a Python run with `args` prints, in `root` (it must succeed)."""
    out = subprocess.run(
        [sys.executable, *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert out.returncode == 0, out.stderr
    got: dict[str, object] = json.loads(out.stdout)
    return got


@pytest.fixture
def warm(poly: Path) -> Path:
    age(poly)
    first = _scope(poly)  # builds the cache and stores the listing
    assert (first["fan_in"], first["fan_in_files"]) == (7, 3)
    assert _scope(poly) == first  # warm, nothing moved: the same answer
    return poly


def test_a_file_edited_in_place_is_in_the_next_answer(warm: Path) -> None:
    cart = warm / "shop" / "cart.py"
    folder_mtime = (warm / "shop").stat().st_mtime_ns
    with cart.open("a", encoding="utf-8") as fh:  # in place: the folder's mtime stays
        fh.write("\n\ndef more(p):\n    return apply_discount(p, 0.5)\n")
    assert (warm / "shop").stat().st_mtime_ns == folder_mtime
    assert _scope(warm)["fan_in"] == 8


def test_a_file_added_is_in_the_next_answer(warm: Path) -> None:
    (warm / "shop" / "extra.py").write_text(
        "from shop.pricing import apply_discount\n\n\ndef half(p):\n"
        "    return apply_discount(p, 0.5)\n",
        encoding="utf-8",
    )
    got = _scope(warm)
    assert (got["fan_in"], got["fan_in_files"]) == (9, 4)  # its import line and call


def test_a_file_deleted_is_gone_from_the_next_answer(warm: Path) -> None:
    (warm / "shop" / "cart.py").unlink()
    got = _scope(warm)
    assert (got["fan_in"], got["fan_in_files"]) == (4, 2)


def _engine_root(poly: Path) -> Path:
    age(poly)
    ws = workspace.WorkspaceIndex(poly)
    ws.build(workers=1)  # the stored listing the next start takes as true
    ws.close()
    return poly


def test_a_warm_answer_does_not_wait_for_the_stat_pass(
    poly: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing moved: the answer is worked out once, on the listing as stored, while the
    files are checked apart (here: no stat pass in this process)."""
    root = _engine_root(poly)
    here: list[str] = []
    real = listing.recheck
    monkeypatch.setattr(listing, "recheck", lambda r, s: here.append(r) or real(r, s))
    works: list[int] = []

    def work(engine: object, _: object) -> int:
        works.append(1)
        return len(engine.workspace.paths())  # type: ignore[attr-defined]

    assert cli_args.answered(None, str(root), work) == 15
    assert works == [1] and here == []


def test_an_answer_is_worked_out_again_when_the_check_fails(
    poly: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check says something moved: what was worked out meanwhile is thrown away, its
    error too, and the answer is the one of an index built as usual."""
    root = _engine_root(poly)
    monkeypatch.setattr(listing.Apart, "holds", lambda self: False)
    calls: list[bool] = []

    def work(engine: object, _: object) -> int:
        calls.append(engine.workspace.check is not None)  # type: ignore[attr-defined]
        if len(calls) == 1:
            raise ValueError("worked out on files that moved")
        return 7

    assert cli_args.answered(None, str(root), work) == 7
    assert calls == [True, False]


_ORDER = """
import sys
from scopewise.index import listing
seen = []
real = listing._forked
def forked(*args):
    seen.append("scopewise.analysis.engine" in sys.modules)
    return real(*args)
listing._forked = forked
from scopewise.cli.main import main
code = main([*sys.argv[2:], sys.argv[1], "--json"])
print("forked with the analysis imported:", seen, file=sys.stderr)
sys.exit(code if seen == [False] else 3)
"""


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (["scope"], {"fan_in": 7}),
        (["context"], {"start_line": 29}),
        (["plan", "refactor"], {"action": "refactor"}),
    ],
)
def test_a_warm_command_checks_the_files_while_it_imports_the_analysis(
    warm: Path, command: list[str], says: dict[str, object]
) -> None:
    """The check of the stored listing (a stat of every file: a fifth of a second at 50k
    files) starts before the command imports the analysis (about as long), so neither waits
    for the other: a module the command imports first must not pull the analysis in."""
    got = _answer(warm, "-c", _ORDER, TARGET, *command)  # exits 3 when forked too late
    assert {k: got[k] for k in says} == says
