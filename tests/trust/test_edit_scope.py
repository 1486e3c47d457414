"""A model answer may change only what the action was about (issue #11, point 2).

Hostile answers come from the fake API; each is refused with the file named and why, goes
back to the model once, then reaches the user, and nothing on disk changes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fakeapi import FakeAPI, Reply
from scopewise.actions.edits import EditError, EditPolicy, ProposedEdit, read_for_edit, resolve
from scopewise.actions.plan import ActionError, ActionRequest, Actions
from scopewise.analysis.engine import Engine
from scopewise.settings import Settings

HELPER = ActionRequest("refactor", "shop/pricing.py", 35, 36)  # _helper: private, unused
APPLY = ActionRequest("refactor", "shop/pricing.py", 29, 32)  # apply_discount: used in cart.py
EXTRACT = ActionRequest("refactor", "shop/pricing.py", 29, 32, intent="extract function")
PYPROJECT = '[project]\nname = "poly"\nversion = "1.0"\n\n[tool.scopewise]\ncontext_budget = 4000\n'


@pytest.fixture
def ws(poly: Path) -> Path:
    """The fixture workspace plus the files a hostile answer goes for."""
    for rel, text in {
        "Makefile": "all:\n\ttrue\n",
        ".git/hooks/pre-commit": "#!/bin/sh\nexit 0\n",
        "shop/sub/.git/config": "[core]\n\tbare = false\n",
        ".scopewise.toml": "context_budget = 5000\n",
        "pyproject.toml": PYPROJECT,
        ".env": "API_KEY=hunter2\n",
    }.items():
        (poly / rel).parent.mkdir(parents=True, exist_ok=True)
        (poly / rel).write_text(text)
    (poly / "shop/settings.py").symlink_to("../.env")
    (poly / "shop/hook.py").symlink_to("../.git/hooks/pre-commit")
    return poly


@pytest.fixture
def actions(ws: Path) -> Actions:
    engine = Engine(ws, use_cache=False)
    engine.index(workers=1)
    return Actions(engine, Settings())


@pytest.fixture
async def client(fake_api: FakeAPI) -> AsyncIterator[object]:
    from scopewise.claude.client import ClaudeClient

    c = ClaudeClient(api_key="sk-test", base_url=fake_api.base_url, max_retries=0, timeout=10)
    yield c
    await c.close()


def answer(*items: tuple[str, str, str]) -> str:
    edits = [{"path": p, "old_text": o, "new_text": n} for p, o, n in items]
    return json.dumps({"summary": "done", "edits": edits})


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root (symlinks as their target text), by relative path."""
    out: dict[str, bytes] = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            out[rel] = os.readlink(full).encode() if full.is_symlink() else full.read_bytes()
    return out


async def refused(
    actions: Actions,
    client: object,
    fake_api: FakeAPI,
    req: ActionRequest,
    *items: tuple[str, str, str],
) -> str:
    """Run an action whose model answers the same hostile edit twice; the user's message."""
    root = actions.engine.root
    before = snapshot(root)
    plan = actions.plan(req)
    asked = len(fake_api.message_requests)
    fake_api.push(Reply(text=answer(*items)), Reply(text=answer(*items)))
    with pytest.raises(ActionError) as caught:
        await actions.run(plan, client)  # type: ignore[arg-type]
    assert snapshot(root) == before  # nothing written, nothing created
    # the model was told why once before the user is
    assert len(fake_api.message_requests) == asked + 2
    retry = fake_api.message_requests[-1].body["messages"][0]["content"]
    message = str(caught.value)
    assert message.split("the model's edit could not be applied: ")[1].split(";")[0] in retry
    assert "nothing was changed" in message
    return message


async def test_a_file_the_action_did_not_show(
    actions: Actions, client: object, fake_api: FakeAPI
) -> None:
    assert "shop/cart.py" not in actions.edit_policy(actions.plan(HELPER)).shown
    edit = ("shop/cart.py", "self.discount = 0.0", "self.discount = 1.0")
    msg = await refused(actions, client, fake_api, HELPER, edit)
    assert "shop/cart.py: the action did not show this file" in msg


@pytest.mark.parametrize(
    ("path", "old", "why"),
    [
        (".github/workflows/x.yml", "", "inside .github/, which tools run"),
        (".GitHub/workflows/x.yml", "", "inside .github/, which tools run"),
        (".git/hooks/pre-commit", "exit 0", "a git file (.git)"),
        ("shop/sub/.git/config", "bare = false", "a git file (.git)"),
        (".gitlab-ci.yml", "", "a git file (.gitlab-ci.yml)"),
        (".pre-commit-config.yaml", "", "a CI or hook configuration"),
        (".vscode/tasks.json", "", "inside .vscode/"),
        ("Makefile", "\ttrue", "a file tools run (Makefile"),
        ("shop/conftest.py", "", "a file tools run"),
        ("shop/run.sh", "", "a file tools run"),
        (".scopewise.toml", "context_budget = 5000", "scopewise's own settings"),
        (".scopewiseignore", "", "scopewise's own settings"),
        ("pyproject.toml", "context_budget = 4000", "the action did not show this file"),
        ("shop/settings.py", "API_KEY=hunter2", "a symlink to the secrets file .env"),
        ("shop/hook.py", "exit 0", "a symlink to .git/hooks/pre-commit: a git file (.git)"),
    ],
)
async def test_files_tools_run_and_scopewise_settings_are_refused(
    actions: Actions, client: object, fake_api: FakeAPI, path: str, old: str, why: str
) -> None:
    # an instruction: this action may create files next to the selection, and still not these
    req = ActionRequest("refactor", "shop/pricing.py", 29, 32, instruction="tidy up")
    msg = await refused(actions, client, fake_api, req, (path, old, "pwned\n"))
    assert f"{path}: {why}" in msg


