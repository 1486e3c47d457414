"""The scale workspaces (issue #16): ws2k, ws10k, ws50k built from real packages.

    python tests/benchmarks/scale_workspaces.py [--root DIR] [--sizes 2k,10k,50k]

Sources, pinned: the running Python's standard library, sdists from PyPI, tarballs from npm
(`npm pack`), and — when a bare git copy of them is on this machine (MIRRORS) — a few public
GitHub projects for the languages the registries lack (Go, Java, Ruby). Downloads are cached
under ROOT/downloads and unpacked once under ROOT/src; a download that fails is one line on
stderr and the workspaces are built from what is there. A workspace takes whole sources in
SOURCES order until the next would overshoot its size, then copies of the standard library
(stdlib-copyN/) fill it to the size; each is a git repository with one commit (the index
lists its files with git). ROOT/READY lists the workspaces with their file counts per
language, ROOT/SOURCES the exact sources.

Also written under ROOT/files: the real files the keystroke and giant-function measurements
use (`FILES`), cut out of the sources at exact, recorded places.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

SIZES = {"2k": 2_000, "10k": 10_000, "50k": 50_000}
PYPI_JSON = "https://pypi.org/pypi/{name}/json"
MIRRORS = Path(os.environ.get("SCALE_MIRRORS", "/work/.mirror"))


@dataclass(frozen=True)
class Source:
    kind: str  # "pypi" (sdist), "npm" (tarball), "git" (a local bare copy, `git archive`)
    name: str
    version: str  # a release, or a commit for "git"

    @property
    def slug(self) -> str:
        base = self.name.replace("@", "").replace("/", "-")
        return f"{base}-{self.version[:12]}"


# In the order workspaces take them: a mix of languages early, so every size has several.
SOURCES = (
    Source("git", "gin-gonic/gin", "dcaa4296d111981ffb31ac3eba90bb63e1eb5ab9"),  # Go
    Source("git", "rack/rack", "8bf4eb078498edc9105fb04add80d89c5340e60b"),  # Ruby
    Source("npm", "@types/node", "22.9.0"),  # TypeScript declarations
    Source("pypi", "cffi", "2.1.1"),  # Python + C
    Source("npm", "lodash", "4.17.21"),  # JavaScript
    Source("npm", "rxjs", "7.8.1"),  # TypeScript (.ts sources + .d.ts) and JavaScript
    Source("git", "google/gson", "9835b6f90192f79cdf5300c528fc6212455fb6c1"),  # Java
    Source("pypi", "pydantic-core", "2.50.5"),  # Rust + Python
    Source("pypi", "django", "6.1.3"),  # Python + JavaScript
    Source("git", "prometheus/prometheus", "d15adb9ad7e5d9fbde3a9a8f30200593a5a14d86"),  # Go, TS
    Source("pypi", "lxml", "6.1.3"),  # Cython/C + Python
    Source("git", "spf13/cobra", "adbc8813901bba65827259daa8e22ff94ec1f30e"),  # Go
    Source("git", "apache/commons-lang", "d15939ef46f0bd4144994df8be95cf5a7f91eb52"),  # Java
    Source("pypi", "cryptography", "50.0.2"),  # Rust + Python
    Source("npm", "typescript", "5.6.3"),  # giant JavaScript files (the checker)
    Source("npm", "vue", "3.5.13"),
    Source("pypi", "numpy", "2.5.5"),  # C, C++, Python
    Source("git", "rails/rails", "2a2db1e8d6d104ee0611efcae7eb023af65cff34"),  # Ruby
    Source("pypi", "ruff", "0.17.6"),  # Rust
    Source("npm", "@angular/core", "19.0.0"),
    Source("git", "hashicorp/terraform", "883c7221ee2e0bc2fad6912fd4b3cc4b53a598a7"),  # Go
    Source("pypi", "sympy", "1.14.0"),
    Source("pypi", "pandas", "3.1.1"),
    Source("npm", "three", "0.170.0"),
    Source("pypi", "grpcio", "1.85.3"),  # C, C++ (third_party: abseil, boringssl, ...)
    Source("npm", "react-native", "0.76.2"),  # JavaScript, Java, Kotlin, C++, Objective-C
    Source("pypi", "JPype1", "1.7.1"),  # Java, C++, Python
    Source("pypi", "scipy", "1.18.1"),  # C, C++, Fortran, Python
    Source("git", "BurntSushi/ripgrep", "3fce3b5bb0236da2df6d99672afb8a719642eca7"),  # Rust
    Source("pypi", "ansible-core", "2.21.5"),
    Source("npm", "aws-sdk", "2.1692.0"),
    Source("pypi", "matplotlib", "3.11.2"),
    Source("npm", "eslint", "9.15.0"),
    Source("npm", "webpack", "5.96.1"),
    Source("pypi", "pybind11", "3.1.0"),
    Source("npm", "@mui/material", "6.1.7"),
)


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _download_pypi(src: Source, dest: Path) -> Path:
    meta_url = PYPI_JSON.format(name=src.name)
    with urllib.request.urlopen(meta_url, timeout=60) as fh:
        meta = json.load(fh)
    sdist = next(u for u in meta["releases"][src.version] if u["packagetype"] == "sdist")
    url = urllib.parse.urljoin(meta_url, str(sdist["url"]))
    out = dest / str(sdist["filename"])
    if not out.exists():
        part = out.with_suffix(".part")
        with urllib.request.urlopen(url, timeout=300) as fh, part.open("wb") as w:
            shutil.copyfileobj(fh, w)
        part.replace(out)
    return out


def _download_npm(src: Source, dest: Path) -> Path:
    want = f"{src.name.replace('@', '').replace('/', '-')}-{src.version}.tgz"
    if not (dest / want).exists():
        spec = f"{src.name}@{src.version}"
        subprocess.run(["npm", "pack", "-q", spec], cwd=dest, check=True, capture_output=True)
    return dest / want


def _unpack_git(src: Source, out: Path) -> None:
    git_dir = MIRRORS / src.name.replace("/", "+") / "repo"
    if not git_dir.is_dir():
        raise FileNotFoundError(f"no local copy at {git_dir}")
    git = ["git", f"--git-dir={git_dir}"]
    archive = subprocess.run(
        [*git, "archive", "--format=tar", src.version, "--", ".", *_absent(git, src.version)],
        check=True,
        capture_output=True,
    ).stdout
    out.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)


def _absent(git: list[str], commit: str) -> list[str]:
    """Pathspecs leaving out the blobs a partial copy lacks (its largest files)."""
    tree = subprocess.run(
        [*git, "ls-tree", "-r", "--format=%(objectname) %(path)", commit],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    objects = "\n".join(t.split(" ", 1)[0] for t in tree) + "\n"
    check = subprocess.run(
        [*git, "cat-file", "--batch-check"],
        input=objects,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    return [
        f":(exclude){t.split(' ', 1)[1]}"
        for t, c in zip(tree, check, strict=True)
        if c.endswith("missing")
    ]


def _unpack_tar(archive: Path, out: Path) -> None:
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(tmp, filter="data")
    tops = list(tmp.iterdir())
    (tops[0] if len(tops) == 1 and tops[0].is_dir() else tmp).rename(out)
    shutil.rmtree(tmp, ignore_errors=True)


def fetch(src: Source, root: Path) -> Path | None:
    """The unpacked source under ROOT/src, or None (said in one line) when it cannot be had."""
    out = root / "src" / src.slug
    if out.is_dir():
        return out
    try:
        if src.kind == "git":
            _unpack_git(src, out)
        else:
            dl = root / "downloads" / src.kind
            dl.mkdir(parents=True, exist_ok=True)
            get = _download_pypi if src.kind == "pypi" else _download_npm
            _unpack_tar(get(src, dl), out)
    except Exception as exc:  # any failure: one line, build from the rest
        shutil.rmtree(out, ignore_errors=True)
        say(f"skipped {src.kind}:{src.name}=={src.version}: {type(exc).__name__}: {exc}")
        return None
    return out


def indexable(folder: Path) -> Counter[str]:
    """Files per language that scopewise indexes in `folder` (by name; no ignore rules)."""
    from scopewise.index import files, languages

    counts: Counter[str] = Counter()
    for _, dirnames, names in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d not in files.ALWAYS_PRUNED]
        for name in names:
            lang = languages.language_for_path(name)
            if lang is not None:
                counts[lang.name] += 1
    return counts


def stdlib() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def _copy(src: Path, dest: Path) -> None:
    shutil.copytree(
        src, dest, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "site-packages")
    )


def plan(target: int, have: list[tuple[str, Path, int]]) -> list[tuple[str, Path]]:
    """Which folders make a workspace of about `target` files: the stdlib first, whole
    sources in order while they fit (10% over is allowed), then stdlib copies to the size."""
    lib = stdlib()
    lib_n = sum(indexable(lib).values())
    parts: list[tuple[str, Path]] = [("stdlib", lib)]
    total = lib_n
    for name, path, n in have:
        if total + n <= target * 1.1:
            parts.append((name, path))
            total += n
    copy = 1
    while total < target:
        parts.append((f"stdlib-copy{copy}", lib))
        total += lib_n
        copy += 1
    return parts


def build(root: Path, size: str, have: list[tuple[str, Path, int]]) -> Path:
    ws = root / f"ws{size}"
    if (ws / ".git").is_dir():
        return ws
    tmp = root / f".ws{size}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, path in plan(SIZES[size], have):
        _copy(path, tmp / name)
    for name in FILES:
        if (root / "files" / name).exists():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / "files" / name, tmp / name)
    (tmp / ".scopewise.toml").write_text(SETTINGS)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", "-C", str(tmp)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A", "-f", "."], check=True, capture_output=True)
    subprocess.run([*git, "commit", "-q", "-m", f"ws{size}"], check=True)
    tmp.rename(ws)
    return ws


@dataclass(frozen=True)
class Cut:
    """Lines `first`..`last` (1-based, inclusive; 0, 0: the whole file) of a source's file."""

    source: str  # a SOURCES name
    path: str
    first: int = 0
    last: int = 0


