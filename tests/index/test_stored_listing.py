"""The stored listing (index/listing.py): a warm start re-uses what the last build listed,
without asking git or judging every path, while it is still true — and sees every file
edited, added, deleted, renamed or newly ignored since, in a git work tree and in a plain
folder. Files are dated an hour back before the first build, as a workspace on disk is: a
stat taken within seconds of a listing is not trusted (a coarse clock)."""

from __future__ import annotations

import marshal
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from aged import age
from scopewise.index import listing, workspace
from scopewise.index.workspace import WorkspaceIndex
from scopewise.settings import FileSettings


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


@pytest.fixture(params=["git", "walk"])
def ws(request: pytest.FixtureRequest, poly: Path) -> Path:
    if request.param == "git":
        _git(poly, "init", "-q")
        _git(poly, "add", ".")
        _git(poly, "commit", "-qm", "init")
    age(poly)
    return poly


def _build(
    root: Path, cache: Path, settings: FileSettings | None = None
) -> tuple[WorkspaceIndex, workspace.IndexStats]:
    ws = WorkspaceIndex(root, settings, cache_path=cache)
    return ws, ws.build(workers=1)


def _listings(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Count the builds that list the files (git or a walk) rather than re-use a listing."""
    calls: list[Path] = []
    real = workspace.list_files

    def counted(root: Path, *args: object, **kw: object) -> object:
        calls.append(root)
        return real(root, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(workspace, "list_files", counted)
    return calls


def _names(ws: WorkspaceIndex) -> set[str]:
    return {d.name for p in ws.paths() if (fi := ws.get(p)) for d in fi.definitions}


def test_a_warm_start_lists_nothing_and_answers_as_a_listing_would(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "c.sqlite3"
    first, s1 = _build(ws, cache)
    first.close()
    calls = _listings(monkeypatch)
    second, s2 = _build(ws, cache)
    assert calls == [], "a warm start listed the files again"
    assert s2.parsed == 0 and s2.cache_hits == s2.files == s1.files
    assert (s2.symbols, s2.references, s2.languages) == (s1.symbols, s1.references, s1.languages)
    assert second.paths() == first.paths() and second.skipped == first.skipped
    assert s2.file_source == s1.file_source == ("git" if (ws / ".git").exists() else "walk")


def test_an_edited_file_is_seen(ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "c.sqlite3"
    _build(ws, cache)[0].close()
    (ws / "shop" / "pricing.py").write_text("def edited_since():\n    return 1\n")
    calls = _listings(monkeypatch)
    again, stats = _build(ws, cache)
    assert calls == [], "an edit in place moves no folder: the listing still holds"
    assert stats.parsed == 1
    assert [fi.path for fi, _ in again.definitions_named("edited_since")] == ["shop/pricing.py"]
    again.close()
    third, stats = _build(ws, cache)  # and the next start knows it too
    assert stats.parsed == 0
    assert [fi.path for fi, _ in third.definitions_named("edited_since")] == ["shop/pricing.py"]


@pytest.mark.parametrize("where", ["shop/added.py", "shop/new/deeper/added.py"])
def test_an_added_file_is_seen(
    ws: Path, tmp_path: Path, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file in a folder already listed: that folder alone is read again; a new folder:
    everything is listed again."""
    cache = tmp_path / "c.sqlite3"
    _build(ws, cache)[0].close()
    (ws / where).parent.mkdir(parents=True, exist_ok=True)
    (ws / where).write_text("def added_since():\n    return 2\n")
    (ws / "shop" / "ignored.pyc").write_text("not code\n")
    calls = _listings(monkeypatch)
    again, stats = _build(ws, cache)
    assert where in again.files and "shop/ignored.pyc" not in again.files
    assert [fi.path for fi, _ in again.definitions_named("added_since")] == [where]
    assert stats.files == len(again.paths()) and stats.parsed == 1
    assert len(calls) == (0 if where == "shop/added.py" else 1)


def test_a_deleted_or_renamed_file_is_seen(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "c.sqlite3"
    _build(ws, cache)[0].close()
    (ws / "go" / "shapes.go").unlink()
    (ws / "shop" / "pricing.py").rename(ws / "shop" / "prices.py")
    calls = _listings(monkeypatch)
    again, stats = _build(ws, cache)
    git = (ws / ".git").exists()  # git lists a tracked file gone (unreadable): listed again
    assert len(calls) == (1 if git else 0), "two folders moved: only they are read again"
    assert "go/shapes.go" not in again.files and again.definitions_named("Circle") == []
    assert "shop/pricing.py" not in again.files and "shop/prices.py" in again.files
    assert stats.files == len(again.paths())
    again.close()
    memory = WorkspaceIndex(ws, use_cache=False)
    memory.build(workers=1)
    third, _ = _build(ws, cache)
    assert third.paths() == memory.paths() and third.skipped == memory.skipped


def test_a_new_ignore_file_in_a_folder_is_seen(ws: Path, tmp_path: Path) -> None:
    (ws / "web" / "scratch.js").write_text("function scratch() { return 1; }\n")
    age(ws)
    cache = tmp_path / "c.sqlite3"
    first, _ = _build(ws, cache)
    assert "web/scratch.js" in first.files
    first.close()
    (ws / "web" / ".gitignore").write_text("scratch.js\n")
    again, _ = _build(ws, cache)
    assert "web/scratch.js" not in again.files


@pytest.mark.parametrize("how", [".gitignore", "nested .gitignore", ".scopewiseignore"])
def test_a_newly_ignored_file_leaves(ws: Path, tmp_path: Path, how: str) -> None:
    """(Untracked: git lists a tracked file whatever its ignore files say.)"""
    for name in (".gitignore", ".scopewiseignore"):  # present, so only their content moves
        (ws / name).write_text("# nothing yet\n")
    (ws / "shop" / ".gitignore").write_text("# nothing yet\n")
    (ws / "shop" / "scratch.py").write_text("def scratch():\n    return 3\n")
    age(ws)
    cache = tmp_path / "c.sqlite3"
    first, _ = _build(ws, cache)
    assert "shop/scratch.py" in first.files
    first.close()
    target = {"nested .gitignore": ws / "shop" / ".gitignore"}.get(how, ws / how.split()[-1])
    line = "scratch.py" if how == "nested .gitignore" else "shop/scratch.py"
    target.write_text(f"# nothing yet\n{line}\n")
    again, _ = _build(ws, cache)
    assert "shop/scratch.py" not in again.files
    assert "shop/cart.py" in again.files and again.definitions_named("scratch") == []


def test_new_settings_list_again(ws: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite3"
    _build(ws, cache)[0].close()
    again, _ = _build(ws, cache, FileSettings(exclude=("go/",)))
    assert not any(p.startswith("go/") for p in again.files)
    again.close()
    back, _ = _build(ws, cache)
    assert "go/shapes.go" in back.files


def test_a_file_left_out_by_its_content_is_not_read_again(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (ws / "web" / "bundle.min.js").write_text("var a=1;" * 5000)
    age(ws)
    cache = tmp_path / "c.sqlite3"
    first, s1 = _build(ws, cache)
    first.close()
    read: list[str] = []
    real = workspace._parse_one

    def counted(root: str, rel: str, *args: object) -> object:
        read.append(rel)
        return real(root, rel, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(workspace, "_parse_one", counted)
    again, s2 = _build(ws, cache)
    assert read == [], "a warm start read files again"
    assert {s.path: s.reason for s in s2.skipped} == {s.path: s.reason for s in s1.skipped}
    assert "minified" in again.skipped["web/bundle.min.js"]
    (ws / "shop" / "added.py").write_text("x = 1\n")  # a folder moved: listed again...
    _build(ws, cache)[0].close()
    assert read == ["shop/added.py"], "a verdict on content was not kept across a listing"
    read.clear()
    (ws / "web" / "bundle.min.js").write_text("function small() { return 1; }\n")
    third, _ = _build(ws, cache)
    assert "web/bundle.min.js" in read and "web/bundle.min.js" in third.files


def test_a_file_changed_within_seconds_of_a_listing_is_looked_at_again(
    poly: Path, tmp_path: Path
) -> None:
    """A stat taken just after a change is not trusted: a clock that ticks coarsely could
    give the next change the same mtime."""
    cache = tmp_path / "c.sqlite3"
    (poly / "shop" / "fresh.py").write_text("def v1():\n    return 1\n")  # not aged
    _build(poly, cache)[0].close()
    target = poly / "shop" / "fresh.py"
    st = target.stat()
    target.write_text("def v2():\n    return 2\n")  # same size...
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # ...and the same mtime
    again, _ = _build(poly, cache)
    assert [fi.path for fi, _ in again.definitions_named("v2")] == ["shop/fresh.py"]


def test_git_tracking_an_ignored_file_is_seen(poly: Path, tmp_path: Path) -> None:
    _git(poly, "init", "-q")
    (poly / ".gitignore").write_text("shop/pricing.py\n")
    _git(poly, "add", ".")
    _git(poly, "commit", "-qm", "init")
    age(poly)
    cache = tmp_path / "c.sqlite3"
    first, _ = _build(poly, cache)
    assert "shop/pricing.py" not in first.files
    first.close()
    _git(poly, "add", "-f", "shop/pricing.py")  # tracked now, though ignored: listed
    again, _ = _build(poly, cache)
    assert "shop/pricing.py" in again.files


@pytest.mark.parametrize("room", [-1, 0, 1])
def test_a_file_added_near_max_files_keeps_what_a_listing_keeps(
    ws: Path, tmp_path: Path, room: int
) -> None:
    """Past `max_files` (or at it) which files are kept depends on every file: an added one
    is judged as a whole listing would."""
    memory = WorkspaceIndex(ws, use_cache=False)
    memory.build(workers=1)
    settings = FileSettings(max_files=len(memory.paths()) + room)
    cache = tmp_path / "c.sqlite3"
    _build(ws, cache, settings)[0].close()
    (ws / "shop" / "zz_added.py").write_text("def added_late():\n    return 1\n")
    again, _ = _build(ws, cache, settings)
    expect = WorkspaceIndex(ws, settings, use_cache=False)
    expect.build(workers=1)
    assert again.paths() == expect.paths() and again.skipped == expect.skipped


def test_a_damaged_stored_listing_is_listed_again(ws: Path, tmp_path: Path) -> None:
    """A stored listing whose lists disagree (a damaged or hand-edited cache) is not used:
    the build lists the files again and answers as before, instead of failing every start."""
    cache = tmp_path / "c.sqlite3"
    first, s1 = _build(ws, cache)
    first.close()
    with sqlite3.connect(cache) as con:
        key, data = con.execute("SELECT key, data FROM listings").fetchone()
        row = list(marshal.loads(data))
        row[3] = row[3][:-1]  # one mtime short
        con.execute("UPDATE listings SET data=? WHERE key=?", (marshal.dumps(tuple(row)), key))
    again, s2 = _build(ws, cache)
    assert s2.files == s1.files and s2.symbols == s1.symbols
    assert again.paths() == first.paths()


def _change(root: Path, how: str) -> None:
    if how == "edited in place":
        (root / "shop" / "pricing.py").write_text("def edited_since():\n    return 1\n")
    elif how == "added":
        (root / "shop" / "added.py").write_text("def added_since():\n    return 2\n")
    elif how == "deleted":
        (root / "shop" / "cart.py").unlink()
    elif how == "newly ignored":
        (root / ".scopewiseignore").write_text("go/\n")
    elif how == "touched":  # the same text, a new mtime: looked at again, found the same
        os.utime(root / "shop" / "cart.py")
    elif how == "not code added":  # its folder moved; the files listed are the same
        (root / "shop" / "notes.txt").write_text("a temporary file\n")


@pytest.mark.parametrize(
    "how",
    [
        "nothing",
        "not code added",
        "edited in place",
        "added",
        "deleted",
        "newly ignored",
        "touched",
    ],
)
def test_a_listing_taken_as_true_is_checked_apart(ws: Path, tmp_path: Path, how: str) -> None:
    """A one-shot command takes the stored listing as true (`assume`): what it then holds is
    what a check would find when nothing moved, and the check run in a child process says
    whether anything did (every case the listing sees, seen apart)."""
    cache = tmp_path / "c.sqlite3"
    first, _ = _build(ws, cache)
    first.close()
    _change(ws, how)
    taken = WorkspaceIndex(ws, cache_path=cache)
    taken.build(workers=1, assume=True)
    assert taken.check is not None and taken.listed is not None
    assert taken.check.holds() == (how in ("nothing", "not code added"))
    assert taken.paths() == first.paths() and taken.skipped == first.skipped
    taken.close()
    checked, _ = _build(ws, cache)  # as a start that checks first finds it
    same = ("nothing", "not code added", "edited in place", "touched")
    assert (checked.paths() == first.paths()) == (how in same)


@pytest.mark.parametrize("how", ["nothing", "not code added", "edited in place", "added"])
def test_a_check_started_ahead_of_the_build_is_its_check(
    ws: Path, tmp_path: Path, how: str
) -> None:
    """A one-shot command starts the check before it builds (while it imports the analysis):
    the build takes the listing that check was started on, and the check says whether
    anything moved."""
    cache = tmp_path / "c.sqlite3"
    first, _ = _build(ws, cache)
    first.close()
    _change(ws, how)
    ahead = listing.Apart.ahead(ws, FileSettings(), cache)
    assert ahead is not None
    taken = WorkspaceIndex(ws, cache_path=cache)
    taken.build(workers=1, assume=True, ahead=ahead)
    assert taken.check is ahead
    assert ahead.holds() == (how in ("nothing", "not code added"))
    assert taken.paths() == first.paths()
    taken.close()


def test_a_check_started_ahead_of_a_listing_stored_since_is_not_taken(
    ws: Path, tmp_path: Path
) -> None:
    """Another command stored a new listing between the check's start and the build: the
    build takes the new one, with a check of its own, and the first check is stopped."""
    cache = tmp_path / "c.sqlite3"
    assert listing.Apart.ahead(ws, FileSettings(), cache) is None  # nothing stored yet
    _build(ws, cache)[0].close()
    ahead = listing.Apart.ahead(ws, FileSettings(), cache)
    assert ahead is not None
    (ws / "shop" / "extra.py").write_text("def extra():\n    return 1\n")
    _build(ws, cache)[0].close()
    taken = WorkspaceIndex(ws, cache_path=cache)
    taken.build(workers=1, assume=True, ahead=ahead)
    assert taken.check is not None and taken.check is not ahead
    assert "shop/extra.py" in taken.paths()
    assert not ahead.holds()  # stopped: never said to hold
    taken.close()


def test_a_stat_within_seconds_of_the_listing_never_holds(poly: Path, tmp_path: Path) -> None:
    """A file listed within seconds of its change (its stat untrusted): the listing taken as
    true is never said to hold, even when the file has the same size and mtime since."""
    cache = tmp_path / "c.sqlite3"
    age(poly)
    (poly / "shop" / "fresh.py").write_text("def v1():\n    return 1\n")  # not aged
    os.utime(poly / "shop", ns=(0, 0))  # its folder: as listed, whatever the clock
    _build(poly, cache)[0].close()
    target = poly / "shop" / "fresh.py"
    st = target.stat()
    target.write_text("def v2():\n    return 2\n")
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    taken = WorkspaceIndex(poly, cache_path=cache)
    taken.build(workers=1, assume=True)
    assert taken.check is not None and not taken.check.holds()
    taken.close()


def _stored(ws: WorkspaceIndex) -> listing.StoredListing:
    key = listing.key(str(ws.root), ws.settings, ())
    data = ws._cache.listing(key) if ws._cache else None
    assert data is not None
    got = listing.StoredListing.loads(data)
    assert got is not None
    return got


@pytest.mark.parametrize("share", [0, 1])
def test_a_change_in_either_share_of_the_check_is_seen(
    ws: Path, tmp_path: Path, share: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check runs in two children, each statting half the files: an edit in either
    half is seen by that half, and the listing does not hold."""
    monkeypatch.setattr(listing, "_cores", lambda: 3)
    first, _ = _build(ws, tmp_path / "c.sqlite3")
    stored = _stored(first)
    path = stored.paths[share]  # every other file is the first share's, from the first
    assert listing.still(ws, stored, first.settings, 0, 2)
    assert listing.still(ws, stored, first.settings, 1, 2)
    with (ws / path).open("a", encoding="utf-8") as fh:
        fh.write("\n")
    assert not listing.still(ws, stored, first.settings, share, 2)
    assert listing.still(ws, stored, first.settings, 1 - share, 2)
    check = listing.Apart.start(ws, stored, first.settings)
    assert check is not None and not check.holds()
    first.close()


def test_a_folder_that_moved_with_the_same_files_holds_in_both_shares(
    ws: Path, tmp_path: Path
) -> None:
    first, _ = _build(ws, tmp_path / "c.sqlite3")
    stored = _stored(first)
    (ws / "shop" / "notes.txt").write_text("not code\n")
    assert all(listing.still(ws, stored, first.settings, part, 2) for part in (0, 1))
    first.close()
