"""Issue #11, point 8 (the cache half): storage faults heal or explain.

A cache file that is not this version's cache (garbage bytes, another program's SQLite,
another scopewise's) is moved aside and rebuilt with one log line; concurrent `scopewise
index` runs on one cache never traceback, even while another process holds the database's
write lock for seconds (as a run over 100k files does while it stores them); a full cache
disk leaves the index without a cache, with one message."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import scopewise
from scopewise.index.cache import IndexCache, default_path
from scopewise.index.workspace import WorkspaceIndex

SERVER = Path(scopewise.__file__).resolve().parents[1]  # for the `scopewise` subprocesses


def _workspace(root: Path, files: int) -> Path:
    for i in range(files):
        pkg = root / f"pkg{i % 10}"
        pkg.mkdir(parents=True, exist_ok=True)
        body = "".join(
            f"def f{j}(x):\n    return g{j}(x) + {i}\n\n\nclass C{j}:\n    size = {j}\n\n\n"
            for j in range(12)
        )
        (pkg / f"mod{i}.py").write_text(body, encoding="utf-8")
    return root


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _build(root: Path) -> tuple[int, int, int, str | None]:
    w = WorkspaceIndex(root)
    try:
        s = w.build(workers=1)
        return s.files, s.parsed, s.cache_hits, s.cache_problem
    finally:
        w.close()


def _seed_garbage(path: Path) -> bytes:
    data = os.urandom(4096)
    path.write_bytes(data)
    return data


def _seed_foreign(path: Path) -> bytes:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute("INSERT INTO users VALUES (1, 'ada')")
    db.commit()
    db.close()
    return path.read_bytes()


@pytest.mark.parametrize("seed", [_seed_garbage, _seed_foreign], ids=["garbage", "foreign"])
def test_a_file_that_is_not_a_cache_is_moved_aside_and_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, seed: object
) -> None:
    root = _workspace(tmp_path / "ws", 6)
    path = default_path(root.resolve())
    before = seed(path)  # type: ignore[operator]
    caplog.set_level(logging.INFO)
    files, parsed, _, problem = _build(root)
    assert (files, parsed, problem) == (6, 6, None)
    aside = path.with_name(path.name + ".old")
    assert aside.read_bytes() == before, "the odd file is kept, untouched, beside the cache"
    said = _warnings(caplog)
    assert len(said) == 1 and "moved to" in said[0] and path.name in said[0], said
    caplog.clear()
    files, parsed, hits, problem = _build(root)  # the rebuilt cache serves the next run
    assert (files, parsed, hits, problem) == (6, 0, 6, None)
    assert _warnings(caplog) == []


def test_a_cache_from_another_version_is_moved_aside_and_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = _workspace(tmp_path / "ws", 6)
    assert _build(root)[:2] == (6, 6)
    path = default_path(root.resolve())
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value='1|0.0.1|tree-sitter=0.20' WHERE key='version'")
    db.commit()
    db.close()
    caplog.set_level(logging.INFO)
    files, parsed, hits, problem = _build(root)
    assert (files, parsed, hits, problem) == (6, 6, 0, None), "nothing read from the old cache"
    said = _warnings(caplog)
    assert len(said) == 1 and "another version" in said[0] and "moved to" in said[0], said
    old = sqlite3.connect(path.with_name(path.name + ".old"))
    assert old.execute("SELECT value FROM meta").fetchone() == ("1|0.0.1|tree-sitter=0.20",)
    old.close()


def test_a_cache_locked_while_it_is_being_created_is_waited_for(tmp_path: Path) -> None:
    """Another connection holds the write lock on a new cache file before it is in WAL mode
    (a concurrent run, a tool reading it): SQLite refuses the switch to WAL at once rather
    than waiting, and the cache used to turn itself off ("database is locked"). It waits."""
    path = tmp_path / "c.sqlite3"
    path.touch()
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, lambda: other.execute("COMMIT"))
    release.start()
    t0 = time.monotonic()
    cache = IndexCache(path)
    release.join()
    other.close()
    assert cache.problem is None, cache.problem
    assert time.monotonic() - t0 >= 0.4  # it waited for the lock, then opened
    cache.put_many([("a.py", 1, 2, "d", "python", b"x")])
    assert set(cache.stats()) == {"a.py"}
    cache.close()


def test_concurrent_index_runs_on_one_cache_never_traceback(tmp_path: Path) -> None:
    """8 `scopewise index` at once on a cold cache, while a ninth process holds the write
    lock for 7 s (longer than SQLite's default 5 s wait) as a big run storing its files does."""
    n = 200
    root = _workspace(tmp_path / "ws", n)
    cache = tmp_path / "cache"
    env = {**os.environ, "SCOPEWISE_CACHE_DIR": str(cache), "PYTHONPATH": str(SERVER)}
    db_file = cache / "index" / f"{root.resolve().name}-"  # the prefix; hash follows

    holder_ready = threading.Event()

    def hold_the_write_lock() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            found = [
                p for p in (cache / "index").glob("*.sqlite3") if str(p).startswith(str(db_file))
            ]
            if found:
                db = sqlite3.connect(found[0], timeout=30, isolation_level=None)
                db.execute("BEGIN IMMEDIATE")
                holder_ready.set()
                time.sleep(7)
                db.execute("COMMIT")
                db.close()
                return
            time.sleep(0.005)

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "scopewise.cli", "index", "--json", str(root)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    holder.join()
    assert holder_ready.is_set(), "the cache was never created"
    for p, (out, err) in zip(procs, outs, strict=True):
        assert "Traceback" not in err, err
        assert p.returncode == 0, err
        assert json.loads(out)["files"] == n
    # and the cache they shared is whole: a warm run reads every file from it
    again = subprocess.run(
        [sys.executable, "-m", "scopewise.cli", "index", "--json", str(root)],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    warm = json.loads(again.stdout)
    runs = [
        {k: json.loads(out).get(k) for k in ("cache_hits", "parsed", "cache_problem")}
        | {"err": err}
        for out, err in outs
    ]  # on a failure, what each of the 8 runs saw and said
    assert (warm["files"], warm["cache_hits"], warm["parsed"]) == (n, n, 0), (again.stderr, runs)


@pytest.fixture
def full_disk(small_disk: Callable[[str], Path]) -> Path:
    """A 64 KiB tmpfs as the cache folder (root only: skipped when mount is refused)."""
    return small_disk("64k")


def test_a_full_cache_disk_degrades_to_no_cache_with_one_message(
    tmp_path: Path,
    full_disk: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("SCOPEWISE_CACHE_DIR", str(full_disk))
    root = _workspace(tmp_path / "ws", 120)  # ~1 MB of index: far more than 64 KiB
    caplog.set_level(logging.INFO)
    files, parsed, _, problem = _build(root)
    assert (files, parsed) == (120, 120), "the index is complete without its cache"
    assert problem is not None and "full" in problem
    said = _warnings(caplog)
    assert len(said) == 1 and "without a cache" in said[0] and "full" in said[0], said
    w = WorkspaceIndex(root)  # and the server's queries still answer
    try:
        w.build(workers=1)
        assert w.definitions_named("f3") and len(w.files) == 120
    finally:
        w.close()
