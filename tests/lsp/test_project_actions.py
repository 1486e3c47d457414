"""Project actions (`[[actions]]` in .scopewise.toml) in the menu and run: a matching file
lists them with tier and cost, another file does not, many fit the menu as one "Project
actions…" entry that asks which; an edit action becomes a proposal, an explain action an
explanation, each with the project's prompt as the task. The fake API, no network."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from lspclient import Editor, copy_poly, start_editor, stop_editor
from lsprotocol import types

from fakeapi import FakeAPI, Reply

pytestmark = pytest.mark.asyncio(loop_scope="module")

PRICING = "shop/pricing.py"
CART = "shop/cart.py"
TOML = """\
[[actions]]
name = "Add docstrings"
prompt = "Add a one-line docstring to every function that lacks one. PROJECT-PROMPT-EDIT"
kind = "edit"
files = ["shop/pricing.py"]
route = "quick"

[[actions]]
name = "Explain for QA"
prompt = "Say what a tester should try to break here. PROJECT-PROMPT-EXPLAIN"
kind = "explain"
files = ["*.py"]
"""
MANY = "".join(
    f'\n[[actions]]\nname = "Check {i}"\nprompt = "Check thing {i}."\nfiles = ["shop/**"]\n'
    for i in range(5)
) + "".join(
    f'\n[[actions]]\nname = "Tell {i}"\nprompt = "Tell thing {i}."\nkind = "explain"\n'
    for i in range(4)
)


async def _editor(tmp: Path, home: Path, api: FakeAPI, toml: str) -> Editor:
    root = copy_poly(tmp / "poly")
    (root / ".scopewise.toml").write_text(toml, encoding="utf-8")
    return await start_editor(root, home, api=api, menu_intents=False)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ed(
    tmp_path_factory: pytest.TempPathFactory, module_home: Path, module_api: FakeAPI
) -> AsyncIterator[Editor]:
    editor = await _editor(tmp_path_factory.mktemp("pa"), module_home, module_api, TOML)
    yield editor
    await stop_editor(editor)


def titles(listed: list[types.CodeAction]) -> list[str]:
    return [a.title for a in listed]


async def test_a_matching_file_lists_them_with_tier_and_cost(ed: Editor) -> None:
    ed.open(PRICING)
    ed.open(CART)
    try:
        listed = await ed.actions(PRICING, 31, cursor=True)
        assert len(listed) <= 6, titles(listed)
        docs = next(a for a in listed if a.title.startswith("Add docstrings · "))
        # its fixed tier, said so, and the cost, like the built-ins' titles
        assert docs.title == "Add docstrings · quick: the project's tier · <$0.01", docs.title
        assert docs.kind == "refactor.rewrite.scopewise.add-docstrings"
        assert docs.data["projectAction"] == "Add docstrings" and docs.data["action"] == "refactor"
        qa = next(a for a in listed if a.title.startswith("Explain for QA · "))
        assert qa.kind == "source.scopewise.explain-for-qa" and qa.data["action"] == "explain"
        # another file: its globs leave "Add docstrings" out, "*.py" keeps the other
        other = titles(await ed.actions(CART, 14, cursor=True))
        assert not any(t.startswith("Add docstrings") for t in other), other
        assert any(t.startswith("Explain for QA") for t in other), other
        # asked for by kind alone (the helpers' `:Scopewise action NAME`): that one only
        only = await ed.actions(
            PRICING, 31, cursor=True, only=["refactor.rewrite.scopewise.add-docstrings"]
        )
        assert titles(only) and all(t.startswith("Add docstrings · ") for t in titles(only))
    finally:
        ed.close_all()


async def test_an_edit_action_sends_its_prompt_and_becomes_a_proposal(
    ed: Editor, module_api: FakeAPI
) -> None:
    old = "def clamp(value: float, low: float, high: float) -> float:\n"
    new = old + '    """`value` kept between `low` and `high`."""\n'
    module_api.push(
        Reply(text=json.dumps({"summary": "docstring", "edits": [
            {"path": PRICING, "old_text": old, "new_text": new}]}))
    )  # fmt: skip
    uri = ed.open(PRICING)
    before = ed.texts[uri]
    ed.edits.clear()
    ed.questions.clear()
    ed.answers = ["Discard"]  # the stock question (no review capability): Discard
    try:
        listed = await ed.actions(PRICING, 25, 26)
        docs = next(a for a in listed if a.title.startswith("Add docstrings · "))
        result = await ed.run(docs)
        sent = module_api.message_requests[-1].body
        prompt = json.dumps(sent["messages"])
        assert "PROJECT-PROMPT-EDIT" in prompt and "<task>" in prompt
        system = json.dumps(sent.get("system"))
        assert "PROJECT-PROMPT-EDIT" not in system  # the task, never the system prompt
        assert sent["model"] == "claude-haiku-5-5"  # its fixed tier: quick
        # the same proposal flow as Refactor: asked first, nothing applied when discarded
        (asked,) = ed.questions
        assert "1 change in 1 file" in asked.message, asked.message
        assert [a.title for a in asked.actions or []] == ["Apply", "Show diff", "Discard"]
        assert result["applied"] is False, result
        assert not ed.edits and ed.texts[uri] == before
    finally:
        ed.close_all()


async def test_an_explain_action_streams_an_explanation(ed: Editor, module_api: FakeAPI) -> None:
    module_api.push(Reply(text="Try a negative rate and a rate above 1."))
    ed.open(PRICING)
    try:
        listed = await ed.actions(PRICING, 29, 32, only=["source"])
        qa = next(a for a in listed if a.title.startswith("Explain for QA · "))
        result = await ed.run(qa)
        assert result["shown"] is True, result
        prompt = json.dumps(module_api.message_requests[-1].body["messages"])
        assert "PROJECT-PROMPT-EXPLAIN" in prompt
        doc = ed.client.shown_documents[-1].uri
        text = Path(doc.removeprefix("file://")).read_text(encoding="utf-8")
        assert "negative rate" in text
        assert text.startswith("# Explain for QA · shop/pricing.py:29-32"), text[:80]
    finally:
        ed.close_all()


async def test_the_server_lists_them_for_a_picker(ed: Editor) -> None:
    uri = ed.open(CART)
    try:
        answer = await ed.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="scopewise.projectActions", arguments=[{"uri": uri}])
        )
        got = {a["name"]: (a["kind"], a["route"], a["applies"]) for a in answer["actions"]}
        assert got == {
            "Add docstrings": ("edit", "quick", False),
            "Explain for QA": ("explain", "explain", True),
        }
    finally:
        ed.close_all()


async def test_many_fit_the_menu_as_one_entry_that_asks_which(
    tmp_path: Path, module_home: Path, module_api: FakeAPI
) -> None:
    many = await _editor(tmp_path, module_home, module_api, TOML + MANY)
    try:
        many.open(PRICING)
        listed = await many.actions(PRICING, 31, cursor=True)
        assert len(listed) <= 6, titles(listed)
        assert not any(t.startswith(("Check ", "Add docstrings")) for t in titles(listed))
        chooser = next(a for a in listed if a.title.startswith("Project actions…"))
        assert chooser.title == "Project actions… (11)"
        assert chooser.kind == "refactor.rewrite.scopewise"
        assert chooser.command is not None
        assert chooser.command.command == "scopewise.chooseProjectAction"
        resolved = await many.client.code_action_resolve_async(chooser)  # VS Code resolves it
        assert resolved.command is not None
        assert resolved.command.command == "scopewise.chooseProjectAction"
        many.answers = [None]  # dismissed: nothing runs
        result = await many.run(chooser)
        assert result["applied"] is False and result["reason"] == "no action chosen"
        (asked,) = many.questions[-1:]
        choices = [a.title for a in asked.actions or []]
        assert len(choices) == 11 and choices[0].startswith("Add docstrings · quick")
        assert all("$" in c for c in choices), choices
        # a source-action menu: the explanation-like ones, asked for with a source kind
        source = await many.actions(PRICING, 31, cursor=True, only=["source"])
        (asks,) = [a for a in source if a.title.startswith("Project actions…")]
        assert asks.title == "Project actions… (5)" and asks.kind == "source.scopewise"
        many.answers = [None]
        await many.run(asks)
        offered = [a.title for a in many.questions[-1].actions or []]
        assert len(offered) == 5 and all(t.startswith(("Explain for QA", "Tell ")) for t in offered)
        # picked: it runs as its menu entry would (here an edit: a proposal, discarded)
        edit = {"path": PRICING, "old_text": "    pass\n", "new_text": '    """Nothing."""\n'}
        module_api.push(Reply(text=json.dumps({"summary": "doc", "edits": [edit]})))
        many.answers = [choices[0], "Discard"]
        result = await many.run(chooser)
        assert "PROJECT-PROMPT-EDIT" in json.dumps(module_api.message_requests[-1].body)
        assert result["applied"] is False and "1 change in 1 file" in many.questions[-1].message
    finally:
        await stop_editor(many)
