"""A menu request's work bounded as a whole (analysis/work.py): the files it loads and the
using files it classifies, shared by the range's sites, its siblings' search and the
overrides. Past the budget each part answers a lower bound and says so; what it did is kept,
so the next request on the same target carries on; a run (no budget) does all of it."""

from __future__ import annotations

from pathlib import Path

import pytest
from small_workspace import warm

from scopewise.actions.plan import Actions
from scopewise.analysis import siblings, sites
from scopewise.analysis import work as work_module
from scopewise.analysis.engine import Engine
from scopewise.analysis.scope import Analysis
from scopewise.analysis.work import Work
from scopewise.claude.ledger import Ledger
from scopewise.lsp import listing
from scopewise.lsp.capabilities import ClientSupport
from scopewise.settings import load

USERS = 30
LIMIT = 8
SLACK = 3  # the file in progress when the budget runs out: loaded, classified, its import


def _files() -> dict[str, str]:
    return {
        "pkg/dep.py": "def dep(x):\n    return x\n",
        "pkg/lib.py": "from pkg.dep import dep\n\n\ndef caller(v):\n    return dep(v)\n",
        "pkg/base.py": "class Base:\n    def m(self):\n        return 1\n",
        **{
            f"users/u{i:02}.py": (
                "from pkg.dep import dep\nfrom pkg.base import Base\n\n\n"
                f"def user{i}(v):\n    return dep(v) + {i}\n\n\n"
                f"class Sub{i}(Base):\n    def m(self):\n        return {i}\n"
            )
            for i in range(USERS)
        },
    }


def _warm(root: Path) -> Engine:
    """An engine on a warm cache: every file stored, loaded when asked (the work counted)."""
    return warm(root, _files())


def _siblings(engine: Engine, work: Work | None) -> tuple[siblings.Siblings, Analysis]:
    """The siblings of `caller` as a menu (with `work`) or a run (without) searches them."""
    analysis = engine.analyze("pkg/lib.py", 4, 5, work=work)
    if work is None:
        return siblings.find(analysis, engine.workspace, engine.resolver.callers), analysis

    def callers_of(fi, i):  # type: ignore[no-untyped-def]
        return engine.resolver.callers_within(fi, i, None, work)[0]

    return siblings.find(analysis, engine.workspace, callers_of, True, work), analysis


def test_a_wide_siblings_search_stops_within_the_work_and_carries_on(tmp_path: Path) -> None:
    engine = _warm(tmp_path)
    seen: list[tuple[int, bool, int]] = []
    for _ in range(40):
        work = engine.resolver.work(LIMIT)
        found, _ = _siblings(engine, work)
        seen.append((len(found.found), found.partial, work.used))
        if not found.partial:
            break
    assert seen[0][1] and seen[0][0] < USERS  # the first request: a partial answer
    assert all(used <= LIMIT + SLACK for _, _, used in seen)
    assert [n for n, _, _ in seen] == sorted(n for n, _, _ in seen)  # each carries on
    assert not seen[-1][1] and len(seen) > 2
    run, _ = _siblings(engine, None)
    assert not run.partial
    assert [(s.path, s.index, s.strength) for s in run.found] == [
        (s.path, s.index, s.strength) for s in found.found
    ]
    assert len(run.found) == USERS


def test_without_a_budget_the_same_search_loads_every_file(tmp_path: Path) -> None:
    """What the budget saves: the run's search loads every user (the test above would
    not bound anything if it did not)."""
    engine = _warm(tmp_path)
    before = engine.workspace.files.loads
    run, _ = _siblings(engine, None)
    assert len(run.found) == USERS
    assert engine.workspace.files.loads - before > LIMIT + SLACK


