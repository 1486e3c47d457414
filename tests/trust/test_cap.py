"""The daily cap under concurrency and escalation (issue #11, point 9).

Every call reserves its estimate in the ledger (atomically, across threads and processes)
before it is made, and settles what it really cost after: concurrent explains in one server
or in several processes sharing a ledger cannot pass the cap together, and the mismatch
retry and the escalation to a higher tier are each checked before they call."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from fakeapi import FakeAPI, Reply
from scopewise.actions.plan import ActionError, ActionRequest, ActionResult, Actions, Estimate
from scopewise.analysis.engine import Engine
from scopewise.claude.client import ClaudeClient, Usage
from scopewise.claude.ledger import Ledger, Refusal, Reservation
from scopewise.settings import Settings

EXPLAIN = ActionRequest("explain", "shop/pricing.py", 29, 32)
REFACTOR = ActionRequest("refactor", "shop/pricing.py", 29, 32, tier="standard")
MISMATCH = json.dumps(
    {
        "summary": "x",
        "edits": [{"path": "shop/pricing.py", "old_text": "no such text", "new_text": "y"}],
    }
)
BROKEN = json.dumps(
    {
        "summary": "x",
        "edits": [
            {
                "path": "shop/pricing.py",
                "old_text": "def clamp(value: float, low: float, high: float) -> float:",
                "new_text": "def clamp(value: float, low: float, high: float -> float:",
            }
        ],
    }
)
GOOD = json.dumps(
    {
        "summary": "x",
        "edits": [
            {
                "path": "shop/pricing.py",
                "old_text": "MAX_DISCOUNT = 0.5",
                "new_text": "MAX_DISCOUNT = 0.4",
            }
        ],
    }
)


def costing(estimate: Estimate, text: str = "It clamps, then discounts.", **kw: object) -> Reply:
    """A reply that bills about what the plan estimated (all input at the plain input price,
    the estimated output): a little under the estimate, as a good estimate is."""
    usage = {
        "input_tokens": estimate.input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": estimate.output_tokens,
    }
    return Reply(text=text, usage=usage, **kw)  # type: ignore[arg-type]


def open_reservations(ledger: Ledger) -> int:
    with sqlite3.connect(ledger.path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM reservations").fetchone()[0])


@pytest.fixture
async def claude(fake_api: FakeAPI) -> AsyncIterator[ClaudeClient]:
    client = ClaudeClient(api_key="sk-test", base_url=fake_api.base_url, max_retries=0, timeout=30)
    yield client
    await client.close()


def capped(engine: Engine, cap: float) -> Actions:
    return Actions(engine, Settings(daily_cap_usd=cap), ledger=Ledger(daily_cap_usd=cap))


# ---------------------------------------------------------------------------- concurrency
async def test_twelve_concurrent_explains_do_not_pass_the_cap(
    engine: Engine, claude: ClaudeClient, fake_api: FakeAPI
) -> None:
    estimate = Actions(engine, Settings()).plan(EXPLAIN).estimate
    cap = 3.5 * estimate.usd  # room for three calls
    actions = capped(engine, cap)
    plan = actions.plan(EXPLAIN)
    assert plan.blocked is None  # nothing spent yet: each one alone would be fine
    fake_api.push(*(costing(estimate, chunks=8, delay=0.1) for _ in range(12)))

    results = await asyncio.gather(
        *(actions.run(plan, claude) for _ in range(12)), return_exceptions=True
    )

    done = [r for r in results if isinstance(r, ActionResult)]
    refused = [r for r in results if isinstance(r, ActionError)]
    assert len(done) == 3 and len(refused) == 9, results
    assert len(fake_api.message_requests) == 3  # the refused ones never called
    spent = actions.ledger.day_totals()
    assert spent.calls == 3 and spent.usd <= cap
    for error in refused:
        message = str(error)
        assert "held by calls running now" in message and "would pass the daily cap" in message
        assert message.endswith("; not run") and "\n" not in message
    assert open_reservations(actions.ledger) == 0  # every reservation settled


def test_processes_sharing_a_ledger_do_not_pass_the_cap(
    poly: Path, fake_api: FakeAPI, engine: Engine, user_config: Callable[[str], Path]
) -> None:
    """Four `scopewise explain` processes at once, one state folder, room for two calls."""
    estimate = Actions(engine, Settings()).plan(EXPLAIN).estimate
    cap = 2.5 * estimate.usd
    user_config(f"daily_cap_usd = {cap!r}\n")
    # each answer takes ~4 s, so every process plans while others are mid-call
    fake_api.push(*(costing(estimate, chunks=10, delay=0.4) for _ in range(4)))
    env = os.environ.copy()
    env.update(ANTHROPIC_BASE_URL=fake_api.base_url, ANTHROPIC_API_KEY="sk-test")
    command = [sys.executable, "-m", "scopewise.cli", "explain", "shop/pricing.py:29-32"]
    procs = [
        subprocess.Popen(command, cwd=poly, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    outs = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        outs.append((proc.returncode, stdout.decode(), stderr.decode()))

    codes = sorted(code for code, _, _ in outs)
    assert codes == [0, 0, 3, 3], [err for _, _, err in outs]
    for code, _, err in outs:
        if code == 3:
            assert "would pass the daily cap" in err and "Traceback" not in err
    ledger = Ledger()
    try:
        today = ledger.day_totals()
        assert today.calls == 2 and today.usd <= cap
        assert open_reservations(ledger) == 0
    finally:
        ledger.close()
    assert len(fake_api.message_requests) == 2


# ---------------------------------------------------------------------------- follow-up calls
async def test_mismatch_retry_that_would_pass_the_cap_is_refused_before_it_calls(
    engine: Engine, claude: ClaudeClient, fake_api: FakeAPI, poly: Path
) -> None:
    estimate = Actions(engine, Settings()).plan(REFACTOR).estimate
    actions = capped(engine, 1.5 * estimate.usd)  # the first call fits, first + retry do not
    before = (poly / "shop/pricing.py").read_text()
    fake_api.push(costing(estimate, MISMATCH), Reply(text=GOOD))

    with pytest.raises(ActionError) as info:
        await actions.run(actions.plan(REFACTOR), claude)

    assert re.fullmatch(
        r"today's spend \$[0-9.]+ \+ the retry ~\$[0-9.]+ would pass the daily cap of "
        r"\$[0-9.]+; nothing applied",
        str(info.value),
    ), info.value
    assert len(fake_api.message_requests) == 1  # refused before the retry call
    assert fake_api.pending() == 1
    assert (poly / "shop/pricing.py").read_text() == before
    assert [e.outcome for e in actions.ledger.recent(5)] == ["ok"]
    assert open_reservations(actions.ledger) == 0


async def test_escalation_to_a_dearer_tier_is_checked_against_the_cap(
    engine: Engine, claude: ClaudeClient, fake_api: FakeAPI
) -> None:
    """The issue's case: a standard refactor under a cap it fits, whose answer breaks the
    syntax; escalating to deep would pass the cap, so it is refused, not run."""
    estimate = Actions(engine, Settings()).plan(REFACTOR).estimate
    actions = capped(engine, 1.5 * estimate.usd)
    fake_api.push(costing(estimate, BROKEN), Reply(text=GOOD))

    with pytest.raises(ActionError, match=r"\+ the escalation to deep ~\$[0-9.]+ would pass the"):
        await actions.run(actions.plan(REFACTOR), claude)

    assert [r.body["model"] for r in fake_api.message_requests] == ["claude-sonnet-5-5"]
    assert actions.ledger.day_totals().usd <= 1.5 * estimate.usd


async def test_overriding_the_cap_lets_the_retry_run(
    engine: Engine, claude: ClaudeClient, fake_api: FakeAPI
) -> None:
    estimate = Actions(engine, Settings()).plan(REFACTOR).estimate
    actions = capped(engine, 1.5 * estimate.usd)
    fake_api.push(costing(estimate, MISMATCH), Reply(text=GOOD))
    over = ActionRequest("refactor", "shop/pricing.py", 29, 32, tier="standard", override_cap=True)
    result = await actions.run(actions.plan(over), claude)
    assert "MAX_DISCOUNT = 0.4" in result.changes[0].after
    assert len(fake_api.message_requests) == 2


def test_cli_refactor_retry_over_the_cap_is_one_line_and_one_request(
    poly: Path, fake_api: FakeAPI, engine: Engine, user_config: Callable[[str], Path]
) -> None:
    estimate = Actions(engine, Settings()).plan(REFACTOR).estimate
    cap = 1.5 * estimate.usd
    user_config(f"daily_cap_usd = {cap!r}\n")
    fake_api.push(costing(estimate, MISMATCH), Reply(text=GOOD))
    env = os.environ.copy()
    env.update(ANTHROPIC_BASE_URL=fake_api.base_url, ANTHROPIC_API_KEY="sk-test")
    out = subprocess.run(
        [sys.executable, "-m", "scopewise.cli", "refactor", "shop/pricing.py:29-32",
         "--tier", "standard", "--apply"],
        cwd=poly, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 3, out.stderr
    lines = [line for line in out.stderr.splitlines() if "daily cap" in line]
    assert len(lines) == 1 and "+ the retry ~$" in lines[0], out.stderr
    assert lines[0].endswith("; nothing applied")
    assert len(fake_api.message_requests) == 1
    assert "MAX_DISCOUNT = 0.5" in (poly / "shop/pricing.py").read_text()


# ---------------------------------------------------------------------------- the ledger itself
class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 28, 10, 0).timestamp()

    def __call__(self) -> float:
        return self.now


def test_reservations_count_until_settled_or_released(tmp_path: Path) -> None:
    clock = Clock()
    ledger = Ledger(tmp_path / "l.sqlite3", daily_cap_usd=1.00, clock=clock)
    first = ledger.reserve(0.60)
    assert isinstance(first, Reservation)
    assert ledger.check_cap(0.50) == (
        "today's spend $0.00 + $0.60 held by calls running now + this call ~$0.50 would pass "
        "the daily cap of $1.00"
    )
    refused = ledger.reserve(0.50, what="the retry")
    assert isinstance(refused, Refusal) and "+ the retry ~$0.50 would pass" in refused.reason
    ledger.release(first)
    assert ledger.check_cap(0.50) is None
    second = ledger.reserve(0.70)
    assert isinstance(second, Reservation)
    ledger.settle(second, action="explain", tier="quick", model="m", usage=Usage(), usd=0.65)
    assert ledger.day_totals().usd == pytest.approx(0.65)
    assert ledger.check_cap(0.40) is not None and ledger.check_cap(0.35) is None
    assert isinstance(ledger.reserve(0.99, override=True), Reservation)  # "run it anyway"
    ledger.close()


def test_a_crashed_processs_reservation_expires(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    clock = Clock()
    crashed = Ledger(path, daily_cap_usd=1.00, clock=clock)
    assert isinstance(crashed.reserve(0.90, ttl_s=240), Reservation)
    crashed.close()  # never settled: the process died mid-call
    ledger = Ledger(path, daily_cap_usd=1.00, clock=clock)
    assert isinstance(ledger.reserve(0.50), Refusal)
    clock.now += 241
    assert isinstance(ledger.reserve(0.50), Reservation)
    ledger.close()


def test_reservations_are_atomic_across_connections_and_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two ledgers on one file (two processes, in effect), two threads each, each check
    slowed down so that another reservation has every chance to slip in between a check
    and its insert: 24 tries at $0.10 under a $1.00 cap still hold exactly ten."""
    checked = Ledger._held

    def slow_check(self: Ledger, conn: sqlite3.Connection, day: str, now: float) -> Any:
        spent_and_held = checked(self, conn, day, now)
        time.sleep(0.02)
        return spent_and_held

    monkeypatch.setattr(Ledger, "_held", slow_check)
    path = tmp_path / "shared.sqlite3"
    ledgers = [Ledger(path, daily_cap_usd=1.0), Ledger(path, daily_cap_usd=1.0)]
    held: list[Reservation | Refusal] = []
    lock = threading.Lock()

    def work(ledger: Ledger) -> None:
        for _ in range(6):
            got = ledger.reserve(0.10)
            with lock:
                held.append(got)

    threads = [threading.Thread(target=work, args=(ledgers[i % 2],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(isinstance(h, Reservation) for h in held) == 10
    assert open_reservations(ledgers[0]) == 10
    for ledger in ledgers:
        ledger.close()
