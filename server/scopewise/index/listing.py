"""The stored listing: what a build found (the files indexed with their stat and entry, the
files left out and why) and what it depended on, kept in the index cache and re-used while it
is still true. A warm start then neither asks git nor judges every path: it checks the stored
listing against the disk and parses only the files whose stat moved.

Still true means: every file that decides what is ignored (each `.gitignore` of the walked
folders, `.scopewiseignore`, git's index, exclude file and configs, the global ignore file)
has the stat it had; every folder walked (all but the pruned and ignored ones) has the mtime
it had — a folder's mtime moves when a file in it is added, removed or renamed, or a folder
made; the settings and the open folders are the ones the listing was made under (its key).
Then the listing is the one `list_files` would make again, except for the files whose own
(mtime, size) moved, which are judged again (read, hashed, parsed when their content is new).
A stat taken within `RACY_NS` of the listing is not trusted (a coarse clock could give a
later change the same mtime): it never matches, so the next start looks again (the cache's
own stats follow the same rule)."""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import signal
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import chain, islice, repeat
from pathlib import Path

from scopewise.index.cache import RACY_NS, default_path, read_listing
from scopewise.index.files import ALWAYS_PRUNED, OVER_LIMIT, FileList, Skipped, folder_now, new_file
from scopewise.settings import FileSettings

VERSION = 1
_NEVER = -1  # a stat that matches nothing: looked at again on the next start
_UNREADABLE = "unreadable"  # a reason judged again on every start (a chmod moves no mtime)


def key(root: str, settings: object, keep_folders: Iterable[str]) -> str:
    """The key a listing is stored under: the root, the settings (frozen dataclasses; their
    repr is all they say) and the open files' folders (past `max_files` they go last)."""
    text = "\0".join([str(VERSION), root, repr(settings), *sorted(set(keep_folders))])
    return hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass
class StoredListing:
    source: str
    paths: list[str]  # the files indexed, with their stat when listed and their entry
    mtimes: list[int]
    sizes: list[int]
    entries: list[int]
    skipped: list[tuple[str, str, int, int]]  # path, reason, mtime, size (-2: by its path)
    folders: dict[str, int]
    watched: dict[str, tuple[int, int] | None]
    counts: tuple[int, int, int, dict[str, int]]  # files, symbols, references, languages
    forgotten: int  # the cache's `forgotten()` when written

    def dumps(self) -> bytes:
        return marshal.dumps(
            (
                VERSION, self.source, self.paths, self.mtimes, self.sizes, self.entries,
                self.skipped, self.folders, self.watched, self.counts, self.forgotten,
            )
        )  # fmt: skip

    @classmethod
    def loads(cls, data: bytes) -> StoredListing | None:
        try:
            t = marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            return None
        if not isinstance(t, tuple) or len(t) != 11 or t[0] != VERSION:
            return None
        got = cls(*t[1:])
        return got if got.whole() else None

    def whole(self) -> bool:
        """Whether what was read back has the shape written (a damaged row is ignored: the
        files are listed again)."""
        lists = (self.paths, self.mtimes, self.sizes, self.entries, self.skipped)
        return (
            all(isinstance(x, list) for x in lists)
            and len({len(self.paths), len(self.mtimes), len(self.sizes), len(self.entries)}) == 1
            and isinstance(self.folders, dict)
            and isinstance(self.watched, dict)
            and isinstance(self.counts, tuple)
            and len(self.counts) == 4
            and isinstance(self.forgotten, int)
            and all(map(isinstance, chain(self.mtimes, self.sizes, self.entries), repeat(int)))
        )


def _trusted(mtime_ns: int, started_ns: int) -> int:
    return mtime_ns if mtime_ns < started_ns - RACY_NS else _NEVER


