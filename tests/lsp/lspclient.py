"""An editor for the language-server tests: the real server over stdio (`scopewise serve`),
driven by pytest-lsp's client, which also plays the editor's part — it keeps the text of
open documents, applies (or refuses) the server's workspace edits the way an editor would and
records messages, progress, registrations and shown documents."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient
from pytest_lsp.client import make_test_lsp_client

from fakeapi import FakeAPI

FIXTURES = Path(__file__).parent.parent / "fixtures"
TIMEOUT = 20.0


def capabilities(
    *,
    encodings: tuple[str, ...] = ("utf-16",),
    progress: bool = True,
    show_document: bool = True,
    configuration: bool = True,
    watch: bool = True,
    document_changes: bool = True,
    annotations: bool = True,
    resolve: tuple[str, ...] = (),
    disabled: bool = True,
) -> types.ClientCapabilities:
    """A capable editor by default; each flag turns one capability off or on."""
    kinds = types.ClientCodeActionKindOptions(
        value_set=["", "quickfix", "refactor", "refactor.rewrite", "source"]
    )
    return types.ClientCapabilities(
        general=types.GeneralClientCapabilities(position_encodings=list(encodings)),
        window=types.WindowClientCapabilities(
            work_done_progress=progress,
            show_document=types.ShowDocumentClientCapabilities(support=True)
            if show_document
            else None,
        ),
        workspace=types.WorkspaceClientCapabilities(
            configuration=configuration,
            apply_edit=True,
            did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(
                dynamic_registration=watch
            ),
            workspace_edit=types.WorkspaceEditClientCapabilities(
                document_changes=document_changes,
                resource_operations=[types.ResourceOperationKind.Create],
                change_annotation_support=types.ChangeAnnotationsSupportOptions(
                    groups_on_label=True
                )
                if annotations
                else None,
            ),
        ),
        text_document=types.TextDocumentClientCapabilities(
            synchronization=types.TextDocumentSyncClientCapabilities(),
            code_action=types.CodeActionClientCapabilities(
                code_action_literal_support=types.ClientCodeActionLiteralOptions(
                    code_action_kind=kinds
                ),
                disabled_support=disabled,
                data_support=True,
                resolve_support=types.ClientCodeActionResolveOptions(properties=list(resolve))
                if resolve
                else None,
            ),
        ),
    )


def position_at(text: str, offset: int, encoding: str) -> types.Position:
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    prefix = text[start:offset]
    if encoding == "utf-8":
        units = len(prefix.encode("utf-8"))
    elif encoding == "utf-16":
        units = len(prefix.encode("utf-16-le")) // 2
    else:
        units = len(prefix)
    return types.Position(line=line, character=units)


def offset_of(text: str, pos: types.Position, encoding: str) -> int:
    lines = text.split("\n")
    base = sum(len(x) + 1 for x in lines[: pos.line])
    line = lines[pos.line] if pos.line < len(lines) else ""
    if encoding == "utf-8":
        raw = line.encode("utf-8")[: pos.character]
        return base + len(raw.decode("utf-8", "ignore"))
    if encoding == "utf-16":
        raw = line.encode("utf-16-le")[: pos.character * 2]
        return base + len(raw.decode("utf-16-le", "ignore"))
    return base + pos.character


@dataclass
class Editor:
    """The client side of a session."""

    client: LanguageClient
    root: Path
    encoding: str = "utf-16"
    texts: dict[str, str] = field(default_factory=dict)  # uri -> text (open documents)
    versions: dict[str, int] = field(default_factory=dict)
    edits: list[types.ApplyWorkspaceEditParams] = field(default_factory=list)
    accept: bool | Callable[[types.ApplyWorkspaceEditParams], bool] = True
    applied_elsewhere: dict[str, str] = field(default_factory=dict)  # edited files not open
    registrations: list[types.Registration] = field(default_factory=list)
    # window/showMessageRequest: the questions asked, and what the user answers (a title, a
    # list of titles answered in turn, or None: dismissed); Apply, as a user who wants it
    questions: list[types.ShowMessageRequestParams] = field(default_factory=list)
    answers: list[str | None] | str | None = "Apply"
    proposals: list[dict[str, Any]] = field(default_factory=list)  # scopewise/proposal

    def uri(self, rel: str) -> str:
        return (self.root / rel).as_uri()

    def text(self, rel: str) -> str:
        uri = self.uri(rel)
        if uri in self.texts:
            return self.texts[uri]
        if uri in self.applied_elsewhere:
            return self.applied_elsewhere[uri]
        return (self.root / rel).read_text(encoding="utf-8")

    def open(self, rel: str, text: str | None = None) -> str:
        uri = self.uri(rel)
        text = (self.root / rel).read_text(encoding="utf-8") if text is None else text
        self.texts[uri] = text
        self.versions[uri] = 1
        lang = {"py": "python", "ts": "typescript", "js": "javascript"}.get(rel.rsplit(".")[-1])
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=lang or "plaintext", version=1, text=text
                )
            )
        )
        return uri

    def close(self, rel: str) -> None:
        uri = self.uri(rel)
        self.texts.pop(uri, None)
        self.versions.pop(uri, None)
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )

    def close_all(self) -> None:
        for uri in list(self.texts):
            self.close(Path(uri.removeprefix("file://")).relative_to(self.root).as_posix())
        self.applied_elsewhere.clear()
        self.edits.clear()
        self.accept = True
        self.questions.clear()
        self.answers = "Apply"
        self.proposals.clear()

    def answer(self, params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        """What a user answers the stock question (and every question is recorded)."""
        self.questions.append(params)
        if isinstance(self.answers, list):
            title = self.answers.pop(0) if self.answers else None
        else:
            title = self.answers
        return None if title is None else types.MessageActionItem(title=title)

    def replace(self, rel: str, old: str, new: str) -> None:
        """Type a change into an open document (one incremental didChange)."""
        uri = self.uri(rel)
        text = self.texts[uri]
        start = text.index(old)
        self._change(uri, start, start + len(old), new)

    def _change(self, uri: str, start: int, end: int, new: str) -> None:
        text = self.texts[uri]
        rng = types.Range(
            start=position_at(text, start, self.encoding),
            end=position_at(text, end, self.encoding),
        )
        self.texts[uri] = text[:start] + new + text[end:]
        self.versions[uri] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[types.TextDocumentContentChangePartial(range=rng, text=new)],
            )
        )

    async def actions(
        self,
        rel: str,
        start_line: int,
        end_line: int | None = None,
        *,
        only: list[str] | None = None,
        diagnostics: list[types.Diagnostic] | None = None,
        cursor: bool = False,
    ) -> list[types.CodeAction]:
        """Code actions for 1-based inclusive lines (or a cursor on start_line)."""
        end_line = start_line if end_line is None else end_line
        start = types.Position(line=start_line - 1, character=0)
        end = start if cursor else types.Position(line=end_line, character=0)
        params = types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=self.uri(rel)),
            range=types.Range(start=start, end=end),
            context=types.CodeActionContext(diagnostics=diagnostics or [], only=only),
        )
        raw = await self.request(types.TEXT_DOCUMENT_CODE_ACTION, params)
        convert = self.client.protocol._converter
        out = []
        for item in raw or []:
            assert isinstance(item, dict) and not isinstance(item.get("command"), str), item
            out.append(convert.structure(item, types.CodeAction))
        return out

    async def request(self, method: str, params: Any) -> Any:
        """A request whose result comes back as plain JSON. (lsprotocol's client-side hook
        turns any CodeAction that has a command into a Command, so code actions are
        structured here, by hand.)"""
        proto = self.client.protocol
        original = proto.get_result_type
        proto.get_result_type = lambda m: None  # type: ignore[method-assign]
        try:
            future = proto.send_request(method, params)
        finally:
            proto.get_result_type = original  # type: ignore[method-assign]
        return await asyncio.wait_for(asyncio.wrap_future(future), TIMEOUT)

    async def run(self, action: types.CodeAction, timeout: float = TIMEOUT) -> Any:
        command = action.command
        if command is None:
            resolved = await self.client.code_action_resolve_async(action)
            command = resolved.command
        assert command is not None
        return await asyncio.wait_for(
            self.client.workspace_execute_command_async(
                types.ExecuteCommandParams(command=command.command, arguments=command.arguments)
            ),
            timeout,
        )

    async def raw_request(self, method: str, params: Any) -> Any:
        """A request sent as raw JSON, however malformed."""
        proto = self.client.protocol
        msg_id = f"raw-{len(proto._request_futures)}-{id(params)}"
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        proto._request_futures[msg_id] = future
        proto._result_types[msg_id] = None
        proto._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return await asyncio.wait_for(asyncio.wrap_future(future), TIMEOUT)

    def apply(self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        """What an editor does with workspace/applyEdit: check versions, apply, didChange."""
        self.edits.append(params)
        accept = self.accept(params) if callable(self.accept) else self.accept
        if not accept:
            return types.ApplyWorkspaceEditResult(applied=False, failure_reason="user declined")
        edit = params.edit
        changes: list[tuple[str, int | None, list[Any]]] = []
        for dc in edit.document_changes or []:
            if isinstance(dc, types.TextDocumentEdit):
                changes.append((dc.text_document.uri, dc.text_document.version, list(dc.edits)))
            elif isinstance(dc, types.CreateFile):
                self.applied_elsewhere[dc.uri] = ""
        for uri, plain in (edit.changes or {}).items():
            changes.append((uri, None, list(plain)))
        for uri, version, _ in changes:
            if version is not None and self.versions.get(uri) != version:
                return types.ApplyWorkspaceEditResult(applied=False, failure_reason="stale")
        for uri, _, text_edits in changes:
            if uri in self.texts:
                # from the last edit back, so earlier offsets stay valid
                for e in sorted(
                    text_edits,
                    key=lambda e: (e.range.start.line, e.range.start.character),
                    reverse=True,
                ):
                    text = self.texts[uri]
                    a = offset_of(text, e.range.start, self.encoding)
                    b = offset_of(text, e.range.end, self.encoding)
                    self._change(uri, a, b, e.new_text)
            else:
                path = Path(uri.removeprefix("file://"))
                text = self.applied_elsewhere.get(uri)
                if text is None:
                    text = path.read_text(encoding="utf-8")
                for e in sorted(
                    text_edits,
                    key=lambda e: (e.range.start.line, e.range.start.character),
                    reverse=True,
                ):
                    a = offset_of(text, e.range.start, self.encoding)
                    b = offset_of(text, e.range.end, self.encoding)
                    text = text[:a] + e.new_text + text[b:]
                self.applied_elsewhere[uri] = text
        return types.ApplyWorkspaceEditResult(applied=True)

    def shown_messages(self, kind: types.MessageType | None = None) -> list[str]:
        return [m.message for m in self.client.messages if kind is None or m.type == kind]

    def logs(self) -> list[str]:
        return [m.message for m in self.client.log_messages]

    async def wait_for(self, check: Callable[[], Any], timeout: float = TIMEOUT) -> Any:
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            value = check()
            if value:
                return value
            if loop.time() > end:
                raise AssertionError("timed out waiting")
            await asyncio.sleep(0.02)

    async def wait_for_menu(
        self,
        check: Callable[[list[types.CodeAction]], bool],
        menu: Callable[[Editor], Any],
        timeout: float = TIMEOUT,
    ) -> list[types.CodeAction]:
        """List actions until the menu passes the check (settings and indexes change
        asynchronously)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            listed: list[types.CodeAction] = await menu(self)
            if listed and check(listed):
                return listed
            if loop.time() > end:
                raise AssertionError(f"menu never passed: {[a.title for a in listed]}")
            await asyncio.sleep(0.05)


