"""The plan of a wide change as data: its JSON schema (the plan step's structured answer), the
check of an answer against the site list the planner was shown (unknown files and sites are
dropped with a note; an answer that is not a plan is one ActionError), and the plan rendered
once for every writer. Pure: no I/O, no model."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from scopewise.actions.model import ActionError

_STRINGS = {"type": "array", "items": {"type": "string"}}
PLAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string"},
        "interface": {
            "type": "object",
            "properties": {
                "renames": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"old": {"type": "string"}, "new": {"type": "string"}},
                        "required": ["old", "new"],
                        "additionalProperties": False,
                    },
                },
                "removed": _STRINGS,
                "signature": {
                    "anyOf": [
                        {
                            "type": "object",
                            "properties": {"name": {"type": "string"}, "params": _STRINGS},
                            "required": ["name", "params"],
                            "additionalProperties": False,
                        },
                        {"type": "null"},
                    ]
                },
            },
            "required": ["renames", "removed", "signature"],
            "additionalProperties": False,
        },
        "files": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "path": {"type": "string"},
                    "sites": {"type": "array", "items": {"type": "integer"}},
                    "how": {"type": "string"},
                },
                "required": ["path", "sites", "how"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["summary", "interface", "files"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Rename:
    old: str
    new: str


@dataclass(frozen=True)
class NewSignature:
    name: str
    params: tuple[str, ...]


@dataclass(frozen=True)
class FilePlan:
    path: str
    sites: tuple[int, ...]  # 1-based lines of the current file
    how: str


@dataclass(frozen=True)
class WidePlan:
    """The change in words, the new interface, and for each file the sites and how."""

    summary: str
    renames: tuple[Rename, ...] = ()
    removed: tuple[str, ...] = ()
    signature: NewSignature | None = None
    files: tuple[FilePlan, ...] = ()

    @property
    def gone(self) -> dict[str, str]:
        """Each name that must no longer be referenced (its last segment: ``Client.send`` is
        used as ``send``) -> what becomes of it ("renamed to x", "removed")."""
        out = {_last(r.old): f"renamed to {_last(r.new)}" for r in self.renames}
        out.update({_last(n): "removed" for n in self.removed})
        return out

    @property
    def sites_by_file(self) -> dict[str, tuple[int, ...]]:
        return {f.path: f.sites for f in self.files}

    def file(self, path: str) -> FilePlan | None:
        return next((f for f in self.files if f.path == path), None)

    def interface_lines(self) -> list[str]:
        lines = [f"- rename `{r.old}` to `{r.new}`" for r in self.renames]
        lines += [f"- remove `{n}`" for n in self.removed]
        if self.signature is not None:
            params = ", ".join(self.signature.params)
            lines.append(f"- new signature: `{self.signature.name}({params})`")
        return lines or ["- unchanged"]

    def render(self) -> str:
        """The plan as every writer reads it (one text: the writers' shared cached prefix)."""
        out = ["# The plan", self.summary.strip(), "", "## Interface", *self.interface_lines()]
        out += ["", "## Files"]
        for f in self.files:
            sites = ", ".join(map(str, f.sites))
            out.append(f"- {f.path}: lines {sites} — {f.how.strip()}")
        return "\n".join(out)


def _last(name: str) -> str:
    return name.strip().rsplit(".", 1)[-1]


def parse_plan(text: str, allowed: Mapping[str, frozenset[int]]) -> tuple[WidePlan, list[str]]:
    """The plan in an answer, and a note for each file or site dropped because the planner
    was not shown it (``allowed``: path -> the lines it may name). ActionError when the
    answer is not a plan or none of the files it names may change (no files at all: the
    planner found nothing to change)."""
    try:
        data = json.loads(_json_part(text))
    except json.JSONDecodeError:
        raise _bad("the answer is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("summary"), str):
        raise _bad("the answer has no summary")
    renames, removed, signature = _interface(data.get("interface"))
    files, notes = _files(data.get("files"), allowed)
    if not files and data.get("files"):
        raise _bad("it names no file of the site list to change")
    return WidePlan(data["summary"], renames, removed, signature, files), notes


def _json_part(text: str) -> str:
    """A structured answer is JSON; a model without structured output may wrap it."""
    raw = text.strip()
    start, end = raw.find("{"), raw.rfind("}")
    return raw[start : end + 1] if raw and raw[0] != "{" and 0 <= start < end else raw


def _bad(why: str) -> ActionError:
    return ActionError(f"the deep tier's plan could not be used: {why}; nothing was changed")


def _interface(
    raw: Any,
) -> tuple[tuple[Rename, ...], tuple[str, ...], NewSignature | None]:
    if raw is None:
        return (), (), None
    if not isinstance(raw, dict):
        raise _bad("'interface' is not an object")
    renames = raw.get("renames") or []
    removed = raw.get("removed") or []
    sig = raw.get("signature")
    if not isinstance(renames, list) or not all(
        isinstance(r, dict) and _names(r.get("old"), r.get("new")) for r in renames
    ):
        raise _bad("each rename needs the names 'old' and 'new'")
    if not isinstance(removed, list) or not all(_names(n) for n in removed):
        raise _bad("'removed' is not a list of names")
    signature = None
    if sig is not None:
        params = sig.get("params") if isinstance(sig, dict) else None
        if not isinstance(sig, dict) or not _names(sig.get("name")) or not isinstance(params, list):
            raise _bad("'signature' needs a name and a list of parameters")
        signature = NewSignature(sig["name"].strip(), tuple(str(p) for p in params))
    return (
        tuple(Rename(r["old"].strip(), r["new"].strip()) for r in renames),
        tuple(n.strip() for n in removed),
        signature,
    )


def _names(*values: Any) -> bool:
    return all(isinstance(v, str) and v.strip() for v in values)


def _files(
    raw: Any, allowed: Mapping[str, frozenset[int]]
) -> tuple[tuple[FilePlan, ...], list[str]]:
    if not isinstance(raw, list):
        raise _bad("'files' is not a list")
    merged: dict[str, FilePlan] = {}
    notes: list[str] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise _bad("each file needs a path")
        path = item["path"].strip().removeprefix("./")
        sites = item.get("sites")
        if not isinstance(sites, list) or not all(isinstance(n, int) for n in sites):
            raise _bad(f"the sites of {path} are not line numbers")
        if path not in allowed:
            notes.append(f"{path}: not in the site list; dropped from the plan")
            continue
        kept = sorted({n for n in sites if n in allowed[path]})
        notes += [f"{path}:{n}: not in the site list; dropped" for n in sites if n not in kept]
        if not kept:
            continue
        how = str(item.get("how") or "")
        before = merged.get(path)
        if before is not None:  # a file named twice: one entry
            kept = sorted({*before.sites, *kept})
            how = f"{before.how}; {how}" if how and how != before.how else before.how
        merged[path] = FilePlan(path, tuple(kept), how)
    return tuple(merged.values()), notes


def with_sites(
    plan: WidePlan, missing: Mapping[str, Sequence[int]], how: str
) -> tuple[WidePlan, list[str]]:
    """The plan with sites it left out added (``missing``: path -> lines), and a note each."""
    files = {f.path: f for f in plan.files}
    notes = []
    for path, lines in missing.items():
        if not lines:
            continue
        have = files.get(path)
        sites = tuple(sorted({*(have.sites if have else ()), *lines}))
        files[path] = FilePlan(path, sites, have.how if have else how)
        notes.append(
            f"{path}: the plan left out line{'s' if len(lines) > 1 else ''} "
            f"{', '.join(map(str, lines))}; added"
        )
    return replace(plan, files=tuple(files.values())), notes
