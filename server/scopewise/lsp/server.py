"""The scopewise language server (pygls 2): documents, settings, the background index, code
actions planned from the index alone, and the commands that run them.

Threads: the event loop answers every request; the initial index builds in a thread (and
worker processes); re-indexing a changed buffer happens off the keystroke path, after a
short debounce, in one worker thread. Nothing that listing code actions does touches the
network."""

from __future__ import annotations

import asyncio
import collections
import functools
import gc
import itertools
import logging
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import cattrs
from lsprotocol import types
from pygls.capabilities import ServerCapabilitiesBuilder
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.uris import to_fs_path

from scopewise import __version__
from scopewise import settings as config
from scopewise.actions.edits import EditError, read_for_edit
from scopewise.actions.plan import ActionError, Actions
from scopewise.analysis.engine import EngineError
from scopewise.claude.client import ClaudeClient
from scopewise.claude.ledger import Ledger, LedgerError
from scopewise.claude.models import ModelCatalog
from scopewise.index import extract as _extract
from scopewise.index import languages
from scopewise.index.buffer import ParseOutcome, PositionError
from scopewise.index.files import is_secret_file
from scopewise.index.workspace import IndexStats

from .actions import (
    KINDS,
    RUN_COMMAND,
    ActionData,
    Lister,
    ServerEngine,
    Target,
    expand_cursor,
    target_lines,
)
from .documents import OpenDocuments
from .run import RunHandle, run_action
from .settings import ClientSupport, SettingsSources, section

log = logging.getLogger("scopewise.lsp")
timing = logging.getLogger("scopewise.lsp.timing")

USAGE_COMMAND = "scopewise.usage"
REINDEX_COMMAND = "scopewise.reindex"
DEBOUNCE_S = 0.25  # an edited buffer is re-indexed this long after the last keystroke
LISTING_TTL_S = 30.0  # a menu is reused this long when nothing changed (estimates age)
_PROJECT_FILES = (".scopewise.toml", "pyproject.toml")
_IGNORE_FILES = (".gitignore", ".scopewiseignore")

F = TypeVar("F", bound=Callable[..., Any])