def plain(value: Any) -> Any:
    """A custom notification's params as JSON values (pygls makes named tuples of them)."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def server_env(home: Path, api: FakeAPI | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env["SCOPEWISE_CACHE_DIR"] = str(home / "cache")
    env["SCOPEWISE_STATE_DIR"] = str(home / "state")
    env["SCOPEWISE_CONFIG_DIR"] = str(home / "config")  # the user config file: config.toml
    env["ANTHROPIC_API_KEY"] = "sk-test"
    if api is not None:
        env["ANTHROPIC_BASE_URL"] = api.base_url
    return env


def with_menu_intents(options: Any) -> Any:
    if options is None:
        return {"menuIntents": True}
    if isinstance(options, dict) and isinstance(options.get("scopewise"), dict):
        return {**options, "scopewise": {"menuIntents": True, **options["scopewise"]}}
    return {"menuIntents": True, **options} if isinstance(options, dict) else options


async def start_editor(
    root: Path,
    home: Path,
    *,
    api: FakeAPI | None = None,
    caps: types.ClientCapabilities | None = None,
    init_options: Any = None,
    configuration: dict[str, Any] | None = None,
    wait_index: bool = True,
    menu_intents: bool = True,
    verbose: bool = False,
) -> Editor:
    """`menu_intents`: the menu lists every refactor intent (the tests that run one pick it
    from there; test_listing checks the default short menu); `verbose`: the server logs at
    INFO on its stderr (pytest-lsp forwards it to the test's)."""
    client = make_test_lsp_client()
    if menu_intents:
        init_options = with_menu_intents(init_options)
    caps = caps or capabilities()
    offered = list(caps.general.position_encodings or []) if caps.general else []
    encoding = "utf-8" if "utf-8" in offered else (offered[0] if offered else "utf-16")
    editor = Editor(client, root, encoding)

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        return editor.apply(params)

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def ask(params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        return editor.answer(params)

    @client.feature("scopewise/proposal")
    def proposal(params: Any) -> None:
        editor.proposals.append(plain(params))

    if configuration is not None:
        client.set_configuration(configuration)

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:
        editor.registrations.extend(params.registrations)

    await client.start_io(
        sys.executable,
        "-m",
        "scopewise.cli",
        *(["-v"] if verbose else []),
        "serve",
        env=server_env(home, api),
        cwd=str(root),
    )
    result = await asyncio.wait_for(
        client.initialize_session(
            types.InitializeParams(
                capabilities=caps,
                root_uri=root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
                initialization_options=init_options,
            )
        ),
        TIMEOUT,
    )
    assert result.capabilities.position_encoding == encoding
    if wait_index:
        await editor.wait_for(lambda: any("Indexed" in m for m in editor.logs()))
    return editor


async def stop_editor(editor: Editor) -> None:
    try:
        await asyncio.wait_for(editor.client.shutdown_session(), TIMEOUT)
    finally:
        await editor.client.stop()


def copy_poly(dest: Path) -> Path:
    shutil.copytree(FIXTURES / "poly", dest)
    return dest
