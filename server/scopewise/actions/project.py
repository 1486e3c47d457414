"""A project's own actions (`[[actions]]` in `.scopewise.toml`, see settings.ProjectAction):
which ones apply to a file, the one a request names, and how it is planned — answered like
Explain (an explanation's context, text) or like Refactor (a change's context, edits), routed
on its kind's sliding scale, explain's or refactor's, or at a fixed tier. Pure: settings in,
answers out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache

import pathspec

from scopewise.actions.model import ActionError, ActionRequest
from scopewise.settings import ProjectAction, action_slug
from scopewise.vocab import TIERS, Action

__all__ = [
    "applies",
    "check_file",
    "effective_action",
    "find",
    "fixed_tier",
    "for_file",
    "named",
    "resolve",
    "scale",
]


@lru_cache(maxsize=64)
def _spec(globs: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines(list(globs))


def applies(action: ProjectAction, path: str) -> bool:
    """Whether an action applies to a file (a path relative to the root): every file when it
    names no globs, else the files its globs match (gitignore style: `*.py`, `src/**`)."""
    return not action.files or _spec(action.files).match_file(path)


def for_file(actions: Sequence[ProjectAction], path: str) -> list[ProjectAction]:
    """The actions that apply to a file, in the settings' order."""
    return [a for a in actions if applies(a, path)]


def find(actions: Sequence[ProjectAction], name: str) -> ProjectAction | None:
    """The action a name means (as written, or its slug: "add-docstrings")."""
    wanted = action_slug(name)
    return next((a for a in actions if a.slug == wanted), None)


def effective_action(action: ProjectAction) -> Action:
    """The built-in action it is answered like: Explain (text) or Refactor (edits)."""
    return Action.EXPLAIN if action.kind == "explain" else Action.REFACTOR


def scale(action: ProjectAction) -> Action:
    """Whose sliding scale routes it: its route's (explain or refactor), else its kind's
    (a fixed tier is forced on its kind's scale, whose choice the reasons still name)."""
    if action.scale == "explain":
        return Action.EXPLAIN
    if action.scale == "refactor":
        return Action.REFACTOR
    return effective_action(action)


def fixed_tier(action: ProjectAction) -> str | None:
    """The tier its route fixes, or None (a sliding scale)."""
    return action.route if action.route in TIERS else None


def resolve(actions: Sequence[ProjectAction], req: ActionRequest) -> ActionRequest:
    """A request naming a project action, made canonical: its name as the settings write it
    and its kind's action (ActionError: no such action)."""
    if req.project_action is None:
        return req
    found = named(actions, req)
    return replace(req, action=effective_action(found), project_action=found.name)


def named(actions: Sequence[ProjectAction], req: ActionRequest) -> ProjectAction:
    """The project action a request names (ActionError: none by that name)."""
    found = find(actions, req.project_action or "")
    if found is None:
        names = ", ".join(a.name for a in actions) or "none are defined in .scopewise.toml"
        raise ActionError(f"no project action named {req.project_action!r} ({names})")
    return found


def check_file(action: ProjectAction, path: str) -> None:
    """ActionError when the action does not apply to this file (relative to the root)."""
    if not applies(action, path):
        globs = ", ".join(action.files)
        raise ActionError(f"the project action {action.name!r} applies to {globs} only")
