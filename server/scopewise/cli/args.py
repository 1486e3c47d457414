"""The command's arguments: the checks of a path, a range and a budget, the workspace root
and engine a command works on (`setup`), and the parsers of the action commands. A command is
named here by its module and imported when it runs: `scopewise context` never imports the
actions, the Claude client or their dependencies."""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from scopewise import settings as config
from scopewise.cli.terminal import safe
from scopewise.paths import find_root, marked_root
from scopewise.vocab import TIERS, Action, EngineError, Intent

if TYPE_CHECKING:  # imported where an engine is made: `answered` starts its check first
    from scopewise.analysis.engine import Engine

T = TypeVar("T")
_RANGE = re.compile(r"^(?P<file>.+?):(?P<start>\d+)(?:-(?P<end>\d+))?$")


# characters that would break a one-line message or cannot be in a path at all
_BAD_PATH_CHARS = frozenset("\x00\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def check_path(text: str, what: str = "") -> str:
    """A path argument as given, or EngineError when it holds a NUL byte or a line break
    (shown escaped, so the error stays one line)."""
    if any(c in _BAD_PATH_CHARS for c in text):
        where = f"{what} " if what else ""
        raise EngineError(f"{where}{text!r}: a NUL byte or line break in a path is not accepted")
    return text


def parse_range(spec: str) -> tuple[str, int, int]:
    check_path(spec)
    m = _RANGE.match(spec)
    if not m:
        raise EngineError(f"{spec}: expected FILE:START[-END] with 1-based line numbers")
    start = int(m.group("start"))
    return m.group("file"), start, int(m.group("end") or start)


def root_for(file: str | None, root: str | None) -> tuple[Path, str | None]:
    """The workspace root for a command — `--root`, else the nearest folder above the file
    with a root marker, else the file's own folder — and, in that last case, a note saying
    so (the user may have expected a wider workspace)."""
    if root:
        check_path(root, "--root")
        base = Path(root)
        if not base.is_dir():
            raise EngineError(f"{root}: not a folder")
        return base, None
    if file:
        check_path(file)
        p = Path(file)
        if not p.exists():
            raise EngineError(f"{file}: no such file")
        if marked_root(p) is None:
            found = find_root(p)
            return found, (
                f"no project marker above {file}; using its folder {found} as the workspace"
                " (--root picks another)"
            )
        return find_root(p), None
    return Path.cwd(), None


def setup(file: str | None, root: str | None) -> tuple[Engine, config.Settings]:
    """The engine and settings for a command; the root note and settings warnings go to
    stderr as `scopewise: ...` lines."""
    from scopewise.analysis.engine import Engine

    base, settings = _settings(file, root)
    return Engine(base, settings.index), settings


def _settings(file: str | None, root: str | None) -> tuple[Path, config.Settings]:
    base, note = root_for(file, root)
    if note:
        print(f"scopewise: {safe(note)}", file=sys.stderr)
    settings, warnings = config.load(base)
    for w in warnings:
        print(f"scopewise: warning: {safe(w)}", file=sys.stderr)
    return base, settings


def answered(file: str | None, root: str | None, work: Callable[[Engine, config.Settings], T]) -> T:
    """`work`'s answer on the workspace's index (`setup`, then a build), the stored listing
    of a warm start taken as true while a child process checks it against the disk (the
    stat of every file and folder, off the answer's path): the answer is given when the
    check holds, else worked out again on an index built as usual. The check starts before
    this process imports the analysis (a sixth of a second of a command's start), so at 50k
    files it is done by the time the answer is. The site verdicts the last command left on
    that same listing are taken, this one's left (cli/kept.py)."""
    from scopewise.index.listing import Apart

    base, settings = _settings(file, root)
    ahead = Apart.ahead(base, settings.index)

    from scopewise.analysis.engine import Engine
    from scopewise.cli.kept import Kept

    try:
        engine = Engine(base, settings.index)
    except BaseException:
        if ahead is not None:
            ahead.close()
        raise
    try:
        kept = Kept.start(engine, engine.workspace.build(assume=True, ahead=ahead).cache_path)
        answer = work(engine, settings)
    except Exception:
        if _held(engine):
            raise  # the workspace's answer as it is: the error is the answer
    else:
        if _held(engine):
            if kept is not None:
                kept.save(engine)
            return answer
    engine.close()  # something moved: what was worked out may be of files gone or old
    engine = Engine(engine.root, settings.index)
    engine.index()
    return work(engine, settings)


def _held(engine: Engine) -> bool:
    check = engine.workspace.check
    return check is None or check.holds()


def budget_arg(text: str) -> int:
    """`--budget N`: a whole number of tokens, at least the engine's minimum of 64 (0 is an
    error, not the default)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of tokens") from None
    if value < 64:
        raise argparse.ArgumentTypeError(f"{value} is too small (at least 64 tokens)")
    return value


def add_action_parsers(sub: Any) -> None:
    """plan (cli/plans.py runs it), explain, refactor, fix, usage (cli/actions.py)."""
    tiers = ("auto", *(t.value for t in TIERS))  # plain strings: argparse prints their repr

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("range", help="FILE:START[-END], 1-based lines")
        p.add_argument("--tier", choices=tiers, default="auto", help="force a tier")
        p.add_argument("--root", help="workspace root (default: found from the file)")
        p.add_argument("--budget", type=budget_arg, default=None, help="context budget in tokens")
        p.add_argument("--over-cap", action="store_true", help="run even past the daily cap")

    p = sub.add_parser("plan", help="what an action would do and cost (offline)")
    p.add_argument("action", choices=tuple(a.value for a in Action))
    common(p)
    p.add_argument("--instruction", help="refactor/fix: what to do")
    p.add_argument("--intent", help=f"refactor: one of {', '.join(Intent)}")
    p.add_argument("--diagnostic", action="append", help="fix: LINE:MESSAGE (repeatable)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_lazy("plans", "cmd_plan"))

    for name, what in (
        (Action.EXPLAIN, "explain a range (Markdown on stdout)"),
        (Action.REFACTOR, "refactor a range (a diff; --apply writes it)"),
        (Action.FIX, "fix a range (a diff; --apply writes it)"),
    ):
        p = sub.add_parser(name.value, help=what)
        common(p)
        if name != Action.EXPLAIN:
            p.add_argument("--instruction", help="what to do, in words")
            g = p.add_mutually_exclusive_group()
            g.add_argument("--apply", action="store_true", help="write the edit to the files")
            g.add_argument("--diff", action="store_true", help="print the diff only (default)")
            p.add_argument(
                "--allow-incomplete",
                action="store_true",
                help="with --apply: write a wide change even if some sites were not verified",
            )
        if name == Action.REFACTOR:
            p.add_argument("--intent", help=f"one of {', '.join(Intent)}")
        if name != Action.EXPLAIN:
            p.add_argument(
                "--plan-only", action="store_true", help="print the plan and estimate; no call"
            )
            p.add_argument("--json", action="store_true", help="with --plan-only: the plan as JSON")
            p.add_argument(
                "--test",
                action="store_true",
                help="with --apply: run test_command on the tests that use what changed",
            )
        if name == Action.FIX:
            p.add_argument("--diagnostic", action="append", help="LINE:MESSAGE (repeatable)")
        p.set_defaults(func=_lazy("actions", "cmd_run"))

    p = sub.add_parser("usage", help="spend: this session, today, all time")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_lazy("actions", "cmd_usage"))


def add_project_parsers(sub: Any) -> None:
    """actions, action NAME (cli/project.py runs them)."""
    p = sub.add_parser("actions", help="the project's own actions ([[actions]])")
    p.add_argument("--root", help="workspace root (default: the current folder)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_lazy("project", "cmd_list"))

    p = sub.add_parser("action", help="run a project action on a range (like explain/refactor)")
    p.add_argument("name", help="its name (see `scopewise actions`)")
    p.add_argument("range", help="FILE:START[-END], 1-based lines")
    p.add_argument("--tier", choices=("auto", *(t.value for t in TIERS)), default="auto")
    p.add_argument("--root", help="workspace root (default: found from the file)")
    p.add_argument("--budget", type=budget_arg, default=None, help="context budget in tokens")
    p.add_argument("--over-cap", action="store_true", help="run even past the daily cap")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--apply", action="store_true", help="an edit: write it to the files")
    g.add_argument("--diff", action="store_true", help="an edit: print the diff only (default)")
    p.add_argument("--allow-incomplete", action="store_true", help="with --apply: see refactor")
    p.add_argument("--plan-only", action="store_true", help="print the plan and estimate; no call")
    p.add_argument("--json", action="store_true", help="with --plan-only: the plan as JSON")
    p.add_argument("--test", action="store_true", help="with --apply: run the affected tests")
    p.set_defaults(func=_lazy("project", "cmd_action"))


def _lazy(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """The command `name` of `scopewise.cli.<module>`, imported when it runs."""

    def run(args: argparse.Namespace) -> int:
        command: Callable[[argparse.Namespace], int] = getattr(
            importlib.import_module(f"scopewise.cli.{module}"), name
        )
        return command(args)

    return run
