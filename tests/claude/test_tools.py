"""Tool use through the real SDK against the fake API: the answer's content blocks echoed back
in a tool loop, the API's checks on that echo, several tool uses, and a scripted model."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fakeapi import FakeAPI, Reply
from scopewise.claude import (
    CallRequest,
    ClaudeClient,
    ClaudeError,
    Done,
    StreamEvent,
    ToolProgress,
    ToolUse,
)

LOOKUP = {
    "name": "lookup",
    "description": "The definition of a name in the workspace.",
    "input_schema": {
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
    },
}
THINKING = "The caller passes an event; I need handler's definition before renaming it."


def request(*history: dict[str, Any], **overrides: Any) -> CallRequest:
    base: dict[str, Any] = {
        "model": "claude-sonnet-5-5",
        "system": "You are scopewise.",
        "context": "# file: app.py\ndef main():\n    handler(1)\n",
        "prompt": "Rename handler to on_event.",
        "max_tokens": 4096,
        "thinking": {"type": "adaptive"},
        "tools": (LOOKUP,),
        "history": history,
    }
    base.update(overrides)
    return CallRequest(**base)


def results(*pairs: tuple[str, str]) -> dict[str, Any]:
    """The user turn answering tool uses: (tool_use_id, output) pairs."""
    content = [{"type": "tool_result", "tool_use_id": i, "content": out} for i, out in pairs]
    return {"role": "user", "content": content}


def assistant(content: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": list(content)}


async def test_a_two_turn_tool_loop_echoes_thinking_and_ends_with_text(
    claude: ClaudeClient, fake_api: FakeAPI
) -> None:
    fake_api.push(
        Reply(
            text="Let me look.",
            thinking=THINKING,
            tool_input={"name": "handler"},
            tool_name="lookup",
            stop_reason="tool_use",
        ),
        Reply(text="def on_event(event):\n    return event\n"),
    )
    events: list[StreamEvent] = []

    first = await claude.run(request(), events.append)

    assert first.stop_reason == "tool_use"  # a normal end, not an error
    assert [b["type"] for b in first.content] == ["thinking", "text", "tool_use"]
    assert first.content[0]["thinking"] == THINKING and first.content[0]["signature"]
    assert first.content == tuple(fake_api.sent[0])  # as the API sent it
    assert first.tool_uses == [ToolUse("toolu_01", "lookup", {"name": "handler"})]
    tool_events = [e for e in events if isinstance(e, ToolProgress)]
    assert tool_events[0] == ToolProgress("lookup", 0)
    assert tool_events[-1] == ToolProgress("lookup", len(json.dumps({"name": "handler"})))
    assert events[-1] == Done("tool_use", first.usage)

    second = await claude.run(
        request(assistant(first.content), results(("toolu_01", "def handler(event): ...")))
    )

    assert second.text == "def on_event(event):\n    return event\n"
    assert second.tool_uses == []
    sent = fake_api.last.body
    assert sent["tools"] == [LOOKUP]
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user"]
    assert sent["messages"][1]["content"] == fake_api.sent[0]


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (
            lambda c: [{**c[0], "thinking": c[0]["thinking"] + " (edited)"}, *c[1:]],
            "cannot be modified",
        ),
        (lambda c: [{**c[0], "signature": "forged"}, *c[1:]], "cannot be modified"),
        (lambda c: c[1:], "cannot be modified"),  # the thinking block dropped
        (lambda c: [c[0], {"type": "text", "text": "rebuilt"}, c[2]], "was modified"),
    ],
    ids=["thinking text", "signature", "thinking dropped", "text rebuilt"],
)
async def test_a_modified_echo_is_one_clear_error(
    claude: ClaudeClient, fake_api: FakeAPI, change: Any, said: str
) -> None:
    fake_api.push(
        Reply(
            text="Let me look.",
            thinking=THINKING,
            tool_input={"name": "handler"},
            tool_name="lookup",
            stop_reason="tool_use",
        )
    )
    first = await claude.run(request())
    echoed = change(list(first.content))

    with pytest.raises(ClaudeError) as caught:
        await claude.run(request(assistant(echoed), results(("toolu_01", "def handler(): ..."))))

    error = caught.value
    assert error.kind == "bad_request" and error.status_code == 400
    assert said in error.message and "messages.1" in error.message
    assert len(fake_api.message_requests) == 2  # refused once, not retried


async def test_redacted_thinking_comes_back_and_must_be_echoed(
    claude: ClaudeClient, fake_api: FakeAPI
) -> None:
    fake_api.push(
        Reply(
            text="",
            thinking=THINKING,
            redacted_thinking="EmwKAhgBEgy3va3pzix/LafPsn4a",
            tool_input={"name": "handler"},
            tool_name="lookup",
            stop_reason="tool_use",
        ),
        Reply(text="done"),
    )
    first = await claude.run(request())
    assert first.content[1] == {
        "type": "redacted_thinking",
        "data": "EmwKAhgBEgy3va3pzix/LafPsn4a",
    }
    answer = results(("toolu_01", "def handler(): ..."))

    with pytest.raises(ClaudeError, match="cannot be modified"):
        without = [b for b in first.content if b["type"] != "redacted_thinking"]
        await claude.run(request(assistant(without), answer))
    assert (await claude.run(request(assistant(first.content), answer))).text == "done"


async def test_several_tool_uses_in_one_reply_are_answered_together(
    claude: ClaudeClient, fake_api: FakeAPI
) -> None:
    reads = [("lookup", {"name": "handler"}), ("lookup", {"name": "main"})]
    fake_api.push(Reply(text="", tool_uses=reads), Reply(text="both read"))

    first = await claude.run(request(thinking=None))

    assert first.stop_reason == "tool_use"
    assert first.tool_uses == [
        ToolUse("toolu_01", "lookup", {"name": "handler"}),
        ToolUse("toolu_02", "lookup", {"name": "main"}),
    ]
    turn = assistant(first.content)
    with pytest.raises(ClaudeError, match=r"without `tool_result` blocks .*: toolu_02"):
        await claude.run(request(turn, results(("toolu_01", "a")), thinking=None))
    with pytest.raises(ClaudeError, match=r"unexpected `tool_use_id` .*: toolu_09"):
        await claude.run(
            request(
                turn,
                results(("toolu_01", "a"), ("toolu_02", "b"), ("toolu_09", "c")),
                thinking=None,
            )
        )
    answered = results(("toolu_01", "a"), ("toolu_02", "b"))
    assert (await claude.run(request(turn, answered, thinking=None))).text == "both read"


async def test_the_responder_answers_from_what_the_model_was_shown(
    claude: ClaudeClient, fake_api: FakeAPI
) -> None:
    def writer(body: dict[str, Any]) -> Reply:
        shown = body["messages"][0]["content"]
        old, new = "handler", "on_event"
        return Reply(text=shown.replace(old, new))

    fake_api.responder = writer
    fake_api.push(Reply(text="queued first"))

    queued = await claude.run(request(prompt="def handler(): pass"))
    one = await claude.run(request(prompt="def handler(): pass"))
    two = await claude.run(request(prompt="x = handler(1) + handler(2)"))

    assert queued.text == "queued first"
    assert one.text == "def on_event(): pass"
    assert two.text == "x = on_event(1) + on_event(2)"


async def test_a_failing_responder_is_a_server_error_naming_it(
    claude: ClaudeClient, fake_api: FakeAPI
) -> None:
    def broken(body: dict[str, Any]) -> Reply:
        raise LookupError("no such site")

    fake_api.responder = broken
    with pytest.raises(ClaudeError) as caught:
        await claude.run(request())
    assert caught.value.kind == "server"
    assert fake_api.message_requests[-1].body["model"] == "claude-sonnet-5-5"


async def test_a_stream_cut_inside_a_tool_use_is_an_error_not_a_short_answer(
    claude: ClaudeClient, fake_api: FakeAPI
) -> None:
    fake_api.push(
        Reply(
            text="",
            tool_input={"name": "handler" * 20},
            tool_name="lookup",
            chunks=6,
            stop_reason="tool_use",
            disconnect_after=6,
        )
    )
    events: list[StreamEvent] = []
    with pytest.raises(ClaudeError) as caught:
        await claude.run(request(thinking=None), events.append)
    assert caught.value.kind == "connection"
    assert any(isinstance(e, ToolProgress) and e.chars > 0 for e in events)
    assert caught.value.usage is not None and caught.value.usage.output_tokens > 1
