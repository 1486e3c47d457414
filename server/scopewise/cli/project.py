"""`scopewise actions` (the project's own actions, `[[actions]]`) and `scopewise action NAME
FILE:A-B` (one of them run like explain or refactor: the same plan, progress and output)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from scopewise.cli.actions import cmd_run
from scopewise.cli.args import root_for, setup
from scopewise.cli.terminal import safe
from scopewise.settings import ProjectAction


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
