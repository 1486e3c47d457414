"""ClaudeClient: one SDK client per process; streamed calls with progress, usage and clear errors.

The ``anthropic`` package is imported lazily (it takes about a second), off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import email.utils
import importlib
import importlib.util
import inspect
import json
import logging
import math
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

if TYPE_CHECKING:
    import anthropic

log = logging.getLogger(__name__)

Provider = Literal["anthropic", "bedrock", "vertex"]
ErrorKind = Literal[
    "auth_missing",
    "auth",
    "permission",
    "not_found",
    "billing",
    "rate_limit",
    "overloaded",
    "server",
    "timeout",
    "connection",
    "bad_request",
    "too_large",
    "stream_error",
    "not_api",
    "empty",
    "refusal",
    "max_tokens",
    "context_window",
    "config",
    "unsupported",
    "api",
]

MISSING_KEY_MESSAGE = "ANTHROPIC_API_KEY is not set: export it or set scopewise.apiKey"
CUT_MESSAGE = "the connection closed mid-answer; nothing applied"


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


@dataclass(frozen=True)
class ThinkingProgress:
    tokens_so_far: int  # estimated from streamed thinking text (0 when display is omitted)


@dataclass(frozen=True)
class TextProgress:
    chars: int  # answer characters so far
    delta: str = ""


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


StreamEvent = ThinkingProgress | TextProgress | Done | Retrying
OnEvent = Callable[[StreamEvent], Awaitable[None] | None]

# The listener of the call running in this task, for the retry middleware (the SDK runs the
# middleware inside the call's own task, so a context variable reaches the right call).
_listener: contextvars.ContextVar[OnEvent | None] = contextvars.ContextVar(
    "scopewise_retry_listener", default=None
)
# A retry-after longer than this is not waited out: the call fails at once with the wait in
# its message (the SDK would otherwise sleep for as long as the API asks, hours included).
MAX_RETRY_WAIT_S = 30.0
_RETRYABLE = frozenset({408, 409, 429})


@dataclass(frozen=True)
class CallResult:
    text: str
    thinking: str
    stop_reason: str | None
    usage: Usage
    model: str
    duration_s: float
    request_id: str | None

    def json(self) -> Any:
        """The answer parsed as JSON (for structured output)."""
        return json.loads(self.text)


class ClaudeError(Exception):
    """Any failure of a call, with a one-line user message that says what to do."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        retry_after: float | None = None,
        usage: Usage | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
        result: CallResult | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.retry_after = retry_after
        self.usage = usage  # partial usage seen before the failure
        self.status_code = status_code
        self.request_id = request_id
        self.result = result  # the (partial) answer, for stop-reason errors


class CallCancelled(asyncio.CancelledError):
    """The task was cancelled mid-call; carries the usage seen so far.

    A ``CancelledError`` subclass, so the task still ends as cancelled (pygls replies with
    RequestCancelled) while ``except CallCancelled as e`` can still log ``e.usage``.
    """

    def __init__(self, usage: Usage, partial_text: str = "", request_id: str | None = None):
        super().__init__("Claude call cancelled")
        self.usage = usage
        self.partial_text = partial_text
        self.request_id = request_id


class _CallbackFailed(Exception):
    def __init__(self, exc: Exception) -> None:
        super().__init__(str(exc))
        self.exc = exc


class _StreamState:
    """What has arrived so far; turns into a Usage even when the call is cut short."""

    def __init__(self, model: str) -> None:
        self.model = model
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

    def usage(self) -> Usage:
        output = self.output_tokens
        estimated = False
        if not self.final_usage:
            guess = math.ceil((self.text_chars + self.thinking_chars) / 4)
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
        self.final_usage = self.final_usage or final


