"""A fake Anthropic API on 127.0.0.1 for tests: real HTTP, scripted replies, faults, prompt cache.

Endpoints: ``POST /v1/messages`` (JSON or SSE), ``POST /v1/messages/count_tokens`` and
``GET /v1/models/{id}``. Replies come from per-endpoint queues of :class:`Reply`; with an
empty queue the server answers with a default reply (messages), an estimate (count_tokens)
or the entry in :attr:`FakeAPI.models` (models). Every request is recorded.

A scripted model: set :attr:`FakeAPI.responder` to a function of the parsed request body that
returns the :class:`Reply` (or None for the default); it answers every messages request the
queue does not, so a test can answer from what the model was shown (a writer that renames an
identifier in the text it was given, a planner that lists the sites it was sent). It runs on
the server's thread; if it raises, the request gets a 500 naming the exception.

Tool use: a reply may carry several tool uses (``Reply.tool_uses``, ids ``toolu_01``,
``toolu_02``... unique across the server). The fake keeps the content it sent per message
(:attr:`FakeAPI.sent`) and makes the real API's checks on a tool loop: each ``tool_result``
answers a ``tool_use`` of the assistant turn right before it, each ``tool_use`` is answered in
the next turn, and an assistant turn echoing one the fake sent comes back unmodified (thinking
text and signature included); otherwise a 400 with the API's kind of message.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import select
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Endpoint = Literal["messages", "count_tokens", "models"]

ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}

ERROR_MESSAGES: dict[str, str] = {
    "invalid_request_error": "messages: field required",
    "authentication_error": "invalid x-api-key",
    "billing_error": "Your credit balance is too low to access the Anthropic API.",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "The requested resource could not be found.",
    "timeout_error": "Request timed out.",
    "request_too_large": "Request exceeds the maximum allowed number of bytes.",
    "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit.",
    "api_error": "Internal server error",
    "overloaded_error": "Overloaded",
}


def tokens(text: str) -> int:
    """The fake tokenizer: ceil(len(text) / 4)."""
    return math.ceil(len(text) / 4)


@dataclass
class Reply:
    """One scripted answer (or fault) for the next request to an endpoint."""

    text: str = "Hello from the fake API."
    thinking: str | None = None  # None: no thinking block; "": block with only a signature
    redacted_thinking: str | None = None  # a redacted_thinking block's opaque data
    tool_input: dict[str, Any] | None = None  # one tool_use block (``tool_name``), first
    tool_name: str = "apply_edit"
    tool_uses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (name, input)
    stop_reason: str = "end_turn"  # with ``tool_uses``, "end_turn" is sent as "tool_use"
    stop_details: dict[str, Any] | None = None
    # the advisor tool: with the tool and its beta header in the request, the executor
    # consults the advisor first (server_tool_use + advisor_tool_result with this advice)
    advice: str | None = None
    advisor_usage: dict[str, int] = field(default_factory=dict)  # overrides of its tokens
    usage: dict[str, int] = field(default_factory=dict)  # overrides of reported usage
    chunks: int = 3  # deltas per content block
    delay: float = 0.0  # seconds before each SSE event after the first
    wait: float = 0.0  # seconds before the response starts (a slow first byte)
    # faults
    status: int = 200
    error_type: str | None = None
    error_message: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    disconnect_after: int | None = None  # drop the socket after N SSE events
    error_event_after: int | None = None  # send an `error` SSE event after N events
    error_event_type: str = "overloaded_error"
    malformed: bool = False  # broken JSON (first delta of a stream, or the whole body)
    end_after: int | None = None  # end the stream cleanly after N SSE events (no message_stop)
    body: bytes | None = None  # answer with these bytes instead (a proxy page, say), status 200
    content_type: str = "text/html; charset=utf-8"  # of ``body``

    @classmethod
    def error(
        cls,
        status: int,
        *,
        error_type: str | None = None,
        message: str | None = None,
        retry_after: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """An HTTP error reply with the API's error JSON (and ``retry-after`` if given)."""
        hdrs = dict(headers or {})
        if retry_after is not None:
            hdrs["retry-after"] = f"{retry_after:g}"
        return cls(status=status, error_type=error_type, error_message=message, headers=hdrs)

    def tools(self) -> list[tuple[str, dict[str, Any]]]:
        """Every tool use of the reply, (name, input), in order."""
        single = [(self.tool_name, self.tool_input)] if self.tool_input is not None else []
        return [*single, *self.tool_uses]

    @property
    def stop(self) -> str:
        """The stop reason sent: ``stop_reason``, "tool_use" for several tool uses left at
        the default."""
        return "tool_use" if self.tool_uses and self.stop_reason == "end_turn" else self.stop_reason


