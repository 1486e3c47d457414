"""The plan step of a wide change: the deep tier gets the target, the complete site list and
the packed context, may look things up in the index (read-only tools, answered locally and
bounded in calls and tokens), and answers the plan as structured output (spec.py).

A tool loop is one assistant turn: every follow-up call echoes the assistant's content
verbatim, then the tool results, with the same thinking configuration throughout."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from scopewise.actions import prompts
from scopewise.actions.meter import Meter, Tally
from scopewise.actions.model import ActionError, Plan
from scopewise.actions.routing import Reasoning
from scopewise.actions.wide.spec import PLAN_SCHEMA, WidePlan, with_sites
from scopewise.analysis import redact
from scopewise.analysis.context import SiteEntry
from scopewise.claude.call import CallRequest, CallResult, OnEvent, ToolUse, Usage
from scopewise.claude.costs import cost_usd
from scopewise.claude.models import Price
from scopewise.index.model import FileIndex
from scopewise.vocab import Intent

BUDGET_SPENT = "look-up budget spent; answer with the plan now"

PLAN_RULES = """\
Answer with a JSON object: {"summary": "the change in a few sentences", "interface":
{"renames": [{"old": "name", "new": "name"}], "removed": ["name"], "signature": {"name":
"name", "params": ["param as written", ...]} or null}, "files": [{"path": "...", "sites":
[line, ...], "how": "what to write there"}]}. Cheaper writers carry the plan out file by
file, each seeing only the lines around the sites you name, and every site is verified
afterwards: name every site that must change (the definition itself too), by the line numbers
listed here, and say in "how" precisely what to write. Name only the files and lines listed
below; leave out an unsure site that is not a use of the selection."""


class LookupAnswerLike(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def tokens(self) -> int: ...
    @property
    def doing(self) -> str: ...
    @property
    def error(self) -> bool: ...


class Lookup(Protocol):
    """The read-only look-ups (analysis/lookup.py's `Lookups`)."""

    def answer(self, name: str, args: dict[str, Any]) -> LookupAnswerLike: ...


def tool_definitions(spec: Mapping[str, tuple[str, dict[str, Any]]]) -> tuple[dict[str, Any], ...]:
    """The tools as the API takes them, in a stable order (they open the cached prefix)."""
    return tuple(
        {"name": name, "description": desc, "input_schema": schema}
        for name, (desc, schema) in sorted(spec.items())
    )


def site_list(sites: Sequence[SiteEntry], read: Callable[[str], str | None]) -> str:
    """Every site of the target, a line each under its file: "12: text  (in handler) <-
    unsure" — the complete list, whatever the packed context had room for; credentials
    redacted as in the context."""
    out: list[str] = []
    texts: dict[str, list[str]] = {}
    for s in sorted(sites, key=lambda s: (s.path, s.line)):
        if s.path not in texts:
            texts[s.path] = redact.redact_lines((read(s.path) or "").split("\n"))[0]
            out.append(f"### {s.path}")
        lines = texts[s.path]
        text = lines[s.line - 1].strip() if 0 < s.line <= len(lines) else ""
        where = "" if s.symbol == "(module level)" else f"  (in {s.symbol})"
        unsure = "" if s.certain else "  <- unsure"
        out.append(f"{s.line}: {text}{where}{unsure}")
    return "\n".join(out)


def plan_prompt(goal: str, where: str, sites: str, count: str, lookups: bool) -> str:
    look = (
        "\nThe context shows the selection and what it uses; the sites are listed below, a "
        "line each. You may look things up in the index with the tools before answering "
        "(the code around a site, a definition), when that is not enough; each look-up "
        "costs time and money."
        if lookups
        else ""
    )
    return (
        f"Plan a change to the selected code, {where}, that reaches {count}. Goal: {goal}\n"
        f"Keep its behaviour.{look}\n\n{PLAN_RULES}\n\n## Sites\n{sites}"
    )


@dataclass
class ToolLoop:
    """The plan call and its look-ups: each round of tool uses is answered locally and sent
    back; at most ``max_steps`` rounds and ``max_tokens`` tokens of answers, past which every
    tool use is answered with BUDGET_SPENT (once: asking again after that is an error)."""

    meter: Meter
    tier: str
    price: Price
    into: Sequence[Tally]
    lookups: Lookup | None
    max_steps: int
    max_tokens: int
    on_stage: Callable[[str], Any] | None = None
    on_event: OnEvent | None = None
    spent_tokens: int = 0
    rounds: int = 0
    looked_up: list[str] = field(default_factory=list)

    async def ask(self, request: CallRequest, cost: float, prefix: str) -> CallResult:
        """The final answer of the loop (its text is the plan)."""
        history: list[dict[str, Any]] = []
        exhausted = False
        while True:
            answer = await self.meter.call(
                replace(request, history=tuple(history)),
                tier=self.tier,
                cost=cost,
                what="the plan step" if not history else "a look-up's follow-up",
                into=self.into,
                prefix=prefix,
                on_event=self.on_event,
            )
            uses = answer.tool_uses
            if answer.stop_reason != "tool_use" or not uses:
                return answer
            if exhausted:
                raise ActionError(
                    "the plan step kept looking things up after its look-up budget was spent; "
                    "nothing was changed"
                )
            results, exhausted = self._answer(uses)
            history += [
                {"role": "assistant", "content": list(answer.content)},
                {"role": "user", "content": results},
            ]
            cost = self._follow_up_cost(answer.usage, results)

    def _answer(self, uses: Sequence[ToolUse]) -> tuple[list[dict[str, Any]], bool]:
        """The tool_result blocks of one round; whether the budget is now spent."""
        over = self.lookups is None or self.rounds >= self.max_steps
        results = []
        for use in uses:
            over = over or self.spent_tokens >= self.max_tokens
            if over or self.lookups is None:
                results.append(_result(use.id, BUDGET_SPENT))
                continue
            found = self.lookups.answer(use.name, dict(use.input))
            self.looked_up.append(found.doing)
            if self.on_stage:
                self.on_stage(f"{found.doing}…")
            self.spent_tokens += found.tokens
            results.append(_result(use.id, found.text, found.error))
        self.rounds += 1
        return results, over

    def _follow_up_cost(self, last: Usage, results: Sequence[dict[str, Any]]) -> float:
        """The next call reads all of the last one again, its answer and the look-ups'
        answers (chars / 4), and may write as much as the last one did, or more."""
        added = sum(len(str(r.get("content", ""))) for r in results) // 4
        again = Usage(
            input_tokens=last.total_input_tokens + last.output_tokens + added,
            output_tokens=max(last.output_tokens, 2000),
        )
        return cost_usd(again, self.price)


def _result(tool_use_id: str, text: str, error: bool = False) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id, "content": text}
    if error:
        block["is_error"] = True
    return block


