"""What can go wrong in a call, said in one line that tells the user what to do: the error
kinds, `ClaudeError` and `CallCancelled`, and the mapping from the SDK's exceptions, HTTP
statuses and non-API answers to them. It may not know how a call is made (client.py)."""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from .call import CallRequest, CallResult, Usage

if TYPE_CHECKING:
    import anthropic

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


def check_stop(req: CallRequest, result: CallResult, stop_details: Any) -> None:
    """An answer that ended for a reason other than its end (refusal, max_tokens, a full
    context window) is an error carrying the answer."""
    reason = result.stop_reason
    error: ClaudeError | None = None
    if reason == "refusal":
        category = getattr(stop_details, "category", None)
        why = f" ({category})" if category else ""
        error = ClaudeError(
            "refusal",
            f"Claude declined this request{why}; rephrase the instruction or narrow the selection",
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


def map_error(
    exc: Exception,
    model: str,
    base_url: str,
    usage: Usage | None = None,
    request_id: str | None = None,
) -> ClaudeError | None:
    """The ClaudeError for an SDK or transport exception (None: not one of ours, re-raise)."""
    import anthropic
    import httpx2

    if isinstance(exc, anthropic.APIStatusError):
        return status_error(exc, model, usage)
    if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException | TimeoutError):
        return ClaudeError(
            "timeout",
            "the request to Claude timed out; try again or raise scopewise.timeout",
            usage=usage,
            request_id=request_id,
        )
    if isinstance(exc, anthropic.APIConnectionError):
        host = re.sub(r"^https?://", "", base_url).rstrip("/")
        return ClaudeError(
            "connection",
            f"could not reach the API at {host}: check your network, proxy or scopewise.baseUrl",
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
            f"the API sent a malformed reply ({one_line(str(exc), 80)}); try again",
            usage=usage,
            request_id=request_id,
        )
    if isinstance(exc, anthropic.AnthropicError):
        return ClaudeError("api", one_line(str(exc)), usage=usage, request_id=request_id)
    return None


def status_error(exc: anthropic.APIStatusError, model: str, usage: Usage | None) -> ClaudeError:
    import anthropic

    status = exc.status_code
    etype = exc.type or ""
    detail = one_line(exc.api_message or "", 160)
    wait = retry_after(exc.response.headers)
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
        when = f"retry in {math.ceil(wait)} s" if wait else "retry shortly"
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
        retry_after=wait,
        usage=usage,
        status_code=status,
        request_id=exc.request_id,
    )


def retry_after(headers: Mapping[str, str]) -> float | None:
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


def one_line(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def not_api_message(ctype: str, head: bytes, base_url: str) -> str:
    """What a non-API answer was and where it came from, in one line."""
    text = head.decode("utf-8", "replace")
    sniffed = text.lstrip()[:15].lower()
    if "html" in ctype or sniffed.startswith(("<!doctype html", "<html")):
        what = "HTML"
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
        if title and title.group(1).strip():
            what += f" ({one_line(title.group(1), 60)!r})"
    elif not head.strip():
        what = f"an empty body ({ctype or 'no content type'})"
    elif "json" in ctype:
        what = f"JSON without a stream ({one_line(text, 60)})"
    else:
        what = f"{ctype or 'an unlabelled body'} ({one_line(text, 60)})"
    host = re.sub(r"^https?://", "", base_url).rstrip("/")
    return f"the endpoint answered {what}, not the Messages API: check base_url / proxy ({host})"
