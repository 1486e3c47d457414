"""Keeping the index in line with the editor: open buffers (parsed on the loop, or on the
parse thread when that runs out of time), their re-indexing after a short debounce in one
worker thread, the background build of the whole index with `$/progress`, and watched files
(sources refreshed from disk, project files reloading settings, ignore files rebuilding).

It talks to the server through `SyncHost` and never imports it; nothing here plans or calls
Claude."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.progress import Progress

from scopewise.analysis.engine import Engine
from scopewise.index import extract as _extract
from scopewise.index import graph, incremental, languages
from scopewise.index.buffer import ParseOutcome, PositionError
from scopewise.index.files import LeftOut, left_out
from scopewise.index.workspace import IndexStats

from .capabilities import IGNORE_FILES, PROJECT_FILES, ClientSupport
from .documents import OpenDocuments
from .timing import timed

log = logging.getLogger("scopewise.lsp")
DEBOUNCE_S = 0.25  # an edited buffer is re-indexed this long after the last keystroke
# CPU seconds a buffer's paused parse goes on for at a time (index/buffer.py): the messages
# that came meanwhile are handled between two steps
PARSE_STEP_S = 0.002


class SyncHost(Protocol):
    """What document sync and indexing need of the server."""

    @property
    def support(self) -> ClientSupport: ...
    @property
    def docs(self) -> OpenDocuments: ...
    @property
    def engine(self) -> Engine | None: ...
    @property
    def work_done_progress(self) -> Progress: ...

    def message(self, text: str, kind: types.MessageType = ...) -> None: ...
    def log(self, text: str, kind: types.MessageType = ...) -> None: ...
    def changed(self) -> None: ...
    def new_token(self, what: str) -> str: ...
    def reload_settings(self) -> None: ...


class Sync:
    """Documents, the debounced re-indexing of buffers, the background index, watched files."""

    def __init__(self, host: SyncHost) -> None:
        self.host = host
        self._timers: dict[str, asyncio.TimerHandle] = {}
        # open buffers the index leaves out (ignored, excluded, secrets): actions on them
        # work, but they never become context for other files
        self._private: set[str] = set()
        self._updating: set[str] = set()
        self._update_again: set[str] = set()
        self._updates = ThreadPoolExecutor(1, thread_name_prefix="scopewise-update")
        # full parses of buffers too slow to parse on the loop (see index/buffer.py)
        self._parses = ThreadPoolExecutor(1, thread_name_prefix="scopewise-parse")
        self._parsing: set[str] = set()  # uris with a parse there
        self._stepping: set[str] = set()  # uris whose paused parse goes on at the next turn
        self._unparsed: set[str] = set()  # rels whose update waits for their parse
        self._indexing: asyncio.Future[IndexStats] | None = None
        self._index_again = False
        self._left_out_said: LeftOut | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def indexing_started(self) -> bool:
        return self._indexing is not None

    def shutdown(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    # ------------------------------------------------------------------ the index
    def start_index(self) -> asyncio.Future[IndexStats]:
        """(Re)build the index in a thread, reporting `$/progress`; the loop keeps answering."""
        loop = asyncio.get_running_loop()
        if self._indexing is not None and not self._indexing.done():
            self._index_again = True
            return self._indexing
        fut: asyncio.Future[IndexStats] = loop.create_future()
        self._indexing = fut
        self._background(self._index(fut))
        return fut

    def busy(self) -> bool:
        return self._indexing is not None and not self._indexing.done()

    def _background(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _index(self, fut: asyncio.Future[IndexStats]) -> None:
        progress = await _IndexProgress.begin(self.host)
        keep = self.host.docs.relpaths()  # past max_files, their folders are left out last
        result = await _build_in_thread(self.host.engine, progress.report, keep)
        if isinstance(result, BaseException):
            text = f"indexing failed: {result}"
            log.error(text, exc_info=result)
            self.host.message(text, types.MessageType.Error)
            progress.end("failed", forget=False)
            fut.set_exception(result)
            fut.exception()  # retrieved: nobody has to await it
        else:
            text = (
                f"Indexed {result.files:,} files ({result.symbols:,} symbols) in "
                f"{result.seconds:.1f} s"
            )
            self.host.log(text)
            progress.end(text)
            self._say_left_out(result)
            self._judge_open_buffers()
            self.host.changed()
            fut.set_result(result)
        if self._index_again:
            self._index_again = False
            self._indexing = None
            self.start_index()

    def _say_left_out(self, stats: IndexStats) -> None:
        """Files left out past `max_files`: which and how to change it, in a message (once
        per different answer: a rebuild that leaves out the same files says nothing)."""
        engine = self.host.engine
        lo = left_out(stats.skipped, engine.workspace.settings.max_files) if engine else None
        said, self._left_out_said = self._left_out_said, lo
        if lo is not None and lo != said:
            self.host.message(lo.message(), types.MessageType.Warning)

    def _judge_open_buffers(self) -> None:
        """The build replaced what open buffers said; ignore files or excludes may have
        changed too: judge each open buffer again."""
        engine = self.host.engine
        for rel in self.host.docs.relpaths():
            if engine is not None and engine.workspace.admits(rel):
                self._private.discard(rel)
                self.schedule_update(rel, 0.0)
            else:
                self._private.add(rel)

    def schedule_update(self, rel: str, delay: float = DEBOUNCE_S) -> None:
        """Re-index an open buffer after `delay` (restarted by each keystroke)."""
        timer = self._timers.pop(rel, None)
        if timer is not None:
            timer.cancel()
        loop = asyncio.get_running_loop()
        self._timers[rel] = loop.call_later(delay, self._update_now, rel)

    def _update_now(self, rel: str) -> None:
        self._timers.pop(rel, None)
        doc = self.host.docs.by_rel(rel)
        if doc is None or doc.language is None or self.host.engine is None:
            return
        if doc.tree is None:  # being parsed (on the loop in steps, or off it), or text only
            if doc.parsing:
                self._unparsed.add(rel)
            elif doc.parse_problem is not None:
                self.host.engine.workspace.leave_out(rel, doc.parse_problem)
            return
        if rel in self._updating:
            self._update_again.add(rel)
            return
        ws = self.host.engine.workspace
        before = ws.get(rel)
        splice = timed(f"index update (splice) {rel}")(incremental.refresh)
        now = splice(ws, rel, doc, whole=False) if before is not None else None
        if now is not None:  # up to date, or the edited statements spliced in (on the loop)
            if now is not before:
                self.host.changed()
            return
        source = doc.source
        tree = doc.tree.copy() if doc.tree is not None else None  # the buffer's tree moves on
        doc.mark_indexed(_extract.digest(source))  # what the index will be made from
        self._updating.add(rel)
        update = timed(f"index update {rel}")(self.host.engine.workspace.update)
        fut = asyncio.get_running_loop().run_in_executor(self._updates, update, rel, source, tree)
        fut.add_done_callback(functools.partial(self._updated, rel))

    def _updated(self, rel: str, fut: asyncio.Future[Any]) -> None:
        self._updating.discard(rel)
        self.host.changed()
        failed = not fut.cancelled() and fut.exception() is not None
        if failed:
            log.warning("re-indexing %s failed: %s", rel, fut.exception())
        doc = self.host.docs.by_rel(rel)
        fi = self.host.engine.workspace.get(rel) if self.host.engine is not None else None
        if rel in self._update_again or (
            not failed and doc is not None and fi is not None and doc.indexed != fi.digest
        ):  # typed meanwhile, or a newer text indexed meanwhile was overwritten (a failed
            # update is not retried until the text changes: it would fail the same way)
            self._update_again.discard(rel)
            self.schedule_update(rel, 0.0)

    def _refresh(self, rels: list[str]) -> None:
        """Bring files that are not open in line with the disk (off the loop)."""
        engine = self.host.engine
        if engine is None or not rels:
            return

        def work() -> None:
            for rel in rels:
                try:
                    engine.workspace.refresh_from_disk(rel)
                except Exception as exc:
                    log.warning("refreshing %s failed: %s", rel, exc)

        fut = asyncio.get_running_loop().run_in_executor(self._updates, work)
        fut.add_done_callback(lambda _: self.host.changed())

    # ------------------------------------------------------------------ documents
    def _go_on(self, uri: str) -> None:
        """A buffer whose parse paused (its first `step_s` spent on the loop): go on with
        it at the loop's next turn, a step at a time (whatever came meanwhile first)."""
        doc = self.host.docs.get(uri)
        if doc is None or not doc.parsing or uri in self._stepping:
            return
        self._stepping.add(uri)
        asyncio.get_running_loop().call_soon(self._step, uri)

    def _step(self, uri: str) -> None:
        self._stepping.discard(uri)
        doc = self.host.docs.get(uri)
        if doc is None or not doc.parsing:
            return  # closed, edited (a new parse goes on), or settled by a request
        if not doc.resume(PARSE_STEP_S):
            self._go_on(uri)
            return
        self.host.changed()
        if doc.needs_parse:
            self._parse_later(uri)
            return
        rel = self.host.docs.rel(uri)
        if rel in self._unparsed:
            self._unparsed.discard(rel)
            self.schedule_update(rel, 0.0)

    def _parse_later(self, uri: str) -> None:
        """A buffer whose parse ran out of the loop's time: parse it on the parse thread."""
        doc = self.host.docs.get(uri)
        if doc is None or not doc.needs_parse or uri in self._parsing:
            return
        self._parsing.add(uri)
        fut = asyncio.get_running_loop().run_in_executor(self._parses, doc.background_parse())
        fut.add_done_callback(functools.partial(self._parsed, uri))

    def _parsed(self, uri: str, fut: asyncio.Future[ParseOutcome]) -> None:
        self._parsing.discard(uri)
        doc = self.host.docs.get(uri)
        if doc is None or fut.cancelled():
            return
        if fut.exception() is not None:
            log.warning("parsing %s failed: %s", uri, fut.exception())
            return
        if not doc.adopt(fut.result()):
            self._parse_later(uri)  # the text moved on meanwhile
            return
        self.host.changed()
        rel = self.host.docs.rel(uri)
        if doc.parse_problem is not None:
            self.host.log(f"{rel or uri}: {doc.parse_problem}: followed as text, not indexed")
        if rel is not None and self.host.engine is not None and rel not in self._private:
            self.schedule_update(rel, 0.0)

    @timed("textDocument/didOpen")
    def did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        td = params.text_document
        self.host.changed()
        doc = self.host.docs.open(td.uri, td.text, td.version)
        self._go_on(td.uri)
        self._parse_later(td.uri)
        if doc.language is not None:  # compiled now, not on the first edit's splice (~70 ms)
            self._updates.submit(languages.index_query, doc.language)
        rel = self.host.docs.rel(td.uri)
        if rel is not None and doc.language is not None and self.host.engine is not None:
            if self.host.engine.workspace.get(rel) is None and not self._may_index(rel):
                self._private.add(rel)
                return
            self.schedule_update(rel, 0.0)

    @timed("textDocument/didChange")
    def did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        self.host.changed()
        try:
            doc = self.host.docs.change(
                uri, list(params.content_changes), params.text_document.version
            )
        except PositionError as exc:
            self.host.log(
                f"{uri}: an edit did not fit the document ({exc})", types.MessageType.Error
            )
            return
        if doc is None:
            return
        self._go_on(uri)
        self._parse_later(uri)
        rel = self.host.docs.rel(uri)
        if (
            rel is not None
            and doc.language is not None
            and self.host.engine is not None
            and rel not in self._private
        ):
            self.schedule_update(rel)

    def did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        self.host.changed()
        rel = self.host.docs.close(params.text_document.uri)
        if rel is None:
            return
        self._unparsed.discard(rel)
        if rel in self._private:
            self._private.discard(rel)
            return
        timer = self._timers.pop(rel, None)
        if timer is not None:
            timer.cancel()
        self._refresh([rel])  # unsaved changes are gone: the disk is the truth again

    def did_change_watched_files(self, params: types.DidChangeWatchedFilesParams) -> None:
        engine = self.host.engine
        if engine is None:
            return
        rels: list[str] = []
        settings_changed = ignores_changed = False
        for change in params.changes:
            rel = self.host.docs.rel(change.uri)
            if rel is None:
                continue
            if rel in PROJECT_FILES:
                settings_changed = True
            elif rel in IGNORE_FILES or rel.endswith("/.gitignore"):
                ignores_changed = True
            elif (
                self.host.docs.by_rel(rel) is None
                and languages.language_for_path(rel)
                and (engine.workspace.get(rel) is not None or self._may_index(rel))
            ):
                rels.append(rel)
        if settings_changed:
            self.host.reload_settings()
        if ignores_changed:
            self.start_index()
        self._refresh(rels)

    def _may_index(self, rel: str) -> bool:
        """Whether a file that just appeared belongs in the index (the build's rules)."""
        assert self.host.engine is not None
        return self.host.engine.workspace.admits(rel)


