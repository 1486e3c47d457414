"""Which files of a workspace are indexed, and which are left out (with the reason).

In a git work tree the list is git's own (`git ls-files`: tracked plus untracked files that
are not ignored); elsewhere `.gitignore` files are applied with pathspec. A `.scopewiseignore`
(gitignore syntax) and the configured excludes apply on top of both. Key and credential data
files are never indexed: judged by the file's own name and, for a symlink, its target's name.
"""

from __future__ import annotations

import errno
import fnmatch
import logging
import os
import re
import stat
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scopewise.index import languages
from scopewise.settings import FileSettings

if TYPE_CHECKING:
    import pathspec  # imported when a listing is made: a warm start re-uses a stored one

log = logging.getLogger(__name__)

ALWAYS_PRUNED = frozenset(
    {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox",
     ".mypy_cache", ".ruff_cache", ".pytest_cache", "site-packages", ".eggs"}
)  # fmt: skip
# Key and credential DATA files: never read, never sent, never edited, whatever the ignore
# files say (README: Secrets and privacy). Code whose name merely mentions secrets or
# credentials (`secrets.go`, `credentials.py`, a `credentials/` package) is not here: it is
# indexed like any code and its values are redacted (`redact.py`).
_DATA = ("json", "yaml", "yml", "toml", "ini", "xml", "env", "cfg", "conf", "txt")
SECRET_PATTERNS = (
    ".env", ".env.*", "*.env", ".envrc",
    "*.pem", "*.key", "*.p12", "*.pfx", "*.p8", "*.ppk", "*.jks", "*.keystore", "*.kdbx",
    "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*",
    ".netrc", "_netrc", ".pypirc", ".npmrc", ".pgpass", ".htpasswd", ".git-credentials",
    "credentials", "secrets", "*.secret", "*.secrets",
    *(f"{stem}.{ext}" for stem in ("credentials", "secrets", "client_secret*") for ext in _DATA),
)  # fmt: skip


_TOO_LARGE = "too large"


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass
class FileList:
    root: Path
    files: list[str] = field(default_factory=list)  # relative POSIX paths of indexable files
    skipped: list[Skipped] = field(default_factory=list)
    source: str = "walk"  # "git" or "walk"
    # path -> (mtime_ns, size) of every file judged by its content or size
    stats: dict[str, tuple[int, int]] = field(default_factory=dict)
    # what the listing depends on besides the files (index/listing.py), stat'ed before it was
    # made: every folder not pruned or ignored (a folder's mtime moves when a file in it is
    # added, removed or renamed) and the files that decide what is ignored (None: absent)
    folders: dict[str, int] = field(default_factory=dict)
    watched: dict[str, tuple[int, int] | None] = field(default_factory=dict)


