"""Which tests a change affects, from the index: the definitions whose lines an edit touches
(the innermost definition of each changed line, and the code around it when that is a value),
then every test file that uses any of them (the site finder, `Resolver.callers`, and the
index's notion of a test file, `is_test_path`). A changed test file is affected itself.

Read-only and offline: the index is asked as it is before the edit is applied (the lines of
`FileChange.before`)."""

from __future__ import annotations

from collections.abc import Iterable

from scopewise.actions.edits import FileChange
from scopewise.analysis.engine import Engine
from scopewise.analysis.resolve import is_test_path
from scopewise.index.model import FileIndex
from scopewise.vocab import DATA_KINDS, Kind

_VALUES = DATA_KINDS | {Kind.ATTRIBUTE}  # a value's line is its owner's code too


def changed_lines(change: FileChange) -> set[int]:
    """The 0-based lines of `change.before` that its replacements touch (an insertion
    touches the line it is inserted into)."""
    text = change.before
    lines: set[int] = set()
    for r in change.replacements:
        first = text.count("\n", 0, r.start)
        last = text.count("\n", 0, max(r.start, r.end - 1))
        lines.update(range(first, last + 1))
    return lines


def touched(fi: FileIndex, lines: Iterable[int]) -> set[int]:
    """The definitions (indexes into `fi.definitions`) the changed lines belong to: each
    line's innermost definition, and the innermost code definition around it (a method whose
    `self.x = ...` line changed is touched, not only `x`). Module-level lines touch none."""
    found: set[int] = set()
    for line in lines:
        for skip in (frozenset(), _VALUES):
            i = fi.enclosing(line, line, skip=skip)
            if i is not None:
                found.add(i)
    return found


def affected_tests(engine: Engine, changes: Iterable[FileChange]) -> list[str]:
    """The workspace's test files that use any definition the changes touch, and the changed
    files that are tests themselves; sorted workspace paths. A created file, or one the index
    does not hold, adds only itself (when it is a test)."""
    tests: set[str] = set()
    for change in changes:
        if is_test_path(change.path):
            tests.add(change.path)
        fi = None if change.created else engine.workspace.get(change.path)
        if fi is None:
            continue
        for index in sorted(touched(fi, changed_lines(change))):
            tests.update(s.path for s in engine.resolver.callers(fi, index) if is_test_path(s.path))
    return sorted(tests)


def affected_line(tests: list[str], shown: int = 5) -> str:
    """e.g. "3 tests use what changed: tests/a.py, tests/b.py, tests/c.py" (the first
    `shown`, then how many more)."""
    if not tests:
        return "no test file uses what changed"
    names = ", ".join(tests[:shown])
    more = f" and {len(tests) - shown} more" if len(tests) > shown else ""
    word = "test uses" if len(tests) == 1 else "tests use"
    return f"{len(tests)} {word} what changed: {names}{more}"
