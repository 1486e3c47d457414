"""A buffer's re-index that fails is not retried in a loop (lsp/sync.py `_updated`): it is
tried again when the text changes, not at once — the same text would fail the same way, and
a retry at delay 0 would spin the server (thousands of whole extractions a second)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

from scopewise.lsp.sync import Sync, SyncHost


def _host(indexed: str, digest: str) -> Any:
    doc = SimpleNamespace(indexed=indexed)
    fi = SimpleNamespace(digest=digest)
    workspace = SimpleNamespace(get=lambda rel: fi)
    return SimpleNamespace(
        docs=SimpleNamespace(by_rel=lambda rel: doc),
        engine=SimpleNamespace(workspace=workspace),
        changed=lambda: None,
    )


async def _after_update(fut: asyncio.Future[Any], indexed: str, digest: str) -> list[str]:
    sync = Sync(cast(SyncHost, _host(indexed, digest)))
    again: list[str] = []
    sync.schedule_update = lambda rel, delay=0.0: again.append(rel)  # type: ignore[method-assign]
    sync._updated("a.py", fut)
    return again


async def test_a_failed_reindex_is_not_retried_at_once() -> None:
    failed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    failed.set_exception(RuntimeError("the parser gave up"))
    # the buffer's text (marked before the update ran) differs from the index's, as after
    # every failed update: still no retry
    assert await _after_update(failed, indexed="new", digest="old") == []


async def test_a_newer_text_overwritten_meanwhile_is_indexed_again() -> None:
    done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    done.set_result(None)
    assert await _after_update(done, indexed="new", digest="old") == ["a.py"]
