"""What the server announces (the code-action kinds, the files it watches) and what it reads
of the client's capabilities (`ClientSupport`, read once at initialize). Pure: no server here."""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types

from scopewise.index import languages
from scopewise.vocab import CODE_ACTION_KINDS, PROJECT_KIND_PREFIX

PROJECT_FILES = (".scopewise.toml", "pyproject.toml")  # a change reloads settings
IGNORE_FILES = (".gitignore", ".scopewiseignore")  # a change rebuilds the index


def code_action_options() -> types.CodeActionOptions:
    """The kinds listed: the three actions', and the prefix of a project's explain-like
    actions (`source.scopewise.<name>`; an edit-like one's is under `refactor.rewrite`)."""
    kinds = [*CODE_ACTION_KINDS.values(), PROJECT_KIND_PREFIX["explain"]]
    return types.CodeActionOptions(code_action_kinds=kinds, resolve_provider=True)


def prefer_utf8(params: types.InitializeParams) -> None:
    """Put UTF-8 first among the position encodings the client offers (pygls takes the
    first one it supports): the index counts bytes, so no conversion is needed."""
    general = params.capabilities.general
    offered = list(general.position_encodings or []) if general else []
    if general is not None and types.PositionEncodingKind.Utf8 in offered:
        utf8 = types.PositionEncodingKind.Utf8
        general.position_encodings = [utf8, *(e for e in offered if e != utf8)]


def watched_files() -> types.Registration:
    """The files whose changes the server follows: sources, project and ignore files."""
    exts = ",".join(e.lstrip(".") for e in languages.supported_extensions())
    watchers = [
        types.FileSystemWatcher(glob_pattern=f"**/*.{{{exts}}}"),
        *(types.FileSystemWatcher(glob_pattern=f"**/{name}") for name in PROJECT_FILES),
        *(types.FileSystemWatcher(glob_pattern=f"**/{name}") for name in IGNORE_FILES),
    ]
    return types.Registration(
        id="scopewise-watched-files",
        method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers),
    )


@dataclass(frozen=True)
class ClientSupport:
    """The parts of the client's capabilities the server acts on."""

    work_done_progress: bool = False
    show_document: bool = False
    watched_files_registration: bool = False
    configuration: bool = False
    document_changes: bool = False
    create_files: bool = False
    change_annotations: bool = False
    edit_metadata: bool = False
    code_action_literals: bool = False
    disabled: bool = False
    resolve: frozenset[str] = frozenset()  # CodeAction properties the client resolves lazily
    llm_tag: bool = False
    review: bool = False  # experimental.scopewise.review: the client shows proposals itself
    stream: bool = False  # experimental.scopewise.stream: it shows a streamed explanation

    @classmethod
    def of(cls, caps: types.ClientCapabilities) -> ClientSupport:
        win = caps.window
        ws = caps.workspace
        edit = ws.workspace_edit if ws else None
        td = caps.text_document
        ca = td.code_action if td else None
        resolve = ca.resolve_support.properties if ca and ca.resolve_support else ()
        tags = ca.tag_support.value_set if ca and ca.tag_support else ()
        ops = edit.resource_operations if edit and edit.resource_operations else ()
        ours = _scopewise_experimental(caps.experimental)
        return cls(
            work_done_progress=bool(win and win.work_done_progress),
            show_document=bool(win and win.show_document and win.show_document.support),
            watched_files_registration=bool(
                ws
                and ws.did_change_watched_files
                and ws.did_change_watched_files.dynamic_registration
            ),
            configuration=bool(ws and ws.configuration),
            document_changes=bool(edit and edit.document_changes),
            create_files=types.ResourceOperationKind.Create in ops,
            change_annotations=bool(edit and edit.change_annotation_support is not None),
            edit_metadata=bool(edit and edit.metadata_support),
            code_action_literals=bool(ca and ca.code_action_literal_support),
            disabled=bool(ca and ca.disabled_support),
            resolve=frozenset(resolve),
            llm_tag=types.CodeActionTag.LlmGenerated in tags,
            review=ours.get("review") is True,
            stream=ours.get("stream") is True,
        )


def _scopewise_experimental(experimental: object) -> dict[str, object]:
    """`capabilities.experimental.scopewise`, when it is an object."""
    ours = experimental.get("scopewise") if isinstance(experimental, dict) else None
    return ours if isinstance(ours, dict) else {}
