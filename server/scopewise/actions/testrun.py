"""Running the affected tests, on the user's request only: the user's `test_command` (e.g.
``pytest {tests}``; a workspace file may not set it) with ``{tests}`` replaced by the test
files, each shell-quoted, then split and executed without a shell, in the workspace root, with
no stdin, a timeout (the whole process group is killed past it) and the output captured to a
temporary file and capped (its end kept: that is where test runners summarise)."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

PLACEHOLDER = "{tests}"
TIMEOUT_S = 900.0  # a test run may take this long, then it is stopped
MAX_OUTPUT = 200_000  # characters of output kept (the end)
HOW_TO_SET = (
    'no test_command is set: add test_command = "pytest {tests}" (your runner) to '
    "~/.config/scopewise/config.toml or your editor's user settings; a workspace file "
    "cannot set it"
)


@dataclass(frozen=True)
class TestRun:
    """What one run of the test command did."""

    __test__ = False  # not a pytest test class

    passed: bool
    exit_code: int | None  # None: it never started, or was stopped at the timeout
    output: str
    duration_s: float
    command: str  # as run, shell-quoted for showing
    timed_out: bool = False

    @property
    def line(self) -> str:
        """e.g. "tests passed · pytest tests/test_a.py · 1.2 s"."""
        if self.timed_out:
            verdict = f"tests stopped after {self.duration_s:.0f} s (timeout)"
        elif self.exit_code is None:
            verdict = "tests did not run"
        elif self.passed:
            verdict = "tests passed"
        else:
            verdict = f"tests failed (exit {self.exit_code})"
        return f"{verdict} · {self.command} · {self.duration_s:.1f} s"


def argv_for(command: str, tests: list[str]) -> list[str]:
    """The argument vector for `command` on `tests`: ``{tests}`` replaced by the files, each
    quoted (a path with spaces stays one argument; one that starts with ``-`` is written
    ``./-...`` so it is never an option), or the files appended when there is no
    placeholder. ValueError for a command that does not split (an unclosed quote)."""
    files = " ".join(shlex.quote(f"./{t}" if t.startswith("-") else t) for t in tests)
    text = command.replace(PLACEHOLDER, files) if PLACEHOLDER in command else f"{command} {files}"
    argv = shlex.split(text)
    if not argv:
        raise ValueError("test_command is empty")
    return argv


def run_tests(command: str, tests: list[str], root: Path, timeout: float = TIMEOUT_S) -> TestRun:
    """Run the test command on `tests` in `root` (see the module's docstring)."""
    try:
        argv = argv_for(command, tests)
    except ValueError as exc:
        return TestRun(False, None, f"test_command {command!r}: {exc}", 0.0, command)
    shown = shlex.join(argv)
    t0 = time.monotonic()
    with tempfile.TemporaryFile() as out:
        try:
            proc = subprocess.Popen(
                argv,
                cwd=root,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped whole at the timeout
            )
        except OSError as exc:
            why = f"{argv[0]}: {exc.strerror or exc}"
            return TestRun(False, None, why, time.monotonic() - t0, shown)
        timed_out = False
        try:
            code: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out, code = True, None
            _kill_group(proc)
        text = _tail(out, MAX_OUTPUT)
    return TestRun(code == 0, code, text, time.monotonic() - t0, shown, timed_out)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()


def _tail(out: IO[bytes], limit: int) -> str:
    """The last `limit` characters of the captured output (bytes read from a file), with a
    first line saying how much was cut."""
    out.seek(0, os.SEEK_END)
    size = out.tell()
    out.seek(max(0, size - limit * 4))  # up to 4 bytes a character: enough for the tail
    text: str = out.read().decode("utf-8", errors="replace")
    if size <= limit and len(text) <= limit:
        return text
    cut = text[-limit:]
    return f"[… the first {size - len(cut.encode('utf-8', errors='replace')):,} bytes cut]\n{cut}"
