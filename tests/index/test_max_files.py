"""Past `max_files`: the user's own code is kept first (vendored, generated and test-data
folders go first, the open files' folders last), and what was left out is said with how to
change it: in `scopewise index` (text and --json) and in a message from the server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from scopewise.index.files import left_out, list_files
from scopewise.settings import FileSettings

OWN = ["app/api.py", "app/models.py", "lib/util.py", "zeta/core.py"]
THEIRS = [
    "vendor/requests/api.py", "third_party/six.py", "build/out.py", "src/gen/types.py",
    "proto/user_pb2.py", "pkg/testdata/sample.py", "tests/fixtures/case.py",
]  # fmt: skip


def workspace(root: Path) -> Path:
    for rel in OWN + THEIRS:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("def f():\n    return 1\n")
    (root / "pyproject.toml").write_text("[project]\nname = 'w'\n")
    return root


def test_own_code_is_kept_and_vendored_generated_test_data_go_first(tmp_path: Path) -> None:
    root = workspace(tmp_path / "w")
    listing = list_files(root, FileSettings(max_files=len(OWN)))
    # alphabetically, the old limit kept app/, build/, lib/, pkg/ and dropped zeta/
    assert sorted(listing.files) == sorted(OWN)
    reasons = {s.path: s.reason for s in listing.skipped}
    assert reasons["vendor/requests/api.py"].endswith("vendored, left out first")
    assert reasons["proto/user_pb2.py"].endswith("generated, left out first")
    assert reasons["pkg/testdata/sample.py"].endswith("test data, left out first")
    assert set(listing.stats) == set(listing.files)


def test_the_open_files_folders_are_left_out_last(tmp_path: Path) -> None:
    root = workspace(tmp_path / "w")
    listing = list_files(root, FileSettings(max_files=3), keep=["zeta/core.py", "build/out.py"])
    assert {"zeta/core.py", "build/out.py"} <= set(listing.files)
    assert len(listing.files) == 3 and "vendor/requests/api.py" not in listing.files


def test_what_was_left_out_by_folder_and_how_to_change_it(tmp_path: Path) -> None:
    root = workspace(tmp_path / "w")
    for i in range(3):
        (root / "vendor" / f"m{i}.py").write_text("x = 1\n")
    listing = list_files(root, FileSettings(max_files=len(OWN)))
    lo = left_out(listing.skipped, len(OWN))
    assert lo is not None and lo.count == len(THEIRS) + 3
    assert lo.folders[0] == ("vendor/", 4)
    assert ("proto/", 1) in lo.folders and ("pkg/testdata/", 1) in lo.folders
    text = lo.message()
    assert "Left out 10 files past max_files (4)" in text
    assert "vendor/ (4)" in text and "max_files" in text and ".scopewiseignore" in text
    assert left_out(list_files(root).skipped, 50_000) is None


def test_index_says_what_was_left_out(tmp_path: Path) -> None:
    root = workspace(tmp_path / "w")
    (root / ".scopewise.toml").write_text(f"max_files = {len(OWN)}\n")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "scopewise.cli", "index", str(root), *args],
            capture_output=True, text=True, timeout=120, env=os.environ.copy(),
        )  # fmt: skip

    data = json.loads(run("--json").stdout)
    assert data["files"] == len(OWN)
    lo = data["left_out"]
    assert lo["count"] == len(THEIRS) and lo["max_files"] == len(OWN)
    assert {"folder": "vendor/", "files": 1} in lo["folders"]
    assert "max_files" in lo["how"] and ".scopewiseignore" in lo["how"]
    out = run()
    assert out.returncode == 0
    assert "Left out 7 files past max_files (4)" in out.stderr