def read_regular(path: str | Path, limit: int = -1) -> tuple[bytes, os.stat_result]:
    """Read up to `limit` bytes of a regular file (all with -1). A FIFO, device or folder
    raises OSError instead of blocking: the file is opened non-blocking and checked with
    fstat before a byte is read, so a path that changed kind since it was listed is safe."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(limit), st
    finally:
        os.close(fd)


def inside(root: Path, rel: str) -> bool:
    """Whether root/rel, symlinks resolved, is still inside root."""
    base = os.path.realpath(root)
    real = os.path.realpath(os.path.join(base, rel))
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def _spec(lines: Iterable[str]) -> pathspec.GitIgnoreSpec:
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(list(lines))


# file names only (case-insensitive): a folder called `credentials/` or `secrets/` is code
SECRETS = re.compile("|".join(fnmatch.translate(p) for p in SECRET_PATTERNS), re.IGNORECASE)


def is_secret_path(rel: str) -> bool:
    """Whether a path's file name is a key or credential data file (the name only; see
    `is_secret_file` for what a symlink points at)."""
    return SECRETS.match(rel.rsplit("/", 1)[-1]) is not None


def is_secret_file(root: Path, rel: str) -> bool:
    """Whether root/rel is a secrets file by its own name or, when it is a symlink, by the
    name of the file it finally points at: a link `config.py -> ../.env` is a secrets file.
    (A linked folder does not change a file's name, so only the last part is followed.)"""
    if is_secret_path(rel):
        return True
    full = os.path.join(root, rel)
    return os.path.islink(full) and is_secret_path(os.path.basename(os.path.realpath(full)))


def _read_ignore(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def user_excludes(root: Path, settings: FileSettings) -> pathspec.GitIgnoreSpec:
    return _spec([*_read_ignore(root / ".scopewiseignore"), *settings.exclude])


def is_git_worktree(root: Path) -> bool:
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--is-inside-work-tree"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == "true"


def _git_files(root: Path) -> list[str] | None:
    try:
        out = subprocess.run(
            [
                "git",
                "-C",
                str(root),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    names = out.stdout.decode("utf-8", "surrogateescape").split("\0")
    return sorted({n for n in names if n})


def _walk(root: Path, found: FileList | None = None) -> Iterator[str]:
    """Every file below root that no .gitignore on its way ignores (symlinks not followed);
    each folder visited and .gitignore read go into `found`'s `folders` and `watched`."""
    stack: list[tuple[str, list[tuple[str, pathspec.GitIgnoreSpec]]]] = [("", [])]
    while stack:
        rel_dir, specs = stack.pop()
        abs_dir = root / rel_dir if rel_dir else root
        try:
            if found is not None:  # before its entries are read: a later change moves it
                found.folders[rel_dir] = os.stat(abs_dir).st_mtime_ns
            entries = sorted(os.scandir(abs_dir), key=lambda e: e.name)
        except OSError as exc:  # unreadable: its .gitignore cannot be read either
            log.info("skipped folder %s: %s", rel_dir or ".", exc.strerror)
            continue
        if any(e.name == ".gitignore" for e in entries):
            if found is not None:
                watch(found, abs_dir / ".gitignore")
            specs = [*specs, (rel_dir, _spec(_read_ignore(abs_dir / ".gitignore")))]
        subdirs: list[str] = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = entry.is_file(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if entry.name in ALWAYS_PRUNED or _ignored(specs, rel + "/"):
                    continue
                subdirs.append(rel)
            elif is_file and found is not None and found.source == "git":
                continue  # git lists the files: only the folders are walked
            elif is_file and not _ignored(specs, rel):
                yield rel
        stack.extend((d, specs) for d in reversed(subdirs))


def watch(found: FileList, path: Path) -> None:
    """Record a file the listing depends on: its (mtime_ns, size), None when absent."""
    try:
        st = os.stat(path)
    except OSError:
        found.watched[str(path)] = None
        return
    found.watched[str(path)] = (st.st_mtime_ns, st.st_size)


def _git_paths(root: Path) -> list[Path]:
    """The files besides .gitignores that decide what git lists: its index, its exclude
    file, its config and the user's (core.excludesFile may be set there), the user's
    global ignore file."""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--path-format=absolute",
             "--git-path", "index", "--git-path", "info/exclude", "--git-path", "config"],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
        excludes = subprocess.run(
            ["git", "-C", str(root), "config", "--path", "core.excludesFile"],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return []
    found = [Path(line) for line in out.stdout.splitlines() if line]
    home = Path.home()
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    found += [home / ".gitconfig", xdg / "git" / "config", xdg / "git" / "ignore"]
    if excludes.stdout.strip():
        found.append(Path(excludes.stdout.strip()))
    return found


def _ignored(specs: list[tuple[str, pathspec.GitIgnoreSpec]], rel: str) -> bool:
    for base, spec in specs:
        sub = rel[len(base) + 1 :] if base else rel
        if spec.match_file(sub):
            return True
    return False


def _git_names(root: Path) -> list[str] | None:
    """git's list of the workspace's files, or None where git does not decide: not a work
    tree, or a folder git ignores as a whole (nothing listed: it is walked instead)."""
    names = _git_files(root) if is_git_worktree(root) else None
    return names or None


def listing_source(root: Path) -> str:
    """How `list_files` lists this root: "git" or "walk"."""
    return "git" if _git_names(root.resolve()) else "walk"


def admits(root: Path, rel: str, settings: FileSettings, git: bool) -> bool:
    """Whether one file, listed or not (new, renamed, only an editor buffer), belongs in
    the index by the rules `list_files` applies to a whole workspace."""
    if languages.language_for_path(rel) is None or is_secret_file(root, rel):
        return False
    if any(p in ALWAYS_PRUNED for p in rel.split("/")[:-1]) or not inside(root, rel):
        return False
    if user_excludes(root, settings).match_file(rel):
        return False
    if git:
        try:
            return not git_ignores(root, rel)
        except OSError:
            return True
    return not _ignored_on_the_way(root, rel)


def git_ignores(root: Path, rel: str) -> bool:
    """Whether git ignores `rel` (`git check-ignore`). OSError when git cannot say."""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "check-ignore", "-q", "--", rel],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise OSError(f"git check-ignore: {exc}") from None
    return out.returncode == 0  # 0: ignored; 1: not ignored


def _ignored_on_the_way(root: Path, rel: str) -> bool:
    """The walk's rule for one path: a .gitignore in any folder from the root down ignores
    it or one of its folders."""
    parts = rel.split("/")
    specs: list[tuple[str, pathspec.GitIgnoreSpec]] = []
    for depth in range(len(parts)):
        base = "/".join(parts[:depth])
        gi = root / base / ".gitignore" if base else root / ".gitignore"
        lines = _read_ignore(gi)
        if lines:
            specs.append((base, _spec(lines)))
        if depth and _ignored(specs, base + "/"):
            return True
    return _ignored(specs, rel)


def _candidates(root: Path, result: FileList) -> Iterable[str]:
    """The paths to judge: git's list, else a walk's; what the listing depends on (the
    folders' mtimes, the ignore files' stats) recorded in `result` before the list is made."""
    watch(result, root / ".scopewiseignore")
    if is_git_worktree(root):
        for path in _git_paths(root):
            watch(result, path)
        result.source = "git"
        for _ in _walk(root, result):  # the folders, before git lists their files
            pass
        names = _git_files(root)
        if names:
            return names
    # not a work tree, or a folder git ignores as a whole: walked
    result.source, result.folders = "walk", {}
    return _walk(root, result)


def list_files(
    root: Path, settings: FileSettings | None = None, keep: Iterable[str] = ()
) -> FileList:
    """The indexable files of a workspace, with the reason for each one left out. Past
    `max_files` the user's own code is kept first (see `drop_rank`); `keep` names files
    (the open ones) whose folders are kept last of all."""
    settings = settings or FileSettings()
    root = root.resolve()
    result = FileList(root)
    candidates = _candidates(root, result)
    excludes = user_excludes(root, settings)
    for rel in candidates:
        if languages.language_for_path(rel) is None:
            continue
        if any(p in ALWAYS_PRUNED for p in rel.split("/")[:-1]):
            continue
        why, st = judge(root, rel, settings, excludes)
        if st is not None:
            result.stats[rel] = st
        if why is not None:
            result.skipped.append(why)
        elif st is not None:
            result.files.append(rel)
    if len(result.files) > settings.max_files:
        _keep_within(result, settings.max_files, keep)
    for s in result.skipped:
        log.info("not indexed: %s (%s)", s.path, s.reason)
    return result


def judge(
    root: Path, rel: str, settings: FileSettings, excludes: pathspec.GitIgnoreSpec
) -> tuple[Skipped | None, tuple[int, int] | None]:
    """One listed path (git's or the walk's) judged: why it is left out (None: indexed) and
    its (mtime_ns, size) when it is judged by its size or content; (None, None) for a path
    that is not a regular file (nothing to index, nothing to say)."""
    if is_secret_path(rel):
        return Skipped(rel, "secrets file"), None
    if excludes.match_file(rel):
        return Skipped(rel, "excluded by .scopewiseignore or settings"), None
    full = os.path.join(root, rel)
    try:
        st = os.lstat(full)
        if stat.S_ISLNK(st.st_mode):  # git lists links; the walk never follows them
            if is_secret_file(root, rel):
                return Skipped(rel, "a symlink to a secrets file"), None
            if not inside(root, rel):
                return Skipped(rel, "a symlink to outside the workspace"), None
            st = os.stat(full)
    except OSError as exc:
        return Skipped(rel, f"unreadable: {exc.strerror or exc}"), None
    if not stat.S_ISREG(st.st_mode):
        return None, None
    if st.st_size > settings.max_file_bytes:
        return Skipped(rel, too_large(st.st_size, settings.max_file_bytes)), (
            st.st_mtime_ns,
            st.st_size,
        )
    return None, (st.st_mtime_ns, st.st_size)


def folder_now(root: Path, folder: str, git: bool) -> tuple[int, list[str], list[str]] | None:
    """A folder's mtime (taken before its entries are read) and the files a listing could
    name in it (regular files; links too where git lists) and its subfolders, as workspace
    paths (None: gone or unreadable)."""
    full = os.path.join(root, folder) if folder else str(root)
    try:
        mtime = os.stat(full).st_mtime_ns
        entries = list(os.scandir(full))
    except OSError:
        return None
    files, folders = [], []
    for e in entries:
        rel = f"{folder}/{e.name}" if folder else e.name
        try:
            if e.is_dir(follow_symlinks=False):
                folders.append(rel)
            elif e.is_file(follow_symlinks=False) or (git and e.is_symlink()):
                files.append(rel)
        except OSError:
            continue
    return mtime, files, folders


def new_file(
    root: Path, rel: str, settings: FileSettings, git: bool
) -> tuple[Skipped | None, tuple[int, int] | None] | None:
    """A file that appeared in a listed folder, judged as a whole listing would judge it
    (None: not listed at all — not code, or ignored by git or a .gitignore). OSError when
    git cannot say."""
    if languages.language_for_path(rel) is None or rel.rsplit("/", 1)[-1] in ALWAYS_PRUNED:
        return None
    if git:
        if git_ignores(root, rel):  # OSError: the caller lists again
            return None
    elif _ignored_on_the_way(root, rel):
        return None
    return judge(root, rel, settings, user_excludes(root, settings))


def too_large(size: int, limit: int) -> str:
    """Why a file over `max_file_bytes` is not indexed (`is_too_large` knows it again)."""
    return f"{_TOO_LARGE} ({size:,} bytes > {limit:,})"


def is_too_large(reason: str | None) -> bool:
    return reason is not None and reason.startswith(_TOO_LARGE)


def no_context_note(limit: int) -> str:
    """What a range of a file over `max_file_bytes` is told: its own text, no workspace."""
    size = f"{limit / 1e6:g} MB" if limit >= 1_000_000 else f"{limit / 1e3:g} KB"
    return f"no workspace context: file over max_file_bytes ({size})"


def content_problem(data: bytes, settings: FileSettings) -> str | None:
    """Why a file's content should not be indexed (binary, generated/minified), or None."""
    head = data[:8192]
    if b"\0" in head:
        return "binary"
    head = data[:32768]
    if head:
        longest = max(map(len, head.split(b"\n")))  # no Python per line
        if longest > settings.minified_line_chars and len(head) > 2 * settings.minified_line_chars:
            lines = head.count(b"\n") + 1
            if len(head) / lines > 200 or longest > 10 * settings.minified_line_chars:
                return "minified or generated (very long lines)"
    return None


# ---------------------------------------------------------------------------- max_files
# Past `max_files` these go first (folder names, case-insensitive): other people's code,
# code a tool wrote, and data for tests; then the rest; the open files' folders last.
_THIRD_PARTY = frozenset(
    {"vendor", "vendors", "vendored", "_vendor", "third_party", "third-party", "thirdparty",
     "3rdparty", "external", "externals", "extern", "deps", "bower_components",
     "jspm_packages", "pods", "godeps", "packages-cache"}
)  # fmt: skip
_GENERATED = frozenset(
    {"generated", "__generated__", "gen", "build", "dist", "out", "target", ".next", ".nuxt",
     "coverage", "htmlcov", "autogen"}
)  # fmt: skip
_TEST_DATA = frozenset(
    {"testdata", "test_data", "test-data", "fixtures", "__fixtures__", "__snapshots__",
     "snapshots", "test_files", "testfiles"}
)  # fmt: skip
_GENERATED_NAMES = re.compile(
    "|".join(
        fnmatch.translate(p)
        for p in ("*_pb2.py", "*_pb2_grpc.py", "*.pb.go", "*.pb.cc", "*.pb.h", "*.pb.ts",
                  "*.generated.*", "*_generated.*", "*.gen.go", "*.g.dart", "*.min.js")
    ),
    re.IGNORECASE,
)  # fmt: skip
OVER_LIMIT = "over the limit of"  # how every reason for a file dropped past max_files starts


def drop_kind(rel: str) -> tuple[str, str] | None:
    """What kind of code a path is when it goes first past `max_files` — ("vendored", the
    folder), ("generated", the folder or the file) or ("test data", the folder) — or None
    for the user's own code."""
    parts = rel.split("/")
    for i, part in enumerate(parts[:-1]):
        low = part.lower()
        for kind, names in (
            ("vendored", _THIRD_PARTY),
            ("generated", _GENERATED),
            ("test data", _TEST_DATA),
        ):
            if low in names:
                return kind, "/".join(parts[: i + 1]) + "/"
    if _GENERATED_NAMES.match(parts[-1]):
        return "generated", rel
    return None


def drop_rank(rel: str, open_folders: frozenset[str] = frozenset()) -> int:
    """The order files are left out in past `max_files`: 0 first (vendored, generated, test
    data), 1 the user's own code, 2 last (a file in the folder of an open file)."""
    if rel.rpartition("/")[0] in open_folders:
        return 2
    return 0 if drop_kind(rel) is not None else 1


def _keep_within(result: FileList, max_files: int, keep: Iterable[str]) -> None:
    """Leave out all but `max_files` files, by `drop_rank` (in path order within a rank)."""
    folders = frozenset(k.rpartition("/")[0] for k in keep)
    ranked = sorted(result.files, key=lambda rel: (-drop_rank(rel, folders), rel))
    kept = set(ranked[:max_files])
    why = f"{OVER_LIMIT} {max_files:,} files (max_files)"
    for rel in ranked[max_files:]:
        kind = drop_kind(rel) if drop_rank(rel, folders) == 0 else None
        reason = f"{why}: {kind[0]}, left out first" if kind else why
        result.skipped.append(Skipped(rel, reason))
        del result.stats[rel]
    result.files = [rel for rel in result.files if rel in kept]


@dataclass(frozen=True)
class LeftOut:
    """The files a build left out past `max_files`, by folder, and how to change that."""

    count: int
    max_files: int
    folders: list[tuple[str, int]]  # (folder, files left out), most first

    HOW = (
        "raise max_files in .scopewise.toml (or the editor's scopewise settings), or exclude "
        "folders you do not need in .scopewiseignore"
    )

    def message(self, shown: int = 5) -> str:
        where = ", ".join(f"{f} ({n:,})" for f, n in self.folders[:shown])
        more = len(self.folders) - shown
        if more > 0:
            where += f" and {more:,} more folder{'s' if more > 1 else ''}"
        return (
            f"Left out {self.count:,} files past max_files ({self.max_files:,}), "
            f"your own code kept first: {where}. To index them, {self.HOW}."
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "count": self.count,
            "max_files": self.max_files,
            "folders": [{"folder": f, "files": n} for f, n in self.folders],
            "how": self.HOW,
        }


def left_out(skipped: Iterable[Skipped], max_files: int) -> LeftOut | None:
    """What a build left out past `max_files` (None when nothing): grouped by the vendored,
    generated or test-data folder a file is in, else by its top folder."""
    counts: dict[str, int] = {}
    for s in skipped:
        if not s.reason.startswith(OVER_LIMIT):
            continue
        kind = drop_kind(s.path)
        if kind is not None and kind[1] != s.path:
            folder = kind[1]
        else:
            top, sep, _ = s.path.partition("/")
            folder = top + "/" if sep else "./"
        counts[folder] = counts.get(folder, 0) + 1
    if not counts:
        return None
    folders = sorted(counts.items(), key=lambda fc: (-fc[1], fc[0]))
    return LeftOut(sum(counts.values()), max_files, folders)