async def test_a_hard_linked_file_is_refused(
    actions: Actions, client: object, fake_api: FakeAPI, ws: Path
) -> None:
    (ws / "notes").mkdir()
    os.link(ws / "shop/pricing.py", ws / "notes/pricing.txt")
    edit = ("shop/pricing.py", "MAX_DISCOUNT = 0.5", "MAX_DISCOUNT = 1")
    msg = await refused(actions, client, fake_api, APPLY, edit)
    assert "shop/pricing.py: has 2 hard links" in msg


async def test_a_file_with_a_nul_byte_is_refused(
    actions: Actions, client: object, fake_api: FakeAPI, ws: Path
) -> None:
    plan = actions.plan(APPLY)
    assert "shop/cart.py" in actions.edit_policy(plan).shown
    cart = ws / "shop/cart.py"
    cart.write_bytes(cart.read_bytes() + b"BLOB = b'\x00'\n")  # became binary after planning
    before = snapshot(ws)
    edit = ("shop/cart.py", "self.discount = 0.0", "self.discount = 1.0")
    fake_api.push(Reply(text=answer(edit)), Reply(text=answer(edit)))
    with pytest.raises(ActionError, match=r"shop/cart.py: contains NUL bytes"):
        await actions.run(plan, client)  # type: ignore[arg-type]
    assert snapshot(ws) == before


async def test_new_files_only_next_to_the_selection_when_the_action_asks_for_them(
    actions: Actions, client: object, fake_api: FakeAPI
) -> None:
    new = ("shop/helpers.py", "", "def rate_cap() -> float:\n    return 0.5\n")
    fake_api.push(Reply(text=answer(new)))
    result = await actions.run(actions.plan(EXTRACT), client)  # type: ignore[arg-type]
    assert [(c.path, c.created) for c in result.changes] == [("shop/helpers.py", True)]
    # the same answer to an action that does not create files
    simplify = ActionRequest("refactor", "shop/pricing.py", 29, 32, intent="simplify")
    msg = await refused(actions, client, fake_api, simplify, new)
    assert "shop/helpers.py: does not exist, and this action does not create files" in msg
    for path, why in (
        ("shop/.hidden/x.py", "a new hidden file or a file in a hidden folder"),
        ("shop/.pth.py", "a new hidden file"),
        ("web/x.py", "new files go only next to the selection, in shop/"),
        ("shop/notes.txt", "a new file must be source code"),
    ):
        msg = await refused(actions, client, fake_api, EXTRACT, (path, "", "x = 1\n"))
        assert f"{path}: {why}" in msg


def test_tool_scopewise_table_never_changes_even_when_pyproject_was_shown(ws: Path) -> None:
    policy = EditPolicy(ws, frozenset({"pyproject.toml"}))

    def read(rel: str) -> str | None:
        return read_for_edit(ws, rel)

    bump = ProposedEdit("pyproject.toml", 'version = "1.0"', 'version = "1.1"')
    ok = resolve([bump], read, None, policy)
    assert 'version = "1.1"' in ok[0].after  # the rest of pyproject may change
    for old, new in (
        ("context_budget = 4000", "context_budget = 999999"),
        ("[tool.scopewise]\n", "[tool.other]\n"),
        ('version = "1.0"\n', 'version = "1.0"\n[tool.scopewise.force]\nrefactor = "deep"\n'),
    ):
        changes_table = r"^pyproject.toml: the edit changes \[tool.scopewise\]"
        with pytest.raises(EditError, match=changes_table):
            resolve([ProposedEdit("pyproject.toml", old, new)], read, None, policy)
    with pytest.raises(EditError, match=r"^pyproject.toml: the edit would leave invalid TOML"):
        resolve([ProposedEdit("pyproject.toml", "[project]", "[project")], read, None, policy)
    assert (ws / "pyproject.toml").read_text() == PYPROJECT


def test_the_cli_refuses_a_workflow_edit_with_one_line(ws: Path, fake_api: FakeAPI) -> None:
    edit = (".github/workflows/ci.yml", "", "on: push\njobs: {}\n")
    fake_api.push(Reply(text=answer(edit)), Reply(text=answer(edit)))
    env = {**os.environ, "ANTHROPIC_BASE_URL": fake_api.base_url, "ANTHROPIC_API_KEY": "sk-test"}
    out = subprocess.run(
        [sys.executable, "-m", "scopewise.cli", "refactor", "shop/pricing.py:29-32",
         "--instruction", "add CI", "--apply"],
        cwd=ws, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert out.returncode != 0
    last = out.stderr.strip().splitlines()[-1]
    assert ".github/workflows/ci.yml: inside .github/, which tools run; never edited" in last
    assert "Traceback" not in out.stderr
    assert not (ws / ".github").exists()


async def test_the_server_refuses_the_same_edit_and_sends_nothing(
    ws: Path, tmp_path: Path, fake_api: FakeAPI
) -> None:
    """The rule lives where the CLI and the server share it: no workspace/applyEdit."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "lsp"))
    from lspclient import start_editor, stop_editor

    ed = await start_editor(ws, tmp_path / "home", api=fake_api)
    try:
        edit = ("shop/cart.py", "self.discount = 0.0", "self.discount = 1.0")
        fake_api.push(Reply(text=answer(edit)), Reply(text=answer(edit)))
        ed.open("shop/pricing.py")
        listed = await ed.actions("shop/pricing.py", 35, 36)
        action = next(a for a in listed if a.title.startswith("Refactor: simplify"))
        result = await ed.run(action)
        assert result["applied"] is False
        assert "shop/cart.py: the action did not show this file" in result["reason"]
        assert ed.edits == []
    finally:
        await stop_editor(ed)