def test_a_spent_request_neither_searches_nor_counts_the_siblings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the request's work is spent nothing would be searched: the dependencies' uses
    are not counted either (a page of rows or a file each), the answer says so; the next
    request with work left finds them as before."""
    engine = _warm(tmp_path)
    spent = engine.resolver.work(0)
    analysis = engine.analyze("pkg/lib.py", 4, 5, work=engine.resolver.work(1000))
    counted: list[str] = []
    real = siblings._uses_of
    monkeypatch.setattr(siblings, "_uses_of", lambda ws, name, *a: counted.append(name) or 0)
    found = siblings.find(analysis, engine.workspace, engine.resolver.callers, True, spent)
    assert found.partial and not found.found and found.unsearched == ["dep"]
    assert counted == [] and spent.short
    monkeypatch.setattr(siblings, "_uses_of", real)
    found, _ = _siblings(engine, engine.resolver.work(1000))
    assert not found.partial and len(found.found) == USERS


def test_a_names_use_count_past_the_cap_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name used in more files than the siblings' cap is counted from a page of rows
    once, then kept (until the index changes) like any other count."""
    engine = _warm(tmp_path)
    asked: list[str] = []
    real = siblings.count_using

    def counting(table, name, most):  # type: ignore[no-untyped-def]
        asked.append(name)
        return real(table, name, most)

    monkeypatch.setattr(siblings, "count_using", counting)
    ws = engine.workspace
    assert siblings._uses_of(ws, "dep", 5, None) == 5  # USERS files use it
    assert siblings._uses_of(ws, "dep", 5, None) == 5
    assert asked == ["dep"]


def test_overrides_wait_for_a_request_with_work_left(tmp_path: Path) -> None:
    engine = _warm(tmp_path)
    spent = engine.resolver.work(0)
    first = engine.analyze("pkg/base.py", 2, 3, budget=16, work=spent)
    assert first.scope.capped and spent.short
    assert not any("overrides" in c.via for c in first.callers)
    again = engine.analyze("pkg/base.py", 2, 3, budget=16, work=engine.resolver.work(1000))
    overrides = [c for c in again.callers if "overrides" in c.via]
    assert not again.scope.capped and len(overrides) == USERS
    run = engine.analyze("pkg/base.py", 2, 3)
    assert [c.path for c in run.callers] == [c.path for c in again.callers]


def test_work_that_gives_way_stops_a_subclass_search_within_a_file(tmp_path: Path) -> None:
    """Work done ahead (lsp/ahead.py) gives way to a message: the search for a base's
    subclasses (a part that loads every file naming the base) stops within a file of it;
    the next request carries it on and finds every override."""
    engine = _warm(tmp_path)
    files = engine.workspace.files
    at = files.loads
    ahead = engine.resolver.work(1000, yields=lambda: files.loads >= at + 3)
    first = engine.analyze("pkg/base.py", 2, 3, budget=16, work=ahead)
    assert first.scope.capped and ahead.yielded
    assert sum("overrides" in c.via for c in first.callers) < 3  # those found so far
    assert files.loads - at == 3  # not the USERS files naming Base
    menu = engine.resolver.work(1000)  # a menu's own request never gives way
    again = engine.analyze("pkg/base.py", 2, 3, budget=16, work=menu)
    overrides = [c for c in again.callers if "overrides" in c.via]
    assert not again.scope.capped and not menu.yielded and len(overrides) == USERS


def test_a_menu_request_shares_one_budget_and_is_not_remembered_when_short(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _warm(tmp_path)
    monkeypatch.setattr(listing, "MENU_WORK", LIMIT)
    engine = listing.ServerEngine(tmp_path)
    engine.index(workers=1)
    with engine.memo():  # a menu's request
        analysis = engine.analyze("pkg/lib.py", 4, 5)
        needs = engine.needs_for(analysis, 4000, siblings=True)
        assert engine.work is not None and engine.work.used <= LIMIT + SLACK
        assert engine.capped  # its listing is asked again, not remembered
    run = engine.needs_for(engine.analyze("pkg/lib.py", 4, 5), 4000, siblings=True)
    assert needs.siblings < run.siblings  # those found so far: a lower bound


@pytest.mark.parametrize("cap", [None, 1e-6])
def test_a_menu_request_stays_within_its_work_when_the_daily_cap_blocks_an_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cap: float | None
) -> None:
    """An entry the daily cap may block is packed to decide it: its siblings are searched
    within the same request's work (unbounded, this menu did 74 units of work, not 8)."""
    _warm(tmp_path)
    monkeypatch.setattr(listing, "MENU_WORK", LIMIT)
    settings, _ = load(tmp_path)
    engine = listing.ServerEngine(tmp_path, settings.index)
    engine.index(workers=1)
    ledger = Ledger(tmp_path / "ledger.sqlite3", daily_cap_usd=cap)
    actions = Actions(engine, settings, ledger=ledger)
    uri = (tmp_path / "pkg/lib.py").as_uri()
    with engine.memo():
        target = listing.Target(uri, "pkg/lib.py", 4, 5, None, ())
        listed = listing.Listing(ClientSupport()).actions_for(actions, target, None)
        assert engine.work is not None
        used = engine.work.used
    assert used <= LIMIT + SLACK, f"a menu request did {used} units of work (limit {LIMIT})"
    blocked = [a.title for a in listed if "(over the daily cap)" in a.title]
    assert bool(blocked) == (cap is not None)  # a cap of a millionth of a dollar blocks


