"""`--apply` writes every file or none (issue #11, point 3), and CRLF files apply and stay
CRLF (point 10).

A full disk (a real 16 KiB tmpfs, and a monkeypatched os.write), a read-only file, a folder
that may not be written and a rename that fails half way all leave every file byte-identical,
with one line and exit status 2."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fakeapi import FakeAPI, Reply
from scopewise.actions.edits import FileChange, Replacement
from scopewise.cli.actions import _file_write
from scopewise.cli.diskwrite import FileWrite, WriteError, write_all

A = "from app.b import helper\n\n\ndef main() -> int:\n    return helper(2)\n"
B = "def helper(x: int) -> int:\n    return x * 2\n"
# main() in a.py uses helper() from b.py: the action shows both files
EDIT_BOTH = [
    {"path": "app/a.py", "old_text": "return helper(2)", "new_text": "return helper(3)"},
    {"path": "app/b.py", "old_text": "return x * 2", "new_text": "return x * 4"},
]


def make_ws(root: Path, a: str = A, b: str = B, newline: str = "\n") -> Path:
    (root / "app").mkdir(parents=True, exist_ok=True)
    (root / "app/a.py").write_bytes(a.replace("\n", newline).encode())
    (root / "app/b.py").write_bytes(b.replace("\n", newline).encode())
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for dirpath, dirs, names in os.walk(root):
        for name in names + [d + "/" for d in dirs]:
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            out[rel] = b"" if name.endswith("/") else full.read_bytes()
    return out


def apply(
    ws: Path,
    api: FakeAPI,
    edits: list[dict[str, str]],
    prefix: tuple[str, ...] = (),
    where: str = "app/a.py:4-5",
) -> subprocess.CompletedProcess[str]:
    """`scopewise refactor WHERE --apply` with the fake model answering `edits`."""
    api.push(Reply(text=json.dumps({"summary": "done", "edits": edits})))
    env = {**os.environ, "ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": "sk-test"}
    return subprocess.run(
        [*prefix, sys.executable, "-m", "scopewise.cli", "refactor", where,
         "--root", str(ws), "--instruction", "change it", "--apply"],
        cwd=ws, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


def one_line(out: subprocess.CompletedProcess[str]) -> str:
    """The error line: the last of stderr, after the cost line; no traceback."""
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    return out.stderr.strip().splitlines()[-1]


# ---------------------------------------------------------------------------- CRLF (point 10)
def test_a_crlf_file_applies_from_the_cli_and_stays_crlf(tmp_path: Path, fake_api: FakeAPI) -> None:
    ws = make_ws(tmp_path / "ws", newline="\r\n")
    edits = [  # written with LF, as the model sees text; one exact, one whitespace-tolerant
        {"path": "app/a.py", "old_text": "def main() -> int:\n    return helper(2)\n",
         "new_text": "def main() -> int:\n    value = helper(2)\n    return value\n"},
        {"path": "app/b.py", "old_text": "  return x * 2", "new_text": "  return x * 4"},
    ]  # fmt: skip
    out = apply(ws, fake_api, edits)
    assert out.returncode == 0, out.stderr
    assert "applied to 2 file(s)" in out.stderr
    a = (ws / "app/a.py").read_bytes()
    want = A.replace("    return helper(2)\n", "    value = helper(2)\n    return value\n")
    assert a == want.replace("\n", "\r\n").encode()
    assert (ws / "app/b.py").read_bytes() == b"def helper(x: int) -> int:\r\n    return x * 4\r\n"


# ---------------------------------------------------------------------------- full disk
@pytest.fixture
def tiny_disk(small_disk: Callable[[str], Path]) -> Path:
    """A 16 KiB tmpfs (root only), unmounted whatever happens."""
    return small_disk("16k")


def test_a_full_disk_leaves_both_files_byte_identical(tiny_disk: Path, fake_api: FakeAPI) -> None:
    ws = make_ws(tiny_disk)
    before = snapshot(ws)
    big = "".join(f"VALUE_{i} = {i}\n" for i in range(2500))  # ~35 KiB: cannot fit in 16
    edits = [EDIT_BOTH[0], {"path": "app/b.py", "old_text": "return x * 2",
                            "new_text": "return x * 2\n\n\n" + big}]  # fmt: skip
    line = one_line(apply(ws, fake_api, edits))
    assert line == "scopewise: nothing written: no space left on device while writing app/b.py"
    assert snapshot(ws) == before  # a.py untouched too, no temporary file left behind


@pytest.fixture
def files(tmp_path: Path) -> list[FileWrite]:
    """Two existing files and a new one in a new folder."""
    root = make_ws(tmp_path / "ws")
    (root / "app/b.py").chmod(0o640)
    return [
        FileWrite(root / "app/a.py", A.replace("2", "3").encode(), A.encode(), "app/a.py"),
        FileWrite(root / "app/b.py", B.replace("2", "4").encode(), B.encode(), "app/b.py"),
        FileWrite(root / "app/new/c.py", b"C = 1\n", None, "app/new/c.py"),
    ]


def failing(real: Callable[..., Any], nth: int, err: int) -> Callable[..., Any]:
    """`real`, except that call number `nth` raises OSError(err)."""
    calls = 0

    def wrapper(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == nth:
            raise OSError(err, os.strerror(err))
        return real(*args)

    return wrapper


@pytest.mark.parametrize("nth", [1, 2, 3])
def test_enospc_on_the_nth_write_changes_nothing(
    files: list[FileWrite], monkeypatch: pytest.MonkeyPatch, nth: int
) -> None:
    root = files[0].path.parent.parent
    before = snapshot(root)
    monkeypatch.setattr(os, "write", failing(os.write, nth, errno.ENOSPC))
    with pytest.raises(WriteError) as caught:
        write_all(files)
    label = files[nth - 1].label
    assert str(caught.value) == f"nothing written: no space left on device while writing {label}"
    assert snapshot(root) == before  # no temporary file, no new folder


@pytest.mark.parametrize("nth", [2, 3])
def test_a_rename_failing_half_way_rolls_back_the_ones_done(
    files: list[FileWrite], monkeypatch: pytest.MonkeyPatch, nth: int
) -> None:
    root = files[0].path.parent.parent
    before = snapshot(root)
    monkeypatch.setattr(os, "replace", failing(os.replace, nth, errno.EACCES))
    with pytest.raises(WriteError) as caught:
        write_all(files)
    label = files[nth - 1].label
    assert str(caught.value) == f"nothing written: permission denied while replacing {label}"
    assert snapshot(root) == before  # renames before it undone; the new file and folder gone


def test_a_write_keeps_mode_bits_and_survives_short_writes(
    files: list[FileWrite], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real(fd, bytes(data[:3])))
    write_all(files)
    for f in files:
        assert f.path.read_bytes() == f.data
    assert (files[1].path.stat().st_mode & 0o777) == 0o640
    assert (files[2].path.stat().st_mode & 0o777) == 0o666 & ~_umask()
    assert sorted(p.name for p in files[0].path.parent.iterdir()) == ["a.py", "b.py", "new"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_file_changed_meanwhile_is_not_overwritten(files: list[FileWrite]) -> None:
    files[1].path.write_text(B + "# edited by hand\n")
    before = snapshot(files[0].path.parent.parent)
    with pytest.raises(WriteError, match=r"^app/b.py changed meanwhile; nothing written$"):
        write_all(files)
    assert snapshot(files[0].path.parent.parent) == before


def test_a_symlinked_file_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    root = make_ws(tmp_path / "ws")
    (root / "app/link.py").symlink_to("b.py")
    change = FileChange("app/link.py", B, [Replacement(B.index("2"), B.index("2") + 1, "5")])
    write_all([_file_write(root, change)])
    assert (root / "app/link.py").is_symlink()
    assert (root / "app/b.py").read_text() == B.replace("2", "5")


# ---------------------------------------------------------------------------- permissions
def test_a_read_only_file_is_refused_even_as_root(tmp_path: Path, fake_api: FakeAPI) -> None:
    ws = make_ws(tmp_path / "ws")
    (ws / "app/b.py").chmod(0o444)
    before = snapshot(ws)
    assert one_line(apply(ws, fake_api, EDIT_BOTH)) == (
        "scopewise: nothing written: app/b.py is read-only"
    )
    assert snapshot(ws) == before


def test_an_immutable_file_is_refused(tmp_path: Path, fake_api: FakeAPI) -> None:
    ws = make_ws(tmp_path / "ws")
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(ws / "app/b.py")]).returncode:
        pytest.skip("chattr +i is not available here")
    try:
        before = snapshot(ws)
        line = one_line(apply(ws, fake_api, EDIT_BOTH))
        assert line == "scopewise: nothing written: app/b.py is read-only"
        assert snapshot(ws) == before
    finally:
        subprocess.run([chattr, "-i", str(ws / "app/b.py")], check=False)


def test_a_folder_without_write_permission_changes_nothing(
    tmp_path: Path, fake_api: FakeAPI
) -> None:
    ws = make_ws(tmp_path / "ws")
    (ws / "lib").mkdir()
    (ws / "lib/b.py").write_text(B)
    (ws / "app/b.py").unlink()
    a = A.replace("from app.b import", "from lib.b import")
    (ws / "app/a.py").write_text(a)
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:  # root writes anywhere: run without the capabilities that allow it
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: permissions cannot be tried")
        prefix = (setpriv, "--bounding-set", "-dac_override,-dac_read_search")
    (ws / "lib").chmod(0o555)
    try:
        before = snapshot(ws)
        edits = [EDIT_BOTH[0], {**EDIT_BOTH[1], "path": "lib/b.py"}]
        line = one_line(apply(ws, fake_api, edits, prefix))
        assert line == "scopewise: nothing written: permission denied while writing lib/b.py"
        assert snapshot(ws) == before
    finally:
        (ws / "lib").chmod(0o755)


def test_a_read_only_file_system_changes_nothing(tmp_path: Path, fake_api: FakeAPI) -> None:
    """The second file lives on a read-only bind mount (root only)."""
    ws = make_ws(tmp_path / "ws")
    (ws / "lib").mkdir()
    (ws / "lib/b.py").write_text(B)
    (ws / "app/a.py").write_text(A.replace("from app.b import", "from lib.b import"))
    lib = str(ws / "lib")
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root")
    if subprocess.run(["mount", "--bind", lib, lib], capture_output=True).returncode:
        pytest.skip("cannot bind-mount here")
    try:
        if subprocess.run(["mount", "-o", "remount,ro,bind", lib], capture_output=True).returncode:
            pytest.skip("cannot remount read-only here")
        before = snapshot(ws)
        edits = [EDIT_BOTH[0], {**EDIT_BOTH[1], "path": "lib/b.py"}]
        line = one_line(apply(ws, fake_api, edits))
        assert line in (
            "scopewise: nothing written: lib/b.py is read-only",
            "scopewise: nothing written: read-only file system while writing lib/b.py",
        )
        assert snapshot(ws) == before
    finally:
        subprocess.run(["umount", "-l", lib], check=False)