def make(
    listing: FileList,
    started_ns: int,
    stored: Mapping[str, int],
    skipped: Iterable[Skipped],
    counts: tuple[int, int, int, dict[str, int]],
    forgotten: int,
) -> StoredListing:
    """The listing to store after a build: `listing` as made (its stats taken before the
    files were read, `started_ns` before it was made), the entries the files were stored
    as, every file left out and why."""
    paths = sorted(stored)
    stats = [listing.stats[p] for p in paths]
    out = StoredListing(
        listing.source,
        paths,
        [_trusted(m, started_ns) for m, _ in stats],
        [s for _, s in stats],
        [stored[p] for p in paths],
        [],
        {d: _trusted(m, started_ns) for d, m in listing.folders.items()},
        {
            p: None if st is None else (_trusted(st[0], started_ns), st[1])
            for p, st in listing.watched.items()
        },
        counts,
        forgotten,
    )
    for s in skipped:
        st = listing.stats.get(s.path)
        if st is None or s.reason.startswith(_UNREADABLE):
            out.skipped.append((s.path, s.reason, -2, -2))
        else:
            out.skipped.append((s.path, s.reason, _trusted(st[0], started_ns), st[1]))
    return out


@dataclass
class Recheck:
    """A stored listing still true: the files whose stat is as stored (path -> entry), and
    the files to judge again with their stat now (their own stat moved, or they were left
    out by their content or size and that moved); the folders whose mtime moved (files
    added, removed or renamed in them: see `relist`) and their mtime now."""

    unchanged: dict[str, int]
    again: dict[str, tuple[int, int]]
    skipped: list[Skipped] = field(default_factory=list)  # still left out, and why
    moved: dict[str, int] = field(default_factory=dict)
    gone: bool = False  # a file listed before is gone
    judged: dict[str, tuple[int, int]] = field(default_factory=dict)  # new, left out by size


def _same(path: str, stat: tuple[int, int] | None) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return stat is None
    return stat is not None and (st.st_mtime_ns, st.st_size) == stat


MOVED_MAX = 64  # more folders moved than this (a checkout, a build): list everything again


def recheck(root: str, stored: StoredListing) -> Recheck | None:
    """The stored listing checked against the disk (see the module): None when it is no
    longer true, else what is unchanged, what must be judged again and which folders moved."""
    base = root.rstrip("/") + "/"
    if not all(_same(p, st) for p, st in stored.watched.items()):
        return None
    stat = os.stat
    out = Recheck({}, {})
    for folder, mtime in stored.folders.items():
        try:
            now = stat(base + folder if folder else root).st_mtime_ns
        except OSError:
            return None
        if now != mtime:
            out.moved[folder] = now
    if len(out.moved) > MOVED_MAX:
        return None
    unchanged = out.unchanged = dict(zip(stored.paths, stored.entries, strict=True))
    moved = out.moved  # (every file taken as unchanged, the few that are not taken out)
    for path, mtime, size in zip(stored.paths, stored.mtimes, stored.sizes, strict=True):
        try:
            st = stat(base + path)
        except OSError:
            if path.rpartition("/")[0] not in moved:
                return None  # gone, though its folder did not move: list again
            del unchanged[path]  # removed or renamed: `relist` says so
            continue
        if st.st_mtime_ns != mtime or st.st_size != size:
            del unchanged[path]
            out.again[path] = (st.st_mtime_ns, st.st_size)
    return out if _recheck_skipped(base, stored, out) else None


def assumed(stored: StoredListing) -> Recheck | None:
    """What `recheck` finds when nothing moved, without a stat: every file unchanged, every
    file left out still left out (None when a file left out is judged again on every start:
    an unreadable one)."""
    if any(reason.startswith(_UNREADABLE) for _, reason, _, _ in stored.skipped):
        return None
    unchanged = dict(zip(stored.paths, stored.entries, strict=True))
    return Recheck(unchanged, {}, [Skipped(path, reason) for path, reason, _, _ in stored.skipped])


def still(
    root: Path, stored: StoredListing, settings: FileSettings, part: int = 0, parts: int = 1
) -> bool:
    """Whether the listing holds as `assumed` takes it: the same files with the stats it has.
    A folder that moved must list the same files (what moved it was not code: a temporary
    file come and gone, a log, another program's database). With `parts`, only the `part`th
    share of its files and folders is looked at (the listing holds if every share does)."""
    mine = stored if parts == 1 else _share(stored, part, parts)
    out = recheck(str(root), mine)
    if out is not None and out.moved and not relist(root, stored, out, settings):
        return False
    return (
        out is not None
        and not (out.again or out.gone or out.judged)
        and len(out.skipped) == len(mine.skipped)
    )


