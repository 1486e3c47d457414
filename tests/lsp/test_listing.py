"""Listing code actions: titles from the plan, kinds, siblings, `context.only`, fixes for
diagnostics and syntax errors, resolve, and malformed requests. No network involved."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from lspclient import Editor, capabilities, start_editor, stop_editor
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import client_capabilities

from fakeapi import FakeAPI, Reply

pytestmark = pytest.mark.asyncio(loop_scope="module")

PRICING = "shop/pricing.py"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def short(shared_poly: Path, module_home: Path, module_api: FakeAPI) -> AsyncIterator[Editor]:
    """A server with the default menu (the module's `ed` lists every intent)."""
    ed = await start_editor(shared_poly, module_home, api=module_api, menu_intents=False)
    yield ed
    await stop_editor(ed)


async def test_the_default_menu_is_short_and_says_why(short: Editor) -> None:
    short.open(PRICING)
    try:
        listed = await short.actions(PRICING, 31, cursor=True)
        titles = [a.title for a in listed]
        assert len(listed) <= 6, titles
        assert titles == [
            "Explain · quick: a short read · <$0.01",
            "Refactor… · standard: a contained change · <$0.01",
            "Explain · deep instead of quick · ~$0.02",
        ]
        assert not any("(deep)" in t or "(quick)" in t for t in titles)  # said once
        explain, refactor, other = listed
        assert "a short read (3 lines of code" in explain.data["reason"]  # the whole reason
        assert (refactor.data["action"], refactor.data["intent"]) == ("refactor", None)
        assert refactor.command is not None and refactor.command.command == "scopewise.chooseIntent"
        assert other.data["tier"] == "deep" and other.command is not None
        assert other.command.command == "scopewise.run"
        # a refactor picker of the client's own (`only: refactor`) gets each intent
        intents = await short.actions(PRICING, 31, cursor=True, only=["refactor"])
        assert [a.title.split(" · ")[0] for a in intents[::2]] == [
            "Refactor: simplify",
            "Refactor: extract function",
            "Refactor: improve names",
            "Refactor: add types",
            "Refactor: make idiomatic",
        ]
        # nothing on an import line but Explain
        on_import = await short.actions(PRICING, 5, cursor=True)
        assert [a.title.split(" ·")[0] for a in on_import] == ["Explain"]
    finally:
        short.close_all()


async def test_refactor_asks_which_change_first(short: Editor, module_api: FakeAPI) -> None:
    short.open(PRICING)
    asked = short.questions  # the editor records every question and answers from `answers`
    asked.clear()
    short.answers = [None]  # dismissed
    try:
        listed = await short.actions(PRICING, 29, 32)
        refactor = next(a for a in listed if a.title.startswith("Refactor…"))
        assert refactor.command is not None
        result = await short.run(refactor)
        assert result["applied"] is False and result["reason"] == "no change chosen"
        assert asked and "Refactor lines 29–32 of shop/pricing.py" in asked[0].message
        choices = [a.title for a in asked[0].actions or []]
        assert len(choices) == 5 and choices[0].startswith("simplify · quick: ")
        assert choices[2].startswith("improve names · standard: 7 sites in 3 files")
        assert all(c.endswith("$0.01") or "~$" in c for c in choices)
        assert module_api.message_requests == []  # dismissed: nothing ran

        # picked: that intent runs, on the same range (whatever becomes of its answer)
        module_api.push(Reply(text='{"summary": "nothing to change", "edits": []}'))
        short.answers = [choices[3]]  # add types
        await short.run(refactor)
        (sent,) = module_api.message_requests
        assert "Add precise type annotations" in json.dumps(sent.body)
    finally:
        short.close_all()


async def test_a_client_that_picks_itself_gets_the_choices_and_runs_the_one_picked(
    short: Editor, module_api: FakeAPI
) -> None:
    """VS Code asks "Refactor…"'s question in a quick pick: `scopewise.choices` answers the
    question and its choices (each with tier, cost and why) without asking or running; the
    picked choice's data runs as `scopewise.run`."""
    short.open(PRICING)
    short.questions.clear()
    before = len(module_api.message_requests)
    try:
        listed = await short.actions(PRICING, 29, 32)
        refactor = next(a for a in listed if a.title.startswith("Refactor…"))
        assert refactor.command is not None
        ask = types.ExecuteCommandParams(
            command="scopewise.choices",
            arguments=[{"of": refactor.command.command, "data": refactor.command.arguments[0]}],
        )
        got = await short.client.workspace_execute_command_async(ask)
        assert (
            got["question"] == "scopewise: Refactor lines 29–32 of shop/pricing.py: which change?"
        )
        titles = [c["title"] for c in got["choices"]]
        assert len(titles) == 5 and titles[2].startswith("improve names · standard: 7 sites")
        assert "7 sites" in got["choices"][2]["reason"]  # the whole reason, for the detail line
        assert short.questions == [] and len(module_api.message_requests) == before
        module_api.push(Reply(text='{"summary": "nothing to change", "edits": []}'))
        picked = got["choices"][3]["data"]  # add types
        run = types.ExecuteCommandParams(command="scopewise.run", arguments=[picked])
        await short.client.workspace_execute_command_async(run)
        (sent,) = module_api.message_requests[before:]
        assert "Add precise type annotations" in json.dumps(sent.body)
        bad = types.ExecuteCommandParams(
            command="scopewise.choices", arguments=[{"of": "scopewise.run", "data": picked}]
        )
        with pytest.raises(JsonRpcException, match=r"no question for 'scopewise\.run'"):
            await short.client.workspace_execute_command_async(bad)
    finally:
        short.close_all()


async def test_every_intent_with_menu_intents(ed: Editor) -> None:
    ed.open(PRICING)
    listed = await ed.actions(PRICING, 29, 32)
    titles = [a.title for a in listed]
    assert titles[0].startswith("Explain · quick: a short read") and titles[0].endswith("<$0.01")
    assert titles[1].startswith("Explain · deep instead of quick · ~")
    intents = ["simplify", "extract function", "improve names", "add types", "make idiomatic"]
    for i, intent in enumerate(intents):
        auto, sibling = titles[2 + 2 * i], titles[3 + 2 * i]
        # a body behind its interface is three lines (quick); renaming it follows its 7 uses
        tier = "standard" if intent == "improve names" else "quick"
        assert auto.startswith(f"Refactor: {intent} · {tier}: "), auto
        assert sibling.startswith(f"Refactor: {intent} · deep plan + ") and sibling.endswith(
            "instead of " + tier + " · ~" + sibling.rsplit("~", 1)[-1]
        )
    assert len(listed) == 12  # no diagnostics, no syntax error: no fix
    kinds = {a.title.split(" ·")[0]: a.kind for a in listed}
    assert kinds["Explain"] == "source.scopewise.explain"
    assert kinds["Refactor: simplify"] == "refactor.rewrite"
    refactor = listed[2]
    data = refactor.data
    assert data["action"] == "refactor" and data["intent"] == "simplify"
    assert (data["startLine"], data["endLine"]) == (29, 32)
    assert data["versions"] == {ed.uri(PRICING): 1}
    assert data["tier"] is None and listed[3].data["tier"] == "deep"
    assert "body of 3 lines" in data["reason"] and "→ quick" in data["reason"]
    renames = listed[6].data
    assert renames["intent"] == "improve names" and "interface used at 7 sites" in renames["reason"]
    assert refactor.command is not None and refactor.command.command == "scopewise.run"
    assert list(refactor.command.arguments or []) == [data]
    assert refactor.command.tooltip and "claude-haiku-5-5" in refactor.command.tooltip
    assert refactor.disabled is None


@pytest.mark.parametrize(
    ("only", "kinds"),
    [
        (["refactor"], {"refactor.rewrite"}),
        (["refactor.rewrite"], {"refactor.rewrite"}),
        (["source"], {"source.scopewise.explain"}),
        (["quickfix"], set()),
        (["refactor.extract"], set()),
        (["source", "refactor"], {"source.scopewise.explain", "refactor.rewrite"}),
    ],
)
async def test_context_only(ed: Editor, only: list[str], kinds: set[str]) -> None:
    listed = await ed.actions(PRICING, 29, 32, only=only)
    assert {a.kind for a in listed} == kinds


async def test_a_cursor_means_the_definition_around_it(ed: Editor) -> None:
    listed = await ed.actions(PRICING, 31, cursor=True, only=["source"])
    assert (listed[0].data["startLine"], listed[0].data["endLine"]) == (29, 32)


async def test_a_cursor_in_a_function_too_long_for_any_context_means_its_statement(
    ed: Editor,
) -> None:
    """3,000 statements (~30,000 tokens) pass the largest budget (24,000): a run on the
    function would see its first lines only, so the cursor's menu is the `if` around it."""
    text = (ed.root / PRICING).read_text(encoding="utf-8")
    body = [f"    v{i} = quote(v{i - 1} if {i} else 0)\n" for i in range(3_000)]
    block = "    if v1 > 2:\n        w = quote(v2)\n        w = w + 1\n"
    giant = "\n\ndef giant():\n" + "".join(body[:1500]) + block + "".join(body[1500:])
    ed.open(PRICING, text + giant)
    first = len((text + giant).splitlines()) - 1500 - 2  # the `if` (1-based)
    listed = await ed.actions(PRICING, first + 1, cursor=True, only=["source"])
    assert (listed[0].data["startLine"], listed[0].data["endLine"]) == (first, first + 2)
    assert "(3 lines of code, " in listed[0].data["reason"]
    one = await ed.actions(PRICING, first + 4, cursor=True, only=["source"])  # a statement
    assert (one[0].data["startLine"], one[0].data["endLine"]) == (first + 4, first + 4)
    assert "(1 line of code, " in one[0].data["reason"]
    # the whole function selected: the user's range, planned as far as a run would send it
    lines = (text + giant).splitlines()
    top = lines.index("def giant():") + 1
    whole = await ed.actions(PRICING, top, len(lines), only=["source"])
    assert (whole[0].data["startLine"], whole[0].data["endLine"]) == (top, len(lines))
    assert f"selection cut to lines {top}-" in whole[0].data["reason"]
    assert f"of {top}-{len(lines)} to fit 24,000 tokens" in whole[0].data["reason"]
    short = await ed.actions(PRICING, 31, cursor=True, only=["source"])
    assert (short[0].data["startLine"], short[0].data["endLine"]) == (29, 32)  # as before


async def test_fix_for_diagnostics_comes_first(ed: Editor) -> None:
    diag = types.Diagnostic(
        range=types.Range(
            start=types.Position(line=30, character=4), end=types.Position(line=30, character=8)
        ),
        message="rate shadows a parameter",
    )
    listed = await ed.actions(PRICING, 29, 32, diagnostics=[diag])
    fix, sibling = listed[0], listed[1]
    assert fix.kind == sibling.kind == "quickfix"
    assert fix.title.startswith("Fix · ") and " instead of " in sibling.title
    assert fix.data["diagnostics"] == [
        {"line": 31, "message": "rate shadows a parameter", "severity": "error", "source": None}
    ]
    assert list(fix.diagnostics or []) == [diag]


async def test_a_syntax_error_typed_into_the_buffer_offers_a_fix(ed: Editor) -> None:
    ed.open(PRICING)
    ed.replace(
        PRICING, "    return max(low, min(high, value))", "    return max(low, min(high, value)"
    )
    listed = await ed.actions(PRICING, 25, 26, only=["quickfix"])
    assert listed and listed[0].title.startswith("Fix · quick")
    assert listed[0].data["diagnostics"][0]["message"] == "syntax error"
    assert listed[0].data["versions"] == {ed.uri(PRICING): 2}
    ed.replace(
        PRICING, "    return max(low, min(high, value)", "    return max(low, min(high, value))"
    )
    assert await ed.actions(PRICING, 25, 26, only=["quickfix"]) == []


async def test_no_actions_where_none_apply(ed: Editor, tmp_path: Path) -> None:
    (ed.root / "notes.txt").write_text("hello\n")
    try:
        assert await ed.actions("notes.txt", 1) == []
    finally:
        (ed.root / "notes.txt").unlink()
    outside = tmp_path / "elsewhere.py"
    outside.write_text("x = 1\n")
    raw = await ed.request(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=outside.as_uri()),
            range=types.Range(
                start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)
            ),
            context=types.CodeActionContext(diagnostics=[]),
        ),
    )
    assert raw is None


