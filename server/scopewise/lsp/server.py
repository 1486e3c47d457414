"""The scopewise language server (pygls 2): it holds the services and registers the features.

- `sync.Sync`: open documents, the background index, debounced re-indexing, watched files;
- `listing.Listing`: the code-action menu, its cache, resolve;
- `runs.Runs`: running an action (progress, cancellation, the Claude client);
- `tests_run.AffectedTests`: the last applied edit's tests, and running them on request;
- here: settings (where they come from: settings.py), messages, and the handlers, each a
  small function that hands the request to a service.

Threads: the event loop answers every request; the initial index builds in a thread (and
worker processes); re-indexing a changed buffer happens off the keystroke path, after a
short debounce, in one worker thread; pygls reads stdin in a thread of its own, whose reads
say a message is waiting before the loop dispatches it (waiting.py: the work done ahead
gives way). Nothing that listing code actions does touches the network."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import sys
from pathlib import Path
from typing import Any, BinaryIO, cast

from lsprotocol import types
from pygls.capabilities import ServerCapabilitiesBuilder
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from scopewise import __version__
from scopewise import settings as config
from scopewise.actions.api import Ledger, LedgerError, ModelCatalog, importing, usd
from scopewise.actions.edits import EditError, read_for_edit
from scopewise.actions.model import ActionError
from scopewise.actions.plan import Actions
from scopewise.index.files import is_secret_file
from scopewise.vocab import (
    APPLY_PROPOSAL_COMMAND,
    CHOICES_COMMAND,
    CHOOSE_INTENT_COMMAND,
    CHOOSE_PROJECT_ACTION_COMMAND,
    DISCARD_PROPOSAL_COMMAND,
    PROJECT_ACTIONS_COMMAND,
    PROPOSAL_DIFF_COMMAND,
    REINDEX_COMMAND,
    REVISE_COMMAND,
    RUN_COMMAND,
    RUN_TESTS_COMMAND,
    USAGE_COMMAND,
    EngineError,
)

from .ahead import Ahead
from .capabilities import ClientSupport, code_action_options, watched_files
from .documents import OpenDocuments
from .explaining import Explained
from .listing import Listing, ServerEngine, intent_choices, project_actions, project_choices
from .proposals import Proposals, apply, discard, show_diff
from .protocol import ScopewiseProtocol
from .revising import revise
from .runs import Runs, refuse
from .settings import SettingsSources, section
from .sync import Sync
from .tests_run import AffectedTests
from .timing import timed
from .waiting import SignallingReader, Waiting
from .watch import Watcher
from .wire import (
    ActionData,
    Applied,
    ApplyProposalArgs,
    Choice,
    Choices,
    ChoicesArgs,
    DiffDocument,
    ProjectActionsArgs,
    ProposalArgs,
    Refused,
    Reindexed,
    UsageTotals,
    command_args,
    to_json,
)

log = logging.getLogger("scopewise.lsp")


class ScopewiseServer(LanguageServer):
    """The services, the settings they share, and what the handlers need of the server
    (`runs.Host`, `sync.SyncHost`, `protocol.Receiver`)."""

    def __init__(self) -> None:
        super().__init__(
            "scopewise",
            __version__,
            protocol_cls=ScopewiseProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.engine: ServerEngine | None = None
        self.actions: Actions | None = None
        self.settings = config.Settings()
        self.support = ClientSupport()
        self.docs = OpenDocuments(None)
        self.sources = SettingsSources()
        self.ledger = Ledger()
        self.listing = Listing(self.support)
        self.watcher: Watcher | None = None  # the server's own, when the client cannot watch
        self.sync = Sync(self)
        self.waiting = Waiting()  # a message read but not handled yet (lsp/waiting.py)
        self.ahead = Ahead(self, self.waiting)  # the menu's analysis done while idle
        self.runs = Runs(self)
        self.tests = AffectedTests()
        self.proposals = Proposals()
        self.explained = Explained()  # the newest explanations, for a revise
        self._shown_warnings: tuple[str, ...] = ()
        self._pending_warnings: list[str] = []
        self._tokens = itertools.count(1)

    # ------------------------------------------------------------------ for the services
    def message(self, text: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=f"scopewise: {text}"))

    def log(self, text: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=f"scopewise: {text}"))

    def notify(self, method: str, params: Any) -> None:
        """A notification of scopewise's own (e.g. `scopewise/explanation`)."""
        self.protocol.notify(method, params)

    def new_token(self, what: str) -> str:
        return f"scopewise-{what}-{next(self._tokens)}"

    def changed(self) -> None:
        """Something a plan depends on changed: documents, the index, settings, the ledger."""
        self.listing.changed()
        self.ahead.changed()

    def ahead_settings(self) -> tuple[bool, int]:
        """Whether the menu's analysis is done ahead, and the menu's context cap."""
        s = self.settings
        return s.work_ahead, s.largest_context

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

    def busy(self) -> bool:
        return self.sync.busy()

    # ------------------------------------------------------------------ from the protocol
    @timed("textDocument/didOpen")
    def did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        self.sync.did_open(params)

    @timed("textDocument/didChange")
    def did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        self.sync.did_change(params)

    def did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        self.sync.did_close(params)

    def cancel_request(self, msg_id: Any) -> None:
        self.runs.cancel_request(msg_id)

    def message_came(self) -> None:
        self.waiting.handled()
        self.ahead.touched()

    # ------------------------------------------------------------------ lifecycle
    def initialize(self, params: types.InitializeParams) -> None:
        self.support = ClientSupport.of(params.capabilities)
        self.listing = Listing(self.support)
        encoding = str(ServerCapabilitiesBuilder.choose_position_encoding(params.capabilities))
        root = _root_of(params)
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

    async def initialized(self) -> None:
        if self._pending_warnings:
            self._warn(self._pending_warnings)
            self._pending_warnings = []
        if self.engine is None:
            return
        if self.support.watched_files_registration:
            await self._watch_files()
        else:
            self._watch_itself()
        if self.support.configuration:
            await self.pull_configuration()
        self.sync.start_index()
        self.runs.warm()  # the SDK imported now, not at the first action

    def _watch_itself(self) -> None:
        """The client offers no file watching: the server watches the workspace itself
        (SCOPEWISE_WATCH=polling picks the fallback; the log says which)."""
        assert self.engine is not None
        polling = os.environ.get("SCOPEWISE_WATCH") == "polling"
        self.watcher = Watcher(
            self.engine.root,
            lambda events: self.sync.did_change_watched_files(
                types.DidChangeWatchedFilesParams(changes=events)
            ),
            asyncio.get_running_loop(),
            polling=polling,
        )
        self.watcher.start()
        self.log(f"watching files: the server itself ({self.watcher.how}); the client does not")

    async def _watch_files(self) -> None:
        registration = types.RegistrationParams(registrations=[watched_files()])
        try:
            await asyncio.wait_for(self.client_register_capability_async(registration), 10)
        except (JsonRpcException, TimeoutError) as exc:
            log.warning("could not register file watchers: %s", exc)
            self._watch_itself()

    # ------------------------------------------------------------------ settings
    async def pull_configuration(self) -> None:
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

    def reload_settings(self) -> None:
        if self.engine is None:
            return
        settings, warnings = self.sources.load(self.engine.root)
        self._warn(warnings)
        index_changed = settings.index != self.settings.index
        self._use_settings(settings)
        if index_changed:
            self.engine.workspace.settings = settings.index
            if self.sync.indexing_started:  # the first index has started: redo it
                self.sync.start_index()

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


