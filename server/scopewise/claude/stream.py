"""One streamed call as it happens: the state of the answer so far (`StreamState`, which
turns into a Usage even when the call is cut short), the SDK events it takes, the checks that
the answer is the Messages API's and whole, and the SDK retry middleware that reports retries
to the call's listener. Used by client.py alone."""

from __future__ import annotations

import contextlib
import contextvars
import math
import re
from collections.abc import Callable
from typing import Any

from .call import (
    AdvisorProgress,
    OnEvent,
    Retrying,
    StreamEvent,
    TextProgress,
    ThinkingProgress,
    ToolProgress,
    Usage,
)
from .errors import CUT_MESSAGE, ClaudeError, not_api_message, retry_after

# The listener of the call running in this task, for the retry middleware (the SDK runs the
# middleware inside the call's own task, so a context variable reaches the right call).
current_listener: contextvars.ContextVar[OnEvent | None] = contextvars.ContextVar(
    "scopewise_retry_listener", default=None
)
# A retry-after longer than this is not waited out: the call fails at once with the wait in
# its message (the SDK would otherwise sleep for as long as the API asks, hours included).
MAX_RETRY_WAIT_S = 30.0
RETRYABLE = frozenset({408, 409, 429})


class CallbackFailed(Exception):
    """The caller's listener raised: its exception is re-raised as is, not mapped."""

    def __init__(self, exc: Exception) -> None:
        super().__init__(str(exc))
        self.exc = exc


class StreamState:
    """What has arrived so far; turns into a Usage even when the call is cut short."""

    def __init__(self, model: str, advisor: str | None = None) -> None:
        self.model = model
        self.advisor = advisor  # the advisor model, when the call has the advisor tool
        self.advisor_usage: Usage | None = None
        self.block = ""  # the type of the content block being streamed
        self.request_id: str | None = None
        self.input_tokens = 0
        self.output_tokens = 0
        self.cache_write = 0
        self.cache_read = 0
        self.thinking_tokens: int | None = None
        self.final_usage = False
        self.stop_reason: str | None = None
        self.stop_details: Any = None
        self.started = False  # message_start arrived
        self.stopped = False  # message_stop arrived: the answer is whole
        self.text: list[str] = []
        self.thinking: list[str] = []
        self.text_chars = 0
        self.thinking_chars = 0
        self.tool_name = ""  # the tool_use block being streamed
        self.tool_chars = 0
        self.tool_total = 0  # tool input characters across blocks (for a cut call's estimate)
        # the assistant's content blocks as the API sent them (set once the answer is whole)
        self.content: tuple[dict[str, Any], ...] = ()

    def usage(self) -> Usage:
        output = self.output_tokens
        estimated = False
        if not self.final_usage:
            guess = math.ceil((self.text_chars + self.thinking_chars + self.tool_total) / 4)
            estimated = guess > output
            output = max(output, guess)
        return Usage(
            input_tokens=self.input_tokens,
            output_tokens=output,
            cache_write_tokens=self.cache_write,
            cache_read_tokens=self.cache_read,
            thinking_tokens=self.thinking_tokens,
            estimated=estimated,
        )

    def take_usage(self, usage: Any, *, final: bool) -> None:
        # message_start carries input/cache counts; message_delta cumulative totals
        # (optional fields are omitted when unchanged, so keep earlier values).
        if usage.input_tokens is not None:
            self.input_tokens = usage.input_tokens
        if usage.cache_creation_input_tokens is not None:
            self.cache_write = usage.cache_creation_input_tokens
        if usage.cache_read_input_tokens is not None:
            self.cache_read = usage.cache_read_input_tokens
        self.output_tokens = usage.output_tokens or 0
        details = getattr(usage, "output_tokens_details", None)
        if details is not None:
            self.thinking_tokens = details.thinking_tokens
        iterations = getattr(usage, "iterations", None)
        if iterations:
            self.advisor_usage = advisor_usage(iterations)
        self.final_usage = self.final_usage or final


async def emit(on_event: OnEvent | None, event: StreamEvent) -> None:
    if on_event is None:
        return
    try:
        pending = on_event(event)
        if pending is not None:
            await pending
    except Exception as exc:
        raise CallbackFailed(exc) from exc


async def on_stream_event(event: Any, state: StreamState, on_event: OnEvent | None) -> None:
    """Take one SDK stream event into ``state`` and report progress to ``on_event``."""
    kind = event.type
    if kind == "message_start":
        state.started = True
        state.model = event.message.model or state.model
        state.take_usage(event.message.usage, final=False)
    elif kind == "content_block_start":
        await on_block_start(event.content_block, state, on_event)
    elif kind == "input_json" and state.block == "tool_use":
        state.tool_chars += len(event.partial_json)
        state.tool_total += len(event.partial_json)
        await emit(on_event, ToolProgress(state.tool_name, state.tool_chars))
    elif kind == "thinking":
        state.thinking.append(event.thinking)
        state.thinking_chars += len(event.thinking)
        await emit(on_event, ThinkingProgress(math.ceil(state.thinking_chars / 4)))
    elif kind == "text":
        state.text.append(event.text)
        state.text_chars += len(event.text)
        await emit(on_event, TextProgress(state.text_chars, event.text))
    elif kind == "message_delta":
        state.stop_reason = event.delta.stop_reason
        state.stop_details = event.delta.stop_details
        state.take_usage(event.usage, final=True)
    elif kind == "message_stop":
        state.stopped = True


