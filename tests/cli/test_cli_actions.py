"""`scopewise plan|explain|refactor|fix|usage` as a user runs them, against the fake API."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fakeapi import FakeAPI, Reply


def run(
    args: list[str], cwd: Path, api: FakeAPI | None = None, key: bool = True
) -> subprocess.CompletedProcess[str]:
    env = os.environ.copy()
    if api is not None:
        env["ANTHROPIC_BASE_URL"] = api.base_url
    if key:
        env["ANTHROPIC_API_KEY"] = "sk-test"
    return subprocess.run(
        [sys.executable, "-m", "scopewise.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


def test_plan_is_offline_and_needs_no_key(poly: Path) -> None:
    out = run(["plan", "refactor", "shop/pricing.py:29-32", "--json"], poly, key=False)
    assert out.returncode == 0, out.stderr
    plan = json.loads(out.stdout)
    assert plan["tier"] in ("standard", "deep") and plan["model"].startswith("claude-")
    assert plan["estimate"]["usd"] > 0 and plan["context"]["manifest"]
    text = run(["plan", "explain", "shop/pricing.py:35-36"], poly, key=False)
    assert text.returncode == 0 and "quick" in text.stdout.splitlines()[0]


def test_explain_prints_markdown_and_the_cost(poly: Path, fake_api: FakeAPI) -> None:
    fake_api.push(Reply(text="It applies a capped discount.", thinking="considering"))
    out = run(["explain", "shop/pricing.py:29-32"], poly, fake_api)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("# Explain · shop/pricing.py:29-32")
    assert "It applies a capped discount." in out.stdout
    assert "$" in out.stderr
    usage = json.loads(run(["usage", "--json"], poly).stdout)
    assert usage["today"]["calls"] == 1


def test_refactor_diff_then_apply(poly: Path, fake_api: FakeAPI) -> None:
    edit = {"path": "shop/pricing.py", "old_text": "def _helper() -> None:"}
    edit["new_text"] = "def _unused() -> None:"
    answer = json.dumps({"summary": "rename", "edits": [edit]})
    fake_api.push(Reply(text=answer), Reply(text=answer))
    before = (poly / "shop/pricing.py").read_text()
    out = run(["refactor", "shop/pricing.py:35-36", "--instruction", "rename it"], poly, fake_api)
    assert out.returncode == 0, out.stderr
    assert "+def _unused() -> None:" in out.stdout
    assert (poly / "shop/pricing.py").read_text() == before  # a diff only: nothing written
    out = run(["refactor", "shop/pricing.py:35-36", "--apply"], poly, fake_api)
    assert out.returncode == 0, out.stderr
    assert "def _unused() -> None:" in (poly / "shop/pricing.py").read_text()
    sent = fake_api.message_requests[0].body["messages"][0]["content"]
    assert "rename it" in sent


def test_fix_sends_the_diagnostics(poly: Path, fake_api: FakeAPI) -> None:
    fake_api.push(Reply(text=json.dumps({"summary": "nothing", "edits": []})))
    out = run(
        ["fix", "shop/pricing.py:26", "--diagnostic", "26:name 'x' is not defined"], poly, fake_api
    )
    assert out.returncode == 0, out.stderr
    assert "no change proposed" in out.stderr
    assert "line 26: error: name 'x' is not defined" in fake_api.last.body["messages"][0]["content"]


def test_without_a_key_it_says_how_to_set_one(poly: Path) -> None:
    out = run(["explain", "shop/pricing.py:29-32"], poly, key=False)
    assert out.returncode == 2
    assert "ANTHROPIC_API_KEY" in out.stderr and "Traceback" not in out.stderr


def test_api_failure_is_one_clear_line(poly: Path, fake_api: FakeAPI) -> None:
    fake_api.push(Reply.error(401))
    out = run(["explain", "shop/pricing.py:29-32"], poly, fake_api)
    assert out.returncode == 3
    assert "Traceback" not in out.stderr
    assert "key" in out.stderr.lower()


def test_a_rate_limit_is_waited_out_and_said(poly: Path, fake_api: FakeAPI) -> None:
    fake_api.push(Reply.error(429, retry_after=0.3), Reply(text="Explained after the wait."))
    out = run(["explain", "shop/pricing.py:29-32"], poly, fake_api)
    assert out.returncode == 0, out.stderr
    assert "rate limited; retrying in 1 s (1/2)" in out.stderr
    assert "Explained after the wait." in out.stdout
    assert len(fake_api.message_requests) == 2


def test_ctrl_c_cancels_the_stream_and_says_what_it_cost(poly: Path, fake_api: FakeAPI) -> None:
    fake_api.push(Reply(text="word " * 400, chunks=200, delay=0.05))
    env = os.environ.copy()
    env.update(ANTHROPIC_BASE_URL=fake_api.base_url, ANTHROPIC_API_KEY="sk-test")
    proc = subprocess.Popen(
        [sys.executable, "-m", "scopewise.cli", "explain", "shop/pricing.py:29-32"],
        cwd=poly, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not fake_api.message_requests and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "cancelled" in err and "$" in err
    assert "Traceback" not in err
    assert fake_api.wait_for_disconnect(timeout=2.0)


def test_ctrl_c_ends_a_run_that_swallows_one_cancellation() -> None:
    """A library that swallows a cancellation (the run then streamed on to its end, exit 0):
    Ctrl-C cancels again until the run has ended."""
    from scopewise.cli import actions as cli_actions

    swallowed: list[bool] = []

    async def stubborn() -> str:
        cli_actions._cancel_on_ctrl_c([])
        asyncio.get_running_loop().call_later(0.2, os.kill, os.getpid(), signal.SIGINT)
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            swallowed.append(True)  # and carries on
        await asyncio.sleep(5)
        return "streamed to the end"

    t0 = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(stubborn())
    assert swallowed and time.monotonic() - t0 < 2.0
