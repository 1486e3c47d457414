"""Answers that are not a whole Messages API answer (issue #11, point 6): a stream cut before
``message_stop``, a 200 page from a proxy, other non-stream bodies, an explanation with no
text. Each is an error the user can act on — exit 3 and one line from the CLI, an error
message from the server — never half an answer shown as a success, and the ledger says
"error", not "ok"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fakeapi import FakeAPI, Reply
from scopewise.actions.plan import ActionRequest, Actions
from scopewise.analysis.engine import Engine
from scopewise.claude.client import CallRequest, ClaudeClient, ClaudeError
from scopewise.claude.ledger import Ledger
from scopewise.settings import Settings

sys.path.insert(0, str(Path(__file__).parents[1] / "lsp"))  # the LSP test client
from lspclient import copy_poly, start_editor, stop_editor

PROXY_PAGE = (
    b"<!DOCTYPE html><html><head><title>Corp Gateway - Sign in</title></head>"
    b"<body><form>user / password</form></body></html>"
)
EXPLANATION = "It applies a discount, capped at MAX_DISCOUNT, to the price."
EDIT = json.dumps(
    {
        "summary": "cap",
        "edits": [
            {
                "path": "shop/pricing.py",
                "old_text": "MAX_DISCOUNT = 0.5",
                "new_text": "MAX_DISCOUNT = 0.4",
            }
        ],
    }
)


def cli(args: list[str], cwd: Path, api: FakeAPI) -> subprocess.CompletedProcess[str]:
    env = os.environ.copy()
    env.update(ANTHROPIC_BASE_URL=api.base_url, ANTHROPIC_API_KEY="sk-test")
    return subprocess.run(
        [sys.executable, "-m", "scopewise.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


def one_line(stderr: str, needle: str) -> str:
    """The single stderr line that carries ``needle`` (and no traceback anywhere)."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if needle in line]
    assert len(lines) == 1, stderr
    return lines[0]


def last_call() -> tuple[str, int, float]:
    """The newest ledger row (this test's state folder): outcome, input tokens, dollars."""
    ledger = Ledger()
    try:
        entry = ledger.recent(1)[0]
    finally:
        ledger.close()
    return entry.outcome, entry.input_tokens + entry.cache_write_tokens, entry.usd


# ---------------------------------------------------------------------------- the CLI
def test_cli_cut_explanation_is_an_error_not_half_an_answer(poly: Path, fake_api: FakeAPI) -> None:
    # the body ends well-formed after the first words, but without message_stop
    fake_api.push(Reply(text=EXPLANATION, chunks=8, end_after=6))
    out = cli(["explain", "shop/pricing.py:29-32"], poly, fake_api)
    assert out.returncode == 3, out.stderr
    line = one_line(out.stderr, "mid-answer")
    assert line == "scopewise: the connection closed mid-answer; nothing applied"
    assert out.stdout == ""  # no half explanation on stdout
    outcome, tokens_in, _ = last_call()
    assert outcome == "error" and tokens_in > 0  # what it spent is still accounted for


def test_cli_cut_edit_applies_nothing(poly: Path, fake_api: FakeAPI) -> None:
    before = (poly / "shop/pricing.py").read_text()
    fake_api.push(Reply(text=EDIT, chunks=10, end_after=9))
    out = cli(["refactor", "shop/pricing.py:29-32", "--apply"], poly, fake_api)
    assert out.returncode == 3, out.stderr
    one_line(out.stderr, "the connection closed mid-answer; nothing applied")
    assert (poly / "shop/pricing.py").read_text() == before
    assert last_call()[0] == "error"


def test_cli_html_from_a_proxy_names_the_problem(poly: Path, fake_api: FakeAPI) -> None:
    # a proxy that answers every request with its login page, status 200
    fake_api.push(Reply(body=PROXY_PAGE), endpoint="models")
    fake_api.push(Reply(body=PROXY_PAGE))
    out = cli(["explain", "shop/pricing.py:29-32"], poly, fake_api)
    assert out.returncode == 3, out.stderr
    line = one_line(out.stderr, "not the Messages API")
    assert "the endpoint answered HTML ('Corp Gateway - Sign in'), not the Messages API: " in line
    assert "check base_url / proxy (127.0.0.1:" in line
    assert out.stdout == "" and "$0.0000" not in out.stderr  # no empty "explanation"
    outcome, _, usd = last_call()
    assert outcome == "error" and usd == 0.0


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        (Reply(text="", thinking="The discount is clamped first, then applied."),
         "the model returned no explanation (thinking only)"),
        (Reply(text="  \n"), "the model returned no explanation (empty)"),
    ],
    ids=["thinking-only", "empty"],
)  # fmt: skip
def test_cli_explanation_without_text_says_so(
    poly: Path, fake_api: FakeAPI, reply: Reply, says: str
) -> None:
    fake_api.push(reply)
    out = cli(["explain", "shop/pricing.py:29-32"], poly, fake_api)
    assert out.returncode == 3, out.stderr
    assert one_line(out.stderr, "returned no") == f"scopewise: {says}"
    assert out.stdout == ""
    assert last_call()[0] == "error"