def _share(stored: StoredListing, part: int, parts: int) -> StoredListing:
    """Every `parts`th file, file left out and folder of a listing from the `part`th; the
    files that decide what is ignored in the first share."""
    return StoredListing(
        stored.source,
        stored.paths[part::parts],
        stored.mtimes[part::parts],
        stored.sizes[part::parts],
        stored.entries[part::parts],
        stored.skipped[part::parts],
        dict(islice(stored.folders.items(), part, None, parts)),
        stored.watched if part == 0 else {},
        stored.counts,
        stored.forgotten,
    )


class Apart:
    """`still` run in child processes while this one works on what the listing says
    (`assumed`): the stat pass, a fifth of a second at 50k files, off the answer's path.
    `holds` says whether the files are as listed; when they are not, the answer worked out
    meanwhile is thrown away. Started once the listing is read (`start`), or before a
    build, while this process imports the analysis (`ahead`: the build then takes the
    listing the check was started on, if the cache still holds that one)."""

    def __init__(
        self, pids: list[int], fd: int, listing: tuple[str, bytes, StoredListing] | None = None
    ) -> None:
        self._pids, self._fd = pids, fd
        self._held: bool | None = None
        self.listing = listing  # (ahead) the key, data and listing checked

    @classmethod
    def start(cls, root: Path, stored: StoredListing, settings: FileSettings) -> Apart | None:
        """The check started — None where a process cannot fork, or while another thread
        runs (a fork copies only this one)."""
        if not _can_fork():
            return None
        return cls(*_forked(root, stored, settings))

    @classmethod
    def ahead(cls, root: Path, settings: FileSettings, db: Path | None = None) -> Apart | None:
        """The check of the listing a build of `root` under `settings` (keeping no folders)
        would take, read from the cache file (`db`, else the root's own) and started now:
        this process works on other things meanwhile (its imports) — None where there is no
        such listing, or no fork."""
        if not _can_fork():
            return None
        where = root.resolve()
        lkey = key(str(where), settings, ())
        data = read_listing(db or default_path(where), lkey)
        stored = StoredListing.loads(data) if data is not None else None
        if data is None or stored is None:
            return None
        return cls(*_forked(where, stored, settings), (lkey, data, stored))

    def of(self, lkey: str, data: bytes | None) -> StoredListing | None:
        """The listing this (ahead) check was started on, if it is the one stored under
        `lkey` now (`data`); None, the check stopped, when it is not."""
        started_on, self.listing = self.listing, None  # (its text no longer needed)
        if started_on is not None and started_on[:2] == (lkey, data):
            return started_on[2]
        self.close()
        return None

    def holds(self) -> bool:
        """Whether the listing was true (waits for the check; a check that failed says no)."""
        if self._held is None:
            self._held = self._wait() == b"1" * len(self._pids)
        return self._held

    def close(self) -> None:
        """The check given up (its listing was not taken): the children stopped."""
        if self._held is None:
            for pid in self._pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            self._wait()
            self._held = False

    def _wait(self) -> bytes:
        """What the children said, once they ended (each one's word, then the pipe's end)."""
        said = b""
        try:
            while got := os.read(self._fd, 64):
                said += got
        except OSError:
            said = b""
        finally:
            os.close(self._fd)
            for pid in self._pids:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
        return said


def _can_fork() -> bool:
    """Whether a check may run in a forked child: not where there is no fork, nor while
    another thread runs (a fork copies only this one, in whatever state the others left)."""
    return hasattr(os, "fork") and threading.active_count() == 1


def _forked(root: Path, stored: StoredListing, settings: FileSettings) -> tuple[list[int], int]:
    """`still` run in two children where there are two cores or more, each on half the
    listing, in one elsewhere; each writes b"1" or b"0" to one pipe and ends (no cleanup of
    this process's state): the children and the pipe's reading end."""
    parts = 2 if _cores() > 1 else 1
    read, write = os.pipe()
    pids = []
    for part in range(parts):
        pid = os.fork()
        if pid == 0:
            try:
                os.close(read)
                os.write(write, b"1" if still(root, stored, settings, part, parts) else b"0")
            finally:
                os._exit(0)
        pids.append(pid)
    os.close(write)
    return pids, read


