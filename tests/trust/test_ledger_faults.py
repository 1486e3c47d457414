"""A ledger that cannot be used (issue #11, point 8, the ledger half): corrupt or unreadable,
it says so in one line naming the file; with ``daily_cap_usd`` set nothing is spent (the cap
cannot be checked: fail closed); without a cap the action runs and the process warns once
that spend is not recorded. The file itself is left as it was."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from fakeapi import FakeAPI, Reply
from scopewise.actions.plan import ActionError, ActionRequest, Actions
from scopewise.analysis.engine import Engine
from scopewise.claude.client import ClaudeClient, Usage
from scopewise.claude.ledger import Ledger, LedgerError, Refusal, Reservation
from scopewise.settings import Settings

sys.path.insert(0, str(Path(__file__).parents[1] / "lsp"))  # the LSP test client
from lspclient import copy_poly, start_editor, stop_editor

GARBAGE = bytes(range(256)) * 16  # not SQLite: no header, no pages
EXPLAIN = ActionRequest("explain", "shop/pricing.py", 29, 32)


def corrupt_ledger(state: Path) -> Path:
    state.mkdir(parents=True, exist_ok=True)
    path = state / "ledger.sqlite3"
    path.write_bytes(GARBAGE)
    return path


def cli(args: list[str], cwd: Path, api: FakeAPI | None = None) -> subprocess.CompletedProcess[str]:
    env = os.environ.copy()
    env["ANTHROPIC_API_KEY"] = "sk-test"
    if api is not None:
        env["ANTHROPIC_BASE_URL"] = api.base_url
    return subprocess.run(
        [sys.executable, "-m", "scopewise.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


@pytest.fixture
def state() -> Path:
    return Path(os.environ["SCOPEWISE_STATE_DIR"])


# ---------------------------------------------------------------------------- the CLI
def test_corrupt_ledger_with_a_cap_spends_nothing(
    poly: Path, fake_api: FakeAPI, state: Path, user_config: Callable[[str], Path]
) -> None:
    ledger = corrupt_ledger(state)
    user_config("daily_cap_usd = 5.0\n")
    out = cli(["explain", "shop/pricing.py:29-32"], poly, fake_api)
    assert out.returncode == 3, out.stderr
    assert "Traceback" not in out.stderr
    (line,) = [x for x in out.stderr.splitlines() if "ledger" in x]
    assert line == (
        f"scopewise: the cost ledger {ledger} is corrupt (file is not a database): move it "
        "aside to start anew; daily_cap_usd is set, so nothing is spent until then"
    )
    assert fake_api.message_requests == []  # fail closed: no call
    assert ledger.read_bytes() == GARBAGE  # left intact

    plan = cli(["plan", "explain", "shop/pricing.py:29-32"], poly)  # offline: says why
    assert plan.returncode == 0, plan.stderr
    assert f"blocked    the cost ledger {ledger} is corrupt" in plan.stdout


def test_corrupt_ledger_without_a_cap_runs_and_warns_once(
    poly: Path, fake_api: FakeAPI, state: Path
) -> None:
    ledger = corrupt_ledger(state)
    fake_api.push(Reply(text="It clamps the rate, then discounts."))
    out = cli(["explain", "shop/pricing.py:29-32"], poly, fake_api)
    assert out.returncode == 0, out.stderr
    assert "It clamps the rate, then discounts." in out.stdout
    warnings = [x for x in out.stderr.splitlines() if "ledger" in x]
    assert warnings == [
        f"scopewise: warning: the cost ledger {ledger} is corrupt (file is not a database): "
        "move it aside to start anew; spend is not recorded"
    ], out.stderr
    assert ledger.read_bytes() == GARBAGE


def test_usage_on_a_corrupt_ledger_is_one_line(poly: Path, state: Path) -> None:
    ledger = corrupt_ledger(state)
    out = cli(["usage"], poly)
    assert out.returncode == 2
    assert out.stderr == (
        f"scopewise: the cost ledger {ledger} is corrupt (file is not a database): move it "
        "aside to start anew\n"
    )


# ---------------------------------------------------------------------------- Actions and Ledger
@pytest.fixture
async def claude(fake_api: FakeAPI) -> AsyncIterator[ClaudeClient]:
    client = ClaudeClient(api_key="sk-test", base_url=fake_api.base_url, max_retries=0, timeout=10)
    yield client
    await client.close()


async def test_unopenable_ledger_with_a_cap_refuses_even_a_stale_plan(
    engine: Engine, claude: ClaudeClient, fake_api: FakeAPI, tmp_path: Path
) -> None:
    """A plan made while the ledger was fine, run after it broke: the call itself refuses."""
    path = tmp_path / "ledger.sqlite3"
    ledger = Ledger(path, daily_cap_usd=5.0)
    actions = Actions(engine, Settings(daily_cap_usd=5.0), ledger=ledger)
    plan = actions.plan(EXPLAIN)
    assert plan.blocked is None
    ledger.close()
    path.unlink()
    path.mkdir()  # now a folder: SQLite cannot open it
    with pytest.raises(ActionError) as info:
        await actions.run(plan, claude)
    assert str(info.value) == (
        f"the cost ledger {path} cannot be used (unable to open database file): check the "
        "file and its folder's permissions; daily_cap_usd is set, so nothing is spent until "
        "then; not run"
    )
    assert fake_api.message_requests == []


async def test_override_or_no_cap_runs_on_a_corrupt_ledger(
    engine: Engine, claude: ClaudeClient, fake_api: FakeAPI, tmp_path: Path
) -> None:
    path = tmp_path / "ledger.sqlite3"
    path.write_bytes(GARBAGE)
    actions = Actions(engine, Settings(), ledger=Ledger(path))
    result = await actions.run(actions.plan(EXPLAIN), claude)
    assert result.text and result.calls == 1
    over = Ledger(path, daily_cap_usd=5.0)
    capped = Actions(engine, Settings(daily_cap_usd=5.0), ledger=over)
    req = ActionRequest("explain", "shop/pricing.py", 29, 32, override_cap=True)
    assert (await capped.run(capped.plan(req), claude)).calls == 1
    assert len(fake_api.message_requests) == 2
    assert path.read_bytes() == GARBAGE


def test_ledger_api_on_a_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    path.write_bytes(GARBAGE)
    capped = Ledger(path, daily_cap_usd=1.0)
    refusal = capped.reserve(0.01)
    assert isinstance(refusal, Refusal) and "is corrupt" in refusal.reason
    assert capped.check_cap(0.01) == refusal.reason
    with pytest.raises(LedgerError, match=r"is corrupt \(file is not a database\)"):
        capped.day_totals()
    assert capped.warn_once() is None  # with a cap it refuses instead of warning

    free = Ledger(path)
    first = free.warn_once()
    assert first is not None and first.endswith("; spend is not recorded")
    held = free.reserve(0.01)
    assert isinstance(held, Reservation) and held.id is None  # nothing could be held
    entry = free.settle(held, action="explain", tier="quick", model="m", usage=Usage(), usd=0.01)
    assert entry.usd == 0.01  # the call is not failed for it
    assert free.warn_once() is None and Ledger(path).warn_once() is None  # once a process

    path.unlink()  # moved aside: the next use starts a new ledger
    assert isinstance(capped.reserve(0.01), Reservation)
    assert capped.problem is None and capped.day_totals().calls == 0


# ---------------------------------------------------------------------------- the server
async def test_server_warns_once_then_fails_closed_when_a_cap_is_set(tmp_path: Path) -> None:
    from lsprotocol import types

    root = copy_poly(tmp_path / "poly")
    home = tmp_path / "home"
    ledger = corrupt_ledger(home / "state")
    with FakeAPI() as api:
        ed = await start_editor(root, home, api=api)
        try:
            ed.open("shop/pricing.py")
            for _ in range(2):
                api.push(Reply(text="It clamps the rate."))
                listed = await ed.actions("shop/pricing.py", 29, 32, only=["source"])
                explain = next(a for a in listed if a.title.startswith("Explain"))
                assert explain.disabled is None
                result = await ed.run(explain)
                assert result.get("shown") is not None, result  # the explanation came
            warnings = [m for m in ed.shown_messages(types.MessageType.Warning) if "ledger" in m]
            assert warnings == [
                f"scopewise: the cost ledger {ledger} is corrupt (file is not a database): "
                "move it aside to start anew; spend is not recorded"
            ]

            ed.client.set_configuration({"scopewise": {"dailyCapUsd": 5.0}})
            ed.client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(settings=None)
            )

            async def menu(ed: Any) -> list[types.CodeAction]:
                return await ed.actions("shop/pricing.py", 29, 32, only=["source"])

            listed = await ed.wait_for_menu(lambda m: m[0].disabled is not None, menu)
            disabled = listed[0].disabled
            assert disabled is not None and "is corrupt" in disabled.reason
            assert "nothing is spent" in disabled.reason
            assert len(api.message_requests) == 2
            usage = await ed.client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="scopewise.usage")
            )  # an answer with the reason, not a JSON-RPC error
            assert usage["applied"] is False and "is corrupt" in usage["reason"]
            assert ledger.read_bytes() == GARBAGE
        finally:
            await stop_editor(ed)