async def test_listing_is_fast(ed: Editor) -> None:
    ed.open(PRICING)
    await ed.actions(PRICING, 29, 32)
    t0 = time.perf_counter()
    for _ in range(10):
        await ed.actions(PRICING, 29, 32)
    assert (time.perf_counter() - t0) / 10 < 0.25  # round trip, generous for a busy machine


async def test_malformed_requests_get_errors_and_the_server_lives_on(ed: Editor) -> None:
    bad = [
        (types.TEXT_DOCUMENT_CODE_ACTION, {"textDocument": {"uri": ed.uri(PRICING)}}),
        (types.TEXT_DOCUMENT_CODE_ACTION, {"range": "everything"}),
        (types.CODE_ACTION_RESOLVE, {"title": "x", "data": {"action": "explain"}}),
        ("scopewise/notAMethod", {}),
    ]
    for method, params in bad:
        with pytest.raises(JsonRpcException):
            await ed.raw_request(method, params)
    ed.open(PRICING)
    assert len(await ed.actions(PRICING, 29, 32)) == 12


async def test_resolve_fills_in_the_command(
    tmp_path: Path, poly: Path, module_api: FakeAPI
) -> None:
    root = poly
    ed = await start_editor(root, tmp_path / "home", caps=capabilities(resolve=("command",)))
    try:
        ed.open(PRICING)
        listed = await ed.actions(PRICING, 29, 32, only=["refactor"])
        assert listed and all(a.command is None for a in listed)
        resolved = await ed.client.code_action_resolve_async(listed[1])
        assert resolved.command is not None and resolved.command.command == "scopewise.run"
        assert list(resolved.command.arguments or []) == [listed[1].data]
        tooltip = resolved.command.tooltip or ""
        assert "claude-opus-5-5" in tooltip and "context " in tooltip and "sites in" in tooltip
    finally:
        await stop_editor(ed)


@pytest.mark.parametrize("name", ["neovim", "visual-studio-code"])
async def test_real_editor_capabilities(tmp_path: Path, poly: Path, name: str) -> None:
    """The capabilities Neovim and VS Code really send (pytest-lsp's recordings)."""
    root = poly
    ed = await start_editor(root, tmp_path / "home", caps=client_capabilities(name))
    try:
        ed.open(PRICING)
        listed = await ed.actions(PRICING, 29, 32)
        assert len(listed) == 12
        # VS Code resolves only `edit` lazily, so the command comes with the listing
        assert all(a.command is not None for a in listed) or name == "neovim"
    finally:
        await stop_editor(ed)