@dataclass
class RecordedRequest:
    """What the fake server received."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON (None for GET or unparseable bodies)
    raw: bytes
    disconnected: bool = False  # the client went away mid-response

    @property
    def system_blocks(self) -> list[dict[str, Any]]:
        system = (self.body or {}).get("system")
        if system is None:
            return []
        if isinstance(system, str):
            return [{"type": "text", "text": system}]
        return list(system)


@dataclass
class _Segment:
    key: str
    tokens: int
    ttl: str | None  # cache breakpoint TTL, None when no breakpoint here


class _ClientGone(Exception):
    pass


def model_json(
    model_id: str,
    *,
    display_name: str | None = None,
    max_input_tokens: int = 1_000_000,
    max_tokens: int = 128_000,
    thinking_types: tuple[str, ...] = ("adaptive",),
    efforts: tuple[str, ...] = ("low", "medium", "high", "xhigh", "max"),
    structured_outputs: bool = True,
) -> dict[str, Any]:
    """A Models API object shaped like ``GET /v1/models/{id}`` returns it."""

    def sup(flag: bool) -> dict[str, bool]:
        return {"supported": flag}

    return {
        "type": "model",
        "id": model_id,
        "display_name": display_name or model_id,
        "created_at": "2026-09-22T00:00:00Z",
        "lifecycle": "active",
        "deprecated_at": None,
        "retires_at": None,
        "line": None,
        "max_input_tokens": max_input_tokens,
        "max_tokens": max_tokens,
        "capabilities": {
            "batch": sup(True),
            "citations": sup(True),
            "code_execution": sup(True),
            "context_management": {"supported": True, "clear_thinking_20251015": sup(True)},
            "effort": {
                "supported": bool(efforts),
                **{level: sup(level in efforts) for level in ("low", "medium", "high", "max")},
                "xhigh": sup("xhigh" in efforts),
            },
            "image_input": sup(True),
            "pdf_input": sup(True),
            "server_tools": {
                "supported": True,
                "code_execution": sup(True),
                "web_search": sup(True),
            },
            "structured_outputs": sup(structured_outputs),
            "thinking": {
                "supported": bool(set(thinking_types) - {"disabled"}),
                "types": {
                    t: sup(t in thinking_types)
                    for t in ("adaptive", "enabled", "disabled", "between_tools")
                },
            },
        },
    }


def _default_models() -> dict[str, dict[str, Any]]:
    return {
        "claude-haiku-5-5": model_json("claude-haiku-5-5", display_name="Claude Haiku 5.5"),
        "claude-sonnet-5-5": model_json(
            "claude-sonnet-5-5",
            display_name="Claude Sonnet 5.5",
            thinking_types=("adaptive", "between_tools"),
        ),
        "claude-opus-5-5": model_json("claude-opus-5-5", display_name="Claude Opus 5.5"),
        "claude-fable-5-1": model_json("claude-fable-5-1", display_name="Claude Fable 5.1"),
        "claude-fable-5-2": model_json("claude-fable-5-2", display_name="Claude Fable 5.2"),
        "claude-haiku-4-5": model_json(
            "claude-haiku-4-5",
            display_name="Claude Haiku 4.5",
            max_input_tokens=200_000,
            max_tokens=64_000,
            thinking_types=("enabled", "disabled"),
            efforts=(),
        ),
    }


class FakeAPI:
    """The fake server. Use as a context manager, or call :meth:`start` / :meth:`stop`."""

    def __init__(self, *, expected_api_key: str | None = None) -> None:
        self.expected_api_key = expected_api_key  # if set, other keys get a 401
        self.models: dict[str, dict[str, Any]] = _default_models()
        self.min_cache_tokens = 0  # shorter cacheable prefixes are silently not cached
        self.requests: list[RecordedRequest] = []
        self._changed = threading.Condition()
        self._queues: dict[str, deque[Reply]] = {
            "messages": deque(),
            "count_tokens": deque(),
            "models": deque(),
        }
        self._cache: set[tuple[str, str]] = set()
        # scripts the model when the queue is empty: the parsed request body -> its reply
        self.responder: Callable[[dict[str, Any]], Reply | None] | None = None
        # the content blocks the fake sent, per message (echoes of them are checked)
        self.sent: list[list[dict[str, Any]]] = []
        self._sent_by_mark: dict[str, int] = {}  # a tool_use id or signature -> its message
        self._tool_ids = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> FakeAPI:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.api = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fakeapi", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeAPI is not running"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- scripting ----------------------------------------------------------------------------
    def push(self, *replies: Reply, endpoint: Endpoint = "messages") -> None:
        """Queue replies for the next requests to ``endpoint``."""
        with self._lock:
            self._queues[endpoint].extend(replies)

    def fail(self, status: int, *, endpoint: Endpoint = "messages", **kwargs: Any) -> None:
        """Queue one HTTP error (see :meth:`Reply.error`)."""
        self.push(Reply.error(status, **kwargs), endpoint=endpoint)

    def pending(self, endpoint: Endpoint = "messages") -> int:
        with self._lock:
            return len(self._queues[endpoint])

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def wait_for_disconnect(
        self, request: RecordedRequest | None = None, timeout: float = 2.0
    ) -> bool:
        """Wait until the client dropped ``request`` (default: the last messages request)."""
        with self._changed:
            return self._changed.wait_for(
                lambda: (request or self.message_requests[-1]).disconnected, timeout
            )

    # -- inspection ---------------------------------------------------------------------------
    @property
    def message_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == "/v1/messages"]

    @property
    def last(self) -> RecordedRequest:
        with self._lock:
            return self.requests[-1]

    # -- internals used by the handler --------------------------------------------------------
    def _next(self, endpoint: Endpoint) -> Reply | None:
        with self._lock:
            queue = self._queues[endpoint]
            return queue.popleft() if queue else None

    def _reply_for(self, body: dict[str, Any], headers: dict[str, str]) -> Reply:
        """The queued reply, else the responder's, else the default; a request that breaks
        the tool-use rules gets the API's 400 instead."""
        problem = advisor_problem(body, headers) or turn_problem(
            body.get("messages") or [], self._sent_for
        )
        if problem is not None:
            return Reply.error(400, message=problem)
        reply = self._next("messages")
        if reply is None and self.responder is not None:
            try:
                reply = self.responder(body)
            except Exception as exc:
                return Reply.error(500, message=f"the test's responder failed: {exc!r}")
        return reply or Reply()

    def _compose(self, reply: Reply, advisor: str | None = None) -> list[dict[str, Any]]:
        """The content blocks of one reply (fresh tool_use ids and signature), recorded;
        with an ``advisor`` in the request, the advice (if any) after the thinking."""
        with self._lock:
            n = len(self.sent) + 1
            content: list[dict[str, Any]] = []
            if reply.thinking is not None:
                signature = f"EqQBCkYIBxgCKkA{n:04d}="
                content.append(
                    {"type": "thinking", "thinking": reply.thinking, "signature": signature}
                )
            if reply.redacted_thinking is not None:
                content.append({"type": "redacted_thinking", "data": reply.redacted_thinking})
            if advisor and reply.advice is not None:
                self._tool_ids += 1
                consult = f"srvtoolu_{self._tool_ids:02d}"
                result = {"type": "advisor_result", "text": reply.advice}
                content.append(
                    {"type": "server_tool_use", "id": consult, "name": "advisor", "input": {}}
                )
                content.append(
                    {"type": "advisor_tool_result", "tool_use_id": consult, "content": result}
                )
            if reply.text or (reply.thinking is None and not reply.tools()):
                content.append({"type": "text", "text": reply.text})
            for name, tool_input in reply.tools():
                self._tool_ids += 1
                tool_id = f"toolu_{self._tool_ids:02d}"
                content.append(
                    {"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}
                )
            self.sent.append(content)
            for mark in _marks(content):
                self._sent_by_mark[mark] = n - 1
            return content

    def _sent_for(self, content: list[Any]) -> list[dict[str, Any]] | None:
        """The content the fake sent that ``content`` (an assistant turn) echoes, if any."""
        with self._lock:
            index = next(
                (self._sent_by_mark[m] for m in _marks(content) if m in self._sent_by_mark), None
            )
            return None if index is None else self.sent[index]

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _segments(self, body: dict[str, Any]) -> list[_Segment]:
        """Tools, system and messages as cacheable segments, in cache order."""
        segs: list[_Segment] = []

        def add(block: Any) -> None:
            if isinstance(block, str):
                segs.append(_Segment(block, tokens(block), None))
                return
            if not isinstance(block, dict):
                return
            control = block.get("cache_control")
            content = {k: v for k, v in block.items() if k != "cache_control"}
            key = (
                content["text"]
                if content.get("type") == "text" and isinstance(content.get("text"), str)
                else json.dumps(content, sort_keys=True)
            )
            ttl = str(control.get("ttl", "5m")) if isinstance(control, dict) else None
            segs.append(_Segment(key, tokens(key), ttl))

        for tool in body.get("tools") or []:
            add(tool)
        system = body.get("system")
        if isinstance(system, list):
            for block in system:
                add(block)
        elif isinstance(system, str):
            add(system)
        for message in body.get("messages") or []:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, list):
                for block in content:
                    add(block)
            elif isinstance(content, str):
                add(content)
        auto = body.get("cache_control")
        if isinstance(auto, dict) and segs and segs[-1].ttl is None:
            segs[-1].ttl = str(auto.get("ttl", "5m"))
        return segs

    def _input_usage(self, body: dict[str, Any], *, update: bool) -> dict[str, Any]:
        """Prompt-cache simulation: cached prefix reads, new prefix writes, the rest as input."""
        model = str(body.get("model", ""))
        segs = self._segments(body)
        total = sum(s.tokens for s in segs)
        breakpoints = [i for i, s in enumerate(segs) if s.ttl is not None]
        usage: dict[str, Any] = {
            "input_tokens": total,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        }
        if not breakpoints:
            return usage
        prefix_keys: dict[int, tuple[str, str]] = {}
        digest = hashlib.sha256()
        for i, seg in enumerate(segs):
            digest.update(seg.key.encode() + b"\x00")
            if i in breakpoints:
                prefix_keys[i] = (model, digest.hexdigest())
        last = breakpoints[-1]
        cacheable = sum(s.tokens for s in segs[: last + 1])
        if cacheable < self.min_cache_tokens:
            return usage
        with self._lock:
            hit = next((i for i in reversed(breakpoints) if prefix_keys[i] in self._cache), -1)
            if update:
                self._cache.update(prefix_keys.values())
        read = sum(s.tokens for s in segs[: hit + 1])
        write = cacheable - read
        usage["cache_read_input_tokens"] = read
        usage["cache_creation_input_tokens"] = write
        bucket = (
            "ephemeral_1h_input_tokens" if segs[last].ttl == "1h" else "ephemeral_5m_input_tokens"
        )
        usage["cache_creation"][bucket] = write
        usage["input_tokens"] = total - read - write
        return usage


