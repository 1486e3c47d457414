"""The fake API itself: what the real SDK makes of its replies."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from fakeapi import FakeAPI, Reply, tokens


def sdk(fake_api: FakeAPI, **kwargs: Any) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(
        api_key="sk-test", base_url=fake_api.base_url, max_retries=0, **kwargs
    )


MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]


async def test_non_streaming_message_with_all_block_types(fake_api: FakeAPI) -> None:
    client = sdk(fake_api)
    fake_api.push(
        Reply(text="done", thinking="plan", tool_input={"path": "a.py"}, stop_reason="tool_use")
    )
    message = await client.messages.create(
        model="claude-sonnet-5-5", max_tokens=100, messages=MESSAGES
    )
    await client.close()
    assert [block.type for block in message.content] == ["thinking", "text", "tool_use"]
    assert message.stop_reason == "tool_use"
    assert message.model == "claude-sonnet-5-5"
    expected = tokens("plan") + tokens("done") + tokens('{"path": "a.py"}')
    assert message.usage.output_tokens == expected
    assert message.usage.input_tokens == tokens("hi")
    assert "stream" not in fake_api.last.body


async def test_streamed_tool_use_and_usage_overrides(fake_api: FakeAPI) -> None:
    client = sdk(fake_api)
    fake_api.push(
        Reply(
            text="",
            tool_input={"edits": [{"line": 3, "text": "x = 1"}]},
            stop_reason="tool_use",
            usage={"output_tokens": 777, "thinking_tokens": 0},
        )
    )
    types: list[str] = []
    async with client.messages.stream(
        model="claude-haiku-5-5", max_tokens=100, messages=MESSAGES
    ) as stream:
        async for event in stream:
            types.append(event.type)
        message = await stream.get_final_message()
    await client.close()
    assert "input_json" in types and "text" not in types
    tool = message.content[0]
    assert tool.type == "tool_use" and tool.input == {"edits": [{"line": 3, "text": "x = 1"}]}
    assert message.usage.output_tokens == 777


async def test_api_key_check_and_error_json(fake_api: FakeAPI) -> None:
    fake_api.expected_api_key = "sk-right"
    client = sdk(fake_api)
    with pytest.raises(anthropic.AuthenticationError) as info:
        await client.messages.create(model="claude-haiku-5-5", max_tokens=10, messages=MESSAGES)
    await client.close()
    assert info.value.type == "authentication_error"
    assert info.value.request_id and info.value.request_id.startswith("req_")


async def test_cache_needs_a_breakpoint_and_the_minimum_length(fake_api: FakeAPI) -> None:
    client = sdk(fake_api)
    system: list[Any] = [{"type": "text", "text": "s" * 400}]
    for _ in range(2):
        await client.messages.create(
            model="claude-haiku-5-5", max_tokens=10, messages=MESSAGES, system=system
        )
    cached = [{"type": "text", "text": "s" * 400, "cache_control": {"type": "ephemeral"}}]
    fake_api.min_cache_tokens = 512
    short = await client.messages.create(
        model="claude-haiku-5-5", max_tokens=10, messages=MESSAGES, system=cached
    )
    fake_api.min_cache_tokens = 0
    auto = await client.messages.create(
        model="claude-haiku-5-5",
        max_tokens=10,
        messages=MESSAGES,
        system=system,
        cache_control={"type": "ephemeral", "ttl": "1h"},
    )
    await client.close()
    first, second = (r.body for r in fake_api.message_requests[:2])
    assert first == second
    assert short.usage.cache_creation_input_tokens == 0  # below the minimum: silently uncached
    assert short.usage.cache_read_input_tokens == 0
    assert auto.usage.cache_creation_input_tokens == tokens("s" * 400) + tokens("hi")
    assert auto.usage.cache_creation is not None
    assert auto.usage.cache_creation.ephemeral_1h_input_tokens == tokens("s" * 400) + tokens("hi")


async def test_models_endpoint_matches_the_sdk_types(fake_api: FakeAPI) -> None:
    client = sdk(fake_api, _strict_response_validation=True)
    info = await client.models.retrieve("claude-sonnet-5-5")
    with pytest.raises(anthropic.NotFoundError):
        await client.models.retrieve("claude-nope")
    await client.close()
    assert info.capabilities is not None
    assert info.capabilities.thinking.types.between_tools.supported
    assert info.capabilities.effort.xhigh is not None and info.capabilities.effort.xhigh.supported
