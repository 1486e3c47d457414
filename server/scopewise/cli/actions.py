"""`scopewise plan|explain|refactor|fix|usage`: the actions from the command line.

`plan` is offline and needs no key. The others call Claude: progress and thinking status go
to stderr, Ctrl-C cancels the stream and says what it cost, and edits are shown as a diff and
written only with --apply: all files or none (see diskwrite), and only if each still holds the
exact bytes the edit was made against."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from scopewise.actions.api import (
    CallCancelled,
    ClaudeClient,
    ClaudeError,
    Ledger,
    LedgerError,
    Retrying,
    StreamEvent,
    TextProgress,
    ThinkingProgress,
    from_settings,
    usd,
)
from scopewise.actions.edits import FileChange
from scopewise.actions.plan import ActionError, ActionResult, Actions, Plan, explanation_markdown
from scopewise.cli.args import setup
from scopewise.cli.diskwrite import FileWrite, WriteError, write_all
from scopewise.cli.plans import print_plan, request
from scopewise.cli.terminal import safe
from scopewise.cli.tests_run import check_test_request, list_tests, run_affected
from scopewise.index.files import inside
from scopewise.vocab import Action, EngineError

EXIT_ERROR = 2
EXIT_API = 3


class _Status:
    """Progress on stderr: one line rewritten in place on a terminal."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = ""

    def __call__(self, text: str) -> None:
        if text == self.last:
            return
        self.last = text
        if self.tty:
            sys.stderr.write("\r\033[K" + safe(text))
        else:
            sys.stderr.write(safe(text) + "\n")
        sys.stderr.flush()

    def done(self) -> None:
        if self.tty and self.last:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def cmd_run(args: argparse.Namespace) -> int:
    """`scopewise explain|refactor|fix`: plan, call Claude with progress on stderr, then show
    the result (and write the edit with --apply); with --plan-only, the plan alone."""
    _check_flags(args)
    file, req = request(args, args.command)
    engine, settings = setup(file, args.root)
    engine.index()
    actions = Actions(engine, settings, ledger=Ledger(daily_cap_usd=settings.daily_cap_usd))
    try:
        plan = actions.plan(req, budget=args.budget)
    except ActionError as exc:
        raise EngineError(str(exc)) from None
    if getattr(args, "plan_only", False):
        return print_plan(plan, args.json)
    check_test_request(args, settings)
    client = from_settings(settings)
    missing = client.check()
    if missing is not None:
        print(f"scopewise: {safe(missing.message)}", file=sys.stderr)
        return EXIT_ERROR
    unrecorded = actions.ledger.warn_once()
    if unrecorded:
        print(f"scopewise: warning: {unrecorded}", file=sys.stderr)
    result = _call(actions, plan, client)
    if isinstance(result, int):
        return result
    status = _show(
        result,
        engine.root,
        apply=getattr(args, "apply", False),
        allow_incomplete=getattr(args, "allow_incomplete", False),
    )
    if status == 0 and getattr(args, "test", False) and result.changes:
        return run_affected(result, settings, engine.root)
    return status


def _check_flags(args: argparse.Namespace) -> None:
    """Flags that do not go together, refused before anything is indexed or called."""
    plan_only = getattr(args, "plan_only", False)
    if getattr(args, "json", False) and not plan_only:
        raise EngineError("--json goes with --plan-only (the result is a diff)")
    if plan_only and (getattr(args, "apply", False) or getattr(args, "test", False)):
        raise EngineError("--plan-only calls nothing, so there is nothing to --apply or --test")


def _progress(status: _Status, action: str) -> Callable[[StreamEvent], None]:
    """The stream listener: thinking, writing and retry progress as one status line."""

    def on_event(ev: StreamEvent) -> None:
        if isinstance(ev, ThinkingProgress):
            status(f"thinking… {ev.tokens_so_far / 1000:.1f}k tokens")
        elif isinstance(ev, TextProgress):
            word = "writing explanation" if action == Action.EXPLAIN else "writing edit"
            status(f"{word}… {ev.chars:,} chars")
        elif isinstance(ev, Retrying):
            status(ev.message())

    return on_event