ADVISOR_BETA = "advisor-tool-2026-03-01"
ADVISOR_TOOL = "advisor_20260301"


def advisor_of(body: dict[str, Any]) -> str | None:
    """The advisor model of a request's advisor tool, if it has one."""
    for tool in body.get("tools") or []:
        if isinstance(tool, dict) and tool.get("type") == ADVISOR_TOOL:
            return str(tool.get("model") or "") or None
    return None


def advisor_problem(body: dict[str, Any], headers: dict[str, str]) -> str | None:
    """The API's 400 for the advisor tool without its beta header, or for advice in the
    history of a request that no longer has the tool."""
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict)]
    advised = [t for t in tools if t.get("type") == ADVISOR_TOOL]
    betas = {b.strip() for b in headers.get("anthropic-beta", "").split(",")}
    where = f"tools.{tools.index(advised[0])}" if advised else ""
    if advised and ADVISOR_BETA not in betas:
        return f"{where}: the advisor tool requires the beta header {ADVISOR_BETA}"
    if advised and not advised[0].get("model"):
        return f"{where}.model: Field required"
    for i, message in enumerate(body.get("messages") or []):
        content = message.get("content") if isinstance(message, dict) else None
        if _ids(content, "advisor_tool_result", "tool_use_id") and not advised:
            return (
                f"messages.{i}: `advisor_tool_result` blocks require the advisor tool in "
                "`tools`; keep it for the whole conversation"
            )
    return None


