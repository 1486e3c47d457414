"""`scopewise refactor FILE:A-B ... [--plan-only] [--apply] [--test]` as a user runs it: the
plan without a call, the affected tests listed with every result, and the user's
test_command run on them after --apply."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from fakeapi import FakeAPI, Reply
from scopewise.actions.estimate import Estimate
from scopewise.actions.model import StepPlan
from scopewise.actions.plan import ActionRequest, Actions
from scopewise.analysis.engine import Engine
from scopewise.cli.plan_text import plan_lines
from scopewise.cli.tests_run import NEEDS_APPLY
from scopewise.settings import Settings
from widemodel import Model

CLAMP = "shop/pricing.py:25-26"
TEST_CLAMP = (
    "from shop.pricing import clamp\n\n\ndef test_clamp():\n    assert clamp(5, 0, 1) == 1\n"
)
# a test command that shows what it was given and what it sees on disk, then passes or fails
SHOW = (
    "import sys; print('args', sys.argv[1:]); "
    "print('edited' if 'min(high, max(low' in open('shop/pricing.py').read() else 'not edited')"
)


def run(
    args: list[str], cwd: Path, api: FakeAPI | None = None, key: bool = True
) -> subprocess.CompletedProcess[str]:
    env = os.environ.copy()
    env.pop("ANTHROPIC_BASE_URL", None)
    if api is not None:
        env["ANTHROPIC_BASE_URL"] = api.base_url
    if key:
        env["ANTHROPIC_API_KEY"] = "sk-test"
    return subprocess.run(
        [sys.executable, "-m", "scopewise.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


def clamp_answer() -> Reply:
    edit = {
        "path": "shop/pricing.py",
        "old_text": "return max(low, min(high, value))",
        "new_text": "return min(high, max(low, value))",
    }
    return Reply(text=json.dumps({"summary": "clamp the other way round", "edits": [edit]}))


def set_test_command(user_config: Callable[[str], Path], code: str) -> None:
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(code)} {{tests}}"
    user_config(f"test_command = {json.dumps(command)}\n")


def test_plan_only_prints_the_plan_without_a_key_or_a_call(poly: Path) -> None:
    out = run(["refactor", "shop/pricing.py:29-32", "--intent", "improve names", "--plan-only"],
              poly, key=False)  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("Refactor: improve names · ") and "model" in out.stdout
    assert "estimate" in out.stdout and "sites " in out.stdout  # apply_discount is used
    as_json = run(["refactor", "shop/pricing.py:29-32", "--plan-only", "--json"], poly, key=False)
    plan = json.loads(as_json.stdout)
    same = json.loads(run(["plan", "refactor", "shop/pricing.py:29-32", "--json"], poly).stdout)
    assert plan.keys() == same.keys() and "steps" in plan
    assert plan["context"]["sites"] == same["context"]["sites"] != []


def test_plan_only_lists_each_step_the_sites_and_the_total(engine: Engine) -> None:
    actions = Actions(engine, Settings())
    plan = actions.plan(
        ActionRequest("refactor", "shop/pricing.py", 29, 32, intent="improve names")
    )
    files = ("shop/cart.py", "shop/pricing.py")
    steps = (
        StepPlan("plan", "deep", "claude-opus-5-5", "effort high", (),
                 Estimate(9000, 0, 2000, 0.2)),
        StepPlan("write", "quick", "claude-haiku-5-5", "thinking off", files,
                 Estimate(3000, 2000, 800, 0.01)),
        StepPlan("verify", "", "", "", files),
    )  # fmt: skip
    text = "\n".join(plan_lines(replace(plan, steps=steps)))
    assert "    plan    deep      claude-opus-5-5 (effort high) · 9,000 tokens in" in text
    assert "    write   quick     claude-haiku-5-5 (thinking off) · 2 files · 3,000 tokens" in text
    assert "    verify  (no model) · 2 files" in text
    assert "        shop/cart.py" in text
    assert "  total      ~$0.2100 over 3 steps" in text
    sites = plan.context.sites
    files = len({s.path for s in sites})
    assert f"  sites      {len(sites)} in {files} file" in text
    assert "steps" not in "\n".join(plan_lines(plan))  # one call: no steps shown


def test_flags_that_do_not_go_together_are_refused_before_a_call(
    poly: Path, fake_api: FakeAPI, user_config: Callable[[str], Path]
) -> None:
    out = run(["refactor", CLAMP, "--intent", "simplify", "--test"], poly, fake_api)
    assert out.returncode == 2 and out.stderr.strip() == f"scopewise: {NEEDS_APPLY}"
    out = run(["refactor", CLAMP, "--intent", "simplify", "--apply", "--test"], poly, fake_api)
    assert out.returncode == 2 and "no test_command is set: add test_command = " in out.stderr
    out = run(["refactor", CLAMP, "--json"], poly, fake_api)
    assert out.returncode == 2 and "--json goes with --plan-only" in out.stderr
    out = run(["refactor", CLAMP, "--plan-only", "--apply"], poly, fake_api)
    assert out.returncode == 2 and "--plan-only calls nothing" in out.stderr
    # a workspace that sets test_command is not obeyed: said, and --test still refused
    (poly / ".scopewise.toml").write_text('test_command = "touch pwned"\n', encoding="utf-8")
    out = run(["refactor", CLAMP, "--intent", "simplify", "--apply", "--test"], poly, fake_api)
    assert out.returncode == 2 and "no test_command is set" in out.stderr
    assert "test_command is ignored in a workspace file (it runs a command" in out.stderr
    assert not (poly / "pwned").exists() and fake_api.message_requests == []


def test_the_result_lists_the_affected_tests(poly: Path, fake_api: FakeAPI) -> None:
    (poly / "tests/test_clamp.py").write_text(TEST_CLAMP, encoding="utf-8")
    fake_api.push(clamp_answer())
    out = run(["refactor", CLAMP, "--intent", "simplify"], poly, fake_api)
    assert out.returncode == 0, out.stderr
    assert "+    return min(high, max(low, value))" in out.stdout
    assert "scopewise: 1 test uses what changed: tests/test_clamp.py" in out.stderr


def test_apply_then_test_runs_the_test_command_on_the_edited_files(
    poly: Path, fake_api: FakeAPI, user_config: Callable[[str], Path]
) -> None:
    (poly / "tests/test_clamp.py").write_text(TEST_CLAMP, encoding="utf-8")
    set_test_command(user_config, SHOW + "; print('\\x1b]52;c;cHduZWQ=\\x07')")
    fake_api.push(clamp_answer())
    out = run(["refactor", CLAMP, "--intent", "simplify", "--apply", "--test"], poly, fake_api)
    assert out.returncode == 0, out.stderr
    assert "args ['tests/test_clamp.py']\nedited\n" in out.stdout  # after the edit was written
    assert "\\x1b]52;c;cHduZWQ=\\x07" in out.stdout and "\x1b" not in out.stdout  # inert
    assert "scopewise: 1 test uses what changed: tests/test_clamp.py" in out.stderr
    assert "scopewise: tests passed · " in out.stderr


def test_failing_tests_fail_the_command(
    poly: Path, fake_api: FakeAPI, user_config: Callable[[str], Path]
) -> None:
    (poly / "tests/test_clamp.py").write_text(TEST_CLAMP, encoding="utf-8")
    set_test_command(user_config, "import sys; print('1 failed'); sys.exit(1)")
    fake_api.push(clamp_answer())
    out = run(["refactor", CLAMP, "--intent", "simplify", "--apply", "--test"], poly, fake_api)
    assert out.returncode == 1, out.stderr
    assert "1 failed" in out.stdout and "scopewise: tests failed (exit 1) · " in out.stderr
    assert "min(high, max(low, value))" in (poly / "shop/pricing.py").read_text()  # applied


def test_an_incomplete_wide_change_is_not_written_unless_allowed(
    wide: Path, fake_api: FakeAPI
) -> None:
    """A writer that never renames one call: verification names the site, and --apply writes
    nothing (the interface renamed, a caller not) unless --allow-incomplete says so."""
    fake_api.responder = Model(skip={("app/mod3.py", "b = norm('b', req.id3)")}, skips=-1)
    args = ["refactor", "lib/textutil.py:1-3", "--intent", "improve names", "--tier", "deep"]
    before = (wide / "app/mod3.py").read_text(encoding="utf-8")
    out = run([*args, "--apply"], wide, fake_api)
    assert out.returncode == 2, out.stderr
    assert "scopewise: not verified: app/mod3.py:" in out.stderr
    assert "nothing written: " in out.stderr and "--allow-incomplete" in out.stderr
    assert (wide / "app/mod3.py").read_text(encoding="utf-8") == before
    assert "def norm(" in (wide / "lib/textutil.py").read_text(encoding="utf-8")

    out = run([*args, "--apply", "--allow-incomplete"], wide, fake_api)
    assert out.returncode == 0, out.stderr
    assert "def normalize_header(" in (wide / "lib/textutil.py").read_text(encoding="utf-8")
    assert "b = norm('b', req.id3)" in (wide / "app/mod3.py").read_text(encoding="utf-8")
