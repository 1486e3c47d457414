"""Files that are not what their names say: FIFOs, folders named like code, dangling links,
links out of the workspace, unreadable files. Indexing passes them over with a reason and
never blocks; an edit aimed at one is refused with a clear message."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scopewise.actions.edits import EditError, read_for_edit
from scopewise.index.files import read_regular

OUTSIDE_SECRET = "OUTSIDE_THE_WORKSPACE_7d1f"


def cli(root: Path, *args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """`scopewise ...` in a subprocess with a timeout: a read that blocks fails the test
    instead of hanging it."""
    return subprocess.run(
        [*prefix, sys.executable, "-m", "scopewise.cli", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def make_oddities(root: Path, outside: Path) -> None:
    pkg = root / "pkg"
    pkg.mkdir()
    (pkg / "ok.py").write_text("from pkg.other import helper\n\n\ndef ok():\n    return helper()\n")
    (pkg / "other.py").write_text("def helper():\n    return 1\n")
    os.mkfifo(pkg / "pipe.py")  # reading it would block until a writer came
    (pkg / "folder.py").mkdir()
    (pkg / "dangling.py").symlink_to(root / "nowhere.py")
    (pkg / "alias.py").symlink_to(pkg / "other.py")  # inside: fine
    outside.write_text(f"def helper():\n    return '{OUTSIDE_SECRET}'\n")
    (pkg / "escape.py").symlink_to(outside)


@pytest.mark.parametrize("git", [False, True], ids=["folder", "git work tree"])
def test_odd_files_are_passed_over_and_nothing_blocks(tmp_path: Path, git: bool) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / ".scopewise.toml").write_text("")  # the root marker (else pkg/ is the workspace)
    make_oddities(root, tmp_path / "outside.py")
    if git:
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)  # git skips the FIFO
    done = cli(root, "index", "--json")
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout)
    skipped = {s["path"]: s["reason"] for s in stats["skipped"]}
    expected = 3 if git else 2  # git lists links (the inside one is indexed); the walk does not
    assert stats["files"] == expected, stats
    if git:
        assert skipped["pkg/escape.py"] == "a symlink to outside the workspace"
        assert skipped["pkg/dangling.py"].startswith("unreadable")
    assert "pkg/pipe.py" not in skipped or "regular" in skipped["pkg/pipe.py"]

    context = cli(root, "context", "pkg/ok.py:4-5")
    assert context.returncode == 0, context.stderr
    assert OUTSIDE_SECRET not in context.stdout  # the link out was never read
    assert "def helper():\n    return 1\n" in context.stdout  # the real helper is there
    odd_files = {
        "pkg/pipe.py": "not a regular file",
        "pkg/folder.py": "not a regular file",
        "pkg/missing.py": "no such file",
    }
    for odd, says in odd_files.items():
        asked = cli(root, "context", f"{odd}:1-1")
        assert asked.returncode == 2 and asked.stderr.strip() == f"scopewise: {odd}: {says}"


def test_reading_a_fifo_raises_instead_of_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    with pytest.raises(OSError, match="not a regular file"):
        read_regular(tmp_path / "pipe.py")
    (tmp_path / "big.py").write_bytes(b"x" * 100)
    data, st = read_regular(tmp_path / "big.py", 10)
    assert data == b"x" * 10 and st.st_size == 100


def test_edit_targets_that_are_not_plain_workspace_files_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    make_oddities(root, tmp_path / "outside.py")
    (root / ".git").mkdir()
    (root / ".git" / "config.py").write_text("x = 1\n")
    (root / "latin1.py").write_bytes("name = 'caf\xe9'\n".encode("latin-1"))
    (root / ".env").write_text("KEY=1\n")
    refused = {
        "pkg/pipe.py": "cannot be read: not a regular file",
        "pkg/folder.py": "cannot be read",
        "pkg/escape.py": "leads outside the workspace",
        ".git/config.py": "inside .git/",
        "node_modules/x/index.js": "inside node_modules/",
        "latin1.py": "not UTF-8",
        ".env": "secrets file",
    }
    for rel, words in refused.items():
        with pytest.raises(EditError, match=words):
            read_for_edit(root, rel)
    assert read_for_edit(root, "pkg/alias.py") == "def helper():\n    return 1\n"
    assert read_for_edit(root, "pkg/new_module.py") is None  # may be created


@pytest.mark.parametrize("git", [False, True], ids=["folder", "git work tree"])
def test_unreadable_files_are_skipped_with_the_reason(tmp_path: Path, git: bool) -> None:
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "fine.py").write_text("def fine():\n    return locked()\n")
    if git:
        subprocess.run(["git", "init", "-q", str(root)], check=True)
    locked = root / "pkg" / "locked.py"
    locked.write_text("def locked():\n    return 2\n")
    closed = root / "closed"
    closed.mkdir()
    (closed / "inner.py").write_text("def inner():\n    return 3\n")
    locked.chmod(0o000)
    closed.chmod(0o000)
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:  # root reads anything: run without the capabilities that allow it
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: permissions cannot be tried")
        prefix = (setpriv, "--bounding-set", "-dac_override,-dac_read_search")
    try:
        done = cli(root, "index", "--json", prefix=prefix)
        assert done.returncode == 0, done.stderr
        stats = json.loads(done.stdout)
        assert stats["files"] == 1, stats
        skipped = {s["path"]: s["reason"] for s in stats["skipped"]}
        assert skipped == {"pkg/locked.py": "unreadable: Permission denied"}
        scope = cli(root, "scope", "pkg/fine.py:1-2", prefix=prefix)
        assert scope.returncode == 0, scope.stderr
        assert "1 function" in scope.stdout
    finally:
        closed.chmod(0o755)
        locked.chmod(0o644)
