"""When the index's worker processes may run: at normal priority while nothing else is asked
of this process, and stopped while something is — a message the language server handles.
Niceness is no way to do this: a process may raise its own but never lower it again, and
niced workers on a busy machine get next to no CPU at all.

One gate per process (`GATE`). A build's pool attaches its event (its workers wait on it
between files) and, where the system has job control, its workers' pids: they are stopped
(SIGSTOP) at once when the gate is held and continued (SIGCONT) when it opens, so a request
does not share the CPU with a worker finishing its file. A stopped worker whose parent dies
is killed by the system (`die_with_parent`). The CLI never holds the gate."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # multiprocessing is imported where a pool is made (a warm CLI makes none)
    from multiprocessing.context import BaseContext
    from multiprocessing.synchronize import Event

_PR_SET_PDEATHSIG = 1  # prctl(2)
_STOP = getattr(signal, "SIGSTOP", None)
_CONT = getattr(signal, "SIGCONT", None)


def die_with_parent() -> bool:
    """Have the system kill this process when its parent ends (Linux: a stopped process
    could not notice by itself). Whether it could; without it workers are never stopped."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # here: only a worker needs it

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


class WorkerGate:
    """Open unless held; each pool's workers follow it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held = 0
        self._events: list[Event] = []
        self._pids: set[int] = set()

    def event(self, ctx: BaseContext) -> Event:
        """A new event for a pool's workers (made by the pool's own context), in the gate's
        state now and following it until `release`d."""
        ev = ctx.Event()
        with self._lock:
            if not self._held:
                ev.set()
            self._events.append(ev)
        return ev

    def stoppable(self, pids: Iterable[int]) -> None:
        """Workers that may be stopped while the gate is held (each set up to die with its
        parent); stopped now if it is."""
        if _STOP is None or not sys.platform.startswith("linux"):
            return
        with self._lock:
            new = set(pids) - self._pids
            self._pids |= new
            if self._held:
                _signal(new, _STOP)

    def release(self, ev: Event, pids: Iterable[int] = ()) -> None:
        """A pool is ending: its event and workers no longer follow the gate (continued
        first, so that they can finish; before they exit, so that no pid is signalled once
        the system may have given it to another process)."""
        with self._lock:
            if ev in self._events:
                self._events.remove(ev)
            gone = self._pids & set(pids)
            self._pids -= gone
            _signal(gone, _CONT)  # first: a stopped worker asleep on `ev` must wake to let
            ev.set()  # set() return (it waits for every sleeper to acknowledge)

    @property
    def held(self) -> bool:
        return self._held > 0

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Workers stop (or, where they cannot be stopped, wait after the file each is on)
        until every hold has ended."""
        with self._lock:
            self._held += 1
            if self._held == 1:
                for ev in self._events:
                    ev.clear()
                _signal(self._pids, _STOP)
        try:
            yield
        finally:
            with self._lock:
                self._held -= 1
                if not self._held:
                    _signal(self._pids, _CONT)
                    for ev in self._events:
                        ev.set()


def _signal(pids: Iterable[int], sig: signal.Signals | None) -> None:
    if sig is None:
        return
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


GATE = WorkerGate()