def plan_request(
    model: str,
    system: str,
    context: str,
    prompt: str,
    reasoning: Reasoning,
    tools: tuple[dict[str, Any], ...],
    structured: bool,
) -> CallRequest:
    """The plan call: the deep tier's model and reasoning, the plan's schema."""
    return CallRequest(
        model=model,
        system=system,
        context=context,
        prompt=prompt if structured else prompt + "\nReply with the JSON object only.",
        max_tokens=reasoning.max_tokens,
        thinking=reasoning.thinking,
        effort=reasoning.effort,
        output_schema=PLAN_SCHEMA if structured else None,
        tools=tools,
    )


# ---------------------------------------------------------------------------- the plan's frame
def prompt_for(plan: Plan, read: Callable[[str], str | None], lookups: bool) -> str:
    """The plan step's prompt for an action's plan: its goal, the selection, the complete
    site list (each line's current text through ``read``)."""
    req, ctx = plan.request, plan.context
    goal = req.instruction or prompts.INTENTS.get(req.intent or "", "")
    goal = goal or prompts.INTENTS[Intent.SIMPLIFY]
    where = f"{plan.path}:{req.start_line}-{plan.scope.end_line}"
    files = len({s.path for s in ctx.sites})
    count = f"{len(ctx.sites)} sites in {files} files" if ctx.sites else "no other file"
    sites = site_list(ctx.sites, read)
    return plan_prompt(goal, where, sites or "(none)", count, lookups)


def allowed_lines(plan: Plan) -> dict[str, frozenset[int]]:
    """The lines a plan may name: the site list's, and the selection's own lines."""
    out: dict[str, set[int]] = {}
    for s in plan.context.sites:
        out.setdefault(s.path, set()).add(s.line)
    out.setdefault(plan.path, set()).update(range(plan.request.start_line, plan.scope.end_line + 1))
    return {p: frozenset(v) for p, v in out.items()}


def complete(wide: WidePlan, plan: Plan, own: FileIndex | None) -> tuple[WidePlan, list[str]]:
    """A plan that renames or removes a name covers every certain site of the target and the
    definitions of that name in the selection (``own``: the selection's file's index)."""
    if not wide.gone:
        return wide, []
    have = wide.sites_by_file
    missing: dict[str, list[int]] = {}
    for s in plan.context.sites:
        if s.certain and s.line not in have.get(s.path, ()):
            missing.setdefault(s.path, []).append(s.line)
    span = range(plan.request.start_line, plan.scope.end_line + 1)
    defs = own.definitions if own is not None else []
    for name in wide.gone:
        for line in (d.name_line + 1 for d in defs if d.name == name):
            if line in span and line not in have.get(plan.path, ()):
                missing.setdefault(plan.path, []).append(line)
    how = "; ".join(wide.interface_lines()).replace("- ", "")
    return with_sites(wide, missing, how)
