"""The code-action menu's analysis done ahead, while the server is idle.

A menu request's work is bounded (analysis/work.py): on a wide target the first request
counts the uses of 16 using files and answers a lower bound ("40+ uses"), and whatever it
computed is kept (each using file's verdicts, the siblings' callers, a name's use count), so
the next request on the same target is cheap. Here the same analysis runs before the menu
asks: once no message has come for `QUIET_S`, the definitions of the open documents are
analysed as a menu request would analyse them — the nearest to the last code-action range
first, then the rest of the file — in slices of `SLICE_WORK` units on the event loop, one at
a time, the loop's other callbacks (a message, a paused parse's next step, the idle
collection) between two slices. A slice gives way to a message that has arrived but waits
for the loop (lsp/waiting.py, set by the thread reading stdin): it stops at its next unit
of work, what it did kept, and its range carries on in a later slice (the units it used
are all it is charged). A message stops it (`touched`), a change starts it again
from the new state (`changed`: documents, the index); it never runs while the index builds,
nor on a buffer whose index is not its text (the edit has not settled), and stops once every
open definition is done. A range whose uses stay uncounted after `RANGE_WORK` units (a name
used in thousands of files) is left to the menu, which counts on from there (and is not
tried again after an edit while its file stays open). What it
computes is kept under the same versions the menu's requests use, so an edit makes nothing
stale: the work is done again from the new state.

Before the ranges, the part every member's menu shares: each open class's subclasses across
the workspace (what the menu of each of its methods looks up for the overrides;
analysis/hierarchy.py), the class with the most members first, in time-bounded slices too. A
first look at a method then starts from its class's subclasses found (in-process at 50k
files, every class's searched before 80 first looks at tkinter's ranges: their median 8.4
and 9.6 ms of CPU against 13.5 and 11.3 without; `Misc`'s 236 subclasses alone take 0.2 s,
its subclasses' own then come from its search: analysis/hierarchy.py). They
are kept over a keystroke inside a body (`Hierarchy.carry_subclasses`), so typing does not
start them again; a class past `CLASS_WORK` units is left to the menus.

Knows the documents and the engine it is handed (through `AheadHost`); not the server."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

from lsprotocol import types

from scopewise.analysis.cursor import fits
from scopewise.index.model import FileIndex
from scopewise.vocab import CLASS_LIKE, CONTAINER_KINDS, DATA_KINDS, EngineError, Kind

from .documents import OpenDocuments
from .listing import ServerEngine
from .waiting import Waiting

log = logging.getLogger("scopewise.lsp.timing")

QUIET_S = 0.25  # no message for this long: the work ahead starts (typing, whose keys come
# faster, never waits behind a slice: one takes 4-36 ms at 50k files)
LATE_S = 0.005  # the quiet timer this late: a handler ran over it (the next message is near)
SLICE_WORK = 4  # units of work per slice (analysis/work.py): ~4 ms at 50k files
SLICE_SITES = 4  # using files a slice classifies for the range's own sites
RANGE_WORK = 128  # units a range gets ahead before it is left to the menu's requests
SLICE_S = 0.004  # a class's slice: its CPU time (its search may load nothing for a while)
CLASS_WORK = 512  # units a class's subclass search gets ahead (tkinter's Misc: 227)
_NOT_RANGES = DATA_KINDS | {Kind.ATTRIBUTE}  # a variable or field: its owner's range
_CLASS = "class "  # a class left to the menus: (file, _CLASS + its name) in `_left`


class AheadHost(Protocol):
    """What the work ahead needs of the server."""

    @property
    def docs(self) -> OpenDocuments: ...
    @property
    def engine(self) -> ServerEngine | None: ...

    def busy(self) -> bool: ...
    def ahead_settings(self) -> tuple[bool, int]: ...  # (on, the menu's context cap)
    def log(self, text: str, kind: types.MessageType = ...) -> None: ...


@dataclass
class _Range:
    rel: str
    start: int  # 1-based, inclusive
    end: int
    name: str  # its definition's qualified name (what stays when lines move)
    used: int = 0  # units spent on it so far


@dataclass
class _Class:
    rel: str
    name: str  # its qualified name
    used: int = 0


@dataclass
class Stats:
    """What the work ahead did since it last started from a change."""

    started: float = 0.0  # time.monotonic() of the change it started from
    slices: int = 0
    units: int = 0  # work done (analysis/work.py's units)
    cpu_s: float = 0.0  # the slices' CPU time, on the loop's thread
    longest_ms: float = 0.0  # the longest slice: what a message may wait
    longest_cpu_ms: float = 0.0  # ... in CPU time (a busy machine's preemption left out)
    ranges: int = 0  # ranges done
    classes: int = 0  # classes whose subclasses were searched (or found kept)
    left: int = 0  # ranges (or classes) left to the menu (past RANGE_WORK, CLASS_WORK)
    gave_way: int = 0  # slices stopped early for a message that had arrived
    done_at: float | None = None  # when everything open was done
    times: list[float] = field(default_factory=list)


def ranges_of(fi: FileIndex) -> list[tuple[int, int, str]]:
    """The ranges a menu asks about in a file (1-based), with their definitions' qualified
    names: each definition's, a class's up to its first member (its members are ranges of
    their own)."""
    first_child: dict[int, int] = {}
    for d in fi.definitions:
        if d.parent is not None and d.parent not in first_child and d.kind not in _NOT_RANGES:
            first_child[d.parent] = d.start_line
    out: dict[tuple[int, int], str] = {}
    for i, d in enumerate(fi.definitions):
        if d.kind in _NOT_RANGES:
            continue
        end = d.end_line
        if d.kind in CONTAINER_KINDS and i in first_child:
            end = max(d.start_line, first_child[i] - 1)
        out.setdefault((d.start_line + 1, end + 1), fi.qualified_name(i))
    return [(a, b, name) for (a, b), name in out.items()]


def classes_of(fi: FileIndex, near: int | None = None) -> list[str]:
    """The qualified names of a file's classes with members: those around 1-based line
    `near` (the last code-action range: the user is there) first, then the most members
    first (the menus that share its subclasses), then in the file's order."""
    members: dict[int, int] = {}
    for d in fi.definitions:
        if d.parent is not None and d.kind not in _NOT_RANGES:
            members[d.parent] = members.get(d.parent, 0) + 1
    found = [
        (near is None or not d.start_line < near <= d.end_line + 1, -members[i], i)
        for i, d in enumerate(fi.definitions)
        if d.kind in CLASS_LIKE and members.get(i)
    ]
    return list(dict.fromkeys(fi.qualified_name(i) for *_, i in sorted(found)))


