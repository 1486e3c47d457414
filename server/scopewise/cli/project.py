"""`scopewise actions` (the project's own actions, `[[actions]]`) and `scopewise action NAME
FILE:A-B` (one of them run like explain or refactor: the same plan, progress and output)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from scopewise.cli.actions import budget_arg, cmd_run, root_for, setup
from scopewise.cli.terminal import safe
from scopewise.settings import ProjectAction
from scopewise.vocab import TIERS


def cmd_list(args: argparse.Namespace) -> int:
    """The project's actions: name, kind, route, files (a line each, or --json)."""
    base, _ = root_for(None, args.root)
    _, settings = setup(None, str(base))
    rows = [_row(a) for a in settings.actions]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no project actions ([[actions]] in .scopewise.toml; see the README)")
        return 0
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        files = ", ".join(r["files"]) or "all files"
        line = f"{r['name']:<{width}}  {r['kind']:<7}  {r['route']:<8}  {files}"
        print(safe(line))
    return 0


def _row(action: ProjectAction) -> dict[str, Any]:
    return {
        "name": action.name,
        "kind": action.kind,
        "route": action.scale,
        "files": list(action.files),
    }


def cmd_action(args: argparse.Namespace) -> int:
    """One project action on a range, as `scopewise explain` or `refactor` runs theirs."""
    args.command = "project"
    return cmd_run(args)


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("actions", help="the project's own actions ([[actions]])")
    p.add_argument("--root", help="workspace root (default: the current folder)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

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
    p.set_defaults(func=cmd_action)
