"""A code action's site work bounded per request: the menu's analysis classifies at most a
budget of using files, the nearest first; past it the counts are lower bounds ("40+"),
completed by the next requests (the kept verdicts), and routed as the full count would be
where the lower bound decides (analysis/sites.py, analysis/scope.py, actions/routing.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from small_workspace import indexed, warm

from scopewise.actions.plan import Actions
from scopewise.actions.routing import choose_tier
from scopewise.analysis.engine import Engine
from scopewise.analysis.sites import nearest
from scopewise.index import graph
from scopewise.lsp import listing
from scopewise.lsp.capabilities import ClientSupport
from scopewise.lsp.documents import OpenDocuments
from scopewise.settings import RoutingSettings, load
from scopewise.vocab import Action, Tier

USERS = 40
BUDGET = 10


def _user(i: int) -> str:
    return f"from pkg.lib import helper\n\n\ndef use{i}(v):\n    return helper(v * {i})\n"


def _engine(root: Path) -> Engine:
    files = {
        "pkg/lib.py": "def helper(x):\n    return x + 1\n",
        "pkg/near.py": _user(99),
        **{f"users/u{i:02}.py": _user(i) for i in range(USERS)},
    }
    return indexed(root, files)


def test_a_wide_target_is_counted_within_the_budget_then_completed(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    verdicts = engine.resolver.verdicts
    full = USERS + 1  # every user, pkg/near.py included
    seen: list[tuple[int, bool, int]] = []
    summaries = []
    for _ in range(6):
        before = verdicts.classified
        scope = engine.analyze("pkg/lib.py", 1, 2, budget=BUDGET).scope
        seen.append((scope.fan_in_files, scope.capped, verdicts.classified - before))
        summaries.append(scope.summary)
        if not scope.capped:
            break
    files, capped, work = seen[0]
    assert capped and work == BUDGET and files < full
    assert f"{2 * files}+ references in {files}+ files" in summaries[0]
    assert "+" not in summaries[-1]
    assert all(w <= BUDGET for _, _, w in seen)
    assert [f for f, _, _ in seen] == sorted(f for f, _, _ in seen)  # each ask counts on
    assert seen[-1][:2] == (full, False)
    assert engine.analyze("pkg/lib.py", 1, 2).scope.fan_in_files == full


def test_another_languages_users_neither_load_nor_take_the_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Python function whose name JavaScript files beside it use too: they hold no site
    of it, so the first ask counts Python users with its whole budget and loads no
    JavaScript file to find nothing there (at 50k files, a 2 MB bundle: 20-30 ms)."""
    files = {
        "pkg/lib.py": "def helper(x):\n    return x + 1\n",
        **{f"pkg/w{i:02}.js": f"function w{i}(v) {{ return helper(v); }}\n" for i in range(9)},
        **{f"users/u{i:02}.py": _user(i) for i in range(USERS)},
    }
    engine = warm(tmp_path, files)
    assert len(engine.workspace.files_using("helper")) == USERS + 9
    loaded: list[str] = []
    real = graph.FileTable._load

    def load(table: graph.FileTable, path: str, entry: int) -> object:
        loaded.append(path)
        return real(table, path, entry)

    monkeypatch.setattr(graph.FileTable, "_load", load)
    scope = engine.analyze("pkg/lib.py", 1, 2, budget=BUDGET).scope
    assert scope.capped and scope.fan_in_files == BUDGET
    assert loaded and not [p for p in loaded if p.endswith(".js")]


