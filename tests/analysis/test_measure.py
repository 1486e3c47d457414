"""The menu's measures (analysis/measure.py): bounded by a token cap whatever the number of
uses, exact about the site list, close to what packing the context finds; and a definition's
sites remembered across requests exactly until the index changes."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest
from small_workspace import indexed

from scopewise.actions.estimate import prefix_key
from scopewise.actions.model import ActionRequest
from scopewise.actions.plan import Actions
from scopewise.analysis import candidates, packing
from scopewise.analysis.engine import Engine
from scopewise.analysis.measure import LIST_SAMPLE, measure
from scopewise.settings import Settings
from scopewise.vocab import Action, Tier

USERS = 150


@pytest.fixture
def crowd(tmp_path: Path) -> Engine:
    """A helper used once in each of USERS files."""
    files = {
        f"users/u{i}.py": f"from lib import helper\n\n\ndef use{i}(v):\n    w = v * {i}\n"
        "    return helper(w)\n"
        for i in range(USERS)
    }
    return indexed(tmp_path / "crowd", {"lib.py": "def helper(x):\n    return x + 1\n", **files})


def _counting_reads(engine: Engine) -> set[str]:
    """The files whose text the engine's sources read from now on."""
    read: set[str] = set()
    get = engine.sources.get

    def counting(path: str, with_tree: bool = False):  # type: ignore[no-untyped-def]
        read.add(path)
        return get(path, with_tree=with_tree)

    engine.sources.get = counting  # type: ignore[method-assign]
    return read


def test_a_name_used_everywhere_is_measured_up_to_the_cap(crowd: Engine) -> None:
    """Every site is counted (the tier and the title say how many), but files are read only
    until the measure passes the cap: the menu's work does not grow with the uses."""
    analysis = crowd.analyze("lib.py", 1, 2)
    read = _counting_reads(crowd)
    needs = measure(analysis, crowd.sources, 1000)
    assert len(needs.sites) == 2 * USERS  # the site list is whole (each import and call)
    assert needs.plan > 1000  # past the cap: the budget is the ceiling
    assert len(read) < USERS // 3, len(read)  # ... and most files were never read
    packed = crowd.context_for(analysis, 1000)  # packing lists what fits, reading more
    assert [s.path for s in packed.sites] == [s.path for s in needs.sites]


def test_a_range_measured_at_two_caps_lists_its_sites_once(crowd: Engine) -> None:
    """A menu measures its range at two caps or more (a run's and the deep tier's): the site
    list is the same at each, made once (a class with 3,000 uses made 3,000 entries twice
    per request, ~a quarter of its menu's time)."""
    analysis = crowd.analyze("lib.py", 1, 2)
    low, high = measure(analysis, crowd.sources, 1000), measure(analysis, crowd.sources, 60_000)
    assert low.plan < high.ripple and len(low.sites) == 2 * USERS
    assert high.sites is low.sites


def test_the_menu_routes_as_the_run_and_estimates_close_to_it(engine: Engine) -> None:
    """The menu's plans (measured contexts) have the run's tier and way; their cost is
    within a factor of 1.6 of the full plan's, and their context has no text."""
    actions = Actions(engine, Settings())
    fi = engine.workspace.get("shop/pricing.py")
    assert fi is not None
    checked = 0
    for d in fi.definitions:
        for action in (Action.EXPLAIN, Action.REFACTOR):
            for tier in (None, Tier.QUICK, Tier.DEEP):
                req = ActionRequest(action, fi.path, d.start_line + 1, d.end_line + 1, tier=tier)
                menu = actions.plan_all([req], estimate=True)[0]
                full = actions.plan_all([req])[0]
                assert (menu.route.tier, bool(menu.steps)) == (full.route.tier, bool(full.steps))
                assert menu.route.reasons[0] == full.route.reasons[0]
                assert 1 / 1.6 < menu.estimate.usd / full.estimate.usd < 1.6, (d.name, req)
                assert menu.context.measured and menu.context.render() == ""
                assert menu.context_line.startswith("context ~")
                checked += 1
    assert checked >= 12


