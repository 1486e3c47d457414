"""Running the affected tests with the user's test_command: each file one argument, no shell,
no stdin, in the workspace root, a timeout, the output capped; and only the user sets it."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

from scopewise import settings as config
from scopewise.actions.testrun import MAX_OUTPUT, run_tests

PY = shlex.quote(sys.executable)


def py(code: str, tail: str = " {tests}") -> str:
    """A test command that runs `code` with the test files as its arguments."""
    return f"{PY} -c {shlex.quote(code)}{tail}"


def test_a_passing_and_a_failing_run(tmp_path: Path) -> None:
    ok = run_tests(py("import sys; print('ran', len(sys.argv) - 1)"), ["tests/a.py"], tmp_path)
    assert ok.passed and ok.exit_code == 0 and not ok.timed_out
    assert ok.output == "ran 1\n"
    assert ok.line.startswith("tests passed · ") and "tests/a.py" in ok.command
    bad = run_tests(py("import sys; print('boom'); sys.exit(3)"), ["tests/a.py"], tmp_path)
    assert not bad.passed and bad.exit_code == 3 and bad.output == "boom\n"
    assert bad.line.startswith("tests failed (exit 3) · ")


def test_each_file_is_one_argument_and_nothing_is_a_shell(tmp_path: Path) -> None:
    tests = ["tests/with space/test_a.py", "tests/it's.py", "tests/$(touch pwned).py", "-k_test.py"]
    code = "import json, os, sys; print(json.dumps([os.getcwd(), *sys.argv[1:]]))"
    run = run_tests(py(code, " -q {tests} --tb=short"), tests, tmp_path)
    assert run.passed, run.output
    cwd, *argv = json.loads(run.output)
    assert Path(cwd) == tmp_path  # in the workspace root
    # one argument a file, in order, the option-looking one made a path, around the others
    assert argv == ["-q", *tests[:3], "./-k_test.py", "--tb=short"]
    assert not (tmp_path / "pwned").exists()  # no shell ran the $(...)
    # no placeholder: the files go at the end
    plain = run_tests(py("import sys; print(sys.argv[1:])", ""), ["tests/a b.py"], tmp_path)
    assert plain.output == "['tests/a b.py']\n"


def test_no_stdin_a_timeout_and_a_cap(tmp_path: Path) -> None:
    reads = run_tests(py("import sys; print(repr(sys.stdin.read()))"), ["t.py"], tmp_path, 20)
    assert reads.output == "''\n"  # nothing to read, and no wait for input
    slow = run_tests(
        py("import time; print('started', flush=True); time.sleep(60)"), [], tmp_path, 1
    )
    assert slow.timed_out and not slow.passed and slow.exit_code is None
    assert slow.duration_s < 10 and slow.output == "started\n"
    assert slow.line.startswith("tests stopped after 1 s (timeout)")
    chatty = run_tests(py("print('x' * 500_000 + 'END')"), [], tmp_path)
    assert chatty.passed and chatty.output.endswith("xEND\n")
    assert len(chatty.output) < MAX_OUTPUT + 100 and chatty.output.startswith("[… the first ")


def test_a_command_that_cannot_run_says_why(tmp_path: Path) -> None:
    missing = run_tests("no-such-test-runner-here {tests}", ["t.py"], tmp_path)
    assert not missing.passed and missing.exit_code is None
    assert "no-such-test-runner-here" in missing.output
    assert missing.line.startswith("tests did not run")
    unclosed = run_tests("pytest 'oops {tests}", ["t.py"], tmp_path)
    assert not unclosed.passed and "quotation" in unclosed.output


def test_a_workspace_file_cannot_set_the_test_command(
    tmp_path: Path, user_config: Callable[[str], Path]
) -> None:
    (tmp_path / ".scopewise.toml").write_text('test_command = "sh -c evil"\n', encoding="utf-8")
    settings, warnings = config.load(tmp_path)
    assert settings.test_command is None
    assert any(
        "test_command is ignored in a workspace file (it runs a command on your machine)" in w
        for w in warnings
    ), warnings
    user_config('test_command = "pytest {tests}"\n')
    settings, _ = config.load(tmp_path)
    assert settings.test_command == "pytest {tests}"  # the user's own, not the workspace's
