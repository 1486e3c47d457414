"""When the index's worker processes may run: at normal priority while nothing else is asked
of this process, and held (between two files) while something is — a request the language
server is answering. Niceness is no way to do this: a process may raise its own but never
lower it again, and niced workers on a busy machine get almost no CPU at all.

One gate per process (`GATE`): the builds attach their pool's event, the server `hold`s it
around each message it handles; the CLI never holds it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.context import BaseContext
from multiprocessing.synchronize import Event


class WorkerGate:
    """Open unless held; each pool's workers wait on an event that mirrors it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held = 0
        self._events: list[Event] = []

    def event(self, ctx: BaseContext) -> Event:
        """A new event for a pool's workers (made by the pool's own context), in the gate's
        state now and following it until `release`d."""
        ev = ctx.Event()
        with self._lock:
            if not self._held:
                ev.set()
            self._events.append(ev)
        return ev

    def release(self, ev: Event) -> None:
        """A pool is done: its event no longer follows the gate."""
        with self._lock:
            if ev in self._events:
                self._events.remove(ev)

    @property
    def held(self) -> bool:
        return self._held > 0

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Workers wait (after the file each one is on) until every hold has ended."""
        with self._lock:
            self._held += 1
            if self._held == 1:
                for ev in self._events:
                    ev.clear()
        try:
            yield
        finally:
            with self._lock:
                self._held -= 1
                if not self._held:
                    for ev in self._events:
                        ev.set()


GATE = WorkerGate()
