"""The advisor tool through the real SDK against the fake API: the beta call, the advice and
its progress, the advisor's own usage and what the call costs at each model's price."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from fakeapi import FakeAPI, Reply, tokens
from scopewise.claude import (
    AdvisorProgress,
    CallRequest,
    ClaudeClient,
    ClaudeError,
    StreamEvent,
    TextProgress,
    Usage,
    advised_cost_usd,
    cost_usd,
    price_for,
)

ADVICE = "Rename the definition and both call sites in one edit; keep the old name as an alias."
LOOKUP = {
    "name": "lookup",
    "description": "The definition of a name.",
    "input_schema": {"type": "object", "properties": {"name": {"type": "string"}}},
}
ADVISOR_TOOL = {"type": "advisor_20260301", "name": "advisor", "model": "claude-opus-5-5"}


def request(*history: dict[str, Any], **overrides: Any) -> CallRequest:
    base: dict[str, Any] = {
        "model": "claude-sonnet-5-5",
        "system": "You are scopewise.",
        "context": "# file: app.py\ndef handler(event):\n    return event\n" * 20,
        "prompt": "Rename handler to on_event everywhere.",
        "max_tokens": 4096,
        "tools": (LOOKUP,),
        "advisor": "claude-opus-5-5",
        "history": history,
    }
    base.update(overrides)
    return CallRequest(**base)


async def test_the_executor_consults_the_advisor_through_the_beta_api(
    claude: ClaudeClient, fake_api: FakeAPI
) -> None:
    fake_api.push(Reply(text="def on_event(event): ...", thinking="Plan first.", advice=ADVICE))
    events: list[StreamEvent] = []

    result = await claude.run(request(), events.append)

    sent = fake_api.last
    assert sent.headers["anthropic-beta"] == "advisor-tool-2026-03-01"
    assert sent.body["tools"] == [LOOKUP, ADVISOR_TOOL]  # the caller's tools first: cached
    assert result.advice == [ADVICE]
    assert result.text == "def on_event(event): ..."
    assert [b["type"] for b in result.content] == [
        "thinking",
        "server_tool_use",
        "advisor_tool_result",
        "text",
    ]
    consulted = [e for e in events if isinstance(e, AdvisorProgress)]
    assert consulted == [
        AdvisorProgress("claude-opus-5-5"),
        AdvisorProgress("claude-opus-5-5", True),
    ]
    first_text = next(i for i, e in enumerate(events) if isinstance(e, TextProgress))
    assert events.index(consulted[-1]) < first_text  # the advice came before the answer


async def test_the_advisors_tokens_are_kept_apart_and_priced_at_its_own_rate(
    claude: ClaudeClient, fake_api: FakeAPI
) -> None:
    fake_api.push(Reply(text="done", advice=ADVICE))

    result = await claude.run(request())

    executor = result.usage
    assert executor.output_tokens == tokens("done")  # the advice is not the executor's
    advisor = result.advisor_usage
    assert advisor is not None
    assert advisor.input_tokens == executor.total_input_tokens  # it read the transcript
    assert advisor.output_tokens == tokens(ADVICE)
    sonnet, opus = price_for("claude-sonnet-5-5"), price_for("claude-opus-5-5")
    assert sonnet is not None and opus is not None
    dollars = advised_cost_usd(executor, sonnet, advisor, opus)
    assert dollars == pytest.approx(cost_usd(executor, sonnet) + cost_usd(advisor, opus))
    assert dollars > advised_cost_usd(executor, sonnet, advisor, sonnet)


def test_advised_cost_prices_each_model_at_its_own_rate() -> None:
    sonnet, opus = price_for("claude-sonnet-5-5"), price_for("claude-opus-5-5")
    assert sonnet is not None and opus is not None
    executor = Usage(input_tokens=1000, output_tokens=200)
    advisor = Usage(input_tokens=3000, output_tokens=500)
    # sonnet $2 / $10 per MTok, opus $4 / $20: 0.004 + 0.022
    assert advised_cost_usd(executor, sonnet, advisor, opus) == pytest.approx(0.026)
    assert advised_cost_usd(executor, sonnet) == pytest.approx(0.004)
    with pytest.raises(ValueError, match="no price"):
        advised_cost_usd(executor, sonnet, advisor, None)


async def test_a_call_that_did_not_consult_has_no_advisor_usage(
    claude: ClaudeClient, fake_api: FakeAPI
) -> None:
    fake_api.push(Reply(text="easy"))
    events: list[StreamEvent] = []
    result = await claude.run(request(), events.append)
    assert result.advisor_usage is None and result.advice == []
    assert not [e for e in events if isinstance(e, AdvisorProgress)]


async def test_advice_in_a_tool_loop_is_echoed_and_needs_the_tool_kept(
    claude: ClaudeClient, fake_api: FakeAPI
) -> None:
    fake_api.push(
        Reply(
            text="",
            advice=ADVICE,
            tool_input={"name": "handler"},
            tool_name="lookup",
            stop_reason="tool_use",
        ),
        Reply(text="renamed"),
    )
    first = await claude.run(request())
    assert first.advice == [ADVICE] and first.tool_uses[0].name == "lookup"
    turn = {"role": "assistant", "content": list(first.content)}
    answer = {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": first.tool_uses[0].id, "content": "def handler"}
        ],
    }

    with pytest.raises(ClaudeError, match="require the advisor tool") as caught:
        await claude.run(request(turn, answer, advisor=None))
    assert caught.value.kind == "bad_request"
    assert (await claude.run(request(turn, answer))).text == "renamed"


async def test_the_advisor_on_another_provider_is_refused_without_calling(
    fake_api: FakeAPI,
) -> None:
    client = ClaudeClient(
        provider="bedrock",
        base_url=fake_api.base_url,
        provider_options={"api_key": "bedrock-key", "aws_region": "us-east-1"},
        max_retries=0,
    )
    with pytest.raises(ClaudeError) as caught:
        await client.run(request())
    with pytest.raises(ClaudeError):
        await client.count_tokens(request())
    await client.close()
    assert caught.value.kind == "unsupported"
    assert "advisor" in caught.value.message and "bedrock" in caught.value.message
    assert fake_api.requests == []


async def test_counting_tokens_with_an_advisor_uses_the_beta_api(
    claude: ClaudeClient, fake_api: FakeAPI
) -> None:
    with_advisor = await claude.count_tokens(request())
    assert "advisor-tool-2026-03-01" in fake_api.last.headers["anthropic-beta"].split(",")
    without = await claude.count_tokens(request(advisor=None))
    assert with_advisor > without  # the advisor tool is part of the prompt


async def test_the_fake_refuses_the_advisor_tool_without_its_beta_header(
    fake_api: FakeAPI,
) -> None:
    sdk = anthropic.AsyncAnthropic(api_key="sk-test", base_url=fake_api.base_url, max_retries=0)
    with pytest.raises(anthropic.BadRequestError, match="advisor-tool-2026-03-01"):
        await sdk.messages.create(
            model="claude-sonnet-5-5",
            max_tokens=100,
            messages=[{"role": "user", "content": "hi"}],
            tools=[ADVISOR_TOOL],  # type: ignore[list-item]
        )
    await sdk.close()