def _class_index(fi: FileIndex, name: str) -> int | None:
    """The index of the class called `name` (qualified) in `fi`, if there is one."""
    last = name.rsplit(".", 1)[-1]
    for i, d in enumerate(fi.definitions):
        if d.kind in CLASS_LIKE and d.name == last and fi.qualified_name(i) == name:
            return i
    return None


class Ahead:
    """The menu's analysis of the open documents, done in slices while nothing is asked."""

    def __init__(self, host: AheadHost, waiting: Waiting | None = None) -> None:
        self.host = host
        self.waiting = Waiting() if waiting is None else waiting  # a message has arrived
        self._queue: list[_Range] = []
        self._classes: list[_Class] = []  # searched for their subclasses before the ranges
        self._stale = True  # the queue is made again from the open documents
        self._timer: asyncio.TimerHandle | None = None
        self._due = 0.0  # when the timer is due (the loop's clock)
        self._next: asyncio.Handle | None = None  # the next slice, when running
        self._near: dict[str, int] = {}  # file -> the line of its last code-action range
        self._done: set[tuple[str, int, int]] = set()  # since the index last moved
        self._classes_done: set[tuple[str, str]] = set()  # ... and classes (found or left)
        # left to the menu (uses past RANGE_WORK), by file and name: not tried again after
        # an edit (each try would spend RANGE_WORK again); forgotten when the file closes
        self._left: set[tuple[str, str]] = set()
        self._at = -1  # the index version `_done` holds for
        self.stats = Stats()
        self._stopped = False  # the client said shutdown: nothing more is done ahead

    def stop(self) -> None:
        """Shutdown: no slice runs again (one ran on through exit, into a closed output)."""
        self._stopped = True
        for handle in (self._timer, self._next):
            if handle is not None:
                handle.cancel()
        self._timer = self._next = None

    # ------------------------------------------------------------------ what starts and stops it
    def touched(self) -> None:
        """A message came: stop after the slice under way, start again once it is quiet."""
        if self._next is not None:
            self._next.cancel()
            self._next = None
        self._arm()

    def changed(self) -> None:
        """Documents or the index changed: start again from the new state once quiet."""
        self._stale = True
        self._arm()

    def asked(self, rel: str | None, line: int) -> None:
        """A code action on `line` of `rel`: the ranges nearest to it go first."""
        if rel is not None and self._near.get(rel) != line:
            self._near[rel] = line
            self._stale = True

    def _arm(self) -> None:
        if self._stopped:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on the loop (a thread's callback): the next message arms it
            return
        if self._timer is not None:
            self._timer.cancel()
        self._due = loop.time() + QUIET_S
        self._timer = loop.call_at(self._due, self._start)

    def _start(self) -> None:
        self._timer = None
        if asyncio.get_running_loop().time() - self._due > LATE_S:
            self._arm()  # a handler ran past the quiet time: quiet from its end, not its start
            return
        if self.waiting.pending():  # a message is read but not handled yet: its handling arms it
            self._arm()
            return
        engine = self.host.engine
        if engine is None or self.host.busy() or not self.host.ahead_settings()[0]:
            return
        if self._stale:
            self._make_queue(engine)
        if (self._queue or self._classes) and self._next is None:
            self._next = asyncio.get_running_loop().call_soon(self._slice)

    # ------------------------------------------------------------------ the queue
    def _make_queue(self, engine: ServerEngine) -> None:
        self._stale = False
        version = engine.workspace.version
        if version != self._at:
            self._done.clear()
            self._classes_done.clear()
            self._at = version
            self.stats = Stats(started=time.monotonic())
        queue: list[_Range] = []
        classes: list[_Class] = []
        open_now = self.host.docs.relpaths()
        cap = self.host.ahead_settings()[1]
        self._left = {(rel, name) for rel, name in self._left if rel in open_now}
        for rel in open_now:
            fi = self._ready(engine, rel)
            if fi is None:
                continue
            near = self._near.get(rel, 1)
            found = [
                _Range(rel, a, b, name)
                for a, b, name in ranges_of(fi)
                if (rel, a, b) not in self._done
                and (rel, name) not in self._left
                and fits(engine, rel, a - 1, b - 1, cap)  # else a menu asks of a part
            ]
            found.sort(key=lambda r: (abs(r.start - near), r.start))
            queue += found
            classes += [
                _Class(rel, name)
                for name in classes_of(fi, self._near.get(rel))
                if (rel, name) not in self._classes_done and (rel, _CLASS + name) not in self._left
            ]
        self._queue, self._classes = queue, classes

    def _ready(self, engine: ServerEngine, rel: str) -> FileIndex | None:
        """The index of an open buffer when it is the buffer's text (the edit settled, the
        parse done); else None (its update calls `changed` when it lands)."""
        doc = self.host.docs.by_rel(rel)
        fi = engine.workspace.get(rel)
        if doc is None or fi is None or doc.language is None or doc.parsing or doc.tree is None:
            return None
        try:
            src = engine.sources.get(rel, with_tree=True)
        except OSError:
            return None
        return fi if src.digest == fi.digest else None

    # ------------------------------------------------------------------ a slice
    def _slice(self) -> None:
        self._next = None
        engine = self.host.engine
        if self._stopped or engine is None or self.host.busy():
            return
        if not (self._queue or self._classes):
            return
        if engine.workspace.version != self._at:  # the index moved: start from it
            self.changed()
            return
        if self.waiting():  # a message arrived: it goes first (its handling arms this)
            self._arm()
            return
        if self._classes:
            self._class_slice(engine)
            return
        r = self._queue[0]
        t0, c0 = time.perf_counter(), time.thread_time()
        short, used, gave_way = self._analyse(engine, r)
        self._note(t0, c0, used)
        r.used += used
        if gave_way:  # not done: carried on from what it kept once the message is handled
            self.stats.gave_way += 1
            ms = (time.perf_counter() - t0) * 1000
            log.info(
                "work ahead gave way: %s %d-%d, %d units, %.1f ms", r.rel, r.start, r.end, used, ms
            )
            if r.used < RANGE_WORK:
                self._arm()
                return
        if not short or r.used >= RANGE_WORK:
            self._queue.pop(0)
            self._done.add((r.rel, r.start, r.end))
            self.stats.ranges += 1
            if short:
                self.stats.left += 1
                self._left.add((r.rel, r.name))
        self._go_on()

    def _go_on(self) -> None:
        if self._queue or self._classes:
            self._next = asyncio.get_running_loop().call_soon(self._slice)
        else:
            self._finished()

    def _class_slice(self, engine: ServerEngine) -> None:
        """One slice of the first class's subclass search, within SLICE_WORK units and
        SLICE_S of CPU, giving way to a message; the search carries on in the next slice
        (`Hierarchy.subclasses` keeps where it stopped)."""
        c = self._classes[0]
        t0, c0 = time.perf_counter(), time.thread_time()
        short, used, gave_way = self._search(engine, c)
        self._note(t0, c0, used)
        c.used += used
        if gave_way and c.used < CLASS_WORK:
            self.stats.gave_way += 1
            self._arm()
            return
        if not short or c.used >= CLASS_WORK:
            self._classes.pop(0)
            self._classes_done.add((c.rel, c.name))
            self.stats.classes += 1
            log.info("work ahead: %s %s's subclasses, %d units", c.rel, c.name, c.used)
            if short:
                self.stats.left += 1
                self._left.add((c.rel, _CLASS + c.name))
        self._go_on()

    def _search(self, engine: ServerEngine, c: _Class) -> tuple[bool, int, bool]:
        """(stopped short, units used, gave way) of a slice of `c`'s subclass search."""
        fi = engine.workspace.get(c.rel)
        at = None if fi is None else _class_index(fi, c.name)
        if fi is None or at is None:
            return False, 0, False  # gone since the queue was made: nothing to do
        with engine.memo(SLICE_WORK, SLICE_SITES, self.waiting):
            work = engine.work
            assert work is not None
            work.timed(SLICE_S, 0)
            engine.resolver.hierarchy.subclasses(fi, at, work)
            return work.short or work.yielded, work.used, work.yielded

    def _analyse(self, engine: ServerEngine, r: _Range) -> tuple[bool, int, bool]:
        """One slice: the range analysed and measured as the menu does (the sites, the
        siblings, the overrides), within SLICE_WORK units, giving way to a message that
        arrives; (stopped short, units used, gave way)."""
        cap = self.host.ahead_settings()[1]
        with engine.memo(SLICE_WORK, SLICE_SITES, self.waiting):
            try:
                analysis = engine.analyze(r.rel, r.start, r.end)
                if not (engine.work is not None and engine.work.gives_way()):
                    engine.needs_for(analysis, cap, siblings=True)  # (files read: a message
                    engine.needs_for(analysis, cap)  # waiting, the next slice measures it)
            except (EngineError, OSError) as exc:
                log.info("work ahead: %s %d-%d: %s", r.rel, r.start, r.end, exc)
                return False, 0, False
            work = engine.work
            assert work is not None
            return engine.capped or work.yielded, work.used, work.yielded

    def _note(self, t0: float, c0: float, used: int) -> None:
        ms = (time.perf_counter() - t0) * 1000
        s = self.stats
        s.slices += 1
        s.units += used
        cpu = time.thread_time() - c0
        s.cpu_s += cpu
        s.longest_ms = max(s.longest_ms, ms)
        s.longest_cpu_ms = max(s.longest_cpu_ms, cpu * 1000)
        s.times.append(ms)
        if len(s.times) > 4096:
            del s.times[:2048]

    def _finished(self) -> None:
        s = self.stats
        s.done_at = time.monotonic()
        text = (
            f"work ahead done: {s.classes} classes' subclasses, {s.ranges} ranges "
            f"({s.left} left to the menu), {s.units} units "
            f"of work, {s.cpu_s * 1000:.0f} ms CPU in {s.slices} slices (the longest "
            f"{s.longest_ms:.1f} ms, {s.gave_way} gave way to a message), "
            f"{s.done_at - s.started:.2f} s after the change"
        )
        log.info("%s", text)
        self.host.log(text, types.MessageType.Log)