class _IndexProgress:
    """`$/progress` for one build of the index (nothing when the client has none)."""

    def __init__(self, host: SyncHost, token: str | None, loop: asyncio.AbstractEventLoop):
        self.host, self.token, self.loop = host, token, loop
        self._last = 0.0

    @classmethod
    async def begin(cls, host: SyncHost) -> _IndexProgress:
        loop = asyncio.get_running_loop()
        if not host.support.work_done_progress:
            return cls(host, None, loop)
        token = host.new_token("index")
        try:
            await asyncio.wait_for(host.work_done_progress.create_async(token), 10)
            host.work_done_progress.begin(
                token,
                types.WorkDoneProgressBegin(title="scopewise", message="Indexing…", percentage=0),
            )
        except (JsonRpcException, TimeoutError):
            return cls(host, None, loop)
        return cls(host, token, loop)

    def report(self, done: int, total: int) -> None:
        """From the index thread: at most every 0.2 s, and the last one."""
        if self.token is None:
            return
        now = time.monotonic()
        if done < total and now - self._last < 0.2:
            return
        self._last = now
        pct = int(done * 100 / total) if total else 100
        value = types.WorkDoneProgressReport(
            message=f"Indexing {done:,}/{total:,} files", percentage=pct
        )
        self.loop.call_soon_threadsafe(self.host.work_done_progress.report, self.token, value)

    def end(self, message: str, *, forget: bool = True) -> None:
        if self.token is None:
            return
        self.host.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
        if forget:
            self.host.work_done_progress.tokens.pop(self.token, None)