def test_sites_are_remembered_until_any_index_changes(crowd: Engine, tmp_path: Path) -> None:
    """A definition's sites are gathered once while nothing changes (a cursor moving, the
    menu asked again), and again after any file's index changed: a new user is a new site."""
    fi = crowd.workspace.get("lib.py")
    assert fi is not None
    finder = crowd.resolver._sites
    calls = 0
    sites = finder.sites

    def counting(fi_, index):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        return sites(fi_, index)

    finder.sites = counting  # type: ignore[method-assign]
    first = crowd.resolver.callers(fi, 0)
    assert crowd.resolver.callers(fi, 0) == first and calls == 1
    new = crowd.root / "users" / "late.py"
    new.write_text("from lib import helper\n\nlate = helper(2)\n", encoding="utf-8")
    crowd.workspace.refresh_from_disk("users/late.py")
    again = crowd.resolver.callers(fi, 0)
    assert calls == 2 and len(again) == len(first) + 2  # its import and its call
    assert any(s.path == "users/late.py" for s in again)


def test_the_menu_knows_a_prefix_just_sent_is_cached(engine: Engine) -> None:
    """After a run sent a range's context, the menu's estimate for the same range reads it
    from the prompt cache, as the run's own plan would."""
    actions = Actions(engine, Settings())
    req = ActionRequest(Action.EXPLAIN, "shop/pricing.py", 11, 22)
    before = actions.plan_all([req], estimate=True)[0]
    assert before.estimate.cached_tokens == 0
    full = actions.plan(req)  # a run plans again, then sends this prefix
    actions._prefixes[prefix_key(full.route.model, full.context.render())] = time.time()
    after = actions.plan_all([req], estimate=True)[0]
    assert after.estimate.cached_tokens > 0 and after.estimate.usd < before.estimate.usd


def test_a_names_definitions_follow_new_definitions_not_edits_in_a_body(crowd: Engine) -> None:
    """By-name resolution's look-up of a name's definitions is kept while an edit changes
    only a body (a keystroke), and made again once a definition of that name appears."""
    ws = crowd.workspace
    kept = crowd.resolver._kept
    assert kept.named("helper", "python", False, False) == (("lib.py", 0),)
    at = ws.defs_version
    ws.update("users/u1.py", b"from lib import helper\n\n\ndef use1(v):\n    return helper(v)\n")
    assert ws.defs_version == at  # a body edited: the same definitions
    ws.update("users/u2.py", b"def helper(x):\n    return x\n")
    assert ws.defs_version > at
    found = kept.named("helper", "python", False, False)
    assert found == (("lib.py", 0), ("users/u2.py", 0))


def test_a_menu_entry_is_not_blocked_by_the_cap_when_its_run_would_not_be(
    crowd: Engine,
) -> None:
    """The measure may price a context above what packing sends; an entry whose measured
    estimate passes the daily cap is planned exactly before the menu calls it blocked."""
    req = ActionRequest(Action.REFACTOR, "lib.py", 1, 2)
    exact = Actions(crowd, Settings()).plan_all([req])[0]
    capped = Settings(daily_cap_usd=exact.estimate.usd)  # the run fits, to the cent
    menu = Actions(crowd, capped).plan_all([req], estimate=True)[0]
    assert menu.blocked is None
    assert menu.estimate.usd == pytest.approx(exact.estimate.usd)


def test_a_wide_site_list_is_priced_from_a_sample_of_its_files(crowd: Engine) -> None:
    """Under a roomy cap, the site list's files past the first LIST_SAMPLE are priced at the
    read ones' mean per line, not read (a name used in 600 files costs a menu 8 reads, not
    600); the estimate stays within 10% of reading every one, and a run's packing, which does
    read them all, is not touched."""
    analysis = crowd.analyze("lib.py", 1, 2)
    read = _counting_reads(crowd)
    needs = measure(analysis, crowd.sources, 10**6)
    users_read = {p for p in read if p.startswith("users/")}
    assert len(users_read) <= 2 * LIST_SAMPLE, len(users_read)  # the list's, the bodies'
    site_list = candidates.sites(analysis, crowd.workspace.get)
    whole = packing.listing_cost(packing.Packer(crowd.sources, 10**6), site_list)
    assert {p for p in read if p.startswith("users/")} == {f"users/u{i}.py" for i in range(USERS)}
    own = needs.plan - packing.listing_cost(
        packing.Packer(crowd.sources, 10**6), site_list, None, LIST_SAMPLE
    )
    assert abs((needs.plan - own) - whole) <= 0.1 * whole
    assert needs.ripple > needs.plan  # the callers' bodies counted too (sampled alike)


