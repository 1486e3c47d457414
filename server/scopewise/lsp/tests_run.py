"""The affected tests in the editor. After a refactor or fix is applied, the files it changed
offer one more code action, "Run affected tests (N)", whose command (`scopewise.runTests`)
runs the user's `test_command` on those tests — only when the user picks it (or runs the
command); nothing runs on its own. The output goes to a document in the cache folder, shown
with `window/showDocument` (into the log when the client cannot show it); the verdict in a
`window/showMessage`. No `test_command` set: one message saying how to set it.

It talks to the server through `TestsHost` and never imports it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from scopewise import settings as config
from scopewise.actions.affected import affected_line
from scopewise.actions.testrun import HOW_TO_SET, TestRun, run_tests
from scopewise.analysis.engine import Engine
from scopewise.analysis.resolve import is_test_path
from scopewise.vocab import RUN_TESTS_COMMAND

from .cachedocs import slot, write_atomic
from .capabilities import ClientSupport
from .wire import Applied, Refused, TestsRan

log = logging.getLogger(__name__)
KEEP_OUTPUTS = 20  # the newest test outputs stay in the cache folder


class TestsHost(Protocol):
    """What running the tests needs of the host."""

    @property
    def support(self) -> ClientSupport: ...
    @property
    def settings(self) -> config.Settings: ...
    @property
    def engine(self) -> Engine | None: ...

    def message(self, text: str, kind: types.MessageType = ...) -> None: ...
    def log(self, text: str, kind: types.MessageType = ...) -> None: ...
    async def window_show_document_async(
        self, params: types.ShowDocumentParams
    ) -> types.ShowDocumentResult: ...


@dataclass
class AffectedTests:
    """The tests of the last applied edit and the files it changed; whether a run is on."""

    __test__ = False  # not a pytest test class

    files: frozenset[str] = frozenset()
    tests: tuple[str, ...] = ()
    running: bool = False

    def remember(self, host: TestsHost, outcome: object) -> None:
        """After a run: an applied edit's tests replace the last ones (and are logged)."""
        if not isinstance(outcome, Applied):
            return
        self.files, self.tests = frozenset(outcome.files), tuple(outcome.tests)
        host.log(affected_line(outcome.tests))

    def code_actions(self, rel: str | None, only: Sequence[str] | None) -> list[types.CodeAction]:
        """ "Run affected tests (N)" in a file the last applied edit changed (not in a menu
        asked for some kinds only: it has none)."""
        if not self.tests or rel not in self.files or only:
            return []
        title = f"Run affected tests ({len(self.tests)})"
        command = types.Command(
            title=title, command=RUN_TESTS_COMMAND, arguments=[{"tests": list(self.tests)}]
        )
        return [types.CodeAction(title=title, command=command)]

    async def run(self, host: TestsHost, args: tuple[Any, ...]) -> TestsRan | Refused:
        """`scopewise.runTests [{"tests": [...]}]`: the given tests (each a test file the
        index holds), else the last applied edit's."""
        engine = host.engine
        if engine is None:
            return _refuse(host, "no workspace folder is open")
        command = host.settings.test_command
        if command is None:
            return _refuse(host, HOW_TO_SET, types.MessageType.Info)
        tests = _requested(engine, args, self.tests)
        if isinstance(tests, str):
            return _refuse(host, tests)
        if self.running:
            return _refuse(host, "the tests are running already")
        self.running = True
        try:
            run = await asyncio.to_thread(run_tests, command, tests, engine.root)
        finally:
            self.running = False
        document = await _show_output(host, run)
        kind = types.MessageType.Info if run.passed else types.MessageType.Error
        where = "" if document else " (the output is in the log)"
        host.message(f"{run.line}{where}", kind)
        return TestsRan(
            passed=run.passed,
            exit_code=run.exit_code,
            timed_out=run.timed_out,
            command=run.command,
            tests=tests,
            duration_s=round(run.duration_s, 3),
            document=document,
        )


def _refuse(
    host: TestsHost, why: str, kind: types.MessageType = types.MessageType.Warning
) -> Refused:
    host.message(why, kind)
    return Refused(reason=why)


def _requested(engine: Engine, args: tuple[Any, ...], last: tuple[str, ...]) -> list[str] | str:
    """The tests to run, or why not: the argument's list (only test files the index holds,
    never options or paths of the caller's choosing), else the last applied edit's."""
    given: Any = args[0].get("tests") if args and isinstance(args[0], dict) else None
    if args and given is None:
        return 'scopewise.runTests takes no argument or {"tests": [paths]}'
    if given is None:
        tests = list(last)
        return tests or "no affected tests yet: apply a refactor or fix, then run them"
    if not isinstance(given, list) or not given:
        return "scopewise.runTests: tests must be a list of test files"
    for t in given:
        if not (isinstance(t, str) and is_test_path(t) and engine.workspace.get(t) is not None):
            return f"scopewise.runTests: {t!r} is not a test file of this workspace"
    return list(dict.fromkeys(given))


async def _show_output(host: TestsHost, run: TestRun) -> str | None:
    """The output in a document, shown; its URI, or None when it went to the log."""
    text = f"$ {run.command}\n{run.line}\n\n{run.output}"
    if host.support.show_document:
        try:
            path = _output_path()
            if not write_atomic(path, text):
                raise OSError(f"could not write {path}")
            uri = path.as_uri()
            answer = await host.window_show_document_async(
                types.ShowDocumentParams(uri=uri, take_focus=False)
            )
            if answer and answer.success:
                return uri
        except (OSError, JsonRpcException) as exc:
            log.info("test output not shown as a document: %s", exc)
    host.log(text)
    return None


def _output_path() -> Path:
    name = f"tests-{datetime.now().strftime('%Y%m%d-%H%M%S-%f')}.log"
    return slot("tests", name, KEEP_OUTPUTS)