def _cancel_on_ctrl_c(interrupts: list[int]) -> None:
    """Ctrl-C cancels the running task, and again every half second until it has ended (a
    library may swallow one cancellation: the CLI then streamed on to the end); a second
    Ctrl-C stops at once. Where the loop cannot take signals, asyncio.run's own handling."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()

    def cancel() -> None:
        if task is not None and not task.done():
            task.cancel()
            loop.call_later(0.5, cancel)

    def on_sigint() -> None:
        interrupts.append(1)
        if len(interrupts) > 1:
            raise KeyboardInterrupt
        cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGINT, on_sigint)


def _call(actions: Actions, plan: Plan, client: ClaudeClient) -> ActionResult | int:
    """Run the plan with progress on stderr: the result, or the exit status after saying
    why there is none (cancelled with Ctrl-C, an API error, an action that cannot go on)."""
    status = _Status()
    status(f"{plan.title} — {plan.route.summary}")
    on_event = _progress(status, plan.request.action)

    interrupts: list[int] = []

    async def go() -> ActionResult:
        _cancel_on_ctrl_c(interrupts)
        try:
            return await actions.run(plan, client, on_event, on_stage=status)
        finally:
            await client.close()

    try:
        result = asyncio.run(go())
    except (KeyboardInterrupt, asyncio.CancelledError) as exc:
        if not interrupts and isinstance(exc, CallCancelled):
            status.done()
            print(f"scopewise: cancelled ({exc.usage.output_tokens:,} tokens out)", file=sys.stderr)
            return 130
        status.done()
        try:
            spent = usd(actions.ledger.session_totals().usd, 4)
        except LedgerError:
            spent = "not recorded"
        print(f"scopewise: cancelled; this session so far: {spent}", file=sys.stderr)
        return 130
    except ClaudeError as exc:
        status.done()
        print(f"scopewise: {safe(exc.message)}", file=sys.stderr)
        return EXIT_API
    except ActionError as exc:
        status.done()
        print(f"scopewise: {safe(str(exc))}", file=sys.stderr)
        return EXIT_API
    status.done()
    return result


def _show(result: ActionResult, root: Path, *, apply: bool, allow_incomplete: bool = False) -> int:
    """Notes and the cost line on stderr; the explanation, or the diff, on stdout; with
    ``apply`` the edit written to disk, all files or none — a wide change whose sites were
    not all verified only with ``allow_incomplete``."""
    for note in result.notes:
        print(f"scopewise: note: {safe(note)}", file=sys.stderr)
    print(f"scopewise: {safe(result.cost_line)}", file=sys.stderr)
    if result.plan.request.action == Action.EXPLAIN:
        print(safe(explanation_markdown(result, root)))
        return 0
    if not result.changes:
        print(f"scopewise: no change proposed. {safe(result.text)}", file=sys.stderr)
        return 0
    print(safe(result.diff()), end="")
    if result.text:
        print(f"scopewise: {safe(result.text)}", file=sys.stderr)
    list_tests(result)
    for left in result.leftovers:
        print(f"scopewise: not verified: {safe(left)}", file=sys.stderr)
    if not apply:
        return 0
    if result.leftovers and not allow_incomplete:
        print(
            f"scopewise: nothing written: {len(result.leftovers)} site(s) not verified (above); "
            "--allow-incomplete writes it anyway",
            file=sys.stderr,
        )
        return EXIT_ERROR
    try:
        write_all([_file_write(root, c) for c in result.changes])
    except WriteError as exc:
        print(f"scopewise: {safe(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    print(f"scopewise: applied to {len(result.changes)} file(s)", file=sys.stderr)
    return 0


def _file_write(root: Path, change: FileChange) -> FileWrite:
    """How one change goes to disk: to the file a symlink names (the link stays a link),
    only if it still holds the exact bytes the edit was resolved against."""
    real = Path(os.path.realpath(root / change.path))
    if not inside(root, change.path):
        raise WriteError(f"{change.path} now leads outside the workspace; nothing written")
    expect = None if change.created else change.before.encode("utf-8")
    return FileWrite(real, change.after.encode("utf-8"), expect, change.path)


def cmd_usage(args: argparse.Namespace) -> int:
    ledger = Ledger()
    try:
        totals = {
            "session": ledger.session_totals(),
            "today": ledger.day_totals(),
            "all_time": ledger.all_time(),
        }
    except LedgerError as exc:
        print(f"scopewise: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if args.json:
        print(json.dumps({k: v.__dict__ for k, v in totals.items()}, indent=2))
        return 0
    for name, t in totals.items():
        print(
            f"{name:<9} {t.calls:>5} calls  ${t.usd:>9.4f}  in {t.input_tokens:,}  out "
            f"{t.output_tokens:,}  cache read {t.cache_read_tokens:,} / write "
            f"{t.cache_write_tokens:,}"
        )
    return 0