# ---------------------------------------------------------------------------- the handlers
def on_initialize(ls: ScopewiseServer, params: types.InitializeParams) -> None:
    ls.initialize(params)


async def on_initialized(ls: ScopewiseServer, params: types.InitializedParams) -> None:
    await ls.initialized()


def on_shutdown(ls: ScopewiseServer, params: None) -> None:
    ls.ahead.stop()
    ls.runs.shutdown()
    ls.sync.shutdown()
    if ls.watcher is not None:
        ls.watcher.stop()


async def on_did_change_configuration(
    ls: ScopewiseServer, params: types.DidChangeConfigurationParams
) -> None:
    if ls.support.configuration and ls.engine is not None:
        await ls.pull_configuration()
        return
    ls.sources.client = section(params.settings, flat=False)
    ls.reload_settings()


def on_did_change_watched_files(
    ls: ScopewiseServer, params: types.DidChangeWatchedFilesParams
) -> None:
    ls.sync.did_change_watched_files(params)


@timed("textDocument/codeAction")
def on_code_action(
    ls: ScopewiseServer, params: types.CodeActionParams
) -> list[types.CodeAction | types.Command] | None:
    if ls.actions is None or ls.engine is None:
        return None
    rel = ls.docs.rel(params.text_document.uri)
    ls.ahead.asked(rel, params.range.start.line + 1)
    listed = ls.listing.code_actions(params, ls.actions, ls.engine, ls.docs)
    more = ls.tests.code_actions(rel, params.context.only)
    return [*(listed or []), *more] if more else listed


