"""The write step of a wide change: one call per group of files (groups.py), at most
``write_parallel`` in flight, each with the plan (the cached prefix, identical for every
writer) and that group's current text around its sites; its edits resolved against that text
under a policy that allows only the group's files. The first writer goes alone until its
first stream event (the shared prefix is then in the cache), then the others start.

The same call repairs: a group's leftovers go back to its writer (or, at the end, to the deep
tier) with the reasons and the current text."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scopewise.actions.edits import (
    EDIT_SCHEMA,
    EditError,
    EditPolicy,
    ProposedEdit,
    parse_answer,
    resolve,
)
from scopewise.actions.estimate import prefix_key
from scopewise.actions.meter import Meter, Tally
from scopewise.actions.model import ActionError
from scopewise.actions.routing import Route
from scopewise.actions.steps import SMALL_FILE_LINES, WINDOW
from scopewise.actions.wide.spec import WidePlan
from scopewise.analysis import redact
from scopewise.claude.call import CallRequest, OnEvent, StreamEvent
from scopewise.claude.errors import ClaudeError

# lines shown either side of a site, or the whole file when it is this short (the write
# step's estimate counts the same: actions/steps.py)
AROUND, WHOLE_FILE = WINDOW, SMALL_FILE_LINES

WRITER_SYSTEM = """\
You are scopewise's writer: you carry out one part of a change that a senior engineer planned
(the plan follows). You are given some files of the change, each under a "### path" line, as
runs of the current text under "@@ first-last" lines (line numbers of the current file).
Make exactly the edits the plan names at those sites, as it says; change nothing else, and do
not edit files you were not given."""

WRITE_RULES = """\
Answer with a JSON object: {{"summary": "...", "edits": [{{"path": "...", "old_text": "...",
"new_text": "..."}}]}}. Each old_text is copied exactly from the text shown (whitespace
included, without the "@@" lines) with enough lines to occur once in its file; new_text
replaces it. Edit only {files}."""


def spans(lines: Sequence[str], sites: Sequence[int]) -> list[tuple[int, int]]:
    """The runs of lines shown around ``sites`` (1-based, merged), or the whole file when it
    is short. Each run grows until its text occurs once in the file, so a writer that copies
    a run whole as its old_text has an edit that applies."""
    count = len(lines)
    if count <= WHOLE_FILE or not sites:
        return [(1, count)]
    text = "\n".join(lines)
    out: list[tuple[int, int]] = []
    for line in sorted(n for n in sites if 0 < n <= count):
        a, b = max(1, line - AROUND), min(count, line + AROUND)
        while (a > 1 or b < count) and _twice(text, "\n".join(lines[a - 1 : b])):
            a, b = max(1, a - 1), min(count, b + 1)
        if out and a <= out[-1][1] + 1:
            out[-1] = (min(out[-1][0], a), max(out[-1][1], b))
            while len(out) > 1 and out[-1][0] <= out[-2][1] + 1:  # it grew over the last one
                last = out.pop()
                out[-1] = (min(out[-1][0], last[0]), max(out[-1][1], last[1]))
        else:
            out.append((a, b))
    return out


def _twice(text: str, part: str) -> bool:
    first = text.find(part)
    return first >= 0 and text.find(part, first + 1) >= 0


def shown(path: str, text: str, sites: Sequence[int]) -> str:
    """A file as a writer sees it: its header, then each run of lines under its marker,
    credentials redacted (an edit written against a redacted line gets the real value back:
    edits.resolve)."""
    raw = text.split("\n")
    lines = redact.redact_lines(raw)[0]
    out = [f"### {path}"]
    for a, b in spans(raw, sites):
        out.append(f"@@ {a}-{b}")
        out.extend(lines[a - 1 : b])
    return "\n".join(out)


def group_prompt(
    plan: WidePlan,
    files: Sequence[str],
    texts: Mapping[str, str],
    reasons: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """What one writer call asks: its files' sites and how, their text around the sites, the
    interface, and the edit rules restricted to those files; for a repair, the reasons."""
    out = [f"Write the plan's edits in {', '.join(files)}."]
    for path in files:
        fp = plan.file(path)
        # a repair shows the lines its reasons name in the current text (the plan's line
        # numbers are those of the text before the first attempt)
        lines = _lines(reasons, path) if reasons else list(fp.sites if fp else ())
        if fp is not None:
            at = "" if reasons else f"lines {', '.join(map(str, fp.sites))} — "
            out.append(f"- {path}: {at}{fp.how}")
        for why in (reasons or {}).get(path, ()):
            out.append(f"- still to do: {why}")
        out.append(shown(path, texts.get(path, ""), lines))
    if reasons:
        out.insert(1, "A previous attempt left these sites wrong; the text shown is current.")
    out += [
        "",
        "Interface:",
        *plan.interface_lines(),
        "",
        WRITE_RULES.format(files=", ".join(files)),
    ]
    return "\n".join(out)


async def _maybe(value: Awaitable[None] | None) -> None:
    if value is not None:
        await value


def _lines(reasons: Mapping[str, Sequence[str]] | None, path: str) -> list[int]:
    """The lines named by the reasons for ``path`` ("path:12: still uses norm" -> 12)."""
    out = []
    for why in (reasons or {}).get(path, ()):
        head = why.split(":", 1)[0]
        if head.isdigit():
            out.append(int(head))
    return out


@dataclass
class Written:
    """What one writer call gave: the new text of each file it changed, or why not."""

    files: tuple[str, ...]
    texts: dict[str, str] = field(default_factory=dict)
    error: str | None = None


@dataclass
class Writers:
    """The writer calls of one tier: the route, the plan (rendered once), the cost reserved
    per call, what the calls add up into, and how many may be in flight."""

    meter: Meter
    route: Route
    plan: WidePlan
    root: Path
    cost: float
    into: Sequence[Tally]
    structured: bool = True
    parallel: int = 4
    on_event: OnEvent | None = None
    on_stage: Callable[[str], Any] | None = None
    plan_text: str = ""

    def __post_init__(self) -> None:
        self.plan_text = self.plan.render()

    async def write_all(
        self, groups: Sequence[tuple[str, ...]], texts: Mapping[str, str]
    ) -> list[Written]:
        """Every group's call: the first alone until its first event, then the rest, at most
        ``parallel`` at once. Cancelling the caller cancels them all (each call settles)."""
        gate = asyncio.Event()
        bound = asyncio.Semaphore(self.parallel)
        done: list[int] = []

        async def opened(ev: StreamEvent) -> None:
            gate.set()
            if self.on_event is not None:
                await _maybe(self.on_event(ev))

        async def one(i: int, group: tuple[str, ...]) -> Written:
            if i:
                await gate.wait()
            async with bound:
                try:
                    return await self.write(group, texts, on_event=None if i else opened)
                finally:
                    gate.set()
                    done.append(i)
                    if self.on_stage:
                        self.on_stage(f"written {len(done)} of {len(groups)}…")

        return list(await asyncio.gather(*(one(i, g) for i, g in enumerate(groups))))

    async def write(
        self,
        group: Sequence[str],
        texts: Mapping[str, str],
        reasons: Mapping[str, Sequence[str]] | None = None,
        on_event: OnEvent | None = None,
    ) -> Written:
        """One call for ``group`` against ``texts`` (path -> current text); a failed call or
        an answer that does not apply is a Written with the error, not an exception."""
        files = tuple(group)
        prompt = group_prompt(self.plan, files, texts, reasons)
        try:
            answer = await self.meter.call(
                self.request(prompt),
                tier=self.route.tier,
                cost=self.cost,
                what="a writer call" if reasons is None else "a repair call",
                into=self.into,
                prefix=prefix_key(self.route.model, WRITER_SYSTEM + self.plan_text),
                on_event=on_event or self.on_event,
            )
            _, proposed = parse_answer(answer.text)
            return _applied(files, proposed, texts, EditPolicy(self.root, frozenset(files)))
        except (ClaudeError, ActionError, EditError) as exc:
            return Written(files, error=str(exc))

    def request(self, prompt: str) -> CallRequest:
        r = self.route.reasoning
        return CallRequest(
            model=self.route.model,
            system=WRITER_SYSTEM,
            context=self.plan_text,
            prompt=prompt if self.structured else prompt + "\nReply with the JSON object only.",
            max_tokens=r.max_tokens,
            thinking=r.thinking,
            effort=r.effort,
            output_schema=EDIT_SCHEMA if self.structured else None,
        )


def _applied(
    files: tuple[str, ...],
    proposed: Sequence[ProposedEdit],
    texts: Mapping[str, str],
    policy: EditPolicy,
) -> Written:
    """The edits of one answer that apply, each checked alone first: one that does not (its
    old_text is not in the file, or the group may not touch its file) is named in the error
    and its sites stay for verification to report, the others still apply."""
    good, bad = [], []
    for n, edit in enumerate(proposed, 1):
        try:
            resolve([edit], texts.get, None, policy)
            good.append(edit)
        except EditError as exc:
            bad.append(f"edit {n}: {exc}".replace("edit 1 ", "", 1))
    changes = resolve(good, texts.get, None, policy)  # EditError: they overlap
    error = "; ".join(bad) if bad else None
    return Written(files, {c.path: c.after for c in changes if c.replacements}, error)
