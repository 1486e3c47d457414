"""Model catalogue: capabilities and list prices, from the Models API with an offline fallback."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import re
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from scopewise import paths
from scopewise.vocab import EFFORT_LEVELS as EFFORT_LEVELS  # settings.py reads it here

if TYPE_CHECKING:
    import asyncio

log = logging.getLogger(__name__)

THINKING_TYPES = ("adaptive", "enabled", "disabled", "between_tools")
DEFAULT_TTL_S = 24 * 3600.0


@dataclass(frozen=True)
class Price:
    """List prices in USD per million tokens.

    ``long_context`` (if set) replaces every rate once a request's total input passes
    ``long_context_threshold`` tokens (Haiku 5.5 bills the whole request at a higher band).
    """

    input: float
    output: float
    cache_write_5m: float
    cache_read: float
    long_context_threshold: int | None = None
    long_context: Price | None = None

    def for_input(self, total_input_tokens: int) -> Price:
        """The band that applies to a request with this many input tokens."""
        if (
            self.long_context is not None
            and self.long_context_threshold is not None
            and total_input_tokens > self.long_context_threshold
        ):
            return self.long_context
        return self


@dataclass(frozen=True)
class ModelInfo:
    """What one model accepts. ``source`` is "api", "cache" or "builtin"."""

    id: str
    max_input_tokens: int
    max_tokens: int
    thinking_types: frozenset[str]
    effort_levels: tuple[str, ...]
    structured_outputs: bool
    display_name: str = ""
    lifecycle: str = "active"
    source: str = "builtin"

    def supports_thinking(self, kind: str) -> bool:
        return kind in self.thinking_types

    def supports_effort(self, level: str | None = None) -> bool:
        """Whether ``output_config.effort`` is accepted at all, or at ``level``."""
        return bool(self.effort_levels) if level is None else level in self.effort_levels


_ALL_EFFORTS = EFFORT_LEVELS
_ADAPTIVE = frozenset({"adaptive"})
_MANUAL = frozenset({"enabled", "disabled"})

# Offline fallback (shared/notes/anthropic-api.md, 2026-11-28). Thinking types are the
# documented ones only; anything unverified is left out (the Models API is the authority).
BUILTIN_MODELS: dict[str, ModelInfo] = {
    m.id: m
    for m in (
        ModelInfo(
            "claude-haiku-5-5",
            1_000_000,
            128_000,
            _ADAPTIVE,
            _ALL_EFFORTS,
            True,
            "Claude Haiku 5.5",
        ),
        ModelInfo(
            "claude-sonnet-5-5",
            1_000_000,
            128_000,
            frozenset({"adaptive", "between_tools"}),
            _ALL_EFFORTS,
            True,
            "Claude Sonnet 5.5",
        ),
        ModelInfo(
            "claude-opus-5-5", 1_000_000, 128_000, _ADAPTIVE, _ALL_EFFORTS, True, "Claude Opus 5.5"
        ),
        ModelInfo(
            "claude-fable-5-1",
            1_000_000,
            128_000,
            _ADAPTIVE,
            _ALL_EFFORTS,
            True,
            "Claude Fable 5.1",
        ),
        ModelInfo(
            "claude-fable-5-2",
            1_000_000,
            128_000,
            _ADAPTIVE,
            _ALL_EFFORTS,
            True,
            "Claude Fable 5.2",
        ),
        ModelInfo("claude-haiku-4-5", 200_000, 64_000, _MANUAL, (), True, "Claude Haiku 4.5"),
        ModelInfo("claude-sonnet-4-5", 200_000, 64_000, _MANUAL, (), True, "Claude Sonnet 4.5"),
        ModelInfo("claude-opus-4-5", 200_000, 64_000, _MANUAL, (), True, "Claude Opus 4.5"),
    )
}

# USD per million tokens. Unverified in the notes: Sonnet 5.5 cache read (doc $0.20, trackers
# $0.10) and Fable 5.2 cache prices (standard 1.25x write, 0.1x read assumed: an over- rather
# than under-estimate). Override with config when they change.
BUILTIN_PRICES: dict[str, Price] = {
    "claude-haiku-5-5": Price(0.10, 0.50, 0.125, 0.01, 100_000, Price(0.50, 2.50, 0.625, 0.05)),
    "claude-sonnet-5-5": Price(2.0, 10.0, 2.50, 0.20),
    "claude-opus-5-5": Price(4.0, 20.0, 5.0, 0.20),
    "claude-fable-5-1": Price(10.0, 50.0, 12.50, 0.25),
    "claude-fable-5-2": Price(8.0, 40.0, 10.0, 0.80),
    "claude-haiku-4-5": Price(1.0, 5.0, 1.25, 0.10),
    "claude-sonnet-4-5": Price(3.0, 15.0, 3.75, 0.30),
    "claude-opus-4-5": Price(5.0, 25.0, 6.25, 0.50),
}

_PRICE_KEYS = ("input", "output", "cache_write_5m", "cache_read")


def canonical_id(model_id: str) -> str:
    """Strip provider and snapshot decorations: dates, ``@…``, ``anthropic.`` / ``-v1:0``."""
    mid = model_id.strip().lower()
    mid = mid.split("@", 1)[0]
    mid = re.sub(r"^(?:[a-z]{2,4}\.)?anthropic\.", "", mid)
    mid = re.sub(r"-v\d+(?::\d+)?$", "", mid)
    mid = re.sub(r"-\d{8}$", "", mid)
    return mid


def builtin_model(model_id: str) -> ModelInfo | None:
    """The built-in entry for ``model_id`` (snapshot ids map to their alias)."""
    info = BUILTIN_MODELS.get(model_id) or BUILTIN_MODELS.get(canonical_id(model_id))
    if info is None:
        return None
    return info if info.id == model_id else dataclasses.replace(info, id=model_id)


def price_for(
    model_id: str, overrides: Mapping[str, Mapping[str, float]] | None = None
) -> Price | None:
    """List price for ``model_id``; ``overrides`` maps model id → {field: USD per MTok}."""
    base = BUILTIN_PRICES.get(model_id) or BUILTIN_PRICES.get(canonical_id(model_id))
    over = None
    if overrides:
        over = overrides.get(model_id) or overrides.get(canonical_id(model_id))
    if not over:
        return base
    unknown = set(over) - set(_PRICE_KEYS)
    if unknown:
        raise ValueError(
            f"unknown price field(s) {sorted(unknown)} for {model_id}; use {list(_PRICE_KEYS)}"
        )
    if base is None:
        missing = [k for k in _PRICE_KEYS if k not in over]
        if missing:
            raise ValueError(f"price override for unknown model {model_id} needs {missing}")
        return Price(
            input=float(over["input"]),
            output=float(over["output"]),
            cache_write_5m=float(over["cache_write_5m"]),
            cache_read=float(over["cache_read"]),
        )
    # The long-context band (Haiku 5.5) keeps its built-in rates.
    return dataclasses.replace(
        base,
        input=float(over.get("input", base.input)),
        output=float(over.get("output", base.output)),
        cache_write_5m=float(over.get("cache_write_5m", base.cache_write_5m)),
        cache_read=float(over.get("cache_read", base.cache_read)),
    )


def parse_model_info(
    data: Mapping[str, Any], fallback: ModelInfo | None = None, *, source: str = "api"
) -> ModelInfo:
    """Build a :class:`ModelInfo` from a Models API object (as JSON)."""
    caps = data.get("capabilities")
    model_id = str(data.get("id") or (fallback.id if fallback else ""))
    if isinstance(caps, Mapping):
        thinking = caps.get("thinking")
        types = thinking.get("types") if isinstance(thinking, Mapping) else None
        types = types if isinstance(types, Mapping) else {}
        thinking_types = frozenset(t for t in THINKING_TYPES if _supported(types.get(t)))
        effort = caps.get("effort") or {}
        efforts: tuple[str, ...] = ()
        if isinstance(effort, Mapping) and effort.get("supported"):
            efforts = tuple(lvl for lvl in EFFORT_LEVELS if _supported(effort.get(lvl)))
        structured = (
            _supported(caps["structured_outputs"])
            if "structured_outputs" in caps
            else bool(fallback and fallback.structured_outputs)
        )
    else:
        thinking_types = fallback.thinking_types if fallback else frozenset()
        efforts = fallback.effort_levels if fallback else ()
        structured = bool(fallback and fallback.structured_outputs)
    return ModelInfo(
        id=model_id,
        max_input_tokens=_int(data.get("max_input_tokens"))
        or (fallback.max_input_tokens if fallback else 200_000),
        max_tokens=_int(data.get("max_tokens")) or (fallback.max_tokens if fallback else 8_192),
        thinking_types=thinking_types,
        effort_levels=efforts,
        structured_outputs=structured,
        display_name=str(data.get("display_name") or (fallback.display_name if fallback else "")),
        lifecycle=str(data.get("lifecycle") or "active"),
        source=source,
    )


def _supported(value: Any) -> bool:
    return isinstance(value, Mapping) and bool(value.get("supported"))


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


class ModelSource(Protocol):
    """Anything that can fetch a Models API object (``ClaudeClient`` does)."""

    async def retrieve_model(self, model_id: str) -> Mapping[str, Any]: ...


class ModelCatalog:
    """Model capabilities and prices: Models API → on-disk cache (TTL) → built-in table.

    :meth:`lookup` and :meth:`price` never touch the network; :meth:`get` may, and never
    raises for network or API trouble (it falls back instead).
    """

    def __init__(
        self,
        source: ModelSource | None = None,
        *,
        cache_path: Path | None = None,
        ttl_s: float = DEFAULT_TTL_S,
        price_overrides: Mapping[str, Mapping[str, float]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._source = source
        self._cache_path = cache_path
        self._ttl_s = ttl_s
        self._price_overrides = dict(price_overrides or {})
        self._clock = clock
        self._lock: asyncio.Lock | None = None  # made on the loop that first asks
        self._memo: dict[str, tuple[float, ModelInfo | None]] = {}
        for model_id in self._price_overrides:  # fail fast on bad config
            price_for(model_id, self._price_overrides)

    def use_source(self, source: ModelSource) -> None:
        """Where :meth:`get` asks (the Claude client, once it exists)."""
        self._source = source

    @property
    def cache_path(self) -> Path:
        if self._cache_path is None:
            self._cache_path = paths.cache_dir() / "models.sqlite3"
        return self._cache_path

    def lookup(self, model_id: str) -> ModelInfo | None:
        """Cached API answer (even if stale) or the built-in entry; no network, and no disk
        either for a minute after the last look (listing code actions calls this a lot)."""
        now = self._clock()
        memo = self._memo.get(model_id)
        if memo is not None and now - memo[0] < 60.0:
            return memo[1]
        row = self._read(model_id)
        info = (
            parse_model_info(row[1], builtin_model(model_id), source="cache")
            if row is not None
            else builtin_model(model_id)
        )
        self._memo[model_id] = (now, info)
        return info

    def price(self, model_id: str) -> Price | None:
        return price_for(model_id, self._price_overrides)

    async def get(self, model_id: str, *, refresh: bool = False) -> ModelInfo | None:
        """Fresh cache, else ask the Models API, else stale cache or the built-in table."""
        if self._lock is None:
            import asyncio  # a plan (offline) never gets here: it does not import asyncio

            self._lock = asyncio.Lock()
        async with self._lock:
            row = self._read(model_id)
            fresh = row is not None and self._clock() - row[0] < self._ttl_s
            if row is not None and fresh and not refresh:
                return parse_model_info(row[1], builtin_model(model_id), source="cache")
            if self._source is not None:
                try:
                    data = dict(await self._source.retrieve_model(model_id))
                except Exception as exc:  # offline, no key, 404, …: fall back
                    log.info("models API unavailable for %s: %s", model_id, exc)
                else:
                    self._write(model_id, data)
                    return parse_model_info(data, builtin_model(model_id), source="api")
            return self.lookup(model_id)

    # -- disk cache -----------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.cache_path, timeout=5)
        conn.execute(
            "CREATE TABLE IF NOT EXISTS model_info "
            "(id TEXT PRIMARY KEY, fetched_at REAL NOT NULL, data TEXT NOT NULL)"
        )
        return conn

    def _read(self, model_id: str) -> tuple[float, dict[str, Any]] | None:
        try:
            with contextlib.closing(self._connect()) as conn:
                row = conn.execute(
                    "SELECT fetched_at, data FROM model_info WHERE id = ?", (model_id,)
                ).fetchone()
            if row is None:
                return None
            data = json.loads(row[1])
            return (float(row[0]), data) if isinstance(data, dict) else None
        except (sqlite3.Error, OSError, ValueError) as exc:
            log.warning("model cache unreadable (%s): %s", self._cache_path, exc)
            return None

    def _write(self, model_id: str, data: Mapping[str, Any]) -> None:
        self._memo.pop(model_id, None)
        try:
            with contextlib.closing(self._connect()) as conn, conn:
                conn.execute(
                    "INSERT OR REPLACE INTO model_info (id, fetched_at, data) VALUES (?, ?, ?)",
                    (model_id, self._clock(), json.dumps(data, default=str)),
                )
        except (sqlite3.Error, OSError) as exc:
            log.warning("model cache not writable (%s): %s", self._cache_path, exc)