def test_the_ranges_own_share_stops_past_a_few_times_the_requests_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The range's own using files keep their share (MENU_SITE_FILES), but not past
    OWN_SHARE_MAX times the request's work: a share whose files load many others stops."""
    _warm(tmp_path)
    monkeypatch.setattr(listing, "MENU_WORK", LIMIT)
    monkeypatch.setattr(listing, "MENU_SITE_FILES", 1000)  # the share alone would take all
    engine = listing.ServerEngine(tmp_path)
    engine.index(workers=1)
    with engine.memo():  # `dep`, used in every user file
        menu = engine.analyze("pkg/dep.py", 1, 2).scope
        assert engine.work is not None
        used = engine.work.used
    assert used <= sites.OWN_SHARE_MAX * LIMIT + SLACK, used
    assert menu.capped and menu.fan_in_files < USERS
    run = engine.analyze("pkg/dep.py", 1, 2).scope
    assert not run.capped and run.fan_in_files == USERS + 1


class _Ticks:
    """A clock that moves a millisecond each time it is read (the thread's CPU time, as a
    slow machine's or a large workspace's request would see it), or never."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.mark.parametrize("step", [0.0, 0.001])
def test_a_menu_request_stops_when_its_time_is_up_and_the_next_carries_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: float
) -> None:
    """Units bound nothing here (a thousand each): the request's time does. Past its floor of
    units, once its time is up each part answers a lower bound; the next request carries on
    from what was kept, and the last one answers as a run does. A clock that never moves
    stops nothing."""
    _warm(tmp_path)
    monkeypatch.setattr(listing, "MENU_WORK", 1000)
    monkeypatch.setattr(listing, "MENU_SITE_FILES", 1000)
    monkeypatch.setattr(work_module, "CLOCK", _Ticks(step))
    engine = listing.ServerEngine(tmp_path)
    engine.index(workers=1)
    seen: list[tuple[bool, int, int]] = []
    for _ in range(60):
        with engine.memo():  # `dep`, used in every user file
            menu = engine.analyze("pkg/dep.py", 1, 2).scope
            assert engine.work is not None
            seen.append((engine.capped, menu.fan_in_files, engine.work.used))
        if not seen[-1][0]:
            break
    run = engine.analyze("pkg/dep.py", 1, 2).scope
    assert not seen[-1][0] and seen[-1][1] == run.fan_in_files == USERS + 1
    if step == 0.0:
        assert len(seen) == 1  # all of it in one request
        return
    assert len(seen) > 2 and seen[0][0] and seen[0][1] < USERS
    assert all(used >= listing.MENU_FLOOR for _, _, used in seen[:-1])  # its floor, at least
    counts = [n for _, n, _ in seen]
    assert counts == sorted(counts)  # each carries on where the last stopped


def test_the_ranges_own_share_stops_when_the_requests_time_is_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Units bound nothing here: a request's time does, half a millisecond a unit. The
    range's own share of using files stops once the request's time is up (MENU_S, past its
    floor), not later: what comes after it (the menu's measures) has a fixed cost."""
    _warm(tmp_path)
    monkeypatch.setattr(listing, "MENU_WORK", 1000)
    monkeypatch.setattr(listing, "MENU_SITE_FILES", 1000)
    engine = listing.ServerEngine(tmp_path)
    engine.index(workers=1)
    unit = 0.0005
    monkeypatch.setattr(work_module, "CLOCK", lambda: engine.work.used * unit if engine.work else 0)
    with engine.memo():
        scope = engine.analyze("pkg/dep.py", 1, 2).scope
        assert engine.work is not None and engine.capped and scope.fan_in_files < USERS
        assert engine.work.used <= listing.MENU_S / unit + SLACK, engine.work.used