class ClaudeClient:
    """One per process. Call :meth:`run` from the event loop that will own the client."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int = 2,
        max_retry_wait_s: float = MAX_RETRY_WAIT_S,
        provider: Provider = "anthropic",
        provider_options: Mapping[str, Any] | None = None,
    ) -> None:
        if provider not in ("anthropic", "bedrock", "vertex"):
            raise ValueError(f"unknown provider {provider!r}: use anthropic, bedrock or vertex")
        self.provider: Provider = provider
        self._api_key = api_key or os.environ.get("ANTHROPIC_API_KEY") or None
        self._auth_token = None if self._api_key else os.environ.get("ANTHROPIC_AUTH_TOKEN")
        self._base_url = base_url
        self._timeout = timeout
        self._max_retries = max_retries
        self._max_retry_wait_s = max_retry_wait_s
        self._options = dict(provider_options or {})
        self._sdk_client: anthropic.AsyncAnthropic | None = None
        self._build_lock = asyncio.Lock()

    @property
    def base_url(self) -> str:
        return self._base_url or os.environ.get("ANTHROPIC_BASE_URL") or "https://api.anthropic.com"

    def check(self) -> ClaudeError | None:
        """A configuration problem that would stop every call (no network), or None."""
        if self.provider == "anthropic":
            if not (self._api_key or self._auth_token):
                return ClaudeError("auth_missing", MISSING_KEY_MESSAGE)
        elif self.provider == "bedrock":
            bearer = self._options.get("api_key") or os.environ.get("AWS_BEARER_TOKEN_BEDROCK")
            if not bearer and not (_has_module("boto3") and _has_module("botocore")):
                return ClaudeError(
                    "config",
                    "Bedrock support is not installed: pip install 'scopewise[bedrock]'",
                )
        elif not self._options.get("access_token") and not _has_module("google.auth"):
            return ClaudeError(
                "config", "Vertex support is not installed: pip install 'scopewise[vertex]'"
            )
        return None

    async def warm(self) -> None:
        """Import the SDK and build the client now (e.g. right after LSP initialize)."""
        await self._sdk()

    async def close(self) -> None:
        client, self._sdk_client = self._sdk_client, None
        if client is not None:
            await client.close()

    # -- calls --------------------------------------------------------------------------------
    def request_params(self, req: CallRequest) -> dict[str, Any]:
        """The keyword arguments for ``messages.stream`` / ``count_tokens``."""
        params: dict[str, Any] = {
            "model": req.model,
            "messages": [{"role": "user", "content": req.prompt}],
        }
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

    async def run(
        self, req: CallRequest, on_event: OnEvent | None = None, *, deadline_s: float | None = None
    ) -> CallResult:
        """Stream one call, reporting progress to ``on_event``.

        Raises ClaudeError (with partial usage) or CallCancelled when the task is cancelled.
        ``deadline_s`` bounds the whole call (kind "timeout"); prefer it to wrapping the call
        in ``asyncio.timeout()``, which on Python 3.11 lets CallCancelled escape instead of
        raising TimeoutError.
        """
        problem = self.check()
        if problem is not None:
            raise problem
        state = _StreamState(req.model)
        started = time.monotonic()
        deadline = asyncio.timeout(deadline_s)
        listening = _listener.set(on_event)
        try:
            sdk = await self._sdk()
            params = self.request_params(req)
            async with (
                deadline,
                sdk.messages.stream(max_tokens=req.max_tokens, **params) as stream,
            ):
                state.request_id = stream.request_id
                await self._check_stream_body(stream.response)
                async for event in stream:
                    await self._on_stream_event(event, state, on_event)
            self._check_whole(state)
        except TimeoutError as exc:
            mapped = None if deadline.expired() else self._map_error(exc, req.model, state)
            if mapped is not None:
                raise mapped from exc
            raise ClaudeError(
                "timeout",
                f"Claude did not finish within {deadline_s:g} s; try again or narrow the request",
                usage=state.usage(),
                request_id=state.request_id,
            ) from exc
        except asyncio.CancelledError as exc:
            if isinstance(exc, CallCancelled):
                raise
            raise CallCancelled(state.usage(), "".join(state.text), state.request_id) from exc
        except _CallbackFailed as failed:
            raise failed.exc from None
        except ClaudeError:
            raise
        except Exception as exc:
            error = self._map_error(exc, req.model, state)
            if error is None:
                raise
            raise error from exc
        finally:
            _listener.reset(listening)
        usage = state.usage()
        result = CallResult(
            text="".join(state.text),
            thinking="".join(state.thinking),
            stop_reason=state.stop_reason,
            usage=usage,
            model=state.model,
            duration_s=time.monotonic() - started,
            request_id=state.request_id,
        )
        try:
            await _emit(on_event, Done(state.stop_reason, usage))
        except _CallbackFailed as failed:
            raise failed.exc from None
        self._check_stop(req, state, result)
        return result

    async def count_tokens(self, req: CallRequest) -> int:
        """The API's input-token estimate for ``req`` (a network call; may raise ClaudeError)."""
        problem = self.check()
        if problem is not None:
            raise problem
        if self.provider == "bedrock":
            raise ClaudeError("unsupported", "token counting is not available on Bedrock")
        try:
            sdk = await self._sdk()
            counted = await sdk.messages.count_tokens(**self.request_params(req))
            self._check_parsed(counted)
        except ClaudeError:
            raise
        except Exception as exc:
            error = self._map_error(exc, req.model, None)
            if error is None:
                raise
            raise error from exc
        return int(counted.input_tokens)

    async def retrieve_model(self, model_id: str) -> dict[str, Any]:
        """The Models API object for ``model_id`` as JSON (may raise ClaudeError)."""
        problem = self.check()
        if problem is not None:
            raise problem
        if self.provider != "anthropic":
            raise ClaudeError("unsupported", f"the Models API is not available on {self.provider}")
        try:
            sdk = await self._sdk()
            info = await sdk.models.retrieve(model_id, timeout=10.0)
            self._check_parsed(info)
        except ClaudeError:
            raise
        except Exception as exc:
            error = self._map_error(exc, model_id, None)
            if error is None:
                raise
            raise error from exc
        return dict(info.to_dict(mode="json"))

    # -- internals ----------------------------------------------------------------------------
    async def _sdk(self) -> anthropic.AsyncAnthropic:
        if self._sdk_client is not None:
            return self._sdk_client
        async with self._build_lock:
            if self._sdk_client is None:
                problem = self.check()
                if problem is not None:
                    raise problem
                if "anthropic" not in sys.modules:
                    await asyncio.to_thread(importlib.import_module, "anthropic")
                self._sdk_client = self._build()
            return self._sdk_client

    async def _retry_middleware(self, request: Any, call_next: Any) -> Any:
        """Tell the running call's listener when the SDK is about to retry, and refuse to
        wait out a retry-after longer than ``max_retry_wait_s`` (the call then fails at once,
        its message naming the wait)."""
        response = await call_next(request)
        http = response.http_response
        status = http.status_code
        if http.is_success or not (status in _RETRYABLE or status >= 500):
            return response
        if http.headers.get("x-should-retry") == "false":
            return response
        if request.retries_taken >= self._max_retries:
            return response
        wait = _retry_after(http.headers)
        if wait is not None and wait > self._max_retry_wait_s:
            http.headers["x-should-retry"] = "false"
            return response
        listener = _listener.get()
        if listener is not None:
            event = Retrying(status, wait, request.retries_taken + 1, self._max_retries)
            with contextlib.suppress(_CallbackFailed):
                await _emit(listener, event)
        return response

    def _build(self) -> anthropic.AsyncAnthropic:
        import anthropic

        kwargs: dict[str, Any] = {"max_retries": self._max_retries}
        if (
            self._max_retries
            and "middleware" in inspect.signature(anthropic.AsyncAnthropic).parameters
        ):
            kwargs["middleware"] = [self._retry_middleware]
        if self._base_url:
            kwargs["base_url"] = self._base_url
        if self._timeout is not None:
            kwargs["timeout"] = anthropic.Timeout(self._timeout, connect=min(5.0, self._timeout))
        factory: Callable[..., Any]
        if self.provider == "anthropic":
            factory = anthropic.AsyncAnthropic
            if self._api_key:
                kwargs["api_key"] = self._api_key
            else:
                kwargs["auth_token"] = self._auth_token
        elif self.provider == "bedrock":
            factory = anthropic.AsyncAnthropicBedrock
        else:
            factory = anthropic.AsyncAnthropicVertex
        kwargs.update(self._options)
        if "open_telemetry" in inspect.signature(factory).parameters:
            kwargs.setdefault("open_telemetry", False)
        try:
            client = factory(**kwargs)
        except (ValueError, TypeError, anthropic.AnthropicError) as exc:
            raise ClaudeError(
                "config", f"could not set up the {self.provider} client: {_one_line(str(exc))}"
            ) from exc
        # Bedrock/Vertex clients share the messages API surface we use.
        return cast("anthropic.AsyncAnthropic", client)

    async def _on_stream_event(
        self, event: Any, state: _StreamState, on_event: OnEvent | None
    ) -> None:
        kind = event.type
        if kind == "message_start":
            state.started = True
            state.model = event.message.model or state.model
            state.take_usage(event.message.usage, final=False)
        elif kind == "content_block_start":
            if event.content_block.type in ("thinking", "redacted_thinking"):
                await _emit(on_event, ThinkingProgress(math.ceil(state.thinking_chars / 4)))
        elif kind == "thinking":
            state.thinking.append(event.thinking)
            state.thinking_chars += len(event.thinking)
            await _emit(on_event, ThinkingProgress(math.ceil(state.thinking_chars / 4)))
        elif kind == "text":
            state.text.append(event.text)
            state.text_chars += len(event.text)
            await _emit(on_event, TextProgress(state.text_chars, event.text))
        elif kind == "message_delta":
            state.stop_reason = event.delta.stop_reason
            state.stop_details = event.delta.stop_details
            state.take_usage(event.usage, final=True)
        elif kind == "message_stop":
            state.stopped = True

    async def _check_stream_body(self, response: Any) -> None:
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
        raise ClaudeError("not_api", self._not_api_message(ctype, head))

    def _check_parsed(self, parsed: Any) -> None:
        """The SDK hands back a non-JSON body as a plain string: not the API answering."""
        if isinstance(parsed, str | bytes):
            raw = parsed.encode() if isinstance(parsed, str) else parsed
            raise ClaudeError("not_api", self._not_api_message("", raw))

    def _not_api_message(self, ctype: str, head: bytes) -> str:
        text = head.decode("utf-8", "replace")
        sniffed = text.lstrip()[:15].lower()
        if "html" in ctype or sniffed.startswith(("<!doctype html", "<html")):
            what = "HTML"
            title = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
            if title and title.group(1).strip():
                what += f" ({_one_line(title.group(1), 60)!r})"
        elif not head.strip():
            what = f"an empty body ({ctype or 'no content type'})"
        elif "json" in ctype:
            what = f"JSON without a stream ({_one_line(text, 60)})"
        else:
            what = f"{ctype or 'an unlabelled body'} ({_one_line(text, 60)})"
        host = re.sub(r"^https?://", "", self.base_url).rstrip("/")
        return (
            f"the endpoint answered {what}, not the Messages API: check base_url / proxy ({host})"
        )

    def _check_whole(self, state: _StreamState) -> None:
        """A stream that ended without message_stop is a cut answer, never a short one."""
        if state.stopped:
            return
        if not state.started:
            host = re.sub(r"^https?://", "", self.base_url).rstrip("/")
            raise ClaudeError(
                "not_api",
                "the endpoint answered an event stream with no Messages API events: check "
                f"base_url / proxy ({host})",
                usage=state.usage(),
                request_id=state.request_id,
            )
        raise ClaudeError(
            "connection", CUT_MESSAGE, usage=state.usage(), request_id=state.request_id
        )

    def _check_stop(self, req: CallRequest, state: _StreamState, result: CallResult) -> None:
        reason = state.stop_reason
        error: ClaudeError | None = None
        if reason == "refusal":
            category = getattr(state.stop_details, "category", None)
            why = f" ({category})" if category else ""
            error = ClaudeError(
                "refusal",
                f"Claude declined this request{why}; rephrase the instruction or narrow the "
                "selection",
            )
        elif reason == "max_tokens":
            error = ClaudeError(
                "max_tokens",
                f"the answer was cut off at max_tokens ({req.max_tokens}); raise the limit or "
                "narrow the request",
            )
        elif reason == "model_context_window_exceeded":
            error = ClaudeError(
                "context_window",
                f"the request filled {req.model}'s context window; narrow the context",
            )
        if error is not None:
            error.usage = result.usage
            error.request_id = result.request_id
            error.result = result
            raise error

    def _map_error(
        self, exc: Exception, model: str, state: _StreamState | None
    ) -> ClaudeError | None:
        import anthropic
        import httpx2

        usage = state.usage() if state is not None else None
        request_id = state.request_id if state is not None else None
        if isinstance(exc, anthropic.APIStatusError):
            return _status_error(exc, model, usage)
        if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException | TimeoutError):
            return ClaudeError(
                "timeout",
                "the request to Claude timed out; try again or raise scopewise.timeout",
                usage=usage,
                request_id=request_id,
            )
        if isinstance(exc, anthropic.APIConnectionError):
            host = re.sub(r"^https?://", "", self.base_url).rstrip("/")
            return ClaudeError(
                "connection",
                f"could not reach the API at {host}: check your network, proxy or "
                "scopewise.baseUrl",
                usage=usage,
            )
        if isinstance(exc, httpx2.TransportError):
            return ClaudeError(
                "connection",
                "the connection to the API dropped mid-answer; try again",
                usage=usage,
                request_id=request_id,
            )
        if isinstance(exc, anthropic.APIResponseValidationError | json.JSONDecodeError):
            return ClaudeError(
                "stream_error",
                f"the API sent a malformed reply ({_one_line(str(exc), 80)}); try again",
                usage=usage,
                request_id=request_id,
            )
        if isinstance(exc, anthropic.AnthropicError):
            return ClaudeError("api", _one_line(str(exc)), usage=usage, request_id=request_id)
        return None


