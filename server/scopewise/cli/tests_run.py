"""`scopewise refactor|fix ... --apply --test`: the affected tests of the applied edit, run with
the user's `test_command`. Only with `--apply`: without it the files on disk are not the
edited ones, so `--test` alone is refused before anything is called (and so is `--test` with
no `test_command` set, with how to set it). The test output goes to stdout, made inert; the
verdict to stderr; a failing run exits with 1."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scopewise.actions.affected import affected_line
from scopewise.actions.model import ActionResult
from scopewise.actions.testrun import HOW_TO_SET, run_tests
from scopewise.cli.terminal import safe
from scopewise.settings import Settings
from scopewise.vocab import EngineError

EXIT_TESTS_FAILED = 1
NEEDS_APPLY = (
    "--test runs the tests on the edited files: add --apply (without it the files on disk "
    "are not the edited ones)"
)


def check_test_request(args: argparse.Namespace, settings: Settings) -> None:
    """EngineError (one line, exit 2) before any call when `--test` cannot be honoured."""
    if not getattr(args, "test", False):
        return
    if not getattr(args, "apply", False):
        raise EngineError(NEEDS_APPLY)
    if settings.test_command is None:
        raise EngineError(HOW_TO_SET)


def list_tests(result: ActionResult) -> None:
    """The affected tests, on stderr with the other notes of a result."""
    print(f"scopewise: {safe(affected_line(result.tests))}", file=sys.stderr)


def run_affected(result: ActionResult, settings: Settings, root: Path) -> int:
    """Run the test command on the result's tests (already applied): the exit status."""
    command = settings.test_command
    if command is None:  # checked before the call (check_test_request)
        print(f"scopewise: {HOW_TO_SET}", file=sys.stderr)
        return 2
    if not result.tests:
        print("scopewise: no test file uses what changed; nothing to run", file=sys.stderr)
        return 0
    print(f"scopewise: running {len(result.tests)} test file(s)…", file=sys.stderr)
    run = run_tests(command, result.tests, root)
    if run.output:
        print(safe(run.output), end="" if run.output.endswith("\n") else "\n")
    print(f"scopewise: {safe(run.line)}", file=sys.stderr)
    return 0 if run.passed else EXIT_TESTS_FAILED
