"""Where scopewise keeps its files (always under the user's cache/state folders, never in a
repository) and where it reads the user's own config file."""

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