async def on_block_start(block: Any, state: StreamState, on_event: OnEvent | None) -> None:
    """A content block begins: thinking, a tool call being written, the advisor consulted
    (``server_tool_use``) or its advice arrived (``advisor_tool_result``)."""
    state.block = block.type
    if block.type in ("thinking", "redacted_thinking"):
        await emit(on_event, ThinkingProgress(math.ceil(state.thinking_chars / 4)))
    elif block.type == "tool_use":
        state.tool_name, state.tool_chars = str(block.name), 0
        await emit(on_event, ToolProgress(state.tool_name))
    elif block.type == "server_tool_use" and block.name == "advisor":
        await emit(on_event, AdvisorProgress(state.advisor or ""))
    elif block.type == "advisor_tool_result":
        await emit(on_event, AdvisorProgress(state.advisor or "", answered=True))


def advisor_usage(iterations: Any) -> Usage | None:
    """The advisor's own tokens: the sum of the usage iterations that belong to the advisor
    (``advisor_message``; the top-level usage is the executor's), or None if it was not
    consulted."""
    advised = [i for i in iterations if getattr(i, "type", None) == "advisor_message"]
    if not advised:
        return None
    return Usage(
        input_tokens=sum(i.input_tokens or 0 for i in advised),
        output_tokens=sum(i.output_tokens or 0 for i in advised),
        cache_write_tokens=sum(i.cache_creation_input_tokens or 0 for i in advised),
        cache_read_tokens=sum(i.cache_read_input_tokens or 0 for i in advised),
    )


async def take_content(stream: Any, state: StreamState) -> None:
    """Once the answer is whole, keep its content blocks exactly as the API sent them (the
    SDK's final message; thinking signatures and parsed tool inputs included), as plain dicts
    ready to be echoed back in a tool loop."""
    if state.stopped:
        message = await stream.get_final_message()
        state.content = tuple(block.to_dict(mode="json") for block in message.content)


async def check_stream_body(response: Any, base_url: str) -> None:
    """A 200 answer that is not an event stream is not the Messages API (a proxy's login
    page, a gateway's JSON, an empty body): say what it was and where it came from."""
    ctype = str(response.headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype == "text/event-stream":
        return
    head = b""
    with contextlib.suppress(Exception):
        async for chunk in response.aiter_bytes():
            head += chunk
            if len(head) >= 8192:
                break
    raise ClaudeError("not_api", not_api_message(ctype, head, base_url))


def check_parsed(parsed: Any, base_url: str) -> None:
    """The SDK hands back a non-JSON body as a plain string: not the API answering."""
    if isinstance(parsed, str | bytes):
        raw = parsed.encode() if isinstance(parsed, str) else parsed
        raise ClaudeError("not_api", not_api_message("", raw, base_url))


def check_whole(state: StreamState, base_url: str) -> None:
    """A stream that ended without message_stop is a cut answer, never a short one."""
    if state.stopped:
        return
    if not state.started:
        host = re.sub(r"^https?://", "", base_url).rstrip("/")
        raise ClaudeError(
            "not_api",
            "the endpoint answered an event stream with no Messages API events: check "
            f"base_url / proxy ({host})",
            usage=state.usage(),
            request_id=state.request_id,
        )
    raise ClaudeError("connection", CUT_MESSAGE, usage=state.usage(), request_id=state.request_id)


def retry_middleware(max_retries: int, max_wait_s: float) -> Callable[..., Any]:
    """The SDK middleware that tells the running call's listener when the SDK is about to
    retry, and refuses to wait out a retry-after longer than ``max_wait_s`` (the call then
    fails at once, its message naming the wait)."""

    async def middleware(request: Any, call_next: Any) -> Any:
        response = await call_next(request)
        http = response.http_response
        status = http.status_code
        if http.is_success or not (status in RETRYABLE or status >= 500):
            return response
        if http.headers.get("x-should-retry") == "false":
            return response
        if request.retries_taken >= max_retries:
            return response
        wait = retry_after(http.headers)
        if wait is not None and wait > max_wait_s:
            http.headers["x-should-retry"] = "false"
            return response
        heard = current_listener.get()
        if heard is not None:
            event = Retrying(status, wait, request.retries_taken + 1, max_retries)
            with contextlib.suppress(CallbackFailed):
                await emit(heard, event)
        return response

    return middleware
