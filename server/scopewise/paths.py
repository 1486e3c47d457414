"""Where scopewise keeps its files (always under the user's cache/state folders, never in a
repository), where it reads the user's own config file, and where a workspace's root is
(`find_root`: the nearest folder with a root marker)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "scopewise"


def cache_dir() -> Path:
    """The cache folder (index cache, model capabilities, explanations).

    ``SCOPEWISE_CACHE_DIR`` overrides the XDG location (tests and CI use it).
    """
    override = os.environ.get("SCOPEWISE_CACHE_DIR")
    path = Path(override) if override else Path(platformdirs.user_cache_dir(APP))
    path.mkdir(parents=True, exist_ok=True)
    return path


def state_dir() -> Path:
    """The state folder (cost ledger). ``SCOPEWISE_STATE_DIR`` overrides it."""
    override = os.environ.get("SCOPEWISE_STATE_DIR")
    path = Path(override) if override else Path(platformdirs.user_state_dir(APP))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    """The user's config folder (``config.toml``: settings only the user may give, and the
    workspaces they trust). ``SCOPEWISE_CONFIG_DIR`` overrides it. Only read, never created."""
    override = os.environ.get("SCOPEWISE_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir(APP))


def user_config_file() -> Path:
    """The user config file: ``~/.config/scopewise/config.toml`` on Linux (XDG)."""
    return config_dir() / "config.toml"


ROOT_MARKERS = (
    ".git",
    ".scopewise.toml",
    "pyproject.toml",
    "package.json",
    "go.mod",
    "Cargo.toml",
    "pom.xml",
    "Gemfile",
    "setup.py",
)


def marked_root(start: Path) -> Path | None:
    """The nearest folder at or above a file or folder that holds a root marker, or None."""
    start = start.resolve()
    here = start if start.is_dir() else start.parent
    for folder in (here, *here.parents):
        if any((folder / m).exists() for m in ROOT_MARKERS):
            return folder
    return None


def find_root(start: Path) -> Path:
    """The workspace root above a file or folder: the nearest folder with a root marker, else
    the folder itself (a file's own folder) — never a wider one such as the current folder,
    so a stray file in /etc or the home folder does not make all of it the workspace."""
    found = marked_root(start)
    if found is not None:
        return found
    start = start.resolve()
    return start if start.is_dir() else start.parent