def timed(method: str) -> Callable[[F], F]:
    """Log a handler's server-side time (logger scopewise.lsp.timing, INFO)."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            if not timing.isEnabledFor(logging.INFO):
                return fn(*args, **kwargs)
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                timing.info("%s %.3f ms", method, (time.perf_counter() - t0) * 1000)

        return inner  # type: ignore[return-value]

    return wrap


class _Protocol(LanguageServerProtocol):
    """pygls's protocol with three changes: UTF-8 positions whenever the client offers them,
    documents kept only by scopewise (pygls's own copy would double the work of every
    keystroke), and `$/cancelRequest` reaching a running command."""

    _server: ScopewiseServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._finished_steps: collections.deque[tuple[Any, Any]] = collections.deque()

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        general = params.capabilities.general
        offered = list(general.position_encodings or []) if general else []
        if general is not None and types.PositionEncodingKind.Utf8 in offered:
            utf8 = types.PositionEncodingKind.Utf8
            general.position_encodings = [utf8, *(e for e in offered if e != utf8)]
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        return result

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        self._server.did_open(params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        self._server.did_change(params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        self._server.did_close(params)

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        self._server.cancel_request(msg_id)
        super()._handle_cancel_notification(msg_id)

    def _execute_handler(
        self,
        msg_id: Any,
        handler: Any,
        callback: Any,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        """pygls (2.1) files the future of each step of a generator handler (executeCommand
        runs every command that way) under a fresh id and never removes it: each run left
        its finished task, result and HTTP state behind (~2.5 KiB an action, found by the
        LSP soak). Finished futures are noted here and let go before the next message (not
        in the callback: pygls cancels futures while iterating over them at shutdown, and
        thread-pool futures finish on other threads)."""

        def note(future: Any) -> None:
            self._finished_steps.append((msg_id, future))  # deque: safe from any thread
            callback(future)

        super()._execute_handler(msg_id, handler, note, args, kwargs)

    def _let_go(self) -> None:
        while self._finished_steps:
            try:
                msg_id, future = self._finished_steps.popleft()
            except IndexError:
                return
            if self._request_futures.get(msg_id) is future:
                del self._request_futures[msg_id]

    def structure_message(self, data: dict[str, Any]) -> Any:
        """pygls drops a request whose params do not fit the method's type (the client waits
        forever); answer it with InvalidParams instead. Likewise a notification sent with an
        id: a JSON-RPC request, so it gets an answer (an error) rather than silence."""
        method = data.get("method")
        if "id" in data and isinstance(method, str):
            entry = types.METHOD_TO_TYPES.get(method)
            if entry is not None and entry[1] is None and method != types.EXIT:
                return _Malformed(data["id"], method, "a notification, sent with an id")
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "id" in data and isinstance(data.get("method"), str):
                return _Malformed(data["id"], data["method"], _why(exc))
            raise

    def handle_message(self, message: Any) -> None:
        self._let_go()
        if isinstance(message, _Malformed):
            error = JsonRpcInvalidParams(f"Invalid Params: {message.method}: {message.why}")
            self._send_response(message.id, None, error.to_response_error())
            return
        super().handle_message(message)


@dataclass(frozen=True)
class _Malformed:
    id: Any
    method: str
    why: str


def _why(exc: BaseException) -> str:
    cause = exc.__cause__
    if isinstance(cause, cattrs.ClassValidationError):
        return "; ".join(cattrs.transform_error(cause, path="params")[:5])
    return str(cause or exc)


class ScopewiseServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "scopewise",
            __version__,
            protocol_cls=_Protocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.engine: ServerEngine | None = None
        self.actions: Actions | None = None
        self.settings = config.Settings()
        self.support = ClientSupport()
        self.docs = OpenDocuments(None)
        self.sources = SettingsSources()
        self.ledger = Ledger()
        self.lister = Lister(self.support)
        self._claude: ClaudeClient | None = None
        self._claude_key: tuple[Any, ...] | None = None
        self._retired: list[ClaudeClient] = []
        self._runs: dict[str, RunHandle] = {}  # progress token -> run
        self._run_requests: dict[Any, RunHandle] = {}  # request id -> run
        self._cancelled: set[Any] = set()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        # open buffers the index leaves out (ignored, excluded, secrets): actions on them
        # work, but they never become context for other files
        self._private: set[str] = set()
        self._updating: set[str] = set()
        self._update_again: set[str] = set()
        self._updates = ThreadPoolExecutor(1, thread_name_prefix="scopewise-update")
        # full parses of buffers too slow to parse on the loop (see index/documents.py)
        self._parses = ThreadPoolExecutor(1, thread_name_prefix="scopewise-parse")
        self._parsing: set[str] = set()  # uris with a parse there
        self._indexing: asyncio.Future[IndexStats] | None = None
        self._index_again = False
        self._shown_warnings: tuple[str, ...] = ()
        self._pending_warnings: list[str] = []
        self._tokens = itertools.count(1)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._generation = 0
        self._listings: OrderedDict[tuple[Any, ...], tuple[float, list[types.CodeAction]]] = (
            OrderedDict()
        )

    # ------------------------------------------------------------------ messages
    def message(self, text: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=f"scopewise: {text}"))

    def log(self, text: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=f"scopewise: {text}"))

    def refuse(
        self, why: str, kind: types.MessageType = types.MessageType.Warning, **extra: Any
    ) -> dict[str, Any]:
        """Tell the user why an action did not happen; the command's result says it too."""
        self.message(why, kind)
        return {"applied": False, "reason": why, **extra}

    def new_token(self, what: str) -> str:
        return f"scopewise-{what}-{next(self._tokens)}"

    # ------------------------------------------------------------------ lifecycle
    def on_initialize(self, params: types.InitializeParams) -> None:
        self.support = ClientSupport.of(params.capabilities)
        self.lister = Lister(self.support)
        encoding = str(ServerCapabilitiesBuilder.choose_position_encoding(params.capabilities))
        root = self._root_of(params)
        self.docs = OpenDocuments(root, encoding)
        self.sources.initialization = section(params.initialization_options, flat=True)
        if root is None:
            self._pending_warnings.append("no workspace folder: open a folder to get code actions")
            return
        settings, warnings = self.sources.load(root)
        try:
            self.engine = ServerEngine(root, settings.index, documents=self.docs.by_rel)
        except EngineError as exc:
            self._pending_warnings.append(str(exc))
            return
        self._use_settings(settings)
        self._pending_warnings += warnings
        log.info("workspace %s, positions in %s", root, encoding)

    @staticmethod
    def _root_of(params: types.InitializeParams) -> Path | None:
        uri = None
        if params.workspace_folders:
            uri = params.workspace_folders[0].uri
        elif params.root_uri:
            uri = params.root_uri
        path = to_fs_path(uri) if uri else params.root_path
        if not path:
            return None
        p = Path(path).resolve()
        return p if p.is_dir() else None

    async def on_initialized(self, params: types.InitializedParams) -> None:
        if self._pending_warnings:
            self._warn(self._pending_warnings)
            self._pending_warnings = []
        if self.engine is None:
            return
        if self.support.watched_files_registration:
            await self._watch_files()
        if self.support.configuration:
            await self._pull_configuration()
        self.start_index()

    async def _watch_files(self) -> None:
        exts = ",".join(e.lstrip(".") for e in languages.supported_extensions())
        watchers = [
            types.FileSystemWatcher(glob_pattern=f"**/*.{{{exts}}}"),
            *(types.FileSystemWatcher(glob_pattern=f"**/{name}") for name in _PROJECT_FILES),
            *(types.FileSystemWatcher(glob_pattern=f"**/{name}") for name in _IGNORE_FILES),
        ]
        reg = types.Registration(
            id="scopewise-watched-files",
            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers),
        )
        try:
            await asyncio.wait_for(
                self.client_register_capability_async(
                    types.RegistrationParams(registrations=[reg])
                ),
                10,
            )
        except (JsonRpcException, TimeoutError) as exc:
            log.warning("could not register file watchers: %s", exc)

    def on_shutdown(self, params: None) -> None:
        for handle in list(self._runs.values()):
            handle.task.cancel()
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    # ------------------------------------------------------------------ settings
    async def _pull_configuration(self) -> None:
        assert self.engine is not None
        item = types.ConfigurationItem(section="scopewise", scope_uri=self.engine.root.as_uri())
        try:
            answer = await asyncio.wait_for(
                self.workspace_configuration_async(types.ConfigurationParams(items=[item])), 10
            )
        except (JsonRpcException, TimeoutError) as exc:
            log.warning("workspace/configuration failed: %s", exc)
            return
        value = answer[0] if answer else None
        self.sources.client = section({"scopewise": value}, flat=False)
        self.reload_settings()

    async def on_did_change_configuration(self, params: types.DidChangeConfigurationParams) -> None:
        if self.support.configuration and self.engine is not None:
            await self._pull_configuration()
            return
        self.sources.client = section(params.settings, flat=False)
        self.reload_settings()

    def reload_settings(self) -> None:
        if self.engine is None:
            return
        settings, warnings = self.sources.load(self.engine.root)
        self._warn(warnings)
        index_changed = settings.index != self.settings.index
        self._use_settings(settings)
        if index_changed:
            self.engine.workspace.settings = settings.index
            if self._indexing is not None:  # the first index has started: redo it
                self.start_index()

    def _warn(self, warnings: list[str]) -> None:
        if warnings and tuple(warnings) != self._shown_warnings:
            self.message("settings: " + "; ".join(warnings))
        self._shown_warnings = tuple(warnings)

    def _use_settings(self, settings: config.Settings) -> None:
        assert self.engine is not None
        self.changed()
        self.settings = settings
        self.docs.max_bytes = settings.index.max_file_bytes
        self.ledger.daily_cap_usd = settings.daily_cap_usd
        try:
            catalog = ModelCatalog(price_overrides=settings.prices or None)
        except ValueError as exc:
            self._warn([f"scopewise.prices: {exc}; using list prices"])
            catalog = ModelCatalog()
        self.actions = Actions(self.engine, settings, catalog=catalog, ledger=self.ledger)

    def claude(self) -> ClaudeClient:
        """The Claude client for the current settings (a new one when they changed)."""
        s = self.settings
        key = (config.api_key(s), s.base_url, s.timeout_s, s.max_retries, s.provider)
        if self._claude is None or key != self._claude_key:
            if self._claude is not None:
                self._retired.append(self._claude)
            self._claude = ClaudeClient(
                api_key=key[0],
                base_url=s.base_url,
                timeout=s.timeout_s,
                max_retries=s.max_retries,
                provider=s.provider,
            )
            self._claude_key = key
        return self._claude

    # ------------------------------------------------------------------ indexing
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
        engine = self.engine
        assert engine is not None
        loop = asyncio.get_running_loop()
        token: str | None = None
        if self.support.work_done_progress:
            token = self.new_token("index")
            try:
                await asyncio.wait_for(self.work_done_progress.create_async(token), 10)
                self.work_done_progress.begin(
                    token,
                    types.WorkDoneProgressBegin(
                        title="scopewise", message="Indexing…", percentage=0
                    ),
                )
            except (JsonRpcException, TimeoutError):
                token = None
        last = [0.0]

        def report(done: int, total: int) -> None:
            if token is None:
                return
            now = time.monotonic()
            if done < total and now - last[0] < 0.2:
                return
            last[0] = now
            pct = int(done * 100 / total) if total else 100
            value = types.WorkDoneProgressReport(
                message=f"Indexing {done:,}/{total:,} files", percentage=pct
            )
            loop.call_soon_threadsafe(self.work_done_progress.report, token, value)

        done_event = asyncio.Event()
        outcome: list[Any] = []

        def work() -> None:
            # no cyclic collection while the index grows: each full collection walks every
            # object built so far with the interpreter lock held, and stalled requests for
            # 50-70 ms several times per large index (bench_lsp: round trip p99 72 ms; 20-26 ms
            # without). One collection at the end, then the long-lived index is frozen out
            # of all later ones.
            gc.disable()
            try:
                outcome.append(engine.index(report))
            except BaseException as exc:  # reported on the loop
                outcome.append(exc)
            finally:
                gc.collect()
                gc.freeze()
                gc.enable()
                loop.call_soon_threadsafe(done_event.set)

        threading.Thread(target=work, name="scopewise-index", daemon=True).start()
        await done_event.wait()
        result = outcome[0]
        if isinstance(result, BaseException):
            text = f"indexing failed: {result}"
            log.error(text, exc_info=result)
            self.message(text, types.MessageType.Error)
            if token is not None:
                self.work_done_progress.end(token, types.WorkDoneProgressEnd(message="failed"))
            fut.set_exception(result)
            fut.exception()  # retrieved: nobody has to await it
        else:
            stats: IndexStats = result
            text = (
                f"Indexed {stats.files:,} files ({stats.symbols:,} symbols) in "
                f"{stats.seconds:.1f} s"
            )
            self.log(text)
            if token is not None:
                self.work_done_progress.end(token, types.WorkDoneProgressEnd(message=text))
                self.work_done_progress.tokens.pop(token, None)
            for rel in self.docs.relpaths():  # the build replaced what open buffers said
                # ignore files or excludes may have changed: judge open buffers again
                if self.engine is not None and self.engine.workspace.admits(rel):
                    self._private.discard(rel)
                    self.schedule_update(rel, 0.0)
                else:
                    self._private.add(rel)
            self.changed()
            fut.set_result(stats)
        if self._index_again:
            self._index_again = False
            self._indexing = None
            self.start_index()

    def schedule_update(self, rel: str, delay: float = DEBOUNCE_S) -> None:
        """Re-index an open buffer after `delay` (restarted by each keystroke)."""
        timer = self._timers.pop(rel, None)
        if timer is not None:
            timer.cancel()
        loop = asyncio.get_running_loop()
        self._timers[rel] = loop.call_later(delay, self._update_now, rel)

    def _update_now(self, rel: str) -> None:
        self._timers.pop(rel, None)
        doc = self.docs.by_rel(rel)
        if doc is None or doc.language is None or self.engine is None:
            return
        if doc.tree is None:  # being parsed off the loop, or followed as text only
            if doc.parse_problem is not None:
                self.engine.workspace.leave_out(rel, doc.parse_problem)
            return
        if rel in self._updating:
            self._update_again.add(rel)
            return
        fi = self.engine.workspace.get(rel)
        source = doc.source
        if fi is not None and fi.digest == _extract.digest(source):
            return
        tree = doc.tree.copy() if doc.tree is not None else None  # the buffer's tree moves on
        self._updating.add(rel)
        update = timed(f"index update {rel}")(self.engine.workspace.update)
        fut = asyncio.get_running_loop().run_in_executor(self._updates, update, rel, source, tree)
        fut.add_done_callback(functools.partial(self._updated, rel))

    def _updated(self, rel: str, fut: asyncio.Future[Any]) -> None:
        self._updating.discard(rel)
        self.changed()
        if not fut.cancelled() and fut.exception() is not None:
            log.warning("re-indexing %s failed: %s", rel, fut.exception())
        if rel in self._update_again:
            self._update_again.discard(rel)
            self.schedule_update(rel, 0.0)

    def _refresh(self, rels: list[str]) -> None:
        """Bring files that are not open in line with the disk (off the loop)."""
        engine = self.engine
        if engine is None or not rels:
            return

        def work() -> None:
            for rel in rels:
                try:
                    engine.workspace.refresh_from_disk(rel)
                except Exception as exc:
                    log.warning("refreshing %s failed: %s", rel, exc)

        fut = asyncio.get_running_loop().run_in_executor(self._updates, work)
        fut.add_done_callback(lambda _: self.changed())

    # ------------------------------------------------------------------ documents
    def _parse_later(self, uri: str) -> None:
        """A buffer whose parse ran out of the loop's time: parse it on the parse thread."""
        doc = self.docs.get(uri)
        if doc is None or not doc.needs_parse or uri in self._parsing:
            return
        self._parsing.add(uri)
        fut = asyncio.get_running_loop().run_in_executor(self._parses, doc.background_parse())
        fut.add_done_callback(functools.partial(self._parsed, uri))

    def _parsed(self, uri: str, fut: asyncio.Future[ParseOutcome]) -> None:
        self._parsing.discard(uri)
        doc = self.docs.get(uri)
        if doc is None or fut.cancelled():
            return
        if fut.exception() is not None:
            log.warning("parsing %s failed: %s", uri, fut.exception())
            return
        if not doc.adopt(fut.result()):
            self._parse_later(uri)  # the text moved on meanwhile
            return
        self.changed()
        rel = self.docs.rel(uri)
        if doc.parse_problem is not None:
            self.log(f"{rel or uri}: {doc.parse_problem}: followed as text, not indexed")
        if rel is not None and self.engine is not None and rel not in self._private:
            self.schedule_update(rel, 0.0)

    @timed("textDocument/didOpen")
    def did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        td = params.text_document
        self.changed()
        doc = self.docs.open(td.uri, td.text, td.version)
        self._parse_later(td.uri)
        rel = self.docs.rel(td.uri)
        if rel is not None and doc.language is not None and self.engine is not None:
            if self.engine.workspace.get(rel) is None and not self._may_index(rel):
                self._private.add(rel)
                return
            self.schedule_update(rel, 0.0)

    @timed("textDocument/didChange")
    def did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        self.changed()
        try:
            doc = self.docs.change(uri, list(params.content_changes), params.text_document.version)
        except PositionError as exc:
            self.log(f"{uri}: an edit did not fit the document ({exc})", types.MessageType.Error)
            return
        if doc is None:
            return
        self._parse_later(uri)
        rel = self.docs.rel(uri)
        if (
            rel is not None
            and doc.language is not None
            and self.engine is not None
            and rel not in self._private
        ):
            self.schedule_update(rel)

    def did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        self.changed()
        rel = self.docs.close(params.text_document.uri)
        if rel is None:
            return
        if rel in self._private:
            self._private.discard(rel)
            return
        timer = self._timers.pop(rel, None)
        if timer is not None:
            timer.cancel()
        self._refresh([rel])  # unsaved changes are gone: the disk is the truth again

    def on_did_change_watched_files(self, params: types.DidChangeWatchedFilesParams) -> None:
        engine = self.engine
        if engine is None:
            return
        rels: list[str] = []
        settings_changed = ignores_changed = False
        for change in params.changes:
            rel = self.docs.rel(change.uri)
            if rel is None:
                continue
            if rel in _PROJECT_FILES:
                settings_changed = True
            elif rel in _IGNORE_FILES or rel.endswith("/.gitignore"):
                ignores_changed = True
            elif (
                self.docs.by_rel(rel) is None
                and languages.language_for_path(rel)
                and (engine.workspace.get(rel) is not None or self._may_index(rel))
            ):
                rels.append(rel)
        if settings_changed:
            self.reload_settings()
        if ignores_changed:
            self.start_index()
        self._refresh(rels)

    def _may_index(self, rel: str) -> bool:
        """Whether a file that just appeared belongs in the index (the build's rules)."""
        assert self.engine is not None
        return self.engine.workspace.admits(rel)

    def read_text(self, rel: str) -> str | None:
        """A file's current text for resolving edits: the open buffer, else the disk."""
        assert self.engine is not None
        if is_secret_file(self.engine.root, rel):
            raise EditError(f"{rel} is a secrets file; scopewise never edits it")
        doc = self.docs.by_rel(rel)
        return doc.text if doc is not None else self.read_disk(rel)

    def read_disk(self, rel: str) -> str | None:
        assert self.engine is not None
        return read_for_edit(self.engine.root, rel)

    # ------------------------------------------------------------------ code actions
    @timed("textDocument/codeAction")
    def on_code_action(
        self, params: types.CodeActionParams
    ) -> list[types.CodeAction | types.Command] | None:
        actions, engine = self.actions, self.engine
        if actions is None or engine is None:
            return None
        uri = params.text_document.uri
        rel = self.docs.rel(uri)
        if rel is None or languages.language_for_path(rel) is None:
            return None
        doc = self.docs.get(uri)
        start, end = target_lines(params.range, doc.line_count if doc else None)
        diagnostics = tuple(params.context.diagnostics)
        with engine.memo():
            try:
                if params.range.start == params.range.end:
                    start, end = expand_cursor(engine, doc, rel, start)
                key = (
                    uri,
                    start,
                    end,
                    tuple(params.context.only or ()),
                    repr(diagnostics),
                    self._generation,
                )
                listed = self._listed(key)
                if listed is None:
                    version = doc.version if doc else None
                    target = Target(uri, rel, start, end, version, diagnostics)
                    listed = self.lister.actions_for(actions, target, params.context.only)
                    self._remember_listing(key, listed)
            except (ActionError, EngineError, OSError) as exc:
                log.info("no code actions for %s: %s", uri, exc)
                return None
        if not self.support.code_action_literals:
            return [a.command for a in listed if a.command is not None and a.disabled is None]
        return list(listed)

    def _listed(self, key: tuple[Any, ...]) -> list[types.CodeAction] | None:
        """The same request with nothing changed since (editors ask again on every cursor
        move inside a definition) gets the same answer."""
        hit = self._listings.get(key)
        if hit is None or time.monotonic() - hit[0] > LISTING_TTL_S:
            return None
        return hit[1]

    def _remember_listing(self, key: tuple[Any, ...], listed: list[types.CodeAction]) -> None:
        self._listings[key] = (time.monotonic(), listed)
        while len(self._listings) > 32:
            self._listings.popitem(last=False)

    def changed(self) -> None:
        """Something a plan depends on changed: documents, the index, settings, the ledger."""
        self._generation += 1
        self._listings.clear()

    def on_code_action_resolve(self, params: types.CodeAction) -> types.CodeAction:
        if self.actions is None:
            return params
        try:
            return self.lister.resolve(self.actions, params)
        except ValueError as exc:
            raise JsonRpcInvalidParams(str(exc)) from None
        except ActionError as exc:
            params.disabled = types.CodeActionDisabled(reason=str(exc))
            return params

    # ------------------------------------------------------------------ commands
    async def cmd_run(self, *args: Any) -> dict[str, Any]:
        if len(args) != 1:
            raise JsonRpcInvalidParams("scopewise.run takes exactly one argument")
        try:
            data = ActionData.from_json(args[0])
        except ValueError as exc:
            raise JsonRpcInvalidParams(str(exc)) from None
        try:
            return await run_action(self, data)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug: say so rather than leave the request dead
            log.exception("scopewise.run failed")
            return self.refuse(f"internal error: {exc}", types.MessageType.Error)

    def runs_started(self, handle: RunHandle, msg_id: Any) -> None:
        if handle.token is not None:
            self._runs[handle.token] = handle
        if msg_id is not None:
            self._run_requests[msg_id] = handle

    def runs_finished(self, handle: RunHandle, msg_id: Any) -> None:
        self.changed()  # the ledger moved: the cap may bite now
        if handle.token is not None:
            self._runs.pop(handle.token, None)
        if msg_id is not None:
            self._run_requests.pop(msg_id, None)
            self._cancelled.discard(msg_id)
        if not self._runs and self._retired:
            retired, self._retired = self._retired, []
            for client in retired:
                self._background(client.close())

    def cancel_request(self, msg_id: Any) -> None:
        handle = self._run_requests.get(msg_id)
        if handle is not None:
            self._cancelled.add(msg_id)
            handle.task.cancel()

    def request_cancelled(self, msg_id: Any) -> bool:
        return msg_id in self._cancelled

    def on_progress_cancel(self, params: types.WorkDoneProgressCancelParams) -> None:
        handle = self._runs.get(str(params.token))
        if handle is not None:
            handle.cancel()

    def cmd_usage(self, *args: Any) -> dict[str, Any]:
        try:
            totals = {
                "session": self.ledger.session_totals(),
                "today": self.ledger.day_totals(),
                "allTime": self.ledger.all_time(),
            }
        except LedgerError as exc:
            return self.refuse(str(exc), types.MessageType.Error)
        s, d, a = totals["session"], totals["today"], totals["allTime"]
        self.message(
            f"this session ${s.usd:.4f} ({s.calls} calls) · today ${d.usd:.4f} "
            f"({d.calls}) · all time ${a.usd:.4f} ({a.calls})",
            types.MessageType.Info,
        )
        return {k: asdict(v) for k, v in totals.items()}

    async def cmd_reindex(self, *args: Any) -> dict[str, Any]:
        if self.engine is None:
            return self.refuse("no workspace folder is open")
        stats = await asyncio.shield(self.start_index())
        return {
            "files": stats.files,
            "symbols": stats.symbols,
            "references": stats.references,
            "seconds": round(stats.seconds, 3),
            "skipped": len(stats.skipped),
        }


