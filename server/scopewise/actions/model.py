"""The data of an action: what is asked (`ActionRequest`), what it would do and cost
(`Plan`), what it did (`ActionResult`) and why it cannot go on (`ActionError`). Plain data
shared by planning, running and the explanation document; no I/O."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from scopewise.actions.budget import describe
from scopewise.actions.edits import FileChange
from scopewise.actions.estimate import Estimate
from scopewise.actions.followup import Conversation
from scopewise.actions.routing import Route
from scopewise.analysis.context import Context
from scopewise.analysis.scope import Scope
from scopewise.claude.call import Usage
from scopewise.claude.costs import usage_line
from scopewise.claude.costs import usd as usd  # for a front end that only plans
from scopewise.vocab import DiagnosticInfo, Tier


class ActionError(Exception):
    """An action that cannot go on; the message says why and what to do, in one line."""


@dataclass(frozen=True)
class ActionRequest:
    action: str  # an Action
    path: str  # relative to the workspace (or absolute inside it)
    start_line: int  # 1-based inclusive
    end_line: int
    instruction: str | None = None
    intent: str | None = None  # a named refactoring: an Intent
    diagnostics: tuple[DiagnosticInfo, ...] = ()
    tier: str | None = None  # a Tier; None or "auto": the sliding scale decides
    override_cap: bool = False
    # a project action's name (`[[actions]]`): its prompt is the task, `action` its kind's
    project_action: str | None = None

    @property
    def label(self) -> str:
        """What was asked, in words: "refactor: simplify", "Add docstrings", "explain"."""
        if self.project_action:
            return self.project_action
        return f"{self.action}: {self.intent}" if self.intent else self.action


@dataclass(frozen=True)
class StepPlan:
    """One step of a wide change before it runs (see vocab.Role): plan (deep), write (a
    cheaper tier, one call per file or group of small files, ``files``), verify (no model).
    The advisor rung is one write step, one call whose ``advisor`` (the deep tier's model)
    the writer may consult mid-answer; its estimate covers both models."""

    role: str  # a Role
    tier: str  # "" for verify
    model: str  # "" for verify
    reasoning: str  # Reasoning.describe(), "" for verify
    files: tuple[str, ...] = ()
    estimate: Estimate = field(default_factory=lambda: Estimate(0, 0, 0, 0.0))
    advisor: str = ""  # the advisor rung's advisor model ("": none)

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "tier": self.tier,
            "model": self.model,
            "reasoning": self.reasoning,
            "advisor": self.advisor or None,
            "files": list(self.files),
            "estimate": {
                "input_tokens": self.estimate.input_tokens,
                "cached_tokens": self.estimate.cached_tokens,
                "output_tokens": self.estimate.output_tokens,
                "usd": round(self.estimate.usd, 4),
            },
        }


@dataclass
class StepCost:
    """What one step of a wide change did and cost (its calls summed)."""

    role: str
    tier: str
    model: str
    files: tuple[str, ...] = ()
    usage: Usage = field(default_factory=Usage)
    usd: float = 0.0
    calls: int = 0
    duration_s: float = 0.0

    @property
    def line(self) -> str:
        """e.g. "write · quick · 10 files · 10 calls · $0.0031 · 1.2 s"."""
        what = [self.role]
        if self.tier:
            what.append(self.tier)
        if self.files:
            what.append(f"{len(self.files)} file{'s' if len(self.files) != 1 else ''}")
        if self.calls:
            what.append(f"{self.calls} call{'s' if self.calls != 1 else ''} · ${self.usd:.4f}")
        what.append(f"{self.duration_s:.1f} s")
        return " · ".join(what)


@dataclass
class Plan:
    request: ActionRequest
    path: str
    scope: Scope
    route: Route
    context: Context
    system: str
    prompt: str
    structured: bool
    estimate: Estimate
    blocked: str | None = None  # why the spending cap refuses it
    context_max: int = 0  # the most context its reach could have asked for
    # a wide change's steps (plan, write, verify); empty: one call, as for a small change
    steps: tuple[StepPlan, ...] = ()
    # what a wide change's plan step reads (an explanation's context: the range, what it
    # uses; the complete site list goes in its prompt); None: one call reads `context`
    plan_context: Context | None = None

    @property
    def planner_text(self) -> str:
        """The plan step's context as sent (without the site list its prompt carries)."""
        return (self.plan_context or self.context).render(sites=False)

    @property
    def context_line(self) -> str:
        """e.g. "context 9.2k of 10k (up to 24k): 52 sites in 10 files"."""
        return describe(self.context, self.context_max)

    @property
    def title(self) -> str:
        """The code-action title, e.g. "Refactor: simplify · standard · ~6.1k tok · ~$0.04";
        a wide change's: "Refactor: improve names · deep plan + quick write · ~9.4k tok ·
        ~$0.06"; the advisor rung's: "Refactor: simplify · deep advisor + standard write ·
        ..."."""
        name = self.request.action.capitalize()
        if self.request.project_action:
            name = self.request.project_action
        elif self.request.intent:
            name += f": {self.request.intent}"
        tiers = self.route.tier
        if self.steps:
            tiers = " + ".join(f"{s.tier} {s.role}" for s in self.steps if s.tier)
            if self.route.advisor:
                tiers = f"{Tier.DEEP} advisor + {tiers}"
        return f"{name} · {tiers} · {self.estimate.label}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.request.action,
            "project_action": self.request.project_action,
            "path": self.path,
            "start_line": self.request.start_line,
            "end_line": self.request.end_line,
            "tier": self.route.tier,
            "model": self.route.model,
            "reasoning": self.route.reasoning.describe(),
            "thinking": self.route.reasoning.thinking,
            "effort": self.route.reasoning.effort,
            "max_tokens": self.route.reasoning.max_tokens,
            "forced": self.route.forced,
            "summary": self.route.summary,
            "reasons": self.route.reasons,
            "score": self.scope.score,
            "estimate": {
                "input_tokens": self.estimate.input_tokens,
                "cached_tokens": self.estimate.cached_tokens,
                "output_tokens": self.estimate.output_tokens,
                "usd": round(self.estimate.usd, 4),
            },
            "blocked": self.blocked,
            "steps": [s.to_dict() for s in self.steps],
            # every use of the range elsewhere: the sites a wide change's writers edit
            "sites": [asdict(s) for s in self.context.sites],
            "context": {
                "line": self.context_line,
                "tokens": self.context.tokens,
                "budget": self.context.budget,
                "budget_max": max(self.context_max, self.context.budget),
                "need": {"core": self.context.need_core, "ripple": self.context.need_ripple},
                "sites": [asdict(s) for s in self.context.sites],
                "manifest": [s.__dict__ for s in self.context.snippets],
                "dropped": [d.__dict__ for d in self.context.dropped],
                "redactions": [r.__dict__ for r in self.context.redactions],
            },
        }


