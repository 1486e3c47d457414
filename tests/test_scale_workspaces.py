"""The scale benchmark's workspaces (tests/benchmarks/scale_workspaces.py), built offline: a
source that cannot be had is one line and the workspace is made of the rest, filled to its
size with copies of the standard library; READY and SOURCES say what it holds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
import scale_workspaces as sw

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@localhost"]


def bare_copy(mirrors: Path, name: str, files: dict[str, str]) -> str:
    """A bare git copy of a project at MIRRORS/owner+name/repo; its commit."""
    work = mirrors.parent / "work" / name
    for rel, text in files.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text)
    subprocess.run([*GIT, "-C", str(work), "init", "-q"], check=True)
    subprocess.run([*GIT, "-C", str(work), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(work), "commit", "-qm", "one"], check=True)
    repo = mirrors / name.replace("/", "+") / "repo"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(repo)], check=True)
    return subprocess.run(
        ["git", "-C", str(work), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()


def test_a_workspace_is_built_from_what_can_be_had(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mirrors = tmp_path / "mirror"
    go = {"main.go": "package main\n\nfunc main() { helper() }\n", "util/u.go": "package util\n"}
    commit = bare_copy(mirrors, "acme/gocode", go)
    lib = tmp_path / "lib"
    for name in ("a.py", "b.py", "pkg/c.py"):
        (lib / name).parent.mkdir(parents=True, exist_ok=True)
        (lib / name).write_text("def f():\n    return 1\n")

    def offline(src: sw.Source, dest: Path) -> Path:
        raise OSError("network is unreachable")

    monkeypatch.setattr(sw, "MIRRORS", mirrors)
    monkeypatch.setattr(sw, "stdlib", lambda: lib)
    monkeypatch.setattr(sw, "_download_pypi", offline)
    monkeypatch.setattr(sw, "FILES", {})
    monkeypatch.setattr(sw, "SIZES", {"2k": 8})
    monkeypatch.setattr(
        sw, "SOURCES", (sw.Source("pypi", "absent", "1.0"), sw.Source("git", "acme/gocode", commit))
    )
    root = tmp_path / "scale"
    ws = sw.prepare(root, ["2k"])["2k"]

    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["skipped pypi:absent==1.0: OSError: network is unreachable"]
    tracked = subprocess.run(
        ["git", "-C", str(ws), "ls-files"], check=True, capture_output=True, text=True
    ).stdout.split()
    slug = f"acme-gocode-{commit[:12]}"
    assert {f"{slug}/main.go", f"{slug}/util/u.go", "stdlib/pkg/c.py"} <= set(tracked)
    # 3 stdlib files + 2 Go files < 8: one copy of the stdlib fills it to the size
    assert "stdlib-copy1/a.py" in tracked and "stdlib-copy2/a.py" not in tracked
    assert ".scopewise.toml" in tracked
    ready = (root / "READY").read_text()
    assert f"{ws}  git repo  8 indexable files  (python 6, go 2)" in ready
    sources = (root / "SOURCES").read_text()
    assert "pypi  absent==1.0 (sdist)  [missing]" in sources
    assert f"github.com/acme/gocode at {commit}" in sources
    # a second run reuses what is there: nothing fetched, nothing rebuilt
    monkeypatch.setattr(sw, "MIRRORS", tmp_path / "gone")
    assert sw.prepare(root, ["2k"])["2k"] == ws
    assert "gocode" not in capsys.readouterr().err
