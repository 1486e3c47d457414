"""Model catalogue: Models API parsing, the on-disk cache, offline fallback and prices."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from fakeapi import FakeAPI, Reply, model_json
from scopewise.claude import ClaudeClient, ModelCatalog, Price, price_for
from scopewise.claude.models import BUILTIN_MODELS, canonical_id, parse_model_info


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def model_gets(fake_api: FakeAPI) -> list[str]:
    return [r.path for r in fake_api.requests if r.path.startswith("/v1/models/")]


async def test_models_api_answer_is_parsed_and_cached_on_disk(
    claude: ClaudeClient, fake_api: FakeAPI, isolated: Path
) -> None:
    fake_api.models["claude-opus-5-5"] = model_json(
        "claude-opus-5-5",
        display_name="Claude Opus 5.5",
        max_input_tokens=900_000,
        max_tokens=64_000,
        thinking_types=("adaptive", "disabled"),
        efforts=("low", "medium", "high"),
        structured_outputs=False,
    )
    catalog = ModelCatalog(claude)

    info = await catalog.get("claude-opus-5-5")

    assert info is not None and info.source == "api"
    assert info.max_input_tokens == 900_000 and info.max_tokens == 64_000
    assert info.thinking_types == {"adaptive", "disabled"}
    assert info.effort_levels == ("low", "medium", "high")
    assert not info.supports_effort("xhigh") and info.supports_effort()
    assert info.structured_outputs is False
    assert info.display_name == "Claude Opus 5.5"
    assert fake_api.last.headers["authorization"] == "Bearer sk-test"
    assert (isolated / "cache" / "models.sqlite3").is_file()

    again = await catalog.get("claude-opus-5-5")
    assert again is not None and again.source == "cache" and again.max_tokens == 64_000
    assert model_gets(fake_api) == ["/v1/models/claude-opus-5-5"]

    offline = ModelCatalog()  # a new process, no client: answers from disk
    cached = offline.lookup("claude-opus-5-5")
    assert cached is not None and cached.source == "cache" and cached.max_input_tokens == 900_000


async def test_stale_entries_are_refetched_after_the_ttl(
    claude: ClaudeClient, fake_api: FakeAPI
) -> None:
    clock = Clock()
    catalog = ModelCatalog(claude, ttl_s=3600, clock=clock)
    await catalog.get("claude-haiku-5-5")
    clock.now += 3599
    await catalog.get("claude-haiku-5-5")
    assert len(model_gets(fake_api)) == 1
    clock.now += 2
    fake_api.models["claude-haiku-5-5"] = model_json("claude-haiku-5-5", max_tokens=100_000)
    info = await catalog.get("claude-haiku-5-5")
    assert len(model_gets(fake_api)) == 2
    assert info is not None and info.source == "api" and info.max_tokens == 100_000
    await catalog.get("claude-haiku-5-5", refresh=True)
    assert len(model_gets(fake_api)) == 3


async def test_api_errors_fall_back_without_raising(
    claude: ClaudeClient, fake_api: FakeAPI
) -> None:
    catalog = ModelCatalog(claude)
    fake_api.push(Reply.error(500), endpoint="models")
    info = await catalog.get("claude-sonnet-5-5")
    assert info is not None and info.source == "builtin"
    assert info.supports_thinking("between_tools") and not info.supports_thinking("enabled")

    fake_api.push(Reply(malformed=True), endpoint="models")
    info = await catalog.get("claude-fable-5-2")
    assert info is not None and info.source == "builtin"

    assert await catalog.get("claude-unknown-9") is None  # 404 and not built in
    assert len(model_gets(fake_api)) == 3


async def test_offline_falls_back_to_stale_cache_then_builtin(claude: ClaudeClient) -> None:
    clock = Clock()
    await ModelCatalog(claude, clock=clock).get("claude-haiku-5-5")  # fills the disk cache
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    offline = ClaudeClient(api_key="sk-test", base_url=f"http://127.0.0.1:{port}", max_retries=0)
    clock.now += 10 * 24 * 3600
    catalog = ModelCatalog(offline, clock=clock)

    stale = await catalog.get("claude-haiku-5-5")
    builtin = await catalog.get("claude-opus-5-5")
    await offline.close()

    assert stale is not None and stale.source == "cache"
    assert builtin is not None and builtin.source == "builtin"
    assert builtin == BUILTIN_MODELS["claude-opus-5-5"]


async def test_missing_key_means_builtin_and_no_request(fake_api: FakeAPI) -> None:
    catalog = ModelCatalog(ClaudeClient(base_url=fake_api.base_url))
    info = await catalog.get("claude-haiku-4-5")
    assert info is not None and info.source == "builtin"
    assert fake_api.requests == []


def test_lookup_is_offline_and_knows_the_builtin_models() -> None:
    catalog = ModelCatalog()
    haiku45 = catalog.lookup("claude-haiku-4-5-20251001")
    assert haiku45 is not None
    assert haiku45.id == "claude-haiku-4-5-20251001"
    assert haiku45.thinking_types == {"enabled", "disabled"}
    assert not haiku45.supports_effort()
    assert haiku45.max_input_tokens == 200_000 and haiku45.max_tokens == 64_000
    for model_id in ("claude-opus-4-5", "claude-sonnet-4-5"):
        info = catalog.lookup(model_id)
        assert info is not None and info.supports_thinking("enabled") and not info.effort_levels
    for model_id in ("claude-haiku-5-5", "claude-opus-5-5", "claude-fable-5-1", "claude-fable-5-2"):
        info = catalog.lookup(model_id)
        assert info is not None
        assert info.supports_thinking("adaptive") and not info.supports_thinking("enabled")
        assert info.effort_levels == ("low", "medium", "high", "xhigh", "max")
        assert info.max_input_tokens == 1_000_000 and info.max_tokens == 128_000
    assert catalog.lookup("claude-unknown-9") is None
    assert canonical_id("us.anthropic.claude-opus-4-5-20251101-v1:0") == "claude-opus-4-5"
    assert canonical_id("claude-sonnet-4-5@20250929") == "claude-sonnet-4-5"


def test_corrupt_cache_file_is_ignored(isolated: Path) -> None:
    cache = isolated / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "models.sqlite3").write_bytes(b"this is not a database" * 100)
    info = ModelCatalog().lookup("claude-haiku-5-5")
    assert info is not None and info.source == "builtin"


def test_parse_uses_fallback_when_capabilities_are_missing() -> None:
    fallback = BUILTIN_MODELS["claude-sonnet-5-5"]
    info = parse_model_info({"id": "claude-sonnet-5-5", "max_tokens": 50_000}, fallback)
    assert info.max_tokens == 50_000
    assert info.max_input_tokens == fallback.max_input_tokens
    assert info.thinking_types == fallback.thinking_types
    assert info.effort_levels == fallback.effort_levels


def test_list_prices_and_overrides() -> None:
    assert price_for("claude-opus-5-5") == Price(4.0, 20.0, 5.0, 0.20)
    assert price_for("claude-haiku-4-5-20251001") == Price(1.0, 5.0, 1.25, 0.10)
    assert price_for("claude-fable-5-1") == Price(10.0, 50.0, 12.50, 0.25)
    haiku = price_for("claude-haiku-5-5")
    assert haiku is not None and haiku.input == 0.10
    assert haiku.for_input(100_000) is haiku
    assert haiku.for_input(100_001) == Price(0.50, 2.50, 0.625, 0.05)
    assert price_for("claude-unknown-9") is None

    overrides = {
        "claude-sonnet-5-5": {"cache_read": 0.10},
        "claude-next-1": {"input": 1, "output": 2, "cache_write_5m": 1.25, "cache_read": 0.1},
    }
    catalog = ModelCatalog(price_overrides=overrides)
    assert catalog.price("claude-sonnet-5-5") == Price(2.0, 10.0, 2.50, 0.10)
    assert catalog.price("claude-next-1") == Price(1.0, 2.0, 1.25, 0.1)
    assert catalog.price("claude-opus-5-5") == Price(4.0, 20.0, 5.0, 0.20)
    with pytest.raises(ValueError, match="unknown price field"):
        ModelCatalog(price_overrides={"claude-opus-5-5": {"inptu": 1.0}})
    with pytest.raises(ValueError, match="needs"):
        ModelCatalog(price_overrides={"claude-next-1": {"input": 1.0}})
