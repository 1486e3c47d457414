"""A request's work budget, counted: the stored files it loads and the using files it
classifies, whoever does it (the range's sites, its siblings' search, the overrides).

A code action's menu must answer in a few milliseconds whatever the workspace's size, so
each part of its analysis stops once the request's work is spent, says its answer is a lower
bound (`short`), and keeps what it did — the loaded files stay in the file table's recent
cache, each using file's verdicts stay kept — so the next request on the same target carries
on where this one stopped. Work is counted: the same request on the same state does the
same work (tests count it). A unit's cost varies tenfold with the workspace, though (a file
loaded from the cache at 50k files, one in memory at 2k), so a menu request may also be
`timed`: once it has done a floor of units, it stops when its time is up as when its units
are. The time is the thread's CPU time, not the clock's: a request another process or thread
delays is not cut short for it, so a small workspace's request (within its floor, or done
well within its time) does the same work on any machine, and a large one's answers within
its time. A run (no budget) does all of it.

Work done ahead of the requests (lsp/ahead.py) also gives way: with `yields`, a predicate
(a message is waiting), the budget counts as spent once it holds, so each part stops at
its next unit as it would at the budget's end. A menu's own request never yields."""

from __future__ import annotations

import time
from collections.abc import Callable

CLOCK: Callable[[], float] = time.thread_time  # what a timed request's time is read from


class Work:
    """The work a request may still do, from a monotonic counter of work done (the file
    table's loads plus the verdicts' classified files)."""

    def __init__(
        self, limit: int, done: Callable[[], int], yields: Callable[[], bool] | None = None
    ) -> None:
        self.limit = limit
        self._done = done
        self._start = done()
        self._yields = yields
        self.stops = 0  # parts stopped for want of work: their answers are lower bounds
        self.yielded = False  # whether it gave way (`yields` held when a part asked)
        self._began = 0.0
        self._seconds: float | None = None  # the request's time, when it is timed
        self._floor = 0

    def timed(self, seconds: float, floor: int) -> Work:
        """The request's time is also bounded: `seconds` from now by CLOCK (the thread's CPU
        time), once it has done `floor` units (itself)."""
        self._began, self._seconds, self._floor = CLOCK(), seconds, floor
        return self

    def late(self, factor: float = 1.0) -> bool:
        """Whether the request's time (times `factor`) is up, its floor of units done."""
        if self._seconds is None or self.used < self._floor:
            return False
        return CLOCK() - self._began >= factor * self._seconds

    @property
    def used(self) -> int:
        """The work done since the request began."""
        return self._done() - self._start

    def left(self) -> int:
        return max(0, self.limit - self.used)

    def spent(self) -> bool:
        """Whether the budget is used up, its units or its time, or the work gives way
        (the part asking stops: `stop`)."""
        return self.used >= self.limit or self.late() or self.gives_way()

    def gives_way(self) -> bool:
        """Whether the work gives way now (`yields` holds): the part asking stops."""
        if self._yields is not None and self._yields():
            self.yielded = True
        return self.yielded

    def stop(self) -> None:
        """A part stopped before its end: what it answered is a lower bound."""
        self.stops += 1

    @property
    def short(self) -> bool:
        """Whether any part stopped short."""
        return self.stops > 0
