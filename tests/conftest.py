"""Shared pytest fixtures."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakeapi import FakeAPI

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fake_api() -> Iterator[FakeAPI]:
    """A fake Anthropic API on 127.0.0.1 (see tests/fakeapi.py); point clients at .base_url."""
    with FakeAPI() as api:
        yield api


@pytest.fixture(autouse=True)
def _isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test gets its own cache, state and user-config folders and no credentials from
    the environment: nothing touches (or reads) the user's files or a real API."""
    base = tmp_path_factory.mktemp("scopewise-home")
    monkeypatch.setenv("SCOPEWISE_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("SCOPEWISE_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("SCOPEWISE_STATE_DIR", str(base / "state"))
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def poly(tmp_path: Path) -> Path:
    """A writable copy of the multi-language fixture workspace, with a project marker (an
    empty `.scopewise.toml`): without one the CLI would take a file's own folder as the root."""
    dest = tmp_path / "poly"
    shutil.copytree(FIXTURES / "poly", dest)
    (dest / ".scopewise.toml").write_text("# the workspace root\n", encoding="utf-8")
    return dest
