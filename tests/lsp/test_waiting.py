"""The "a message is waiting" signal (lsp/waiting.py): the stream pygls reads says so from
its reading thread as soon as a message's bytes arrive, while the loop is still busy (a
slice of the work ahead), before the message is dispatched; the server's handling of a
message clears it; bytes that never became a message are forgotten."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO, cast

import pytest
from pygls.io_ import StdinAsyncReader, run_async

from scopewise.lsp import waiting as waiting_module
from scopewise.lsp.server import create_server
from scopewise.lsp.waiting import SignallingReader, Waiting


def _frame(body: dict[str, Any]) -> bytes:
    data = json.dumps(body).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(data), data)


class _Protocol:
    """What pygls's read loop hands messages to: notes whether the signal was set when each
    message was dispatched, then clears it as the server does."""

    def __init__(self, waiting: Waiting) -> None:
        self.waiting = waiting
        self.seen: list[tuple[str, bool]] = []

    def structure_message(self, data: dict[str, Any]) -> dict[str, Any]:
        return data

    def handle_message(self, message: dict[str, Any]) -> None:
        self.seen.append((message["method"], self.waiting()))
        self.waiting.handled()


async def test_a_message_arriving_while_the_loop_is_busy_is_signalled_before_dispatch() -> None:
    waiting = Waiting()
    protocol = _Protocol(waiting)
    r, w = os.pipe()
    stdin = os.fdopen(r, "rb")
    reader = StdinAsyncReader(
        cast(BinaryIO, SignallingReader(stdin, waiting)), ThreadPoolExecutor(1)
    )
    stop = threading.Event()
    loop_task = asyncio.get_running_loop().create_task(run_async(stop, reader, cast(Any, protocol)))
    await asyncio.sleep(0.05)  # pygls's thread blocked in readline on the empty pipe
    assert not waiting()

    # the loop busy (a slice under way): the message comes meanwhile
    os.write(w, _frame({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {}}))
    t0 = time.monotonic()
    while not waiting() and time.monotonic() - t0 < 2.0:
        time.sleep(0.0005)  # blocks the loop: only the reading thread can set it
    assert waiting(), "the reader did not signal the message while the loop was busy"
    assert protocol.seen == []  # not dispatched: the loop has not turned
    await asyncio.sleep(0.05)
    assert protocol.seen == [("textDocument/didChange", True)]
    assert not waiting()  # handled: cleared, nothing else has come

    stop.set()
    os.close(w)  # the end: an empty read says nothing
    await asyncio.wait_for(loop_task, 2.0)
    assert not waiting()


def test_the_server_clears_it_when_a_message_is_handled() -> None:
    server = create_server()
    server.waiting.arrived()
    assert server.ahead.waiting is server.waiting and server.ahead.waiting()
    server.message_came()  # what the protocol calls as it dispatches any message
    assert not server.waiting()


def test_bytes_that_never_became_a_message_are_forgotten() -> None:
    waiting = Waiting()
    waiting.arrived()
    now = time.monotonic()
    waiting.forget_stale(now + waiting_module.STALE_S / 2)
    assert waiting()  # a message may still be on its way (a long body)
    waiting.forget_stale(now + waiting_module.STALE_S + 0.1)
    assert not waiting()


def test_what_the_work_ahead_and_the_collection_ask_forgets_a_stale_signal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`pending`, asked before the work ahead and before an idle collection: a signal no
    message followed does not hold either of them back for good (even with the work
    ahead off, which used to be the only one to forget it)."""
    waiting = Waiting()
    waiting.arrived()
    assert waiting.pending()
    later = time.monotonic() + waiting_module.STALE_S + 0.1
    monkeypatch.setattr(waiting_module.time, "monotonic", lambda: later)
    assert not waiting.pending()
