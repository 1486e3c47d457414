"""What crosses the client's boundary: a call (`CallRequest`), its answer (`CallResult`), its
token counts (`Usage`), the progress events a call streams, and the SDK parameters a call
becomes (`request_params`). Plain data: no SDK import, no I/O."""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Usage:
    """Token counts of one call. ``estimated``: output was guessed (the call was cut short)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    thinking_tokens: int | None = None
    estimated: bool = False

    @property
    def total_input_tokens(self) -> int:
        return self.input_tokens + self.cache_write_tokens + self.cache_read_tokens


@dataclass(frozen=True)
class CallRequest:
    """One call. ``context`` is the stable (cached) prefix, ``prompt`` the volatile part."""

    model: str
    system: str
    context: str
    prompt: str
    max_tokens: int
    thinking: dict[str, Any] | None = None
    effort: str | None = None
    output_schema: dict[str, Any] | None = None
    cache: bool = True
    # tool definitions (the first part of the cached prefix: keep them stable and ordered)
    tools: tuple[dict[str, Any], ...] = ()
    # the turns after ``prompt`` in a tool loop: each assistant reply's content echoed
    # verbatim (thinking blocks included), then the user's tool_result blocks
    history: tuple[dict[str, Any], ...] = ()
    # the advisor model: the call goes through the beta Messages API with the advisor tool,
    # which the request's own model (the executor) may consult mid-answer (Anthropic API only)
    advisor: str | None = None


@dataclass(frozen=True)
class ThinkingProgress:
    tokens_so_far: int  # estimated from streamed thinking text (0 when display is omitted)


@dataclass(frozen=True)
class TextProgress:
    chars: int  # answer characters so far
    delta: str = ""


@dataclass(frozen=True)
class ToolProgress:
    """The model is writing a tool call: its tool's name and the input's JSON so far."""

    name: str
    chars: int = 0  # characters of the tool's input JSON so far


@dataclass(frozen=True)
class AdvisorProgress:
    """The executor consulted the advisor (``answered``: its advice has arrived)."""

    model: str
    answered: bool = False


@dataclass(frozen=True)
class Done:
    stop_reason: str | None
    usage: Usage


@dataclass(frozen=True)
class Retrying:
    """The API answered with a retryable error; the SDK waits, then tries again."""

    status: int
    wait_s: float | None  # the API's retry-after, or None (the SDK's short backoff)
    attempt: int  # the retry about to be made, 1-based
    of: int  # retries allowed

    def message(self) -> str:
        what = {429: "rate limited", 529: "Claude is overloaded"}.get(
            self.status, f"the API answered {self.status}"
        )
        when = f"in {math.ceil(self.wait_s)} s" if self.wait_s else "shortly"
        return f"{what}; retrying {when} ({self.attempt}/{self.of})"


StreamEvent = ThinkingProgress | TextProgress | ToolProgress | AdvisorProgress | Done | Retrying
OnEvent = Callable[[StreamEvent], Awaitable[None] | None]


@dataclass(frozen=True)
class ToolUse:
    """A tool the model asked to run (``stop_reason == "tool_use"``)."""

    id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class CallResult:
    text: str
    thinking: str
    stop_reason: str | None
    usage: Usage
    model: str
    duration_s: float
    request_id: str | None
    # the assistant's content blocks as the API sent them (to echo back in a tool loop)
    content: tuple[dict[str, Any], ...] = ()
    # the advisor's own tokens (billed at its model's rate; ``usage`` is the executor's)
    advisor_usage: Usage | None = None

    def json(self) -> Any:
        """The answer parsed as JSON (for structured output)."""
        return json.loads(self.text)

    @property
    def tool_uses(self) -> list[ToolUse]:
        return [
            ToolUse(str(b.get("id", "")), str(b.get("name", "")), dict(b.get("input") or {}))
            for b in self.content
            if b.get("type") == "tool_use"
        ]

    @property
    def advice(self) -> list[str]:
        """The advisor's advice, one text per consultation (redacted advice is left out)."""
        return [
            str(b["content"].get("text", ""))
            for b in self.content
            if b.get("type") == "advisor_tool_result"
            and isinstance(b.get("content"), dict)
            and b["content"].get("type") == "advisor_result"
        ]


ADVISOR_BETA = "advisor-tool-2026-03-01"
ADVISOR_TOOL = "advisor_20260301"


def advisor_tool(model: str) -> dict[str, Any]:
    """The advisor tool's definition (server-side: the API runs ``model`` on the transcript)."""
    return {"type": ADVISOR_TOOL, "name": "advisor", "model": model}


def request_params(req: CallRequest) -> dict[str, Any]:
    """The keyword arguments for ``messages.stream`` / ``count_tokens`` (with an advisor:
    the beta API's, ``betas`` included)."""
    params: dict[str, Any] = {
        "model": req.model,
        "messages": [{"role": "user", "content": req.prompt}, *req.history],
    }
    tools = [*req.tools, *([advisor_tool(req.advisor)] if req.advisor else [])]
    if tools:
        params["tools"] = tools
    if req.advisor:
        params["betas"] = [ADVISOR_BETA]
    blocks: list[dict[str, Any]] = [
        {"type": "text", "text": text} for text in (req.system, req.context) if text
    ]
    if blocks:
        if req.cache:
            blocks[-1]["cache_control"] = {"type": "ephemeral"}
        params["system"] = blocks
    if req.thinking is not None:
        params["thinking"] = req.thinking
    output_config: dict[str, Any] = {}
    if req.effort is not None:
        output_config["effort"] = req.effort
    if req.output_schema is not None:
        output_config["format"] = {"type": "json_schema", "schema": req.output_schema}
    if output_config:
        params["output_config"] = output_config
    return params