def _iterations(final: dict[str, Any], reply: Reply, advisor: str) -> list[dict[str, Any]]:
    """Usage per sampling iteration: the executor's (the top-level counts) and the
    advisor's, which reads the whole transcript and writes the advice."""
    executor = {
        "type": "message",
        "input_tokens": final["input_tokens"],
        "output_tokens": final["output_tokens"],
        "cache_creation_input_tokens": final.get("cache_creation_input_tokens", 0),
        "cache_read_input_tokens": final.get("cache_read_input_tokens", 0),
    }
    read = (
        final["input_tokens"]
        + final.get("cache_creation_input_tokens", 0)
        + final.get("cache_read_input_tokens", 0)
    )
    advice = {
        "type": "advisor_message",
        "model": advisor,
        "input_tokens": read,
        "output_tokens": tokens(reply.advice or ""),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    advice.update(reply.advisor_usage)
    return [executor, advice]


def _marks(content: list[Any]) -> list[str]:
    """What identifies a message the fake sent: its tool_use ids and thinking signatures."""
    marks: list[str] = []
    for block in content:
        if isinstance(block, dict):
            if block.get("type") in ("tool_use", "server_tool_use") and isinstance(
                block.get("id"), str
            ):
                marks.append(block["id"])
            elif block.get("type") == "thinking" and isinstance(block.get("signature"), str):
                marks.append(block["signature"])
    return marks


def _ids(content: Any, kind: str, key: str) -> list[str]:
    blocks = content if isinstance(content, list) else []
    return [str(b.get(key)) for b in blocks if isinstance(b, dict) and b.get("type") == kind]


def turn_problem(
    messages: list[Any], sent_for: Callable[[list[Any]], list[dict[str, Any]] | None]
) -> str | None:
    """The API's 400 message for a conversation that breaks the tool-use rules, or None:
    every tool_result answers a tool_use of the assistant turn right before it, every
    tool_use is answered in the next turn, and an assistant turn that echoes one the API
    sent (found by ``sent_for``) is unmodified, thinking and signatures included."""
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if message.get("role") == "assistant" and isinstance(content, list):
            original = sent_for(content)
            if original is not None and content != original:
                return f"messages.{i}: {_echo_problem(content, original)}"
            uses = _ids(content, "tool_use", "id")
            answered = _ids(
                (messages[i + 1 :] or [{}])[0].get("content"), "tool_result", "tool_use_id"
            )
            missing = [u for u in uses if u not in answered]
            if missing and i + 1 < len(messages):
                return (
                    f"messages.{i}: `tool_use` ids were found without `tool_result` blocks "
                    f"immediately after: {', '.join(missing)}. Each `tool_use` block must have a "
                    "corresponding `tool_result` block in the next message."
                )
        results = _ids(content, "tool_result", "tool_use_id")
        if message.get("role") == "user" and results:
            before = messages[i - 1] if i else {}
            uses = _ids(
                before.get("content") if isinstance(before, dict) else None, "tool_use", "id"
            )
            stray = [r for r in results if r not in uses]
            if stray:
                return (
                    f"messages.{i}.content: unexpected `tool_use_id` found in `tool_result` "
                    f"blocks: {', '.join(stray)}. Each `tool_result` block must have a "
                    "corresponding `tool_use` block in the previous message."
                )
    return None


def _echo_problem(content: list[Any], original: list[dict[str, Any]]) -> str:
    def thinking(blocks: list[Any]) -> list[Any]:
        return [b for b in blocks if isinstance(b, dict) and "thinking" in str(b.get("type"))]

    if thinking(content) != thinking(original):
        return (
            "`thinking` or `redacted_thinking` blocks in the latest assistant message cannot be "
            "modified. These blocks must remain as they were in the original response."
        )
    return "the assistant turn was modified: echo the content blocks as the API sent them."


class _Server(ThreadingHTTPServer):
    """Many clients at once (a wide change's writers): the standard library's listen backlog
    of 5 turns the rest away as connection errors."""

    request_queue_size = 128


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30
    server: ThreadingHTTPServer

    @property
    def api(self) -> FakeAPI:
        return self.server.api  # type: ignore[attr-defined,no-any-return]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- plumbing -----------------------------------------------------------------------------
    def _read_request(self) -> RecordedRequest:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        rec = RecordedRequest(
            method=self.command,
            path=self.path.split("?", 1)[0],
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            raw=raw,
        )
        self.api._record(rec)
        return rec

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", _request_id())
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, reply: Reply) -> None:
        etype = reply.error_type or ERROR_TYPES.get(reply.status, "api_error")
        message = reply.error_message or ERROR_MESSAGES.get(etype, "error")
        payload = {
            "type": "error",
            "error": {"type": etype, "message": message},
            "request_id": _request_id(),
        }
        self._send_json(reply.status, payload, reply.headers)

    def _authorized(self, rec: RecordedRequest) -> bool:
        key = self.api.expected_api_key
        if key is None:
            return True
        return rec.headers.get("authorization") == f"Bearer {key}" or (
            rec.headers.get("x-api-key") == key
        )

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if readable:
                peeked: bytes = self.connection.recv(1, socket.MSG_PEEK)
                return peeked == b""
        except OSError:
            return True
        return False

    def _pause(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while True:
            if self._client_gone():
                raise _ClientGone
            if self.api._stopping.is_set():
                raise _ClientGone
            remaining = end - time.monotonic()
            if remaining <= 0:
                return
            select.select([self.connection], [], [], min(remaining, 0.05))

    def _chunk(self, data: bytes) -> None:
        if self._client_gone():
            raise _ClientGone
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    # -- routes -------------------------------------------------------------------------------
    def do_GET(self) -> None:
        rec = self._read_request()
        if not self._authorized(rec):
            self._send_error(Reply.error(401))
            return
        if rec.path.startswith("/v1/models/"):
            model_id = rec.path[len("/v1/models/") :]
            reply = self.api._next("models")
            if reply is not None and (
                reply.status != 200 or reply.malformed or reply.body is not None
            ):
                self._send_fault(reply)
                return
            info = self.api.models.get(model_id)
            if info is None:
                self._send_error(Reply.error(404, message=f"model: {model_id}"))
                return
            self._send_json(200, info)
            return
        self._send_error(Reply.error(404, message=f"Not found: {rec.path}"))

    def do_POST(self) -> None:
        rec = self._read_request()
        if not self._authorized(rec):
            self._send_error(Reply.error(401))
            return
        body = rec.body if isinstance(rec.body, dict) else None
        if body is None:
            self._send_error(Reply.error(400, message="request body is not valid JSON"))
            return
        if rec.path == "/v1/messages/count_tokens":
            reply = self.api._next("count_tokens")
            if reply is not None:
                self._send_fault(reply)
                return
            usage = self.api._input_usage(body, update=False)
            total = (
                usage["input_tokens"]
                + usage["cache_creation_input_tokens"]
                + usage["cache_read_input_tokens"]
            )
            self._send_json(200, {"input_tokens": total})
            return
        if rec.path != "/v1/messages":
            self._send_error(Reply.error(404, message=f"Not found: {rec.path}"))
            return
        if "max_tokens" not in body or "messages" not in body or "model" not in body:
            self._send_error(
                Reply.error(400, message="model, max_tokens and messages are required")
            )
            return
        reply = self.api._reply_for(body, rec.headers)
        if reply.wait:
            try:
                self._pause(reply.wait)
            except _ClientGone:
                self.close_connection = True
                with self.api._changed:
                    rec.disconnected = True
                    self.api._changed.notify_all()
                return
        if reply.status != 200:
            self._send_error(reply)
            return
        if reply.body is not None:
            self._send_raw(reply)
            return
        usage = self.api._input_usage(body, update=True)
        if body.get("stream"):
            try:
                self._stream(rec, body, reply, usage)
            except (_ClientGone, BrokenPipeError, ConnectionResetError):
                self.close_connection = True
                with self.api._changed:
                    rec.disconnected = True
                    self.api._changed.notify_all()
        else:
            self._send_message(body, reply, usage)

    def _send_fault(self, reply: Reply) -> None:
        if reply.body is not None:
            self._send_raw(reply)
        elif reply.malformed:
            self._send_json(200, b'{"type": "model", "id": "claude-')
        elif reply.status != 200:
            self._send_error(reply)
        else:
            self._send_json(200, {"input_tokens": reply.usage.get("input_tokens", 0)})

    def _send_raw(self, reply: Reply) -> None:
        """A 200 answer that is not the Messages API (an HTML login page from a proxy...)."""
        data = reply.body or b""
        self.send_response(200)
        self.send_header("content-type", reply.content_type)
        self.send_header("content-length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    # -- messages -----------------------------------------------------------------------------
    @staticmethod
    def _final_usage(
        reply: Reply, usage: dict[str, Any], advisor: str | None = None
    ) -> dict[str, Any]:
        thinking_tokens = tokens(reply.thinking or "")
        output = thinking_tokens + tokens(reply.text)
        output += sum(tokens(json.dumps(tool_input)) for _, tool_input in reply.tools())
        final = dict(usage)
        final["output_tokens"] = max(output, 1)
        final["output_tokens_details"] = {"thinking_tokens": thinking_tokens}
        for key, value in reply.usage.items():
            if key == "thinking_tokens":
                final["output_tokens_details"] = {"thinking_tokens": value}
            else:
                final[key] = value
        if advisor and reply.advice is not None:
            final["iterations"] = _iterations(final, reply, advisor)
        return final

    def _send_message(self, body: dict[str, Any], reply: Reply, usage: dict[str, Any]) -> None:
        if reply.malformed:
            self._send_json(200, b'{"id": "msg_01", "type": "message", "content": [')
            return
        advisor = advisor_of(body)
        final = self._final_usage(reply, usage, advisor)
        final["service_tier"] = "standard"
        message = {
            "id": _message_id(),
            "type": "message",
            "role": "assistant",
            "model": body.get("model"),
            "content": self.api._compose(reply, advisor),
            "stop_reason": reply.stop,
            "stop_sequence": None,
            "stop_details": reply.stop_details,
            "usage": final,
        }
        self._send_json(200, message, reply.headers)

    def _events(
        self, body: dict[str, Any], reply: Reply, usage: dict[str, Any]
    ) -> Iterator[tuple[str, Any]]:
        start_usage = {**usage, "output_tokens": 1, "service_tier": "standard"}
        yield (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": _message_id(),
                    "type": "message",
                    "role": "assistant",
                    "model": body.get("model"),
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": start_usage,
                },
            },
        )
        yield "ping", {"type": "ping"}
        advisor = advisor_of(body)
        for index, block in enumerate(self.api._compose(reply, advisor)):
            yield from _block_events(index, block, reply.chunks)
        final = self._final_usage(reply, usage, advisor)
        final.pop("cache_creation", None)
        yield (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": reply.stop,
                    "stop_sequence": None,
                    "stop_details": reply.stop_details,
                },
                "usage": final,
            },
        )
        yield "message_stop", {"type": "message_stop"}

    def _stream(
        self, rec: RecordedRequest, body: dict[str, Any], reply: Reply, usage: dict[str, Any]
    ) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("request-id", _request_id())
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        malformed_pending = reply.malformed
        for sent, (name, data) in enumerate(self._events(body, reply, usage)):
            if reply.disconnect_after is not None and sent >= reply.disconnect_after:
                self._drop()
                return
            if reply.end_after is not None and sent >= reply.end_after:
                break  # a well-formed end of the body, but no message_stop
            if reply.error_event_after is not None and sent >= reply.error_event_after:
                etype = reply.error_event_type
                error = {
                    "type": "error",
                    "error": {"type": etype, "message": ERROR_MESSAGES.get(etype, etype)},
                    "request_id": _request_id(),
                }
                self._chunk(_sse("error", json.dumps(error)))
                break
            if sent and reply.delay:
                self._pause(reply.delay)
            payload = json.dumps(data)
            if malformed_pending and name == "content_block_delta":
                payload = payload[: len(payload) // 2]
                malformed_pending = False
            self._chunk(_sse(name, payload))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _drop(self) -> None:
        """Cut the connection mid-body, the way a network failure would."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _sse(event: str, data: str) -> bytes:
    return f"event: {event}\ndata: {data}\n\n".encode()


def _block_events(index: int, block: dict[str, Any], chunks: int) -> Iterator[tuple[str, Any]]:
    """One content block as the API streams it: an empty start, its deltas, the stop (blocks
    with nothing to stream, such as redacted thinking, start whole)."""
    kind = block["type"]
    if kind == "thinking":
        yield _block_start(index, {"type": "thinking", "thinking": "", "signature": ""})
        for piece in _split(block["thinking"], chunks):
            yield _delta(index, {"type": "thinking_delta", "thinking": piece})
        yield _delta(index, {"type": "signature_delta", "signature": block["signature"]})
    elif kind == "text":
        yield _block_start(index, {"type": "text", "text": ""})
        for piece in _split(block["text"], chunks):
            yield _delta(index, {"type": "text_delta", "text": piece})
    elif kind in ("tool_use", "server_tool_use"):
        yield _block_start(index, {**block, "input": {}})
        yield _delta(index, {"type": "input_json_delta", "partial_json": ""})
        for piece in _split(json.dumps(block["input"]), chunks):
            yield _delta(index, {"type": "input_json_delta", "partial_json": piece})
    else:
        yield _block_start(index, block)
    yield _block_stop(index)


def _block_start(index: int, block: dict[str, Any]) -> tuple[str, Any]:
    return (
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": block},
    )


def _delta(index: int, delta: dict[str, Any]) -> tuple[str, Any]:
    return "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}


def _block_stop(index: int) -> tuple[str, Any]:
    return "content_block_stop", {"type": "content_block_stop", "index": index}


def _split(text: str, chunks: int) -> list[str]:
    if not text:
        return []
    n = max(1, min(chunks, len(text)))
    size = math.ceil(len(text) / n)
    return [text[i : i + size] for i in range(0, len(text), size)]


def _request_id() -> str:
    return "req_fake" + uuid.uuid4().hex[:16]


def _message_id() -> str:
    return "msg_fake" + uuid.uuid4().hex[:16]