# Real files cut out of the sources, copied into every workspace at the same path.
FILES = {
    # TypeScript's checker: `function createTypeChecker(host) {` .. its `}`, one function of
    # 42,846 lines (2.0 MB) in the built compiler.
    "bench-files/checker.js": Cut("typescript", "lib/typescript.js", 50054, 92899),
    # 27,830 lines of JavaScript (965 kB), whole.
    "bench-files/ReactNativeRenderer-dev.js": Cut(
        "react-native", "Libraries/Renderer/implementations/ReactNativeRenderer-dev.js"
    ),
}
ACTION_FILE = "stdlib/asyncio/base_events.py"  # code actions: the same file at every size
KEYS_5K = "stdlib/tkinter/__init__.py"  # 4,643 lines of Python
KEYS_30K = "bench-files/ReactNativeRenderer-dev.js"
GIANT = "bench-files/checker.js"
GIANT_FUNCTION = (0, 42845)  # its 0-based first and last line
# The checker is 2.0 MB: every workspace indexes files up to 2.5 MB so its function has the
# workspace's context (the default, 1 MB, leaves it out).
MAX_FILE_BYTES = 2_500_000
SETTINGS = f"max_file_bytes = {MAX_FILE_BYTES}\n"


def cut_files(root: Path, have: dict[str, Path]) -> None:
    for name, cut in FILES.items():
        out = root / "files" / name
        if out.exists() or cut.source not in have:
            continue
        text = (have[cut.source] / cut.path).read_text(encoding="utf-8")
        if cut.first:
            text = "".join(text.splitlines(keepends=True)[cut.first - 1 : cut.last])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")


