"""The affected tests through the real server: after a refactor is applied, "Run affected tests
(N)" in the files it changed; the user's test_command runs only when that is picked, its
output in a document and its verdict in a message."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
import pytest_asyncio
from lspclient import Editor, start_editor, stop_editor
from lsprotocol import types

from fakeapi import FakeAPI, Reply
from scopewise import settings as config
from scopewise.actions.testrun import HOW_TO_SET
from scopewise.lsp.capabilities import ClientSupport
from scopewise.lsp.tests_run import AffectedTests
from scopewise.lsp.wire import Refused, TestsRan, to_json
from scopewise.vocab import RUN_TESTS_COMMAND

pytestmark = pytest.mark.asyncio(loop_scope="module")

PRICING = "shop/pricing.py"
# the test command: writes a marker (so a test can tell whether it ran), shows its arguments
RUNNER = (
    "import pathlib, sys; pathlib.Path('ran.txt').write_text(' '.join(sys.argv[1:])); "
    "print('collected', sys.argv[1:]); sys.exit(0 if 'cap' in open('shop/pricing.py').read() "
    "else 1)"
)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ed(shared_poly: Path, module_home: Path, module_api: FakeAPI) -> AsyncIterator[Editor]:
    (module_home / "config").mkdir(parents=True, exist_ok=True)
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(RUNNER)} {{tests}}"
    (module_home / "config" / "config.toml").write_text(
        f"test_command = {json.dumps(command)}\n", encoding="utf-8"
    )
    editor = await start_editor(
        shared_poly, module_home, api=module_api, init_options={"scopewise": {"maxRetries": 0}}
    )
    yield editor
    await stop_editor(editor)


def titles(actions: list[types.CodeAction]) -> list[str]:
    return [a.title for a in actions]


async def test_run_affected_tests_is_offered_after_an_edit_and_runs_only_when_picked(
    ed: Editor, module_api: FakeAPI
) -> None:
    root = ed.root
    assert "Run affected tests" not in " ".join(titles(await ed.actions(PRICING, 29, 32)))
    answer = {
        "summary": "a named cap",
        "edits": [
            {
                "path": PRICING,
                "old_text": "rate = clamp(rate, 0.0, MAX_DISCOUNT)",
                "new_text": "cap = MAX_DISCOUNT\n    rate = clamp(rate, 0.0, cap)",
            }
        ],
    }
    module_api.push(Reply(text=json.dumps(answer)))
    ed.open(PRICING)
    listed = await ed.actions(PRICING, 29, 32)
    refactor = next(a for a in listed if a.title.startswith("Refactor: simplify"))
    applied = await ed.run(refactor)
    assert applied["applied"] is True and applied["tests"] == ["tests/test_pricing.py"]
    assert not (root / "ran.txt").exists()  # listed, not run
    assert any("1 test uses what changed: tests/test_pricing.py" in m for m in ed.logs())

    listed = await ed.actions(PRICING, 30, 31)
    offer = next(a for a in listed if a.title == "Run affected tests (1)")
    assert offer.command is not None and offer.command.command == RUN_TESTS_COMMAND
    assert "Run affected tests" not in " ".join(titles(await ed.actions("shop/cart.py", 20, 24)))
    quickfixes = await ed.actions(PRICING, 30, 31, only=["quickfix"])
    assert not any(a.title.startswith("Run affected") for a in quickfixes)  # it has no kind
    assert not (root / "ran.txt").exists()  # still nothing ran

    # the editor saved the buffer: the tests see the edited file
    (root / PRICING).write_text(ed.text(PRICING), encoding="utf-8")
    ran = await ed.run(offer)
    assert (root / "ran.txt").read_text() == "tests/test_pricing.py"
    assert (
        ran["passed"] is True and ran["exitCode"] == 0 and ran["tests"] == ["tests/test_pricing.py"]
    )
    shown = ed.client.shown_documents[-1]
    assert shown.uri == ran["document"]
    output = Path(unquote(urlparse(shown.uri).path)).read_text(encoding="utf-8")
    assert "collected ['tests/test_pricing.py']" in output and "tests passed" in output
    await ed.wait_for(lambda: any("tests passed · " in m for m in ed.shown_messages()))


async def test_the_command_takes_only_the_workspace_test_files(ed: Editor) -> None:
    async def run(arguments: list[Any]) -> Any:
        return await ed.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=RUN_TESTS_COMMAND, arguments=arguments)
        )

    (ed.root / "ran.txt").unlink(missing_ok=True)
    for bad in (["--collect-only"], ["shop/pricing.py"], ["tests/nope_test.py"], "tests"):
        refused = await run([{"tests": bad}])
        assert refused["applied"] is False and "scopewise.runTests" in refused["reason"], bad
    assert not (ed.root / "ran.txt").exists()
    (ed.root / PRICING).write_text("def apply_discount(): pass\n", encoding="utf-8")
    failed = await run([{"tests": ["tests/test_pricing.py"]}])
    assert failed["passed"] is False and failed["exitCode"] == 1
    await ed.wait_for(lambda: any("tests failed (exit 1)" in m for m in ed.shown_messages()))


class _Host:
    """Just enough of a server for AffectedTests (no test_command set)."""

    def __init__(self) -> None:
        self.settings = config.Settings()
        self.support = ClientSupport()
        self.engine: Any = object()
        self.messages: list[str] = []

    def message(self, text: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        self.messages.append(text)

    def log(self, text: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.messages.append(text)

    async def window_show_document_async(
        self, params: types.ShowDocumentParams
    ) -> types.ShowDocumentResult:
        raise AssertionError("nothing to show")


async def test_without_a_test_command_it_says_how_to_set_one() -> None:
    host = _Host()
    tests = AffectedTests(frozenset({PRICING}), ("tests/test_pricing.py",))
    outcome = await tests.run(host, ())
    assert isinstance(outcome, Refused) and outcome.reason == HOW_TO_SET
    assert host.messages == [HOW_TO_SET]


async def test_a_test_run_on_the_wire() -> None:
    ran = TestsRan(
        passed=False,
        exit_code=None,
        timed_out=True,
        command="pytest tests/a.py",
        tests=["tests/a.py"],
        duration_s=900.0,
        document=None,
    )
    assert to_json(ran) == {
        "passed": False,
        "exitCode": None,
        "timedOut": True,
        "command": "pytest tests/a.py",
        "tests": ["tests/a.py"],
        "durationS": 900.0,
        "document": None,
    }