# ---------------------------------------------------------------------------- client and Actions
@pytest.fixture
async def claude(fake_api: FakeAPI) -> AsyncIterator[ClaudeClient]:
    client = ClaudeClient(api_key="sk-test", base_url=fake_api.base_url, max_retries=0, timeout=5)
    yield client
    await client.close()


@pytest.mark.parametrize(
    ("reply", "what"),
    [
        (Reply(body=PROXY_PAGE), "HTML ('Corp Gateway - Sign in')"),
        (Reply(body=b"<html><body>blocked</body></html>", content_type="text/plain"), "HTML"),
        (Reply(body=b'{"status": "ok"}', content_type="application/json"),
         'JSON without a stream ({"status": "ok"})'),
        (Reply(body=b"", content_type="text/plain"), "an empty body (text/plain)"),
        (Reply(body=b"upstream connect error", content_type="text/plain"),
         "text/plain (upstream connect error)"),
        (Reply(body=b"<html>not events</html>", content_type="text/event-stream"),
         "an event stream with no Messages API events"),
    ],
    ids=["html", "html-mislabelled", "json", "empty", "text", "sse-without-events"],
)  # fmt: skip
async def test_non_api_bodies_say_what_they_were(
    claude: ClaudeClient, fake_api: FakeAPI, reply: Reply, what: str
) -> None:
    fake_api.push(reply)
    with pytest.raises(ClaudeError) as info:
        await claude.run(CallRequest("claude-haiku-5-5", "system", "context", "explain", 512))
    err = info.value
    assert err.kind == "not_api"
    assert f"the endpoint answered {what}" in err.message
    assert "check base_url / proxy" in err.message and "\n" not in err.message


async def test_models_and_count_tokens_on_a_proxy_page_are_clear(
    claude: ClaudeClient, fake_api: FakeAPI
) -> None:
    fake_api.push(Reply(body=PROXY_PAGE), endpoint="models")
    with pytest.raises(ClaudeError, match=r"answered HTML .* not the Messages API"):
        await claude.retrieve_model("claude-haiku-5-5")
    fake_api.push(Reply(body=PROXY_PAGE), endpoint="count_tokens")
    with pytest.raises(ClaudeError, match=r"answered HTML .* not the Messages API"):
        await claude.count_tokens(CallRequest("claude-haiku-5-5", "s", "c", "p", 64))


async def test_actions_cut_edit_keeps_partial_usage_and_applies_nothing(
    engine: Engine, claude: ClaudeClient, fake_api: FakeAPI, poly: Path
) -> None:
    actions = Actions(engine, Settings())
    fake_api.push(Reply(text=EDIT, thinking="weighing it " * 20, chunks=10, end_after=20))
    plan = actions.plan(ActionRequest("refactor", "shop/pricing.py", 29, 32, tier="standard"))
    with pytest.raises(ClaudeError) as info:
        await actions.run(plan, claude)
    assert info.value.message == "the connection closed mid-answer; nothing applied"
    assert info.value.usage is not None and info.value.usage.output_tokens > 0
    entry = actions.ledger.recent(1)[0]
    assert entry.outcome == "error" and entry.output_tokens == info.value.usage.output_tokens
    assert entry.usd > 0  # the partial answer was billed, and is in the ledger
    assert len(fake_api.message_requests) == 1  # a cut answer is not silently re-asked


async def test_actions_thinking_only_edit_is_an_error(
    engine: Engine, claude: ClaudeClient, fake_api: FakeAPI
) -> None:
    actions = Actions(engine, Settings())
    fake_api.push(Reply(text="", thinking="I would change the constant."))
    plan = actions.plan(ActionRequest("refactor", "shop/pricing.py", 29, 32))
    with pytest.raises(ClaudeError, match=r"^the model returned no edit \(thinking only\); "):
        await actions.run(plan, claude)
    assert [e.outcome for e in actions.ledger.recent(5)] == ["error"]


# ---------------------------------------------------------------------------- the server
async def test_server_shows_each_answer_fault_as_an_error(tmp_path: Path) -> None:
    from lsprotocol import types

    root = copy_poly(tmp_path / "poly")
    with FakeAPI() as api:
        ed = await start_editor(root, tmp_path / "home", api=api)
        try:
            cases = [
                (Reply(text=EXPLANATION, chunks=8, end_after=6),
                 "the connection closed mid-answer; nothing applied", "connection"),
                (Reply(body=PROXY_PAGE), "the endpoint answered HTML", "not_api"),
                (Reply(text="", thinking="hmm"),
                 "the model returned no explanation (thinking only)", "empty"),
            ]  # fmt: skip
            ed.open("shop/pricing.py")
            for reply, says, kind in cases:
                api.push(reply)
                listed = await ed.actions("shop/pricing.py", 29, 32, only=["source"])
                explain = next(a for a in listed if a.title.startswith("Explain"))
                result = await ed.run(explain)
                assert result["applied"] is False and says in result["reason"], result
                assert result["error"] == kind
                errors = ed.shown_messages(types.MessageType.Error)
                assert errors and says in errors[-1]
                assert f"· error ({kind}) ·" in ed.logs()[-1]
        finally:
            await stop_editor(ed)
