"""Cost ledger: dollars per call, totals per session/day/all time, the daily cap."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from fakeapi import FakeAPI, Reply
from scopewise.claude import (
    CallCancelled,
    CallRequest,
    ClaudeClient,
    Ledger,
    ModelCatalog,
    Price,
    TextProgress,
    Usage,
    cost_usd,
)
from scopewise.claude.client import StreamEvent

OPUS = Price(4.0, 20.0, 5.0, 0.20)


class Clock:
    def __init__(self, when: datetime) -> None:
        self.now = when.timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def pacific_time() -> Iterator[None]:
    """Local time far from UTC, so "today" must be the local date."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "America/Los_Angeles"
    time.tzset()
    yield
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


def usage(inp: int = 0, out: int = 0, write: int = 0, read: int = 0) -> Usage:
    return Usage(inp, out, write, read)


def test_cost_usd() -> None:
    u = usage(inp=1_000, out=2_000, write=10_000, read=100_000)
    assert cost_usd(u, OPUS) == pytest.approx((4_000 + 40_000 + 50_000 + 20_000) / 1e6)
    assert cost_usd(Usage(), OPUS) == 0.0
    haiku = Price(0.10, 0.50, 0.125, 0.01, 100_000, Price(0.50, 2.50, 0.625, 0.05))
    small = usage(inp=50_000, out=1_000)
    large = usage(inp=10_000, out=1_000, read=140_000)  # 150K total input: the higher band
    assert cost_usd(small, haiku) == pytest.approx((50_000 * 0.10 + 1_000 * 0.50) / 1e6)
    assert cost_usd(large, haiku) == pytest.approx(
        (10_000 * 0.50 + 1_000 * 2.50 + 140_000 * 0.05) / 1e6
    )


def test_totals_per_session_day_and_all_time(isolated: Path, pacific_time: None) -> None:
    clock = Clock(datetime(2026, 11, 27, 23, 30))
    ledger = Ledger(session_id="s1", clock=clock)
    ledger.record(
        action="explain", tier="cheap", model="claude-haiku-5-5", usage=usage(100, 10), usd=0.01
    )
    clock.now += 3600  # past local midnight
    ledger.record(
        action="refactor",
        tier="deep",
        model="claude-opus-5-5",
        usage=usage(1000, 500, 2000, 0),
        usd=0.50,
        duration_s=12.5,
    )
    ledger.record(
        action="refactor",
        tier="deep",
        model="claude-opus-5-5",
        usage=usage(10, 5),
        usd=0.02,
        outcome="cancelled",
        session_id="s2",
    )

    assert ledger.path == isolated / "state" / "ledger.sqlite3"
    everything = ledger.all_time()
    assert everything.calls == 3 and everything.usd == pytest.approx(0.53)
    assert everything.input_tokens == 1110 and everything.output_tokens == 515
    assert everything.cache_write_tokens == 2000 and everything.cache_read_tokens == 0
    assert ledger.session_totals().calls == 2
    assert ledger.session_totals().usd == pytest.approx(0.51)
    assert ledger.session_totals("s2").usd == pytest.approx(0.02)
    assert ledger.day_totals().usd == pytest.approx(0.52)  # today = 2026-11-28
    assert ledger.day_totals(date(2026, 11, 27)).usd == pytest.approx(0.01)
    assert ledger.day_totals(date(2026, 11, 26)).calls == 0
    latest = ledger.recent(2)
    assert [e.outcome for e in latest] == ["cancelled", "ok"]
    assert latest[1].day == "2026-11-28" and latest[1].duration_s == 12.5
    ledger.close()

    reopened = Ledger()
    assert reopened.all_time().calls == 3  # it is a file, not memory
    reopened.close()


def test_daily_cap_refusal() -> None:
    clock = Clock(datetime(2026, 11, 28, 9, 0))
    ledger = Ledger(daily_cap_usd=5.00, clock=clock)
    assert ledger.check_cap(0.08) is None
    clock.now -= 86400  # yesterday's spend does not count today
    ledger.record(action="a", tier="deep", model="m", usage=Usage(), usd=3.00)
    clock.now += 86400
    ledger.record(action="a", tier="deep", model="m", usage=Usage(), usd=4.97)

    assert ledger.check_cap(0.08) == (
        "today's spend $4.97 + this call ~$0.08 would pass the daily cap of $5.00"
    )
    assert ledger.check_cap(0.03) is None  # exactly the cap is allowed
    ledger.daily_cap_usd = None
    assert ledger.check_cap(100.0) is None
    ledger.close()


def test_concurrent_writers(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    ledger = Ledger(path)
    other = Ledger(path)  # a second connection, like a second editor

    def work(target: Ledger) -> None:
        for _ in range(25):
            target.record(action="a", tier="cheap", model="m", usage=usage(1, 1), usd=0.001)

    threads = [threading.Thread(target=work, args=(ledger if i % 2 else other,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert ledger.all_time().calls == 200
    assert other.all_time().usd == pytest.approx(0.2)
    ledger.close()
    other.close()


def test_unwritable_ledger_does_not_break_a_call(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)  # a directory: SQLite cannot open it
    entry = ledger.record(action="a", tier="cheap", model="m", usage=usage(1, 1), usd=0.5)
    assert entry.usd == 0.5


async def test_ledger_records_real_calls_and_cancellations(fake_api: FakeAPI) -> None:
    client = ClaudeClient(api_key="sk-test", base_url=fake_api.base_url, max_retries=0)
    catalog = ModelCatalog()
    ledger = Ledger(session_id="lsp-1")
    req = CallRequest("claude-opus-5-5", "system", "context " * 500, "do it", 1024)
    price = catalog.price(req.model)
    assert price is not None

    result = await client.run(req)
    ledger.record(
        action="edit",
        tier="deep",
        model=result.model,
        usage=result.usage,
        usd=cost_usd(result.usage, price),
        duration_s=result.duration_s,
    )

    fake_api.push(Reply(text="y" * 200, chunks=20, delay=0.05))
    started = asyncio.Event()

    def on_event(event: StreamEvent) -> None:
        if isinstance(event, TextProgress):
            started.set()

    task = asyncio.create_task(client.run(req, on_event))
    await started.wait()
    task.cancel()
    with pytest.raises(CallCancelled) as info:
        await task
    partial = info.value.usage
    ledger.record(
        action="edit",
        tier="deep",
        model=req.model,
        usage=partial,
        usd=cost_usd(partial, price),
        outcome="cancelled",
    )
    await client.close()

    totals = ledger.session_totals()
    assert totals.calls == 2
    assert totals.cache_write_tokens == result.usage.cache_write_tokens
    assert totals.cache_read_tokens == partial.cache_read_tokens > 0  # 2nd call hit the cache
    assert totals.usd == pytest.approx(cost_usd(result.usage, price) + cost_usd(partial, price))
    assert [e.outcome for e in ledger.recent()] == ["cancelled", "ok"]
    assert ledger.day_totals(date.today() + timedelta(days=1)).calls == 0
    ledger.close()
