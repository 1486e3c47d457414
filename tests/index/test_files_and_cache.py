"""Which files are indexed, and the persistent cache."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from importlib.machinery import ModuleSpec
from pathlib import Path

import pytest

from scopewise import paths
from scopewise.index import cache as cache_mod
from scopewise.index.files import admits, list_files
from scopewise.index.workspace import WorkspaceIndex
from scopewise.settings import FileSettings


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_gitignore_without_git(poly: Path) -> None:
    (poly / ".gitignore").write_text("build/\n*.gen.py\n")
    (poly / "build").mkdir()
    (poly / "build" / "out.py").write_text("x = 1\n")
    (poly / "shop" / "models.gen.py").write_text("x = 1\n")
    (poly / "web" / ".gitignore").write_text("format.js\n")  # nested, relative to its folder
    (poly / "node_modules" / "lib").mkdir(parents=True)
    (poly / "node_modules" / "lib" / "index.js").write_text("x\n")
    listing = list_files(poly)
    assert listing.source == "walk"
    assert "shop/pricing.py" in listing.files
    for gone in (
        "build/out.py",
        "shop/models.gen.py",
        "web/format.js",
        "node_modules/lib/index.js",
    ):
        assert gone not in listing.files


@pytest.mark.parametrize("mode", ["folder", "git work tree", "folder an outer git ignores"])
def test_one_file_is_judged_as_the_whole_listing_judges_it(poly: Path, mode: str) -> None:
    """A file that appears later (created, renamed, opened in an editor) gets the same
    verdict as it would in a full listing: nested .gitignores, excludes, secrets, tool
    folders, links out. A project inside a folder an outer repository ignores (a home
    dotfiles repo, pyenv's versions) is walked, and judged as walked."""
    (poly / ".gitignore").write_text("build/\n*.gen.py\n")
    (poly / "web" / ".gitignore").write_text("format.js\nsub/\n")
    (poly / ".scopewiseignore").write_text("shop/legacy_*.py\n")
    extra = [
        "build/out.py", "shop/models.gen.py", "web/sub/deep.js", "shop/legacy_tax.py",
        "node_modules/lib/index.js", ".env.py", "shop/ok_new.py", "web/sub2/fine.js",
    ]  # fmt: skip
    for rel in extra:
        (poly / rel).parent.mkdir(parents=True, exist_ok=True)
        (poly / rel).write_text("x = 1\n")
    if mode == "git work tree":
        git(poly, "init", "-q")
    elif mode == "folder an outer git ignores":
        git(poly.parent, "init", "-q")
        (poly.parent / ".gitignore").write_text(f"{poly.name}/\n")
    settings = FileSettings(exclude=("go/",))
    listing = list_files(poly, settings)
    assert listing.source == ("git" if mode == "git work tree" else "walk")
    listed = set(listing.files)
    candidates = {p.relative_to(poly).as_posix() for p in poly.rglob("*") if p.is_file()}
    candidates -= {c for c in candidates if c.startswith(".git/")}
    index = WorkspaceIndex(poly, settings, use_cache=False)  # not built: it asks git itself
    verdicts = {rel: index.admits(rel) for rel in sorted(candidates)}
    index.close()
    by_git = mode == "git work tree"
    assert verdicts == {rel: admits(poly, rel, settings, by_git) for rel in verdicts}
    assert {rel for rel, ok in verdicts.items() if ok} == listed
    assert "shop/ok_new.py" in listed and "web/sub2/fine.js" in listed
    assert not any(verdicts[rel] for rel in extra[:6])


def test_git_ls_files_semantics(poly: Path) -> None:
    git(poly, "init", "-q")
    (poly / ".gitignore").write_text("ignored/\n")
    (poly / "ignored").mkdir()
    (poly / "ignored" / "x.py").write_text("a = 1\n")
    (poly / "untracked.py").write_text("b = 2\n")  # untracked but not ignored: indexed
    git(poly, "add", "shop")
    git(poly, "commit", "-qm", "init")
    listing = list_files(poly)
    assert listing.source == "git"
    assert "untracked.py" in listing.files
    assert "shop/cart.py" in listing.files
    assert "ignored/x.py" not in listing.files


def test_scopewiseignore_settings_and_secrets(poly: Path) -> None:
    (poly / ".scopewiseignore").write_text("go/\n")
    (poly / ".env").write_text("ANTHROPIC_API_KEY=" + "sk-ant-" + "x" * 24 + "\n")
    (poly / "secrets.py").write_text("TOKEN = 'abc'\n")
    listing = list_files(poly, FileSettings(exclude=("ruby/",)))
    reasons = {s.path: s.reason for s in listing.skipped}
    assert "go/shapes.go" not in listing.files and "excluded" in reasons["go/shapes.go"]
    assert "ruby/bank.rb" not in listing.files
    assert "secrets.py" in listing.files  # code named like secrets is code (#11)
    assert not any(f.startswith(".env") for f in listing.files)


def test_binary_minified_and_huge_files_are_skipped_with_reasons(poly: Path) -> None:
    (poly / "web" / "blob.js").write_bytes(b"\x00\x01binary" * 100)
    (poly / "web" / "bundle.min.js").write_text("var a=1;" * 5000)
    (poly / "shop" / "huge.py").write_text("x = 1\n" * 400_000)
    w = WorkspaceIndex(poly, FileSettings(max_file_bytes=1_000_000), use_cache=False)
    stats = w.build(workers=1)
    reasons = {s.path: s.reason for s in stats.skipped}
    assert reasons["web/blob.js"] == "binary"
    assert "minified" in reasons["web/bundle.min.js"]
    assert reasons["shop/huge.py"].startswith("too large")
    assert "shop/pricing.py" in w.files


def test_cache_reuse_and_invalidation(poly: Path) -> None:
    first = WorkspaceIndex(poly)
    s1 = first.build(workers=1)
    first.close()
    assert s1.cache_hits == 0 and s1.parsed == s1.files
    assert s1.cache_path and Path(s1.cache_path).is_relative_to(paths.cache_dir())
    assert not any(p.suffix == ".sqlite3" for p in poly.rglob("*")), "cache written into the repo"

    second = WorkspaceIndex(poly)
    s2 = second.build(workers=1)
    second.close()
    assert s2.cache_hits == s2.files and s2.parsed == 0

    # a real change is parsed again; a touch with the same bytes is a hit by content hash
    (poly / "shop" / "pricing.py").write_text("def only():\n    return 1\n")
    cart = poly / "shop" / "cart.py"
    st = cart.stat()
    os.utime(cart, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    third = WorkspaceIndex(poly)
    s3 = third.build(workers=1)
    assert s3.parsed == 1
    assert s3.cache_hits == s3.files - 1
    fi = third.get("shop/pricing.py")
    assert fi is not None and [d.name for d in fi.definitions] == ["only"]
    third.close()

    # a deleted file leaves the index
    (poly / "go" / "shapes.go").unlink()
    fourth = WorkspaceIndex(poly)
    fourth.build(workers=1)
    assert fourth.get("go/shapes.go") is None
    fourth.close()


def test_symlink_loops_and_unreadable_folders_do_not_hang(poly: Path) -> None:
    (poly / "loop").symlink_to(poly, target_is_directory=True)
    listing = list_files(poly)
    assert not any(f.startswith("loop/") for f in listing.files)


def test_the_version_key_is_kept_until_a_package_or_query_it_is_made_of_moves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache's version key (grammar versions, queries) is made once and kept under a
    fingerprint of stats; installing a package where a grammar lives (its folder gains a
    dist-info folder) makes it again."""
    made: list[str] = []
    real_key, real_spec = cache_mod._made_key, importlib.util.find_spec

    def counted() -> str:
        made.append(real_key())
        return made[-1]

    site = tmp_path / "site"
    (site / "tree_sitter_python").mkdir(parents=True)
    (site / "tree_sitter_python" / "__init__.py").write_text("")

    def spec(name: str) -> ModuleSpec | None:  # the Python grammar installed in `site`
        if name == "tree_sitter_python":
            return ModuleSpec(name, None, origin=str(site / name / "__init__.py"))
        return real_spec(name)

    monkeypatch.setattr(cache_mod, "_made_key", counted)
    monkeypatch.setattr(importlib.util, "find_spec", spec)
    cache_mod._version_key.cache_clear()
    try:
        first = cache_mod._version_key()
        cache_mod._version_key.cache_clear()
        assert cache_mod._version_key() == first and len(made) == 1, "not kept"
        (site / "tree_sitter_python-9.0.dist-info").mkdir()
        st = site.stat()
        os.utime(site, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # a coarse clock
        cache_mod._version_key.cache_clear()
        assert cache_mod._version_key() == first and len(made) == 2, "a new package not seen"
    finally:
        cache_mod._version_key.cache_clear()


def test_the_version_key_is_kept_whatever_folder_a_command_runs_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m scopewise.cli` puts the current folder first on the import path: a
    command run from another folder (nothing shadowing a grammar there) keeps the key."""
    made: list[str] = []
    real_key = cache_mod._made_key

    def counted() -> str:
        made.append(real_key())
        return made[-1]

    monkeypatch.setattr(cache_mod, "_made_key", counted)
    cache_mod._version_key.cache_clear()
    try:
        first = cache_mod._version_key()
        for folder in ("a", "b"):
            (tmp_path / folder).mkdir()
            monkeypatch.chdir(tmp_path / folder)
            monkeypatch.syspath_prepend(str(tmp_path / folder))
            cache_mod._version_key.cache_clear()
            assert cache_mod._version_key() == first
    finally:
        cache_mod._version_key.cache_clear()
    assert len(made) <= 1, "made again for another folder"


def test_a_full_disk_leaves_no_part_of_the_version_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The version key is written in one step: a disk that fills up half way leaves neither a
    part of it nor the temporary file, and the key is still answered (made again next time)."""
    real = Path.write_text

    def full(self: Path, text: str, *args: object, **kw: object) -> int:
        real(self, text[:3], encoding="utf-8")  # a part reached the disk
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    cache_mod._version_key.cache_clear()
    try:
        key = cache_mod._version_key()
    finally:
        cache_mod._version_key.cache_clear()
    assert key
    folder = paths.cache_dir() / "index"
    assert not (folder / "version-key").exists()
    assert [p.name for p in folder.glob("version-key*")] == []