def _plain(method: Callable[..., Any]) -> Callable[..., Any]:
    """A bound method as a plain function (pygls tags its handlers with attributes)."""
    if asyncio.iscoroutinefunction(method):

        @functools.wraps(method)
        async def call_async(*args: Any) -> Any:
            return await method(*args)

        return call_async

    @functools.wraps(method)
    def call(*args: Any) -> Any:
        return method(*args)

    return call


def create_server() -> ScopewiseServer:
    ls = ScopewiseServer()
    features: list[tuple[str, Callable[..., Any], Any]] = [
        (types.INITIALIZE, ls.on_initialize, None),
        (types.INITIALIZED, ls.on_initialized, None),
        (types.SHUTDOWN, ls.on_shutdown, None),
        (
            types.TEXT_DOCUMENT_CODE_ACTION,
            ls.on_code_action,
            types.CodeActionOptions(code_action_kinds=list(KINDS), resolve_provider=True),
        ),
        (types.CODE_ACTION_RESOLVE, ls.on_code_action_resolve, None),
        (types.WORKSPACE_DID_CHANGE_CONFIGURATION, ls.on_did_change_configuration, None),
        (types.WORKSPACE_DID_CHANGE_WATCHED_FILES, ls.on_did_change_watched_files, None),
        (types.WINDOW_WORK_DONE_PROGRESS_CANCEL, ls.on_progress_cancel, None),
    ]
    for method, handler, options in features:
        ls.feature(method, options)(_plain(handler))
    ls.command(RUN_COMMAND)(_plain(ls.cmd_run))
    ls.command(USAGE_COMMAND)(_plain(ls.cmd_usage))
    ls.command(REINDEX_COMMAND)(_plain(ls.cmd_reindex))
    return ls


def _private_stdio() -> tuple[BinaryIO, BinaryIO]:
    """The protocol streams on private descriptors, and fds 0/1 pointed elsewhere: index
    workers inherit 0-2, and neither a stray print of theirs nor one here may reach the
    client, nor may they hold its pipes open after the server has gone."""
    sys.stdout.flush()
    stdin = os.fdopen(os.dup(0), "rb")
    stdout = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return stdin, stdout


def serve(tcp: tuple[str, int] | None = None) -> int:
    """Run the server on stdio (default) or TCP until the client says exit."""
    # pygls logs whole messages at INFO, initializationOptions (an API key?) included
    logging.getLogger("pygls").setLevel(logging.WARNING)
    # the index builds in a thread: hand the interpreter back to the request loop sooner
    # than the default 5 ms, so a code action never waits long behind it
    sys.setswitchinterval(0.001)
    server = create_server()
    if tcp is not None:
        server.start_tcp(*tcp)
    else:
        stdin, stdout = _private_stdio()
        server.start_io(stdin, stdout)
    if server.busy():
        # an index still building in its thread (and worker processes) would hold the
        # exit until it finished: nothing is left to save, so leave now
        sys.stderr.flush()
        os._exit(0)
    return 0
