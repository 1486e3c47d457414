"""Garbage collections wait for an idle server, and walk everything only now and then
(lsp/collector.py)."""

from __future__ import annotations

import asyncio
import gc
import os
import platform
import sys
import time
import weakref
from collections.abc import Iterator

import pytest

from scopewise.lsp import collector as collector_module
from scopewise.lsp.collector import IdleCollector


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only a collection frees it


@pytest.fixture
def collector() -> Iterator[IdleCollector]:
    saved = gc.get_threshold()
    yield IdleCollector(idle_s=0.2, overdue_s=60)
    gc.set_threshold(*saved)
    gc.unfreeze()


def full_collections() -> int:
    return int(gc.get_stats()[2]["collections"])


def busy(collector: IdleCollector, objects: int, kept: list[Node]) -> None:
    """A message, and what its handling makes: objects that live on a while (enough to be
    promoted to the oldest generation), the oldest of them let go."""
    collector.touched()
    kept.extend(Node() for _ in range(objects))
    del kept[: max(0, len(kept) - 100_000)]


async def test_no_full_collection_while_messages_come(collector: IdleCollector) -> None:
    gc.collect()
    before = full_collections()
    collector.start()
    kept: list[Node] = []
    for _ in range(20):
        busy(collector, 20_000, kept)  # 400,000 objects: the default thresholds collect fully
        await asyncio.sleep(0.01)
    assert full_collections() == before
    assert collector.collections == 0
    frozen = gc.get_freeze_count()
    await asyncio.sleep(0.5)  # idle: the young generations collected, what lives on frozen
    assert collector.collections == 1
    assert full_collections() == before
    assert gc.get_freeze_count() > frozen + 90_000  # the 100,000 kept, walked no more


async def test_garbage_kept_past_a_freeze_is_freed_by_the_walk_every_so_often(
    collector: IdleCollector,
) -> None:
    """A cycle that lived through an idle collection (frozen), then let go: the young
    collections never see it, the `UNFREEZE_EVERY`-th idle collection walks everything."""
    collector.start()
    node = Node()
    gone = weakref.ref(node)
    collector.collect()  # frozen alive
    del node
    before = full_collections()
    for _ in range(collector_module.UNFREEZE_EVERY - 2):
        collector.collect()
        assert gone() is not None  # frozen: no young collection frees it
    assert full_collections() == before
    collector.collect()
    assert gone() is None and full_collections() == before + 1
    assert gc.get_freeze_count() > 0  # the survivors are not walked again next time


async def test_without_it_the_same_work_collects_fully() -> None:
    gc.collect()
    before = full_collections()
    off = IdleCollector()  # never started: the interpreter's own thresholds
    kept: list[Node] = []
    for _ in range(20):
        busy(off, 20_000, kept)
        await asyncio.sleep(0.01)
    assert full_collections() > before


async def test_a_busy_server_collects_when_overdue(collector: IdleCollector) -> None:
    collector.overdue_s = 0.3
    collector.start()
    kept: list[Node] = []
    for _ in range(60):  # a message every 20 ms: never idle for 0.2 s
        busy(collector, 100, kept)
        await asyncio.sleep(0.02)
    assert collector.collections >= 1


async def test_nothing_while_an_index_is_built(collector: IdleCollector) -> None:
    """The build disables the collector (lsp/sync.py) and collects at its end: an idle
    moment meanwhile does not walk the half-built index."""
    collector.start()
    gc.disable()
    try:
        busy(collector, 100, [])
        await asyncio.sleep(0.4)
        assert collector.collections == 0
    finally:
        gc.enable()


async def test_a_long_handler_is_not_an_idle_moment(collector: IdleCollector) -> None:
    """A request handled for longer than the idle time: the collection waits for a quiet
    moment after it (the client's next request may be on its way), not right after it."""
    collector.start()
    busy(collector, 100, [])
    time.sleep(0.5)  # the handler, on the loop
    await asyncio.sleep(0.1)
    assert collector.collections == 0
    await asyncio.sleep(0.3)
    assert collector.collections == 1


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1 << 20)


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc"
)
def test_an_idle_collection_hands_the_freed_heap_back(collector: IdleCollector) -> None:
    """Memory freed after a peak (here 80 MiB of 2 KiB strings, every 64th kept, so the
    heap cannot shrink from its top) is given back to the system by the idle collection."""
    blocks = [b"x" * 2048 + i.to_bytes(4, "little") for i in range(40_000)]
    kept = blocks[::64]
    peak = rss_mib()
    del blocks
    freed = rss_mib()
    collector.collect()
    after = rss_mib()
    assert collector.trimmed == 1 and len(kept) == 625
    assert peak - after > 40, (peak, freed, after)


async def test_a_message_read_and_not_yet_handled_is_not_an_idle_moment(
    collector: IdleCollector,
) -> None:
    """A message whose bytes have arrived (lsp/waiting.py) goes before the collection: the
    collector waits for a quiet moment after it is handled."""
    arrived = [True]
    collector.waiting = lambda: arrived[0]
    collector.start()
    busy(collector, 100, [])
    await asyncio.sleep(0.35)  # past the idle time, the message still waiting
    assert collector.collections == 0
    arrived[0] = False  # handled
    await asyncio.sleep(0.3)
    assert collector.collections == 1


def test_an_idle_collection_never_counts_the_frozen_objects(
    collector: IdleCollector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`gc.get_freeze_count` walks the frozen objects one by one: 20-27 ms at 50k files
    (for a log line), at every idle moment, on the loop."""

    def counted() -> int:
        raise AssertionError("the frozen objects counted")

    monkeypatch.setattr(gc, "get_freeze_count", counted)
    collector.start()
    for _ in range(collector_module.UNFREEZE_EVERY):  # the young ones and a full one
        collector.collect()
    assert collector.collections == collector_module.UNFREEZE_EVERY