def listing(ws: Path) -> Counter[str]:
    """Files per language as the index lists them (git, ignore rules, credentials, the
    workspace's size limit) before `max_files` cuts the list."""
    from scopewise.index import files, languages
    from scopewise.settings import FileSettings

    every = FileSettings(max_file_bytes=MAX_FILE_BYTES, max_files=10**9)
    counts: Counter[str] = Counter()
    for rel in files.list_files(ws, every).files:
        lang = languages.language_for_path(rel)
        counts[lang.name if lang else "other"] += 1
    return counts


def describe(src: Source) -> str:
    if src.kind == "pypi":
        return f"pypi  {src.name}=={src.version} (sdist)"
    if src.kind == "npm":
        return f"npm   {src.name}@{src.version} (npm pack)"
    return f"git   github.com/{src.name} at {src.version} (git archive; blobs absent here left out)"


def write_notes(root: Path, built: dict[str, Path], have: dict[str, Path]) -> None:
    lines = [f"stdlib  Python {sys.version.split()[0]} standard library ({stdlib()})"]
    lines += [describe(s) + ("" if s.name in have else "  [missing]") for s in SOURCES]
    lines += [f"file  {name}: {c.source} {c.path} {c.first}-{c.last}" for name, c in FILES.items()]
    lines.append("built by tests/benchmarks/scale_workspaces.py (scopewise repository)")
    (root / "SOURCES").write_text("\n".join(lines) + "\n")
    ready = []
    every = {**{s: root / f"ws{s}" for s in SIZES if (root / f"ws{s}" / ".git").is_dir()}, **built}
    for ws in every.values():
        counts = listing(ws)
        langs = ", ".join(f"{k} {v}" for k, v in counts.most_common())
        total = sum(counts.values())
        cut = f"; max_files (50,000) leaves out {total - 50_000:,}" if total > 50_000 else ""
        ready.append(f"{ws}  git repo  {total:,} indexable files{cut}  ({langs})")
        ready.append("    folders: " + " ".join(sorted(p.name for p in ws.iterdir())))
    ready.append(
        f"each has .scopewise.toml: {SETTINGS.strip()} (the giant function's file is 2.0 MB)"
    )
    ready.append(f"code actions: {ACTION_FILE}; keystrokes: {KEYS_5K}, {KEYS_30K}")
    ready.append(f"giant function: {GIANT} lines {GIANT_FUNCTION[0]}-{GIANT_FUNCTION[1]} (0-based)")
    tmp = root / "READY.tmp"
    tmp.write_text("\n".join(ready) + "\n")
    tmp.replace(root / "READY")


def prepare(root: Path, sizes: list[str]) -> dict[str, Path]:
    """Fetch, cut and build: {size: workspace}."""
    from concurrent.futures import ThreadPoolExecutor

    root.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda s: (s, fetch(s, root)), SOURCES))
    have = {s.name: p for s, p in got if p is not None}
    cut_files(root, have)
    counted = [(s.slug, p, sum(indexable(p).values())) for s, p in got if p is not None]
    built = {size: build(root, size, counted) for size in sizes}
    write_notes(root, built, have)
    return built


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=default_root())
    ap.add_argument("--sizes", default="2k,10k,50k")
    args = ap.parse_args()
    for size, ws in prepare(args.root, args.sizes.split(",")).items():
        print(f"ws{size}: {ws}")


def default_root() -> Path:
    from scopewise import paths

    return paths.cache_dir() / "bench-scale"


if __name__ == "__main__":
    main()