def on_code_action_resolve(ls: ScopewiseServer, params: types.CodeAction) -> types.CodeAction:
    if ls.actions is None:
        return params
    try:
        return ls.listing.resolve(ls.actions, params)
    except ValueError as exc:
        raise JsonRpcInvalidParams(str(exc)) from None
    except ActionError as exc:
        params.disabled = types.CodeActionDisabled(reason=str(exc))
        return params


def on_progress_cancel(ls: ScopewiseServer, params: types.WorkDoneProgressCancelParams) -> None:
    ls.runs.cancel_progress(str(params.token))


def _action_data(command: str, args: tuple[Any, ...]) -> ActionData:
    """A command's one argument, the action's data; anything else is InvalidParams."""
    if len(args) != 1:
        raise JsonRpcInvalidParams(f"{command} takes exactly one argument")
    try:
        return ActionData.from_json(args[0])
    except ValueError as exc:
        raise JsonRpcInvalidParams(str(exc)) from None


async def run_command(ls: ScopewiseServer, *args: Any) -> dict[str, Any]:
    data = _action_data(RUN_COMMAND, args)
    try:
        outcome = await ls.runs.run(data, ls.protocol.msg_id)
        ls.tests.remember(ls, outcome)
        return to_json(outcome)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a bug: say so rather than leave the request dead
        log.exception("scopewise.run failed")
        return to_json(refuse(ls, f"internal error: {exc}", types.MessageType.Error))


async def choose_intent_command(ls: ScopewiseServer, *args: Any) -> dict[str, Any]:
    """ "Refactor…": which change, asked in stock LSP (each intent with its tier and cost),
    then run as `scopewise.run` would; dismissed: nothing runs."""
    return await _choose_and_run(
        ls, CHOOSE_INTENT_COMMAND, _action_data(CHOOSE_INTENT_COMMAND, args)
    )


async def choose_project_action_command(ls: ScopewiseServer, *args: Any) -> dict[str, Any]:
    """ "Project actions…": which project action, asked as "Refactor…" asks its change."""
    data = _action_data(CHOOSE_PROJECT_ACTION_COMMAND, args)
    return await _choose_and_run(ls, CHOOSE_PROJECT_ACTION_COMMAND, data)


def choices_command(ls: ScopewiseServer, *args: Any) -> dict[str, Any]:
    """`scopewise.choices`: a choose command's question and answers, for a client that asks
    in its own UI (VS Code's quick pick) and then runs the one picked with `scopewise.run`."""
    try:
        given = command_args(ChoicesArgs, CHOICES_COMMAND, args)
        if given.of not in _QUESTIONS:
            raise ValueError(f"{CHOICES_COMMAND}: no question for {given.of!r}")
        data = ActionData.from_json(given.data)
    except ValueError as exc:
        raise JsonRpcInvalidParams(str(exc)) from None
    asked = _choices(ls, given.of, data)
    if isinstance(asked, Refused):
        return to_json(asked)
    question, choices = asked
    return to_json(
        Choices(
            question=question,
            choices=[Choice(title=t, reason=d.reason, data=d.to_json()) for t, d in choices],
        )
    )