def fingerprint(key: str, data: bytes | None) -> str | None:
    """What names one stored listing (the same files with the same contents: its entries)."""
    return None if data is None else hashlib.sha1(key.encode() + b"\0" + data).hexdigest()


def _cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on every system
        return os.cpu_count() or 1


def _recheck_skipped(base: str, stored: StoredListing, out: Recheck) -> bool:
    """The files left out: kept while their stat holds, else judged again (False: one is
    gone though its folder did not move)."""
    for path, reason, mtime, size in stored.skipped:
        unreadable = reason.startswith(_UNREADABLE)
        if mtime == -2 and not unreadable:
            out.skipped.append(Skipped(path, reason))
            continue
        try:
            st = os.stat(base + path)
        except OSError:
            if path.rpartition("/")[0] in out.moved:
                continue
            if not unreadable:
                return False
            out.skipped.append(Skipped(path, reason))  # still (a dangling link, say)
            continue
        if (st.st_mtime_ns, st.st_size) == (mtime, size):
            out.skipped.append(Skipped(path, reason))
        else:
            out.again[path] = (st.st_mtime_ns, st.st_size)
    return True


def relist(root: Path, stored: StoredListing, out: Recheck, settings: FileSettings) -> bool:
    """Bring `out` in line with the folders that moved: files gone are dropped, files new
    are judged as `list_files` would (git or the walk's ignore files, then `judge`). False
    when only a whole listing can say (a new or gone subfolder, a new .gitignore, a tracked
    file gone, git cannot say, or a change past `max_files`, where what is kept depends on
    every file)."""
    known: dict[str, set[str]] = {d: set() for d in out.moved}
    for path in [*stored.paths, *(s[0] for s in stored.skipped)]:
        folder = path.rpartition("/")[0]
        if folder in known:
            known[folder].add(path)
    changed = False
    for folder in out.moved:
        here = _folder_again(root, stored, folder, out)
        if here is None:
            return False
        gone, new = known[folder] - here, sorted(here - known[folder])
        if gone and stored.source == "git":
            return False  # git still lists a tracked file gone from the disk (unreadable)
        for path in gone:
            out.unchanged.pop(path, None)
            out.again.pop(path, None)
        out.skipped = [s for s in out.skipped if s.path not in gone]
        out.gone = out.gone or bool(gone)
        try:
            added = [_judge_new(root, path, settings, stored.source == "git", out) for path in new]
        except OSError:
            return False
        changed = changed or bool(gone) or any(added)
    return not changed or _within(stored, out, settings)


def _folder_again(root: Path, stored: StoredListing, folder: str, out: Recheck) -> set[str] | None:
    """The files in a moved folder now (its new mtime into `out.moved`); None when only a
    whole listing can say: gone, a new subfolder, a new .gitignore."""
    now = folder_now(root, folder, stored.source == "git")
    if now is None:
        return None
    mtime, files, folders = now
    if any(f not in stored.folders and f.rpartition("/")[2] not in ALWAYS_PRUNED for f in folders):
        return None
    ignore = f"{folder}/.gitignore" if folder else ".gitignore"
    if ignore in files and str(root / ignore) not in stored.watched:
        return None  # what it ignores below is anyone's guess
    out.moved[folder] = mtime  # taken before its files were read
    return set(files)


def _judge_new(root: Path, path: str, settings: FileSettings, git: bool, out: Recheck) -> bool:
    """A file new in a moved folder into `out`: listed, or left out and why. Whether the
    listing has it at all."""
    verdict = new_file(root, path, settings, git)
    if verdict is None:
        return False
    why, st = verdict
    if why is not None:
        out.skipped.append(why)
        if st is not None:
            out.judged[path] = st
    elif st is not None:
        out.again[path] = st
    return why is not None or st is not None


def _within(stored: StoredListing, out: Recheck, settings: FileSettings) -> bool:
    """Whether `max_files` keeps what the moved folders changed as it is: not when the
    listing was past it (a file added or gone changes which others are kept), nor near it
    (counted high: every file left out as if it were listed)."""
    if any(reason.startswith(OVER_LIMIT) for _, reason, _, _ in stored.skipped):
        return False
    return len(out.unchanged) + len(out.again) + len(out.skipped) <= settings.max_files
