"""The menu's analysis done ahead while the server is idle (lsp/ahead.py): after a file is
opened and the server left alone, the first code action on a wide target finds its uses
counted (no using file classified, a full count in its title); without it the same request
answers a lower bound ("32+ uses"). A message is never kept waiting longer than one slice;
one that arrives during a slice stops it at its next unit of work (lsp/waiting.py), and the
range carries on once the message is handled. An edit makes nothing stale."""

from __future__ import annotations

import asyncio
import math
import re
import time
from pathlib import Path

import pytest
from lspclient import Editor, start_editor, stop_editor

from scopewise.analysis import cursor
from scopewise.index.model import FileIndex
from scopewise.lsp import ahead, listing
from scopewise.lsp.ahead import Ahead, classes_of, ranges_of
from scopewise.lsp.documents import OpenDocuments
from scopewise.lsp.listing import ServerEngine
from scopewise.lsp.waiting import Waiting

USERS = 40  # using files of `dep`: past the menu's 16 per request
DEP = "pkg/dep.py"
_WORK = re.compile(r"code action pkg/dep\.py 1-2: (\d+) units of work(, stopped short)?")


def _workspace(root: Path) -> Path:
    files = {
        DEP: "def dep(x):\n    return x\n\n\ndef other(y):\n    return dep(y) * 2\n",
        **{
            f"users/u{i:02}.py": (
                f"from pkg.dep import dep\n\n\ndef user{i}(v):\n    return dep(v) + dep({i})\n"
            )
            for i in range(USERS)
        },
    }
    for rel, text in {".scopewise.toml": "", **files}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def _refactor(listed: list) -> str:  # type: ignore[type-arg]
    return next(a.title for a in listed if a.title.startswith("Refactor…"))


async def _first_menu(ed: Editor, capfd: pytest.CaptureFixture[str]) -> tuple[str, int, bool]:
    """The first code action on `dep`: its Refactor title, the work it did and whether it
    stopped short (from the server's log)."""
    listed = await ed.actions(DEP, 1, 2)
    await asyncio.sleep(0.3)  # the server's stderr forwarded
    found = _WORK.findall(capfd.readouterr().err)
    assert found, "the server logged no code action"
    units, short = found[-1]
    return _refactor(listed), int(units), bool(short)


async def _done(ed: Editor, n: int = 1) -> str:
    return str(
        await ed.wait_for(lambda: [m for m in ed.logs() if "work ahead done" in m][n - 1 :] or None)
    )


