"""Small CLI inputs that used to go wrong: a NUL byte or line break in a path, a file with no
project marker above it (its own folder is the workspace, and the CLI says so), and
`--budget 0` (an error, not the default). Each is one line on stderr and exit status 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CODE = "def add(a: int, b: int) -> int:\n    return a + b\n"


def cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scopewise.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, env=os.environ.copy(),
    )  # fmt: skip


def one_line_error(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert "Traceback" not in out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "explain", "a\x00b.py:1"],
        ["plan", "explain", "a\nb.py:1"],
        ["scope", "a\rb.py:1"],
        ["context", "app.py:1", "--root", "x\ny"],
        ["context", "--jsonl", "--root", "x\x00y"],
        ["index", "some\nwhere"],
        ["plan", "explain", "app.py:1", "--root", "x\x00y"],
    ],
    ids=["nul", "newline", "cr", "root-newline", "jsonl-root-nul", "index-newline", "root-nul"],
)
def test_control_characters_in_a_path_are_one_line(tmp_path: Path, args: list[str]) -> None:
    # a NUL byte cannot cross exec: the in-process entry point takes the same argv
    if any("\x00" in a for a in args):
        out = in_process(args, tmp_path)
    else:
        (tmp_path / "app.py").write_text(CODE, encoding="utf-8")
        out = cli(args, tmp_path)
    line = one_line_error(out)
    assert "a NUL byte or line break in a path is not accepted" in line
    assert line.startswith("scopewise: ")


def in_process(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The CLI's main() with argv that a shell cannot pass (a NUL byte), in a subprocess."""
    encoded = [a.replace("\x00", "\\x00") for a in args]
    shim = (
        "import sys; from scopewise.cli import main; "
        "sys.exit(main([a.encode().decode('unicode_escape') for a in sys.argv[1:]]))"
    )
    return subprocess.run(
        [sys.executable, "-c", shim, *encoded],
        cwd=cwd, capture_output=True, text=True, timeout=120, env=os.environ.copy(),
    )  # fmt: skip


def test_a_file_without_a_project_marker_is_its_own_workspace(tmp_path: Path) -> None:
    """Run from a wide folder (think: the home folder), a file below it with no marker above
    is indexed with its own folder only, and the CLI says which root it used."""
    home = tmp_path / "home"
    (home / "notes").mkdir(parents=True)
    (home / "notes" / "app.py").write_text(CODE, encoding="utf-8")
    (home / "elsewhere").mkdir()
    (home / "elsewhere" / "other.py").write_text("def add(): ...\n", encoding="utf-8")
    out = cli(["plan", "explain", "notes/app.py:1-2", "--json"], home)
    assert out.returncode == 0, out.stderr
    expected = (
        f"scopewise: no project marker above notes/app.py; using its folder "
        f"{(home / 'notes').resolve()} as the workspace"
    )
    assert out.stderr.splitlines()[0].startswith(expected), out.stderr
    plan = json.loads(out.stdout)
    paths = {s["path"] for s in plan["context"]["manifest"]}
    assert paths and all(not p.startswith(("elsewhere", "notes/")) for p in paths), paths
    assert "app.py" in paths  # relative to notes/, the workspace

    # a marker above the file: that folder, and no note
    (home / "notes" / "pyproject.toml").write_text("[project]\nname='n'\n", encoding="utf-8")
    out = cli(["plan", "explain", "notes/app.py:1-2", "--json"], home)
    assert out.returncode == 0 and "no project marker" not in out.stderr, out.stderr


@pytest.mark.parametrize("budget", ["0", "-5", "10", "lots"])
@pytest.mark.parametrize("command", ["plan", "context"])
def test_a_budget_too_small_is_an_error(tmp_path: Path, budget: str, command: str) -> None:
    (tmp_path / "app.py").write_text(CODE, encoding="utf-8")
    args = ["plan", "explain"] if command == "plan" else ["context"]
    out = cli([*args, "app.py:1-2", f"--budget={budget}"], tmp_path)
    line = one_line_error(out)
    assert "argument --budget" in line and f"scopewise {command}: error:" in line
    assert ("whole number" if budget == "lots" else "at least 64 tokens") in line
    ok = cli([*args, "app.py:1-2", "--budget=64"], tmp_path)
    assert ok.returncode == 0, ok.stderr
