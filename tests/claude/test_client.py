"""ClaudeClient end to end: the real SDK against the fake API over loopback HTTP."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from typing import Any

import pytest

from fakeapi import FakeAPI, Reply, tokens
from scopewise.claude import (
    CallCancelled,
    CallRequest,
    ClaudeClient,
    ClaudeError,
    Done,
    Retrying,
    StreamEvent,
    TextProgress,
    ThinkingProgress,
)
from scopewise.claude import client as client_mod

SYSTEM = "You are scopewise. Answer with code only."
CONTEXT = "# file: app.py\n" + "def handler(event):\n    return event\n" * 200


def request(**overrides: Any) -> CallRequest:
    base: dict[str, Any] = {
        "model": "claude-haiku-5-5",
        "system": SYSTEM,
        "context": CONTEXT,
        "prompt": "Rename handler to on_event.",
        "max_tokens": 2048,
    }
    base.update(overrides)
    return CallRequest(**base)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_streams_text_and_thinking_with_progress(
    claude: ClaudeClient, fake_api: FakeAPI
) -> None:
    thinking = "The handler is called from two places; rename both. " * 8
    fake_api.push(Reply(text="def on_event(event):\n    return event\n", thinking=thinking))
    events: list[StreamEvent] = []

    result = await claude.run(request(thinking={"type": "adaptive"}), events.append)

    assert result.text == "def on_event(event):\n    return event\n"
    assert result.thinking == thinking
    assert result.stop_reason == "end_turn"
    assert result.model == "claude-haiku-5-5"
    assert result.request_id and result.request_id.startswith("req_fake")
    assert result.usage.thinking_tokens == tokens(thinking)
    assert result.usage.output_tokens == tokens(thinking) + tokens(result.text)
    assert result.usage.input_tokens == tokens(request().prompt)
    assert not result.usage.estimated
    assert result.duration_s > 0
    thinking_events = [e for e in events if isinstance(e, ThinkingProgress)]
    text_events = [e for e in events if isinstance(e, TextProgress)]
    counts = [e.tokens_so_far for e in thinking_events]
    assert counts == sorted(counts) and counts[-1] == tokens(thinking)
    assert text_events[-1].chars == len(result.text)
    assert "".join(e.delta for e in text_events) == result.text
    assert events[-1] == Done("end_turn", result.usage)


async def test_async_callback_is_awaited(claude: ClaudeClient, fake_api: FakeAPI) -> None:
    fake_api.push(Reply(text="abc", chunks=3))
    seen: list[int] = []

    async def on_event(event: StreamEvent) -> None:
        await asyncio.sleep(0)
        if isinstance(event, TextProgress):
            seen.append(event.chars)

    await claude.run(request(), on_event)
    assert seen == [1, 2, 3]


async def test_callback_errors_propagate_unchanged(claude: ClaudeClient, fake_api: FakeAPI) -> None:
    def boom(event: StreamEvent) -> None:
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        await claude.run(request(), boom)


async def test_request_shape(claude: ClaudeClient, fake_api: FakeAPI) -> None:
    import anthropic._constants

    schema = {
        "type": "object",
        "properties": {"summary": {"type": "string"}},
        "required": ["summary"],
        "additionalProperties": False,
    }
    fake_api.push(Reply(text='{"summary": "renamed"}'))
    req = request(
        model="claude-opus-5-5",
        max_tokens=32000,
        thinking={"type": "adaptive", "display": "summarized"},
        effort="xhigh",
        output_schema=schema,
    )

    result = await claude.run(req)

    sent = fake_api.last
    assert sent.path == "/v1/messages"
    assert sent.headers["authorization"] == "Bearer sk-test"
    assert sent.headers["anthropic-version"] == anthropic._constants.ANTHROPIC_API_VERSION
    body = sent.body
    assert body["model"] == "claude-opus-5-5"
    assert body["max_tokens"] == 32000
    assert body["stream"] is True
    assert body["system"] == [
        {"type": "text", "text": SYSTEM},
        {"type": "text", "text": CONTEXT, "cache_control": {"type": "ephemeral"}},
    ]
    assert body["messages"] == [{"role": "user", "content": "Rename handler to on_event."}]
    assert body["thinking"] == {"type": "adaptive", "display": "summarized"}
    assert body["output_config"] == {
        "effort": "xhigh",
        "format": {"type": "json_schema", "schema": schema},
    }
    assert "temperature" not in body
    assert result.json() == {"summary": "renamed"}


async def test_request_params_without_cache_effort_or_context(claude: ClaudeClient) -> None:
    params = claude.request_params(request(cache=False))
    assert all("cache_control" not in block for block in params["system"])
    assert "output_config" not in params and "thinking" not in params

    params = claude.request_params(request(context=""))
    assert params["system"] == [
        {"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}
    ]
    assert "system" not in claude.request_params(request(system="", context=""))
    manual = claude.request_params(
        request(model="claude-haiku-4-5", thinking={"type": "enabled", "budget_tokens": 1024})
    )
    assert manual["thinking"] == {"type": "enabled", "budget_tokens": 1024}


async def test_second_call_on_same_context_reads_the_cache(
    claude: ClaudeClient, fake_api: FakeAPI
) -> None:
    context_tokens = tokens(CONTEXT)
    first = await claude.run(request(prompt="Explain handler."))
    second = await claude.run(request(prompt="Now add a docstring to handler."))
    other_model = await claude.run(request(model="claude-opus-5-5"))
    changed = await claude.run(request(context=CONTEXT + "# edited\n"))

    assert first.usage.cache_read_tokens == 0
    assert first.usage.cache_write_tokens >= context_tokens
    assert second.usage.cache_read_tokens >= 0.8 * context_tokens
    assert second.usage.cache_write_tokens == 0
    assert second.usage.input_tokens == tokens("Now add a docstring to handler.")
    assert other_model.usage.cache_read_tokens == 0  # caches are per model
    assert changed.usage.cache_read_tokens == 0  # the prefix must match byte for byte


async def test_cancel_closes_the_stream_and_keeps_partial_usage(
    claude: ClaudeClient, fake_api: FakeAPI
) -> None:
    fake_api.push(Reply(text="x" * 400, chunks=40, delay=0.05))
    got_text = asyncio.Event()

    def on_event(event: StreamEvent) -> None:
        if isinstance(event, TextProgress) and event.chars >= 20:
            got_text.set()

    started = time.monotonic()
    task = asyncio.create_task(claude.run(request(), on_event))
    await asyncio.wait_for(got_text.wait(), timeout=2)
    task.cancel()
    with pytest.raises(CallCancelled) as info:
        await task
    cancelled_at = time.monotonic()

    assert task.cancelled()
    assert fake_api.wait_for_disconnect(timeout=1.0)
    assert time.monotonic() - cancelled_at < 0.5
    assert time.monotonic() - started < 1.5  # the whole stream would take > 2 s
    usage = info.value.usage
    assert usage.cache_write_tokens >= tokens(CONTEXT)  # from message_start
    assert usage.output_tokens >= 5 and usage.estimated
    assert info.value.partial_text.startswith("x" * 20)


FAULTS: list[tuple[Reply, str, str, int | None]] = [
    (Reply.error(401), "auth", "check ANTHROPIC_API_KEY or scopewise.apiKey", 401),
    (Reply.error(403), "permission", "may not use claude-haiku-5-5 (403)", 403),
    (Reply.error(404, message="model: claude-nope"), "not_found", "model: claude-nope", 404),
    (
        Reply.error(400, message="thinking.type.disabled is not supported"),
        "bad_request",
        "rejected the request (400): thinking.type.disabled is not supported",
        400,
    ),
    (Reply.error(402), "billing", "credit balance is too low", 402),
    (Reply.error(413), "too_large", "narrow the context", 413),
    (Reply.error(429, retry_after=12), "rate_limit", "rate limited by the API; retry in 12 s", 429),
    (Reply.error(529), "overloaded", "Claude is overloaded (529); try again shortly", 529),
    (Reply.error(500), "server", "server error (500)", 500),
    (Reply.error(504), "timeout", "timed out (504)", 504),
    (Reply(error_event_after=4), "overloaded", "overloaded mid-answer", 200),
    (
        Reply(error_event_after=4, error_event_type="api_error"),
        "stream_error",
        "stream broke (api_error",
        200,
    ),
    (Reply(disconnect_after=4), "connection", "dropped mid-answer", None),
    (Reply(malformed=True), "stream_error", "malformed reply", None),
    (
        Reply(stop_reason="refusal", stop_details={"type": "refusal", "category": "cyber"}),
        "refusal",
        "Claude declined this request (cyber)",
        None,
    ),
    (Reply(stop_reason="max_tokens"), "max_tokens", "cut off at max_tokens (2048)", None),
    (
        Reply(stop_reason="model_context_window_exceeded"),
        "context_window",
        "context window",
        None,
    ),
]


@pytest.mark.parametrize(("reply", "kind", "text", "status"), FAULTS)
async def test_faults_map_to_claude_errors(
    claude: ClaudeClient,
    fake_api: FakeAPI,
    reply: Reply,
    kind: str,
    text: str,
    status: int | None,
) -> None:
    fake_api.push(reply)
    with pytest.raises(ClaudeError) as info:
        await claude.run(request())
    err = info.value
    assert err.kind == kind
    assert text in err.message
    assert "\n" not in err.message and str(err) == err.message
    assert err.status_code == status
    assert err.usage is not None
    if reply.status == 429:
        assert err.retry_after == 12
    if reply.error_event_after or reply.disconnect_after:
        assert err.usage.cache_write_tokens > 0  # partial usage from message_start
    if reply.stop_reason != "end_turn":
        assert err.result is not None and err.result.text == reply.text
    assert len(fake_api.message_requests) == 1  # max_retries=0: no retry


async def test_missing_key_is_detected_before_any_request(fake_api: FakeAPI) -> None:
    client = ClaudeClient(base_url=fake_api.base_url)
    problem = client.check()
    assert problem is not None and problem.kind == "auth_missing"
    with pytest.raises(ClaudeError) as info:
        await client.run(request())
    assert info.value.kind == "auth_missing"
    assert info.value.message == "ANTHROPIC_API_KEY is not set: export it or set scopewise.apiKey"
    with pytest.raises(ClaudeError, match="ANTHROPIC_API_KEY"):
        await client.count_tokens(request())
    assert fake_api.requests == []
    await client.close()


async def test_key_and_base_url_from_environment(
    fake_api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-from-env")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_api.base_url)
    fake_api.expected_api_key = "sk-from-env"
    client = ClaudeClient(max_retries=0)
    assert client.check() is None
    result = await client.run(request())
    assert result.text == Reply().text
    assert fake_api.last.headers["authorization"] == "Bearer sk-from-env"
    await client.close()


async def test_rate_limit_retry_after_is_honoured(fake_api: FakeAPI) -> None:
    client = ClaudeClient(api_key="sk-test", base_url=fake_api.base_url, max_retries=1)
    fake_api.push(Reply.error(429, retry_after=0.6), Reply(text="after the wait"))
    events: list[StreamEvent] = []
    started = time.monotonic()
    result = await client.run(request(), events.append)
    elapsed = time.monotonic() - started
    await client.close()

    assert result.text == "after the wait"
    assert elapsed >= 0.55
    (retrying,) = [e for e in events if isinstance(e, Retrying)]
    assert retrying.message() == "rate limited; retrying in 1 s (1/1)"
    assert events.index(retrying) == 0  # told before the wait, not after
    attempts = fake_api.message_requests
    assert len(attempts) == 2
    assert attempts[1].headers["x-stainless-retry-count"] == "1"


async def test_connection_refused_is_a_connection_error() -> None:
    port = free_port()
    client = ClaudeClient(api_key="sk-test", base_url=f"http://127.0.0.1:{port}", max_retries=0)
    with pytest.raises(ClaudeError) as info:
        await client.run(request())
    await client.close()
    assert info.value.kind == "connection"
    assert f"127.0.0.1:{port}" in info.value.message


async def test_idle_stream_times_out(fake_api: FakeAPI) -> None:
    client = ClaudeClient(api_key="sk-test", base_url=fake_api.base_url, timeout=0.3, max_retries=0)
    fake_api.push(Reply(delay=1.0))
    started = time.monotonic()
    with pytest.raises(ClaudeError) as info:
        await client.run(request())
    await client.close()
    assert info.value.kind == "timeout"
    assert "timed out" in info.value.message
    assert time.monotonic() - started < 0.9
    assert info.value.usage is not None and info.value.usage.cache_write_tokens > 0


async def test_count_tokens(claude: ClaudeClient, fake_api: FakeAPI) -> None:
    req = request(effort="low")
    counted = await claude.count_tokens(req)
    assert counted == tokens(SYSTEM) + tokens(CONTEXT) + tokens(req.prompt)
    sent = fake_api.last
    assert sent.path == "/v1/messages/count_tokens"
    assert sent.body["system"][1]["cache_control"] == {"type": "ephemeral"}
    assert sent.body["output_config"] == {"effort": "low"}
    assert "max_tokens" not in sent.body and "stream" not in sent.body

    fake_api.fail(429, endpoint="count_tokens", retry_after=3)
    with pytest.raises(ClaudeError) as info:
        await claude.count_tokens(req)
    assert info.value.kind == "rate_limit" and info.value.retry_after == 3


async def test_one_sdk_client_is_reused(claude: ClaudeClient, fake_api: FakeAPI) -> None:
    await claude.warm()
    sdk = claude._sdk_client
    await claude.run(request())
    await claude.run(request())
    assert claude._sdk_client is sdk is not None
    await claude.close()
    assert claude._sdk_client is None


def test_missing_cloud_extras_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_mod, "_has_module", lambda name: False)
    bedrock = ClaudeClient(provider="bedrock").check()
    vertex = ClaudeClient(provider="vertex").check()
    assert bedrock is not None and bedrock.kind == "config"
    assert "pip install 'scopewise[bedrock]'" in bedrock.message
    assert vertex is not None and "pip install 'scopewise[vertex]'" in vertex.message
    assert ClaudeClient(provider="vertex", provider_options={"access_token": "t"}).check() is None
    with pytest.raises(ValueError, match="unknown provider"):
        ClaudeClient(provider="azure")  # type: ignore[arg-type]


def test_importing_the_package_does_not_import_the_sdk() -> None:
    code = "import sys, scopewise.claude; assert 'anthropic' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


async def test_deadline_stops_a_slow_call_with_partial_usage(
    claude: ClaudeClient, fake_api: FakeAPI
) -> None:
    fake_api.push(Reply(text="z" * 100, chunks=50, delay=0.05))
    started = time.monotonic()
    with pytest.raises(ClaudeError) as info:
        await claude.run(request(), deadline_s=0.4)
    assert time.monotonic() - started < 0.8
    err = info.value
    assert err.kind == "timeout" and "within 0.4 s" in err.message
    assert err.usage is not None and err.usage.output_tokens >= 1
    assert err.usage.cache_write_tokens > 0
    assert fake_api.wait_for_disconnect(timeout=1.0)


async def test_overload_backoff_is_announced(fake_api: FakeAPI) -> None:
    client = ClaudeClient(api_key="sk-test", base_url=fake_api.base_url, max_retries=2)
    fake_api.push(Reply.error(529), Reply.error(529), Reply(text="third time"))
    events: list[StreamEvent] = []
    result = await client.run(request(), events.append)
    await client.close()
    assert result.text == "third time"
    said = [e.message() for e in events if isinstance(e, Retrying)]
    assert said == [
        "Claude is overloaded; retrying shortly (1/2)",
        "Claude is overloaded; retrying shortly (2/2)",
    ]


async def test_a_long_retry_after_fails_at_once_with_the_wait(fake_api: FakeAPI) -> None:
    """The SDK would sleep for as long as the API asks; an editor user should not wait an
    hour on a spinner: above max_retry_wait_s the call fails at once and says when to retry."""
    client = ClaudeClient(api_key="sk-test", base_url=fake_api.base_url, max_retries=2)
    fake_api.push(Reply.error(429, retry_after=3600))
    events: list[StreamEvent] = []
    started = time.monotonic()
    with pytest.raises(ClaudeError) as info:
        await client.run(request(), events.append)
    await client.close()
    assert time.monotonic() - started < 2
    assert info.value.message == "rate limited by the API; retry in 3600 s"
    assert len(fake_api.message_requests) == 1 and not events


async def test_deadline_covers_retry_waits(fake_api: FakeAPI) -> None:
    client = ClaudeClient(api_key="sk-test", base_url=fake_api.base_url, max_retries=1)
    fake_api.fail(529, retry_after=30)
    started = time.monotonic()
    with pytest.raises(ClaudeError) as info:
        await client.run(request(), deadline_s=0.3)
    await client.close()
    assert info.value.kind == "timeout"
    assert time.monotonic() - started < 0.8