async def test_a_first_code_action_finds_the_work_done(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    root = _workspace(tmp_path / "ws")
    ed = await start_editor(root, tmp_path / "home", verbose=True, menu_intents=False)
    try:
        ed.open(DEP)
        said = await _done(ed)
        assert "left to the menu" in said and "(0 left" in said, said
        title, units, short = await _first_menu(ed, capfd)
        assert (units, short) == (0, False)  # nothing loaded, no using file classified
        assert "ripples: 81 uses in 41 files" in title and not re.search(r"\d\+", title), title
    finally:
        await stop_editor(ed)


async def test_without_it_the_first_code_action_answers_a_lower_bound(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    root = _workspace(tmp_path / "ws")
    off = {"workAhead": False}
    ed = await start_editor(
        root, tmp_path / "home", verbose=True, init_options=off, menu_intents=False
    )
    try:
        ed.open(DEP)
        await asyncio.sleep(1.0)  # idle, as in the test above
        title, units, short = await _first_menu(ed, capfd)
        assert short and units >= listing.MENU_FLOOR, (units, title)
        assert title.endswith("?"), title  # an estimate on the uses counted so far
        assert not any("work ahead" in m for m in ed.logs())
    finally:
        await stop_editor(ed)


async def test_nothing_is_stale_after_an_edit(tmp_path: Path) -> None:
    """A use added in another open file: the work ahead starts again from the new index,
    and the menu counts the new use."""
    root = _workspace(tmp_path / "ws")
    ed = await start_editor(root, tmp_path / "home", menu_intents=False)
    try:
        ed.open(DEP)
        ed.open("users/u00.py")
        await _done(ed)
        before = _refactor(await ed.actions(DEP, 1, 2))
        assert "81 uses in 41 files" in before, before
        ed.replace("users/u00.py", "    return dep(v)", "    dep(1)\n    return dep(v)")
        after = await ed.wait_for_menu(
            lambda listed: "82 uses" in _refactor(listed), lambda e: e.actions(DEP, 1, 2)
        )
        assert not re.search(r"\d\+", _refactor(after))
    finally:
        await stop_editor(ed)


# ---------------------------------------------------------------------------- in-process
class _Host:
    """What the work ahead needs of the server, over a real engine and documents."""

    def __init__(self, engine: ServerEngine, docs: OpenDocuments) -> None:
        self.engine = engine
        self.docs = docs
        self.logged: list[str] = []
        self.building = False

    def busy(self) -> bool:
        return self.building

    cap = 24_000  # the menu's context cap

    def ahead_settings(self) -> tuple[bool, int]:
        return True, self.cap

    def log(self, text: str, kind: object = None) -> None:
        self.logged.append(text)


def _in_process(tmp_path: Path) -> _Host:
    """An engine on the small workspace, `dep.py` open, and the host the work ahead sees."""
    root = _workspace(tmp_path / "ws")
    engine = ServerEngine(root, use_cache=False)
    engine.index(workers=1)
    docs = OpenDocuments(root)
    docs.open((root / DEP).as_uri(), (root / DEP).read_text(), 1)
    return _Host(engine, docs)


async def _until_done(host: _Host, timeout: float = 60.0) -> None:
    """Until the work ahead says it is done (its log line)."""
    async with asyncio.timeout(timeout):
        while not host.logged:
            await asyncio.sleep(0.01)


async def _loop_lag(stop: asyncio.Event) -> float:
    """The longest the loop worked before it came back to this task: what a message would
    wait (in the thread's CPU time: a busy machine's preemption is not the loop's doing)."""
    worst = 0.0
    while not stop.is_set():
        t0 = time.thread_time()
        await asyncio.sleep(0)
        worst = max(worst, time.thread_time() - t0)
    return worst * 1000


async def test_a_message_waits_one_slice_at_most(tmp_path: Path) -> None:
    host = _in_process(tmp_path)
    work = Ahead(host)
    stop = asyncio.Event()
    lag = asyncio.get_running_loop().create_task(_loop_lag(stop))
    work.changed()
    await _until_done(host)
    stop.set()
    worst = await lag
    s = work.stats
    assert s.slices > 10 and s.ranges == 2 and s.left == 0
    # sliced, not one block: no slice holds a quarter of the work (in CPU time: on a busy
    # machine one slice's wall time may hold another process's turn)
    assert s.longest_cpu_ms < s.cpu_s * 1000 / 4, (s.longest_cpu_ms, s.cpu_s)
    assert worst <= s.longest_ms + 5.0, (worst, s.longest_ms)


async def test_a_range_past_its_work_is_left_to_the_menu_and_not_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`dep`'s 41 using files are more than RANGE_WORK lets it count ahead (and `other`'s
    siblings are dep's users): both left to the menu, and after the index moves (an edit)
    not tried again."""
    monkeypatch.setattr(ahead, "RANGE_WORK", 8)
    host = _in_process(tmp_path)
    work = Ahead(host)
    work.changed()
    await _until_done(host)
    assert (work.stats.ranges, work.stats.left) == (2, 2)
    assert work.stats.units <= 2 * (8 + ahead.SLICE_WORK + 3)
    host.engine.workspace.version += 1  # what an edit does to the index
    work.changed()
    await asyncio.sleep(ahead.QUIET_S + 0.2)
    assert work.stats.slices == 0 and len(host.logged) == 1


async def test_a_definition_too_long_for_any_context_is_not_worked_on_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A menu never asks of a definition whose text passes the cap (a cursor in it asks of
    the statement there: analysis/cursor.py), so the work ahead leaves it alone: read
    whole, a 42,846-line function held the loop for a second."""
    monkeypatch.setattr(cursor, "SHORT_LINES", 0)  # dep.py's two functions: 2 lines each
    host = _in_process(tmp_path)
    costs = host.engine.sources.line_costs(DEP)
    host.cap = math.ceil(costs.total(range(0, 2)))  # `dep` fits, `other` costs more
    assert costs.total(range(4, 6)) > host.cap
    work = Ahead(host)
    work.changed()
    await _until_done(host)
    assert work.stats.ranges == 1 and "1 ranges" in host.logged[0]


async def test_nothing_while_the_index_builds(tmp_path: Path) -> None:
    host = _in_process(tmp_path)
    host.building = True
    work = Ahead(host)
    work.changed()
    await asyncio.sleep(ahead.QUIET_S + 0.2)
    assert work.stats.slices == 0 and not host.logged
    host.building = False
    work.changed()  # the build's end is a change (lsp/sync.py)
    await _until_done(host)
    assert work.stats.ranges == 2


async def test_nothing_after_shutdown(tmp_path: Path) -> None:
    """Once the client says shutdown, no slice runs, whatever comes after: a slice ran on
    through `exit` and logged into the closed output (lsp/protocol.py's cascade)."""
    host = _in_process(tmp_path)
    work = Ahead(host)
    work.changed()
    work.stop()  # shutdown, with the work armed
    await asyncio.sleep(ahead.QUIET_S + 0.2)
    work.touched()  # a message after it (exit)
    work.changed()
    await asyncio.sleep(ahead.QUIET_S + 0.2)
    assert work.stats.slices == 0 and not host.logged
    # stopped with a slice queued: it does not run either
    work = Ahead(host)
    work.changed()
    async with asyncio.timeout(10):
        while work.stats.slices == 0:
            await asyncio.sleep(0)  # back after each turn of the loop: after the first slice
    work.stop()
    slices = work.stats.slices
    await asyncio.sleep(0.2)
    assert work.stats.slices == slices and not host.logged


async def test_a_slice_gives_way_to_a_message_and_its_range_carries_on_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message arrives as the first slice classifies its first using file of `dep`: the
    slice stops there (one unit, not SLICE_WORK), `dep` is neither done nor charged more;
    no slice runs while the message waits; once it is handled, later slices finish `dep`,
    and the menu then finds everything counted."""
    host = _in_process(tmp_path)
    waiting = Waiting()
    work = Ahead(host, waiting)
    verdicts = host.engine.resolver.verdicts
    put = verdicts.put
    came: list[int] = []

    def put_then_a_message(*args: object) -> None:
        put(*args)  # type: ignore[arg-type]
        if not came:
            came.append(verdicts.classified)
            waiting.arrived()  # what the thread reading stdin does when bytes come

    monkeypatch.setattr(verdicts, "put", put_then_a_message)
    work.changed()
    async with asyncio.timeout(10):
        while not work.stats.gave_way:
            await asyncio.sleep(0.01)
    await asyncio.sleep(ahead.QUIET_S + 0.15)  # the message not handled yet: nothing runs
    s = work.stats
    assert (s.slices, s.gave_way, s.ranges) == (1, 1, 0)
    assert s.units == 1 < ahead.SLICE_WORK, s.units  # stopped at the unit under way
    assert verdicts.classified == came[0] == 1

    waiting.handled()  # the server dispatches the message (lsp/server.py: message_came)
    work.touched()
    await _until_done(host)
    assert (work.stats.ranges, work.stats.left, work.stats.gave_way) == (2, 0, 1)
    engine = host.engine
    with engine.memo():  # the menu's first request: nothing left to do
        engine.needs_for(engine.analyze(DEP, 1, 2), 24_000, siblings=True)
        assert engine.work is not None and (engine.work.used, engine.capped) == (0, False)


async def test_a_waiting_message_holds_the_work_ahead_but_not_the_menu(tmp_path: Path) -> None:
    """While a message waits, no slice starts; the menu's own request (a code action that
    is that message) does its whole work, never giving way."""
    host = _in_process(tmp_path)
    waiting = Waiting()
    waiting.arrived()
    work = Ahead(host, waiting)
    work.changed()
    await asyncio.sleep(ahead.QUIET_S + 0.15)
    assert work.stats.slices == 0
    engine = host.engine
    engine.menu_s = None  # bounded by its units alone, whatever the machine's speed
    with engine.memo():
        engine.needs_for(engine.analyze(DEP, 1, 2), 24_000, siblings=True)
        assert engine.work is not None and engine.work.used >= 16 and engine.capped
        assert not engine.work.yielded


SUBCLASSES = 30  # of `Base`, one a file


async def test_the_subclasses_of_an_open_class_are_searched_before_the_ranges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What every method's menu shares, `Base`'s 30 subclasses (each in a file of its own),
    is searched for before any range is analysed; a menu on a method then searches for
    none of them."""
    root = tmp_path / "ws"
    files = {
        ".scopewise.toml": "",
        "pkg/base.py": "class Base:\n    def run(self):\n        return 1\n\n"
        "    def stop(self):\n        return 2\n",
        **{
            f"subs/s{i:02}.py": f"from pkg.base import Base\n\n\nclass S{i}(Base):\n"
            f"    def run(self):\n        return {i}\n"
            for i in range(SUBCLASSES)
        },
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    engine = ServerEngine(root, use_cache=False)
    engine.index(workers=1)
    docs = OpenDocuments(root)
    docs.open((root / "pkg/base.py").as_uri(), files["pkg/base.py"], 1)
    host = _Host(engine, docs)
    h = engine.resolver.hierarchy
    events: list[str] = []
    search, analyze = h._search, engine.analyze
    monkeypatch.setattr(h, "_search", lambda *a: events.append("search") or search(*a))
    monkeypatch.setattr(engine, "analyze", lambda *a: events.append("analyze") or analyze(*a))
    work = Ahead(host)
    work.changed()
    await _until_done(host)
    assert (work.stats.classes, work.stats.ranges) == (1, 3), work.stats
    assert events[0] == "search" and "analyze" in events, events
    events.clear()
    with engine.memo():  # a menu on `run`: its overrides from the subclasses found
        engine.analyze("pkg/base.py", 2, 3)
    fi = engine.workspace.get("pkg/base.py")
    assert fi is not None and len(h.subclasses(fi, 0)) == SUBCLASSES
    assert events == ["analyze"], events


def test_the_classes_of_a_file_the_one_asked_in_then_most_members_first() -> None:
    from scopewise.index import extract

    text = b"class A:\n    x = 1\n\n    def m(self):\n        return 1\n\n\nclass B:\n"
    text += b"    def m(self):\n        pass\n\n    def n(self):\n        pass\n\n\n"
    text += b"class C:\n    y = 2\n"
    fi: FileIndex = extract.extract("a.py", "python", text)
    assert classes_of(fi) == ["B", "A"]
    assert classes_of(fi, near=4) == ["A", "B"]  # the class the user asked in goes first
    assert classes_of(fi, near=1) == ["A", "B"]  # its header line too
    assert classes_of(fi, near=17) == ["B", "A"]  # C has no members: no search to start


def test_the_ranges_of_a_file_are_its_definitions_a_class_up_to_its_members() -> None:
    from scopewise.index import extract

    text = b"class A:\n    x = 1\n\n    def m(self):\n        return 1\n\n\ndef f():\n    pass\n"
    fi: FileIndex = extract.extract("a.py", "python", text)
    assert ranges_of(fi) == [(1, 3, "A"), (4, 5, "A.m"), (8, 9, "f")]
