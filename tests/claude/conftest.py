"""Fixtures for the claude/ tests: isolated folders and env, a client on the fake API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fakeapi import FakeAPI
from scopewise.claude import ClaudeClient

_ENV = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_PROFILE",
    "ANTHROPIC_CONFIG_DIR",
    "ANTHROPIC_CUSTOM_HEADERS",
    "AWS_BEARER_TOKEN_BEDROCK",
)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SCOPEWISE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SCOPEWISE_STATE_DIR", str(tmp_path / "state"))
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
async def claude(fake_api: FakeAPI) -> AsyncIterator[ClaudeClient]:
    client = ClaudeClient(api_key="sk-test", base_url=fake_api.base_url, max_retries=0, timeout=5)
    yield client
    await client.close()