async def _build_in_thread(
    engine: Engine | None, report: Callable[[int, int], None], keep: list[str]
) -> IndexStats | BaseException:
    """Build the index in a thread of its own (and its worker processes); the loop keeps
    answering meanwhile. An exception comes back as the result."""
    assert engine is not None
    loop = asyncio.get_running_loop()
    done_event = asyncio.Event()
    outcome: list[IndexStats | BaseException] = []

    def work() -> None:
        # no cyclic collection while the index grows: each full collection walks every
        # object built so far with the interpreter lock held, and stalled requests for
        # 50-70 ms several times per large index (bench_lsp: round trip p99 72 ms; 20-26 ms
        # without). One collection at the end, then the long-lived index is frozen out
        # of all later ones.
        gc.disable()
        try:
            outcome.append(engine.index(report, keep=keep))
        except BaseException as exc:  # reported on the loop
            outcome.append(exc)
        else:
            try:  # the first question would make them otherwise (on the loop)
                graph.made_ahead(engine.workspace.files)
            except Exception:
                log.exception("the stored paths' lookups were not made ahead")
        finally:
            gc.collect()
            gc.freeze()
            gc.enable()
            loop.call_soon_threadsafe(done_event.set)

    threading.Thread(target=work, name="scopewise-index", daemon=True).start()
    await done_event.wait()
    return outcome[0]