def _status_error(exc: anthropic.APIStatusError, model: str, usage: Usage | None) -> ClaudeError:
    import anthropic

    status = exc.status_code
    etype = exc.type or ""
    detail = _one_line(exc.api_message or "", 160)
    retry_after = _retry_after(exc.response.headers)
    kind: ErrorKind
    if status == 200:  # an `error` event in the middle of a stream
        if etype == "overloaded_error":
            kind, message = "overloaded", "Claude became overloaded mid-answer; try again shortly"
        elif etype == "rate_limit_error":
            kind, message = "rate_limit", "rate limited by the API mid-answer; try again shortly"
        else:
            kind = "stream_error"
            message = f"the answer stream broke ({etype or 'error'}: {detail}); try again"
    elif isinstance(exc, anthropic.AuthenticationError):
        kind = "auth"
        message = "the API key was rejected (401): check ANTHROPIC_API_KEY or scopewise.apiKey"
    elif isinstance(exc, anthropic.PermissionDeniedError):
        kind = "permission"
        message = f"this API key may not use {model} (403): {detail}"
    elif isinstance(exc, anthropic.NotFoundError):
        kind = "not_found"
        message = f"not found (404): {detail}; check the model id {model!r} and scopewise.baseUrl"
    elif isinstance(exc, anthropic.PaymentRequiredError) or etype == "billing_error":
        kind = "billing"
        message = f"billing problem ({status}): {detail}; check your plan in the Claude Console"
    elif isinstance(exc, anthropic.RateLimitError):
        kind = "rate_limit"
        code = f" ({exc.error_code})" if exc.error_code else ""
        when = f"retry in {math.ceil(retry_after)} s" if retry_after else "retry shortly"
        message = f"rate limited by the API{code}; {when}"
    elif isinstance(exc, anthropic.OverloadedError):
        kind = "overloaded"
        message = f"Claude is overloaded ({status}); try again shortly"
    elif isinstance(exc, anthropic.RequestTimeoutError | anthropic.GatewayTimeoutError):
        kind = "timeout"
        message = f"the API timed out ({status}); try again"
    elif isinstance(exc, anthropic.ContentTooLargeError):
        kind = "too_large"
        message = "the request is too large (413): select less code or narrow the context"
    elif isinstance(exc, anthropic.BadRequestError | anthropic.UnprocessableEntityError):
        kind = "bad_request"
        message = f"the API rejected the request ({status}): {detail}"
    elif status >= 500:
        kind = "server"
        message = f"the API had a server error ({status}); try again shortly"
    else:
        kind = "api"
        message = f"the API answered {status}: {detail}"
    return ClaudeError(
        kind,
        message,
        retry_after=retry_after,
        usage=usage,
        status_code=status,
        request_id=exc.request_id,
    )


async def _emit(on_event: OnEvent | None, event: StreamEvent) -> None:
    if on_event is None:
        return
    try:
        pending = on_event(event)
        if pending is not None:
            await pending
    except Exception as exc:
        raise _CallbackFailed(exc) from exc


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``retry-after-ms`` / ``retry-after`` (seconds or an HTTP date)."""
    try:
        return float(headers["retry-after-ms"]) / 1000
    except (KeyError, ValueError):
        pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _one_line(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
