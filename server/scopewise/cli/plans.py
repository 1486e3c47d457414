"""`scopewise plan` (offline, no key) and what every action command reads from its
arguments: the request and the plan's output. Apart from cli/actions.py, which runs the
actions that call Claude, so a plan imports neither the client's transport nor asyncio. The
actions are imported once the plan's listing check has started (`answered`), as `context`
imports the analysis."""

from __future__ import annotations

import argparse
import json
import re
from typing import TYPE_CHECKING, Any

from scopewise.cli.args import answered, parse_range
from scopewise.vocab import Action, DiagnosticInfo, EngineError, Intent

if TYPE_CHECKING:
    from scopewise.actions.plan import ActionRequest, Actions, Plan
    from scopewise.analysis.engine import Engine
    from scopewise.settings import Settings

_DIAG = re.compile(r"^(?P<line>\d+):(?P<msg>.+)$")


def request(args: argparse.Namespace, action: str) -> tuple[str, ActionRequest]:
    from scopewise.actions.model import ActionRequest

    file, fields = _asked(args, action)
    return file, ActionRequest(**fields)


def _asked(args: argparse.Namespace, action: str) -> tuple[str, dict[str, Any]]:
    """The request's file and fields, checked (its errors before any work is done)."""
    file, start, end = parse_range(args.range)
    diags = []
    for d in getattr(args, "diagnostic", None) or []:
        m = _DIAG.match(d)
        if not m:
            raise EngineError(f"--diagnostic {d!r}: expected LINE:MESSAGE")
        diags.append(DiagnosticInfo(int(m.group("line")), m.group("msg").strip()))
    intent = getattr(args, "intent", None)
    project_action = getattr(args, "name", None)  # `scopewise action NAME`
    if project_action is not None:
        action = Action.REFACTOR  # until the plan reads the action's kind
    if intent and intent not in tuple(Intent):
        raise EngineError(f"unknown intent {intent!r} ({', '.join(Intent)})")
    return file, {
        "action": action,
        "path": file,
        "start_line": start,
        "end_line": end,
        "instruction": getattr(args, "instruction", None),
        "intent": intent,
        "diagnostics": tuple(diags),
        "tier": None if args.tier == "auto" else args.tier,
        "override_cap": getattr(args, "over_cap", False),
        "project_action": project_action,
    }


def cmd_plan(args: argparse.Namespace) -> int:
    file, fields = _asked(args, args.action)

    def work(engine: Engine, settings: Settings) -> Plan:
        from scopewise.actions.model import ActionRequest
        from scopewise.actions.plan import Actions

        return _plan(Actions(engine, settings), ActionRequest(**fields), args.budget)

    return print_plan(answered(file, args.root, work), args.json)


def _plan(actions: Actions, req: ActionRequest, budget: int | None) -> Plan:
    from scopewise.actions.plan import ActionError

    try:
        return actions.plan(req, budget=budget)
    except ActionError as exc:
        raise EngineError(str(exc)) from None


def print_plan(plan: Plan, as_json: bool) -> int:
    """`plan` and `refactor --plan-only`: the plan as JSON, or as lines of text."""
    from scopewise.cli.plan_text import plan_lines

    if as_json:
        print(json.dumps(plan.to_dict(), indent=2, default=str))
    else:
        print("\n".join(plan_lines(plan)))
    return 0