# what each choose command asks: "<what> lines 3–9 of a.py: <question>"
_QUESTIONS = {
    CHOOSE_INTENT_COMMAND: ("Refactor", "which change?"),
    CHOOSE_PROJECT_ACTION_COMMAND: ("Project action on", "which one?"),
}


def _choices(
    ls: ScopewiseServer, command: str, data: ActionData
) -> tuple[str, list[tuple[str, ActionData]]] | Refused:
    """A choose command's question and its answers (title, the data to run), each planned
    with its tier and cost as the menu plans (within one request's work: the run plans in
    full); Refused (and said) when they cannot be planned."""
    if ls.actions is None or ls.engine is None:
        return refuse(ls, "no workspace folder is open")
    pick = intent_choices if command == CHOOSE_INTENT_COMMAND else project_choices
    try:
        with ls.engine.memo():
            choices = pick(ls.actions, data)
    except ActionError as exc:
        return refuse(ls, str(exc))
    what, question = _QUESTIONS[command]
    lines = f"{data.start_line}–{data.end_line}" if data.end_line > data.start_line else ""
    where = f"lines {lines}" if lines else f"line {data.start_line}"
    return f"scopewise: {what} {where} of {data.path}: {question}", choices


async def _choose_and_run(ls: ScopewiseServer, command: str, data: ActionData) -> dict[str, Any]:
    """Ask which of the choices (each with its tier and cost) with window/showMessageRequest,
    then run the one picked as `scopewise.run` would; dismissed: nothing runs."""
    asked = _choices(ls, command, data)
    if isinstance(asked, Refused):
        return to_json(asked)
    question, choices = asked
    answer = await ls.window_show_message_request_async(
        types.ShowMessageRequestParams(
            type=types.MessageType.Info,
            message=question,
            actions=[types.MessageActionItem(title=title) for title, _ in choices],
        )
    )
    picked = [d for title, d in choices if answer is not None and answer.title == title]
    if not picked:
        thing = "change" if command == CHOOSE_INTENT_COMMAND else "action"
        return to_json(Refused(reason=f"no {thing} chosen"))
    return await run_command(ls, picked[0].to_json())


async def revise_command(ls: ScopewiseServer, *args: Any) -> dict[str, Any]:
    """ "Revise…": a follow-up on a proposal or an explanation (revising.py)."""
    try:
        return to_json(await revise(ls, ls.runs, args, ls.protocol.msg_id))
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a bug: say so rather than leave the request dead
        log.exception("scopewise.revise failed")
        return to_json(refuse(ls, f"internal error: {exc}", types.MessageType.Error))


def project_actions_command(ls: ScopewiseServer, *args: Any) -> dict[str, Any]:
    """The project's actions (for a client's picker), each saying whether it applies to the
    file of `uri` when one is given."""
    try:
        given = command_args(ProjectActionsArgs, PROJECT_ACTIONS_COMMAND, args or ({},))
    except ValueError as exc:
        raise JsonRpcInvalidParams(str(exc)) from None
    rel = ls.docs.rel(given.uri) if given.uri else None
    return to_json(project_actions(ls.settings.actions, rel))


def usage_command(ls: ScopewiseServer, *args: Any) -> dict[str, Any]:
    try:
        totals = UsageTotals(
            ls.ledger.session_totals(), ls.ledger.day_totals(), ls.ledger.all_time()
        )
    except LedgerError as exc:
        return to_json(refuse(ls, str(exc), types.MessageType.Error))
    s, d, a = totals.session, totals.today, totals.all_time
    ls.message(
        f"this session {usd(s.usd, 4)} ({s.calls} calls) · today {usd(d.usd, 4)} "
        f"({d.calls}) · all time {usd(a.usd, 4)} ({a.calls})",
        types.MessageType.Info,
    )
    return to_json(totals)


async def reindex_command(ls: ScopewiseServer, *args: Any) -> dict[str, Any]:
    if ls.engine is None:
        return to_json(refuse(ls, "no workspace folder is open"))
    stats = await asyncio.shield(ls.sync.start_index())
    reindexed = Reindexed(
        stats.files, stats.symbols, stats.references, round(stats.seconds, 3), len(stats.skipped)
    )
    return to_json(reindexed)