def test_a_wide_subclass_search_stops_within_the_work_and_carries_on(tmp_path: Path) -> None:
    """`Base` has USERS subclasses, one per file: a menu request finds the overrides of
    `Base.m` only within its work (each file read is a unit), and the next requests carry
    the search on from where it stopped (not from the start) until every override is found,
    as a run finds them."""
    engine = _warm(tmp_path)
    found: list[int] = []
    for _ in range(40):
        work = engine.resolver.work(LIMIT)
        analysis = engine.analyze("pkg/base.py", 2, 3, budget=1000, work=work)
        assert work.used <= LIMIT + SLACK
        found.append(sum("overrides" in c.via for c in analysis.callers))
        if not analysis.scope.capped:
            break
    assert len(found) > 2 and found[0] < USERS
    assert found == sorted(found) and found[-1] == USERS
    run = engine.analyze("pkg/base.py", 2, 3)
    assert [c.path for c in run.callers] == [c.path for c in analysis.callers]


def test_a_stopped_subclass_search_carries_on_across_keystrokes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keystrokes in another file's body between the requests (the index moves each time,
    its definitions and shape do not): the overrides' search carries on from where the
    last request stopped — the classes it had found are not looked for again — until every
    override is found, as a run finds them."""
    from small_workspace import write

    from scopewise.analysis.hierarchy import Hierarchy
    from scopewise.index.buffer import Document, TextChange

    files = _files()
    write(tmp_path, files)
    Engine(tmp_path).index(workers=1)
    doc = Document("pkg/lib.py", files["pkg/lib.py"], 1, "python")
    engine = Engine(tmp_path, documents={"pkg/lib.py": doc}.get)
    engine.index(workers=1)
    starts: list[int] = []  # subclasses already found when a request's search starts
    real = Hierarchy._search

    def search(self: Hierarchy, s, language, work):  # type: ignore[no-untyped-def]
        starts.append(len(s.out))
        return real(self, s, language, work)

    monkeypatch.setattr(Hierarchy, "_search", search)
    found: list[int] = []
    for version in range(2, 42):
        typed = version % 2 == 0  # a space typed at the end of `caller`'s body, then deleted
        at, end = (4, 17), (4, 17 if typed else 18)
        doc.apply([TextChange(" " if typed else "", at, end)], version)
        engine.sync("pkg/lib.py")
        work = engine.resolver.work(LIMIT)
        analysis = engine.analyze("pkg/base.py", 2, 3, budget=1000, work=work)
        found.append(sum("overrides" in c.via for c in analysis.callers))
        if not analysis.scope.capped:
            break
    assert len(found) > 2 and found[-1] == USERS
    assert starts == [0, *found[:-1]]  # each search took up the last one's
    run = engine.analyze("pkg/base.py", 2, 3)
    assert [c.path for c in run.callers] == [c.path for c in analysis.callers]


def _js_files() -> dict[str, str]:
    return {
        "pkg/base.js": "export class Base {\n  add(x) {\n    return x;\n  }\n}\n",
        **{
            f"u/s{i:02}.js": (
                f"import {{ Base }} from '../pkg/base.js';\n\nexport class S{i} extends Base {{\n"
                f"  add(x) {{\n    return x + {i};\n  }}\n}}\n"
            )
            for i in range(USERS)
        },
    }


def test_a_js_methods_overriders_are_found_within_the_work_and_carried_on(tmp_path: Path) -> None:
    """A JavaScript method's symbol takes its overriders (USERS subclasses, a file each): a
    menu request looks for them only within its work — the symbol a part of it then, not
    kept, the answer a lower bound — and the requests after it find every one, as a run."""
    engine = warm(tmp_path, _js_files())
    seen: list[tuple[bool, int]] = []
    for _ in range(40):
        work = engine.resolver.work(LIMIT)
        analysis = engine.analyze("pkg/base.js", 2, 4, budget=1000, work=work)
        assert work.used <= LIMIT + SLACK, work.used
        seen.append((analysis.scope.capped, len(analysis.callers)))
        if not analysis.scope.capped:
            break
    assert seen[0][0] and len(seen) > 2
    run = engine.analyze("pkg/base.js", 2, 4)
    assert not seen[-1][0] and seen[-1][1] == len(run.callers) >= USERS
