"""`scopewise actions` and `scopewise action NAME FILE:A-B` as a user runs them: the list
from .scopewise.toml (and the user's config), a bad entry named and left out, an edit action
shown as a diff and written with --apply, an explain action printed, the project's prompt
sent as the task. The fake API, no network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from fakeapi import FakeAPI, Reply

TOML = """\
[[actions]]
name = "Add docstrings"
prompt = "Add a one-line docstring to every function. PROJECT-PROMPT-EDIT"
files = ["shop/pricing.py"]
route = "quick"

[[actions]]
name = "Explain for QA"
prompt = "Say what a tester should try to break. PROJECT-PROMPT-EXPLAIN"
kind = "explain"

[[actions]]
name = "Broken"
kind = "delete"
prompt = "x"
"""
CLAMP = "shop/pricing.py:25-26"


def run(args: list[str], cwd: Path, api: FakeAPI | None = None) -> subprocess.CompletedProcess[str]:
    env = os.environ.copy()
    env.pop("ANTHROPIC_BASE_URL", None)
    if api is not None:
        env["ANTHROPIC_BASE_URL"] = api.base_url
    env["ANTHROPIC_API_KEY"] = "sk-test"
    return subprocess.run(
        [sys.executable, "-m", "scopewise.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


def test_actions_lists_the_project_and_user_actions(
    poly: Path, user_config: Callable[[str], Path]
) -> None:
    (poly / ".scopewise.toml").write_text(TOML, encoding="utf-8")
    user_config('[[actions]]\nname = "Mine"\nprompt = "My own check."\nkind = "explain"\n')
    out = run(["actions"], poly)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["Mine", "explain", "explain", "all", "files"]
    assert lines[1].split()[:5] == ["Add", "docstrings", "edit", "quick", "shop/pricing.py"]
    assert lines[2].split()[:4] == ["Explain", "for", "QA", "explain"]
    assert len(lines) == 3  # "Broken" is left out, in one line saying why
    assert "scopewise.actions 'Broken': kind must be 'explain' or 'edit'" in out.stderr
    listed = json.loads(run(["actions", "--json"], poly).stdout)
    assert [a["name"] for a in listed] == ["Mine", "Add docstrings", "Explain for QA"]


def test_an_edit_action_prints_a_diff_and_applies(poly: Path, fake_api: FakeAPI) -> None:
    (poly / ".scopewise.toml").write_text(TOML, encoding="utf-8")
    plan = run(["action", "add docstrings", CLAMP, "--plan-only", "--json"], poly)
    assert plan.returncode == 0, plan.stderr
    planned = json.loads(plan.stdout)
    assert planned["project_action"] == "Add docstrings" and planned["tier"] == "quick"
    old = "def clamp(value: float, low: float, high: float) -> float:\n"
    new = old + '    """`value` kept between `low` and `high`."""\n'
    edit = {"path": "shop/pricing.py", "old_text": old, "new_text": new}
    fake_api.push(Reply(text=json.dumps({"summary": "docstring", "edits": [edit]})))
    out = run(["action", "Add docstrings", CLAMP, "--apply"], poly, fake_api)
    assert out.returncode == 0, out.stderr
    assert '+    """`value` kept between `low` and `high`."""' in out.stdout
    assert new in (poly / "shop/pricing.py").read_text(encoding="utf-8")
    body = fake_api.message_requests[-1].body
    assert "PROJECT-PROMPT-EDIT" in json.dumps(body["messages"])
    assert "PROJECT-PROMPT-EDIT" not in json.dumps(body.get("system"))


def test_an_explain_action_prints_markdown(poly: Path, fake_api: FakeAPI) -> None:
    (poly / ".scopewise.toml").write_text(TOML, encoding="utf-8")
    fake_api.push(Reply(text="Try a **negative** rate."))
    out = run(["action", "Explain for QA", "shop/cart.py:16-18"], poly, fake_api)
    assert out.returncode == 0, out.stderr
    assert "Try a **negative** rate." in out.stdout
    assert "PROJECT-PROMPT-EXPLAIN" in json.dumps(fake_api.message_requests[-1].body["messages"])


def test_a_wrong_name_or_file_is_one_line(poly: Path) -> None:
    (poly / ".scopewise.toml").write_text(TOML, encoding="utf-8")
    out = run(["action", "Nope", CLAMP, "--plan-only"], poly)
    assert out.returncode == 2
    assert "no project action named 'Nope' (Add docstrings, Explain for QA)" in out.stderr
    out = run(["action", "Add docstrings", "shop/cart.py:16-18", "--plan-only"], poly)
    assert out.returncode == 2
    assert "'Add docstrings' applies to shop/pricing.py only" in out.stderr
