"""A scripted model for wide changes (the fake API's ``responder``): it answers from what it is
shown, as a careful model would on the `wide` fixture (tests/conftest.py) — the planner names
every site of the list it was sent (and the definition) in a rename plan; each writer renames
the identifier in exactly the text it was given, and can be told to skip a line, to break a
file, or to look things up first."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from fakeapi import Reply

OLD, NEW = "norm", "normalize_header"


def prompt_of(body: dict[str, Any]) -> str:
    return str(body["messages"][0]["content"])


def system_of(body: dict[str, Any]) -> str:
    return "\n".join(b["text"] for b in body.get("system") or [])


def is_plan(body: dict[str, Any]) -> bool:
    return prompt_of(body).startswith("Plan a change")


def listed_sites(prompt: str) -> dict[str, list[int]]:
    """The site list the planner was sent: "### path" then "12: text" lines."""
    out: dict[str, list[int]] = {}
    path = None
    for line in prompt.split("## Sites", 1)[1].split("\n"):
        if line.startswith("### "):
            path = line[4:].strip()
            out[path] = []
        elif path and (m := re.match(r"(\d+): ", line)):
            out[path].append(int(m.group(1)))
    return out


def shown_runs(prompt: str) -> list[tuple[str, int, str]]:
    """The runs of text a writer was shown: (path, first line, text)."""
    lines = prompt.split("\n")
    out = []
    path = ""
    for i, line in enumerate(lines):
        if line.startswith("### "):
            path = line[4:].strip()
        elif m := re.fullmatch(r"@@ (\d+)-(\d+)", line):
            a, b = int(m.group(1)), int(m.group(2))
            out.append((path, a, "\n".join(lines[i + 1 : i + 2 + b - a])))
    return out


def edits_answer(edits: list[dict[str, str]]) -> Reply:
    return Reply(text=json.dumps({"summary": "renamed", "edits": edits}))


@dataclass
class Model:
    """Answers a plan request with a rename plan over the sites it lists (plus the
    definition), and a writer request by renaming OLD in every run it was shown — but the
    lines in ``skip`` (path, text) while ``skips`` repairs are left (-1: never fixed)."""

    plan: Callable[[dict[str, list[int]]], dict[str, Any]] | None = None
    skip: set[tuple[str, str]] = field(default_factory=set)
    skips: int = 0
    breaks: set[str] = field(default_factory=set)  # files a writer leaves with a syntax error
    writer_reply: dict[str, Any] = field(default_factory=dict)  # e.g. wait, delay
    lookups: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lookup_rounds: int = 1  # plan calls that look things up before the plan
    requests: list[str] = field(default_factory=list)  # "plan", "write", "repair"
    old: str = OLD
    new: str = NEW

    def __call__(self, body: dict[str, Any]) -> Reply:
        if is_plan(body):
            self.requests.append("plan")
            if self.lookups and len(body["messages"]) < 2 * self.lookup_rounds:
                return Reply(text="", tool_uses=list(self.lookups), thinking="what uses it?")
            sites = listed_sites(prompt_of(body))
            path, first = selection(prompt_of(body))
            sites.setdefault(path, []).append(first)  # the definition
            answer = self.plan(sites) if self.plan else rename_plan(sites, self.old, self.new)
            return Reply(text=json.dumps(answer), thinking="a rename, every site")
        repair = "A previous attempt" in prompt_of(body)
        self.requests.append("repair" if repair else "write")
        if repair and self.skips > 0:
            self.skips -= 1
        left_alone = self.skip if (not repair or self.skips != 0) else set()
        edits = []
        old = re.compile(rf"\b{re.escape(self.old)}\b")
        for path, _, text in shown_runs(prompt_of(body)):
            new = "\n".join(
                line if (path, line.strip()) in left_alone else old.sub(self.new, line)
                for line in text.split("\n")
            )
            if path in self.breaks:
                new = new.replace("return [a, b]", "return [a, b", 1)
            if new != text:
                edits.append({"path": path, "old_text": text, "new_text": new})
        return replace(edits_answer(edits), **self.writer_reply)


def rename_plan(sites: dict[str, list[int]], old: str = OLD, new: str = NEW) -> dict[str, Any]:
    return {
        "summary": f"Rename {old} to {new} everywhere.",
        "interface": {"renames": [{"old": old, "new": new}], "removed": [], "signature": None},
        "files": [
            {"path": p, "sites": lines, "how": f"rename {old} to {new}"}
            for p, lines in sorted(sites.items())
        ],
    }


def selection(prompt: str) -> tuple[str, int]:
    """The selection a plan request names ("the selected code, path:12-30"): path, line."""
    m = re.search(r"the selected code, (\S+):(\d+)-\d+", prompt)
    assert m is not None, prompt[:200]
    return m.group(1), int(m.group(2))