def test_a_site_list_names_each_caller_without_loading_its_file_again(crowd: Engine) -> None:
    """A site carries its caller's name line and qualified name from the index it was found
    in: listing a definition's sites (every menu on it) looks up none of their files."""
    analysis = crowd.analyze("lib.py", 1, 2)
    looked: list[str] = []

    def lookup(path: str):  # type: ignore[no-untyped-def]
        looked.append(path)
        return crowd.workspace.get(path)

    listed = candidates.sites(analysis, lookup)
    assert not looked and len(listed) == 2 * USERS
    analysis.memo.clear()
    analysis.callers[:] = [replace(c, facts=None) for c in analysis.callers]
    assert candidates.sites(analysis, crowd.workspace.get) == listed  # as loading them says
    assert {s.symbol for s in listed} >= {f"use{i}" for i in range(USERS)}


def test_a_class_skeleton_is_worked_out_once_for_its_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every menu on a method measures the class around it: its skeleton is worked out once
    per content of its file (a 1,500-line class's is a pass over every definition), and an
    edit that changes the class shows in the next one."""
    body = "".join(f"    def m{i}(self):\n        return {i}\n\n" for i in range(30))
    engine = indexed(tmp_path / "w", {"big.py": f"class Big:\n    '''Doc.'''\n\n{body}"})
    made: list[int] = []
    real = candidates._skeleton

    def counting(fi: object, index: int) -> frozenset[int]:
        made.append(index)
        return real(fi, index)  # type: ignore[arg-type]

    monkeypatch.setattr(candidates, "_skeleton", counting)
    fi = engine.workspace.get("big.py")
    assert fi is not None
    first = [candidates.skeleton(fi, 0) for _ in range(5)]
    assert len(made) == 1 and all(s == first[0] for s in first)
    assert 0 in first[0] and 3 in first[0] and 4 not in first[0]  # m0's signature, not its body
    (tmp_path / "w" / "big.py").write_text(f"class Big:\n    x = 1\n\n{body}")
    engine.workspace.refresh_from_disk("big.py")
    edited = engine.workspace.get("big.py")
    assert edited is not None and edited.digest != fi.digest
    assert 1 in candidates.skeleton(edited, 0) and len(made) == 2


def test_a_range_asked_again_takes_its_site_list_from_before_until_a_site_changes(
    crowd: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A menu asked again (a new analysis: after a keystroke elsewhere, a run, the ledger)
    with the very same sites takes the site list made before; once a use is added the list
    is made again, and it holds the new site."""
    made: list[int] = []
    real = candidates._sites

    def counting(analysis, files, known):  # type: ignore[no-untyped-def]
        made.append(len(analysis.callers))
        return real(analysis, files, known)

    monkeypatch.setattr(candidates, "_sites", counting)
    first = measure(crowd.analyze("lib.py", 1, 2), crowd.sources, 1000)
    again = measure(crowd.analyze("lib.py", 1, 2), crowd.sources, 1000)
    assert again == first and made == [2 * USERS]
    crowd.workspace.update(
        "users/u7.py",
        b"from lib import helper\n\n\ndef use7(v):\n    w = helper(v) * 7\n    return helper(w)\n",
    )
    fresh = measure(crowd.analyze("lib.py", 1, 2), crowd.sources, 1000)
    assert made == [2 * USERS, 2 * USERS + 1]
    assert ("users/u7.py", 5) in {(s.path, s.line) for s in fresh.sites}
    assert len(fresh.sites) == len(first.sites) + 1
