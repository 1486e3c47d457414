"""A request's work budget, counted: the stored files it loads and the using files it
classifies, whoever does it (the range's sites, its siblings' search, the overrides).

A code action's menu must answer in a few milliseconds whatever the workspace's size, so
each part of its analysis stops once the request's work is spent, says its answer is a lower
bound (`short`), and keeps what it did — the loaded files stay in the file table's recent
cache, each using file's verdicts stay kept — so the next request on the same target carries
on where this one stopped. Work is counted, not timed: the same request on the same state
does the same work (tests count it). A run (no budget) does all of it."""

from __future__ import annotations

from collections.abc import Callable


class Work:
    """The work a request may still do, from a monotonic counter of work done (the file
    table's loads plus the verdicts' classified files)."""

    def __init__(self, limit: int, done: Callable[[], int]) -> None:
        self.limit = limit
        self._done = done
        self._start = done()
        self.stops = 0  # parts stopped for want of work: their answers are lower bounds

    @property
    def used(self) -> int:
        """The work done since the request began."""
        return self._done() - self._start

    def left(self) -> int:
        return max(0, self.limit - self.used)

    def spent(self) -> bool:
        """Whether the budget is used up (the part asking stops: `stop`)."""
        return self.used >= self.limit

    def stop(self) -> None:
        """A part stopped before its end: what it answered is a lower bound."""
        self.stops += 1

    @property
    def short(self) -> bool:
        """Whether any part stopped short."""
        return self.stops > 0