async def run_tests_command(ls: ScopewiseServer, *args: Any) -> dict[str, Any]:
    return to_json(await ls.tests.run(ls, args))


async def apply_proposal_command(ls: ScopewiseServer, *args: Any) -> dict[str, Any]:
    try:
        given = command_args(ApplyProposalArgs, APPLY_PROPOSAL_COMMAND, args)
        wire = ls.proposals.get(given.id).wire
        out = await apply(ls, given.id, given.hunks)
    except (KeyError, ValueError) as exc:
        raise JsonRpcInvalidParams(str(exc.args[0] if exc.args else exc)) from None
    if out.applied:  # its tests become the affected tests
        applied = Applied(
            files=out.files,
            summary=wire.summary,
            tests=wire.tests,
            usd=wire.usd,
            tier=wire.tier,
            model=wire.model,
        )
        ls.tests.remember(ls, applied)
    return to_json(out)


def discard_proposal_command(ls: ScopewiseServer, *args: Any) -> dict[str, Any]:
    try:
        given = command_args(ProposalArgs, DISCARD_PROPOSAL_COMMAND, args)
    except ValueError as exc:
        raise JsonRpcInvalidParams(str(exc)) from None
    return to_json(discard(ls, given.id))


async def proposal_diff_command(ls: ScopewiseServer, *args: Any) -> dict[str, Any]:
    try:
        given = command_args(ProposalArgs, PROPOSAL_DIFF_COMMAND, args)
        uri = await show_diff(ls, given.id)
    except (KeyError, ValueError) as exc:
        raise JsonRpcInvalidParams(str(exc.args[0] if exc.args else exc)) from None
    return to_json(DiffDocument(uri=uri))


def create_server() -> ScopewiseServer:
    ls = ScopewiseServer()
    ls.feature(types.INITIALIZE)(on_initialize)
    ls.feature(types.INITIALIZED)(on_initialized)
    ls.feature(types.SHUTDOWN)(on_shutdown)
    ls.feature(types.TEXT_DOCUMENT_CODE_ACTION, code_action_options())(on_code_action)
    ls.feature(types.CODE_ACTION_RESOLVE)(on_code_action_resolve)
    ls.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(on_did_change_configuration)
    ls.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)(on_did_change_watched_files)
    ls.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)(on_progress_cancel)
    ls.command(RUN_COMMAND)(run_command)
    ls.command(CHOOSE_INTENT_COMMAND)(choose_intent_command)
    ls.command(CHOOSE_PROJECT_ACTION_COMMAND)(choose_project_action_command)
    ls.command(CHOICES_COMMAND)(choices_command)
    ls.command(PROJECT_ACTIONS_COMMAND)(project_actions_command)
    ls.command(USAGE_COMMAND)(usage_command)
    ls.command(REINDEX_COMMAND)(reindex_command)
    ls.command(RUN_TESTS_COMMAND)(run_tests_command)
    ls.command(APPLY_PROPOSAL_COMMAND)(apply_proposal_command)
    ls.command(DISCARD_PROPOSAL_COMMAND)(discard_proposal_command)
    ls.command(PROPOSAL_DIFF_COMMAND)(proposal_diff_command)
    ls.command(REVISE_COMMAND)(revise_command)
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
    assert isinstance(server.protocol, ScopewiseProtocol)
    server.protocol.collector.waiting = server.waiting.pending  # a message read goes first
    server.protocol.collector.start()  # full collections between requests (lsp/collector.py)
    if tcp is not None:
        server.start_tcp(*tcp)
    else:
        stdin, stdout = _private_stdio()
        # its reads say a message has arrived, before the loop dispatches it (lsp/waiting.py)
        reader = cast(BinaryIO, SignallingReader(stdin, server.waiting))
        server.start_io(reader, stdout)
    if server.busy() or importing():
        # an index still building in its thread (and worker processes), or the SDK's import,
        # would hold the exit until it finished: nothing is left to save, so leave now
        sys.stderr.flush()
        os._exit(0)
    return 0