@dataclass
class ActionResult:
    plan: Plan
    text: str  # the explanation (Markdown), or the summary of the edits
    changes: list[FileChange] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    usd: float = 0.0
    duration_s: float = 0.0
    model: str = ""
    tier: str = ""
    calls: int = 0
    notes: list[str] = field(default_factory=list)
    steps: list[StepCost] = field(default_factory=list)  # a wide change's steps, in order
    # what verification could not confirm, by site: "path:line: reason"
    leftovers: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)  # test files using a changed definition
    # the last call and its answer, for a revise (followup.py); None: cannot be revised
    conversation: Conversation | None = None

    def diff(self) -> str:
        return "".join(c.diff() for c in self.changes)

    @property
    def cost_line(self) -> str:
        """e.g. "quick · claude-haiku-5-5 · in 644 + cache read 0 / write 0 · out 616 ·
        $0.0004 · 2.1 s"."""
        return (
            f"{self.tier} · {self.model} · {usage_line(self.usage, self.usd)} · "
            f"{self.duration_s:.1f} s"
        )


def add_usage(a: Usage, b: Usage) -> Usage:
    return Usage(
        a.input_tokens + b.input_tokens,
        a.output_tokens + b.output_tokens,
        a.cache_write_tokens + b.cache_write_tokens,
        a.cache_read_tokens + b.cache_read_tokens,
        (a.thinking_tokens or 0) + (b.thinking_tokens or 0) or None,
        a.estimated or b.estimated,
    )