def test_the_nearest_files_come_first(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    analysis = engine.analyze("pkg/lib.py", 1, 2, budget=1)
    assert analysis.scope.capped
    assert {c.path for c in analysis.callers} == {"pkg/near.py"}  # its folder's file first
    paths = ["a/x.py", "b/c/d.py", "b/c/own.py", "b/c0.py", "b/c/e/f.py", "z.py"]
    assert nearest(sorted(paths), "b/c/own.py") == [
        "b/c/own.py",
        "b/c/d.py",
        "b/c/e/f.py",
        "a/x.py",
        "b/c0.py",
        "z.py",
    ]


def test_a_lower_bound_past_the_threshold_routes_as_the_full_count(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    settings = RoutingSettings()
    capped = engine.analyze("pkg/lib.py", 1, 2, budget=BUDGET + 2).scope
    assert capped.capped and capped.fan_in_files >= settings.thresholds.deep_files
    full = engine.analyze("pkg/lib.py", 1, 2).scope
    decided = [True] + ([None] if capped.fan_in >= settings.thresholds.deep_reach else [])
    for action in (Action.REFACTOR, Action.EXPLAIN):
        for moves in decided:  # an interface: the files decide; either: the uses
            a = choose_tier(action, capped, settings, moves)
            b = choose_tier(action, full, settings, moves)
            assert (a.tier, a.interface) == (b.tier, b.interface)
    why = choose_tier(Action.REFACTOR, capped, settings, True).why
    assert why.startswith(f"interface used at {capped.fan_in}+ sites in")


def test_a_lower_bound_that_cannot_decide_routes_on_what_was_counted(tmp_path: Path) -> None:
    """Below the thresholds a lower bound routes as counted (most names used in many files
    are someone else's there: taking the wider route made a third of 50k menus deep for
    standard runs), and the reason says the count is partial."""
    engine = _engine(tmp_path)
    settings = RoutingSettings()
    capped = engine.analyze("pkg/lib.py", 1, 2, budget=2).scope
    assert capped.capped and capped.fan_in < settings.thresholds.deep_reach
    chosen = choose_tier(Action.REFACTOR, capped, settings, True)
    assert chosen.tier == Tier.STANDARD and "counted so far" in chosen.why
    assert f"{capped.fan_in}+ sites" in chosen.why


def test_a_menu_counts_within_the_budget_a_run_counts_every_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _engine(tmp_path)
    monkeypatch.setattr(listing, "MENU_SITE_FILES", BUDGET)
    engine = listing.ServerEngine(tmp_path, use_cache=False)
    engine.index(workers=1)
    with engine.memo():  # a menu's request
        menu = engine.analyze("pkg/lib.py", 1, 2).scope
        assert engine.capped
    run = engine.analyze("pkg/lib.py", 1, 2).scope  # a run: no memo
    assert menu.capped and menu.fan_in_files <= BUDGET
    assert not run.capped and run.fan_in_files == USERS + 1


def test_a_menu_entry_counted_in_part_says_its_cost_is_uncertain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lower bound's estimate prices the context at its ceiling and the sites as counted so
    far: its title says "~$0.07?" (and its reason "N+ uses elsewhere"); counted in full, not."""
    _engine(tmp_path)
    monkeypatch.setattr(listing, "MENU_SITE_FILES", BUDGET)
    settings, _ = load(tmp_path)
    engine = listing.ServerEngine(tmp_path, settings.index, use_cache=False)
    engine.index(workers=1)
    actions = Actions(engine, settings)
    menus = listing.Listing(ClientSupport())
    target = listing.Target((tmp_path / "pkg/lib.py").as_uri(), "pkg/lib.py", 1, 2, None, ())
    with engine.memo():
        listed = menus.actions_for(actions, target, None)
    first = [a.title for a in listed]
    assert first and all(t.endswith("?") for t in first), first
    refactor = next(a for a in listed if a.title.startswith("Refactor"))
    assert isinstance(refactor.data, dict) and "+ " in refactor.data["reason"], refactor.data
    monkeypatch.setattr(listing, "MENU_SITE_FILES", 10_000)
    monkeypatch.setattr(listing, "MENU_WORK", 10_000)
    engine.menu_s = None  # counted in full whatever the machine's speed (MENU_S is CPU time)
    with engine.memo():
        full = [a.title for a in menus.actions_for(actions, target, None)]
    assert full and not any(t.endswith("?") for t in full), full


def test_the_menu_an_editor_asks_for_on_its_own_does_less_and_the_users_counts_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """VS Code asks for the lightbulb's menu after each keystroke and cursor move
    (CodeActionTriggerKind.Automatic): that one classifies AUTO_SITE_FILES using files and
    answers a lower bound; the menu the user opens (Invoked) counts on from what it kept,
    classifying no file twice."""
    _engine(tmp_path)
    monkeypatch.setattr(listing, "MENU_SITE_FILES", 10_000)
    monkeypatch.setattr(listing, "MENU_WORK", 10_000)
    settings, _ = load(tmp_path)
    docs = OpenDocuments(tmp_path, "utf-16")
    engine = listing.ServerEngine(tmp_path, settings.index, documents=docs.by_rel)
    engine.index(workers=1)
    engine.menu_s = None  # counted in units alone, whatever the machine's speed
    actions = Actions(engine, settings)
    menus = listing.Listing(ClientSupport(code_action_literals=True, disabled=True))
    verdicts = engine.resolver.verdicts

    def ask(kind: types.CodeActionTriggerKind | None) -> tuple[list[str], int]:
        params = types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=(tmp_path / "pkg/lib.py").as_uri()),
            range=types.Range(start=types.Position(0, 0), end=types.Position(1, 5)),
            context=types.CodeActionContext(diagnostics=[], trigger_kind=kind),
        )
        before = verdicts.classified
        listed = menus.code_actions(params, actions, engine, docs)
        assert listed
        return [a.title for a in listed], verdicts.classified - before

    auto, auto_work = ask(types.CodeActionTriggerKind.Automatic)
    assert all(t.endswith("?") for t in auto), auto
    assert 0 < auto_work <= listing.AUTO_SITE_FILES
    opened, opened_work = ask(types.CodeActionTriggerKind.Invoked)
    assert not any(t.endswith("?") for t in opened), opened
    assert opened_work == USERS + 1 - auto_work


def test_a_menu_with_diagnostics_analyses_its_range_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Fix entry plans the range the other entries plan, with the editor's diagnostics:
    they count in the scope's figures alone, so the range is analysed once per menu (the
    uses resolved, the sites found), and the Fix entry's figures count the diagnostic."""
    from scopewise.analysis import engine as engine_module

    _engine(tmp_path)
    settings, _ = load(tmp_path)
    docs = OpenDocuments(tmp_path, "utf-16")
    engine = listing.ServerEngine(tmp_path, settings.index, documents=docs.by_rel)
    engine.index(workers=1)
    engine.menu_s = None
    actions = Actions(engine, settings)
    menus = listing.Listing(ClientSupport(code_action_literals=True, disabled=True))
    analysed: list[int] = []
    real = engine_module.analyze

    def analyze(*args: object, **kwargs: object) -> object:
        analysed.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine_module, "analyze", analyze)
    diag = types.Diagnostic(
        range=types.Range(start=types.Position(1, 4), end=types.Position(1, 10)),
        message="helper returns a bare sum",
    )
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=(tmp_path / "pkg/lib.py").as_uri()),
        range=types.Range(start=types.Position(0, 0), end=types.Position(1, 5)),
        context=types.CodeActionContext(diagnostics=[diag]),
    )
    listed = menus.code_actions(params, actions, engine, docs)
    assert listed and len(analysed) == 1
    reasons = {a.title.split(" · ")[0]: a.data["reason"] for a in listed if a.data}  # type: ignore[index]
    assert "(2 lines, 1 problem)" in reasons["Fix"], reasons  # the diagnostic counted
