"""Where the server's settings come from: the user config file, the project file (only what
a workspace may set, see `config.load`), `initializationOptions`, then `workspace/configuration`
or `workspace/didChangeConfiguration` (section `scopewise`), each on top of the last. The
editor's settings are the user's own; a client whose settings can come from the workspace (VS
Code's .vscode/settings.json) sends only the user's values for the sensitive keys
(clients/vscode/src/settings.ts)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scopewise import settings as config

SECTION = "scopewise"


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
