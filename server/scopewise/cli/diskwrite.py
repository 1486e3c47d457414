"""All-or-nothing writes of several files (the CLI's `--apply`).

Every file is first staged as a temporary file in its own folder (same mode bits as the file
it replaces), written and fsynced; only when every file is staged are they renamed over the
originals one by one with `os.replace`. Each original is kept aside first (a hard link in the
same folder, or its bytes in memory where the file system has no hard links), so a failure at
rename k puts renames 0..k-1 back; files and folders the write created are removed. The
folders are fsynced at the end. Any failure — a full disk, a read-only file or file system, a
permission error, a file that changed since the edit was made — leaves every file
byte-identical and raises WriteError with one line saying what and where."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scopewise.index.files import read_regular

_TMP_SUFFIX = ".scopewise-tmp"
_OLD_SUFFIX = ".scopewise-old"
_WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


class WriteError(Exception):
    """Nothing was written; the message says why, in one line."""


@dataclass(frozen=True)
class FileWrite:
    """One file to write: `path` is where (symlinks already resolved by the caller), `data`
    its new bytes, `expect` the bytes it must still hold (None: it must not exist yet), and
    `label` how messages name it (the workspace-relative path)."""

    path: Path
    data: bytes
    expect: bytes | None
    label: str


@dataclass
class _Staged:
    write: FileWrite
    tmp: str
    mode: int | None  # the original's mode bits; None for a new file
    backup: str | None = None  # a hard link to the original, while the renames run
    renamed: bool = False


def _reason(exc: OSError) -> str:
    text = exc.strerror or os.strerror(exc.errno or 0) or str(exc)
    return text[:1].lower() + text[1:]


def _check(w: FileWrite) -> os.stat_result | None:
    """The current state of a destination; WriteError when it moved or may not be written."""
    try:
        data, st = read_regular(w.path)
    except FileNotFoundError:
        if w.expect is not None:
            raise WriteError(f"{w.label} changed meanwhile (it is gone); nothing written") from None
        return None
    except OSError as exc:
        raise WriteError(f"nothing written: {_reason(exc)} while reading {w.label}") from None
    if w.expect is None:
        raise WriteError(f"{w.label} appeared meanwhile; nothing written")
    if data != w.expect:
        raise WriteError(f"{w.label} changed meanwhile; nothing written")
    if not st.st_mode & _WRITE_BITS or not os.access(w.path, os.W_OK):
        raise WriteError(f"nothing written: {w.label} is read-only")
    return st


def _makedirs(folder: Path, made: list[str]) -> None:
    """Create `folder` and its missing parents, remembering each one created (outermost
    first) so a rollback can remove them."""
    missing: list[Path] = []
    at = folder
    while not at.exists():
        missing.append(at)
        at = at.parent
    for d in reversed(missing):
        os.mkdir(d)
        made.append(str(d))


def _tmp_name(dest: Path, suffix: str) -> str:
    return str(dest.parent / f".{dest.name}.{secrets.token_hex(4)}{suffix}")


def _stage(w: FileWrite, st: os.stat_result | None) -> _Staged:
    """Write the new bytes to a temporary file next to the destination and fsync it."""
    tmp = _tmp_name(w.path, _TMP_SUFFIX)
    mode = stat.S_IMODE(st.st_mode) if st is not None else None
    # a new file gets the usual mode through the umask; a replacement gets the original's
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    fd = os.open(tmp, flags, 0o600 if st is not None else 0o666)
    staged = _Staged(w, tmp, mode)
    try:
        if st is not None:
            os.fchmod(fd, stat.S_IMODE(st.st_mode))
            with contextlib.suppress(OSError):  # keep the owner where we may (root)
                if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
                    os.fchown(fd, st.st_uid, st.st_gid)
        view = memoryview(w.data)
        while view:
            n = os.write(fd, view)
            if n <= 0:
                raise OSError(errno.EIO, "short write", tmp)
            view = view[n:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.close(fd)
    return staged


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the renames are still atomic
    finally:
        os.close(fd)


def _put_back(s: _Staged) -> None:
    """Undo one rename: the original comes back (from its hard link, else from its bytes),
    or a file the write created goes away."""
    w = s.write
    if w.expect is None:
        os.unlink(w.path)
    elif s.backup is not None:
        os.replace(s.backup, w.path)
        s.backup = None
    else:
        again = _stage(FileWrite(w.path, w.expect, None, w.label), None)
        if s.mode is not None:
            os.chmod(again.tmp, s.mode)
        os.replace(again.tmp, w.path)


def _cleanup(staged: list[_Staged], made: list[str]) -> None:
    for s in staged:
        for leftover in (s.tmp, s.backup):
            if leftover is not None:
                with contextlib.suppress(OSError):
                    os.unlink(leftover)
    for d in reversed(made):
        with contextlib.suppress(OSError):
            os.rmdir(d)


def write_all(files: Sequence[FileWrite]) -> None:
    """Write every file or none (see the module docstring). Raises WriteError."""
    seen: dict[str, str] = {}
    for w in files:
        real = os.path.realpath(w.path)
        if real in seen:
            raise WriteError(f"{seen[real]} and {w.label} are the same file; nothing written")
        seen[real] = w.label
    states = [_check(w) for w in files]
    staged: list[_Staged] = []
    made: list[str] = []
    current = files[0].label if files else ""
    try:
        for w, st in zip(files, states, strict=True):
            current = w.label
            _makedirs(w.path.parent, made)
            staged.append(_stage(w, st))
    except OSError as exc:
        _cleanup(staged, made)
        raise WriteError(f"nothing written: {_reason(exc)} while writing {current}") from None
    try:
        for s in staged:
            current = s.write.label
            if s.write.expect is not None:
                backup = _tmp_name(s.write.path, _OLD_SUFFIX)
                try:
                    os.link(s.write.path, backup)
                    s.backup = backup
                except OSError:
                    s.backup = None  # no hard links here: the bytes in memory are the copy
            os.replace(s.tmp, s.write.path)
            s.renamed = True
    except OSError as exc:
        failed = []
        for s in reversed(staged):
            if s.renamed:
                try:
                    _put_back(s)
                    s.renamed = False
                except OSError as undo:
                    failed.append(f"{s.write.label} ({_reason(undo)})")
        _cleanup(staged, made if not failed else [])
        line = f"nothing written: {_reason(exc)} while replacing {current}"
        if failed:
            line = f"{_reason(exc)} while replacing {current}; could not restore " + ", ".join(
                failed
            )
        raise WriteError(line) from None
    for folder in sorted({str(s.write.path.parent) for s in staged}):
        _fsync_dir(folder)
    for d in made:
        _fsync_dir(str(Path(d).parent))
    for s in staged:
        if s.backup is not None:
            with contextlib.suppress(OSError):
                os.unlink(s.backup)
