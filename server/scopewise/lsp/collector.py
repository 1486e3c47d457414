"""Garbage collections when the server is idle; never a full one inside a request.

A full collection walks every object the interpreter tracks that is not frozen: with a
session's files loaded (a few hundred thousand definitions, evidence, sources) it took
100-270 ms on the event loop, and whichever request it fell in paid it (bench_scale, ws2k:
every code action over 150 ms had one inside it). Here the automatic full collections are
off (the young generations are collected as usual, in a few ms). Once the server has been
idle for `IDLE_S` it collects the young generations and freezes what survived; every
`UNFREEZE_EVERY`-th idle collection unfreezes and walks everything (a cycle of garbage
among what was kept is found there), and a server busy for `OVERDUE_S` without a pause
collects anyway. A full walk at every idle moment went over what the work ahead
(lsp/ahead.py) had kept since the last freeze: 15-40 ms at 50k files after a pause in the
typing (a keystroke that came then waited for it), against 0.1-0.5 ms for the young
generations, and found no garbage there. Nothing is collected while the collector is
disabled (the index's build turns it off, and collects and freezes at its end). After an
idle collection the C heap's free memory goes back to the system (glibc's `malloc_trim`: at
50k files 90 MiB the allocator kept after a session's peaks; elsewhere nothing is done).

Process-wide (the interpreter's collector): the language server's `serve` turns it on."""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import sys
import time
from collections.abc import Callable

log = logging.getLogger("scopewise.lsp.timing")

IDLE_S = 1.0  # no message for this long: idle
OVERDUE_S = 30.0  # collect anyway when nothing was collected this long while objects pile up
UNFREEZE_EVERY = 16  # every how many idle collections walk the frozen objects too
NEVER = 1 << 30  # a threshold the full generation's count does not reach
LATE_S = 0.05  # a check this late found the loop busy (a long handler): not idle


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, or None (another C library, or another system)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # musl and others have none
        return None
    return trim


class IdleCollector:
    """Turned on with `start`; `touched` on every message the server receives."""

    def __init__(self, idle_s: float = IDLE_S, overdue_s: float = OVERDUE_S) -> None:
        self.idle_s, self.overdue_s = idle_s, overdue_s
        self.collections = 0
        self._on = False
        self._last = 0.0  # when the last message came
        self._due_since: float | None = None  # first message since the last collection
        self._timer: asyncio.TimerHandle | None = None
        self._at = 0.0  # when the timer is due (the loop's clock)
        self._trim = _malloc_trim()
        self.trimmed = 0  # times the C heap was handed back
        # a message read but not handled yet (lsp/waiting.py): not an idle moment either
        self.waiting: Callable[[], bool] = lambda: False

    def start(self) -> None:
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, NEVER)
        self._on = True

    def touched(self) -> None:
        """A message came: collect once none has come for `idle_s` (from the loop)."""
        if not self._on:
            return
        self._last = now = time.monotonic()
        if self._due_since is None:
            self._due_since = now
        if self._timer is None:
            self._later(self.idle_s)

    def _later(self, delay: float) -> None:
        loop = asyncio.get_running_loop()
        self._at = loop.time() + delay
        self._timer = loop.call_at(self._at, self._check)

    def _check(self) -> None:
        self._timer = None
        now = time.monotonic()
        if asyncio.get_running_loop().time() - self._at > LATE_S or self.waiting():
            self._last = now  # a handler ran long, to now, or a message is read: it goes first
        quiet = now - self._last
        due = self._due_since
        if not gc.isenabled():  # an index being built (lsp/sync.py): it collects at its end
            self._due_since = None
        elif quiet >= self.idle_s or (due is not None and now - due >= self.overdue_s):
            self.collect()
        else:
            self._later(self.idle_s - quiet)

    def collect(self) -> None:
        """Collect now: the young generations (everything every `UNFREEZE_EVERY`-th time),
        then freeze the survivors."""
        t0 = time.perf_counter()
        self.collections += 1
        self._due_since = None
        full = self.collections % UNFREEZE_EVERY == 0
        if full:
            gc.unfreeze()
            found = gc.collect()
        else:
            found = gc.collect(1)  # the young generations: the oldest is walked above
        gc.freeze()
        if self._trim is not None:
            self._trim(0)
            self.trimmed += 1
        ms = (time.perf_counter() - t0) * 1000
        # (not gc.get_freeze_count(): it counts the frozen objects one by one, 20-27 ms at
        # 50k files, on the loop, at every idle moment)
        log.info(
            "idle collection (%s, %d unreachable, heap trimmed: %s) %.3f ms",
            "full" if full else "young",
            found,
            self._trim is not None,
            ms,
        )
