"""What the editor can do (its capabilities, read once) and where settings come from: the
user config file, the project file (only what a workspace may set, see `config.load`),
`initializationOptions`, then `workspace/configuration` or `workspace/didChangeConfiguration`
(section `scopewise`), each on top of the last. The editor's settings are the user's own; a
client whose settings can come from the workspace (VS Code's .vscode/settings.json) sends only
the user's values for the sensitive keys (clients/vscode/src/settings.ts)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types

from scopewise import settings as config

SECTION = "scopewise"


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
        )


def section(value: Any, *, flat: bool) -> dict[str, Any]:
    """The `scopewise` section of a settings object. `flat`: an object without that key is
    the section itself (initializationOptions); otherwise it holds no scopewise settings."""
    if not isinstance(value, Mapping):
        return {}
    inner = value.get(SECTION)
    if isinstance(inner, Mapping):
        return dict(inner)
    return dict(value) if flat else {}


@dataclass
class SettingsSources:
    """The editor's layers of settings, kept so any of them can be replaced later."""

    initialization: dict[str, Any] = field(default_factory=dict)
    client: dict[str, Any] = field(default_factory=dict)

    def editor(self) -> dict[str, Any]:
        return config.merge(self.initialization, self.client)

    def load(self, root: Path) -> tuple[config.Settings, list[str]]:
        """Settings from the project file with the editor's on top, and a warning per bad or
        unknown key (each names the key; the default is used instead)."""
        return config.load(root, self.editor())
