"""Actions (explain, refactor, fix): a plan made offline from the index — scope, tier,
context, estimate — and a run that calls Claude, checks what comes back and accounts for it.
The CLI and the language server both go through here."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from scopewise.actions import prompts
from scopewise.actions.edits import (
    EDIT_SCHEMA,
    EditError,
    EditPolicy,
    FileChange,
    new_syntax_errors,
    parse_answer,
    read_for_edit,
    resolve,
)
from scopewise.actions.prompts import DiagnosticInfo
from scopewise.actions.routing import TIERS, Route, route
from scopewise.analysis import tokens
from scopewise.analysis.context import Context
from scopewise.analysis.engine import Engine, EngineError
from scopewise.analysis.scope import Analysis, Scope
from scopewise.claude.client import (
    CallCancelled,
    CallRequest,
    CallResult,
    ClaudeClient,
    ClaudeError,
    OnEvent,
    Usage,
)
from scopewise.claude.ledger import Ledger, Outcome, Refusal, cost_usd
from scopewise.claude.models import ModelCatalog, ModelInfo, Price
from scopewise.settings import Settings

CACHE_LIFETIME_S = 300.0  # the API's default prompt-cache lifetime
_THINKING_GUESS = {None: 0, "low": 300, "medium": 1500, "high": 4000, "xhigh": 8000, "max": 16000}
EDIT_ACTIONS = ("refactor", "fix")


class ActionError(Exception):
    """An action that cannot go on; the message says why and what to do, in one line."""


@dataclass(frozen=True)
class ActionRequest:
    action: str  # explain | refactor | fix
    path: str  # relative to the workspace (or absolute inside it)
    start_line: int  # 1-based inclusive
    end_line: int
    instruction: str | None = None
    intent: str | None = None  # a named refactoring: prompts.INTENTS
    diagnostics: tuple[DiagnosticInfo, ...] = ()
    tier: str | None = None  # None or "auto": the sliding scale decides
    override_cap: bool = False


@dataclass(frozen=True)
class Estimate:
    input_tokens: int
    cached_tokens: int  # of input_tokens, expected from the prompt cache
    output_tokens: int  # thinking included
    usd: float

    @property
    def label(self) -> str:
        """e.g. "~6.1k tok · ~$0.04"."""
        total = self.input_tokens + self.output_tokens
        size = f"{total / 1000:.1f}k" if total >= 1000 else str(total)
        return f"~{size} tok · ~${self.usd:.2f}" if self.usd >= 0.01 else f"~{size} tok · <$0.01"


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

    @property
    def title(self) -> str:
        """The code-action title, e.g. "Refactor: simplify · deep · ~6.1k tok · ~$0.04"."""
        name = self.request.action.capitalize()
        if self.request.intent:
            name += f": {self.request.intent}"
        return f"{name} · {self.route.tier} · {self.estimate.label}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.request.action,
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
            "context": {
                "tokens": self.context.tokens,
                "budget": self.context.budget,
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

    def diff(self) -> str:
        return "".join(c.diff() for c in self.changes)

    @property
    def cost_line(self) -> str:
        u = self.usage
        return (
            f"{self.tier} · {self.model} · in {u.input_tokens:,} + cache read "
            f"{u.cache_read_tokens:,} / write {u.cache_write_tokens:,} · out "
            f"{u.output_tokens:,} · ${self.usd:.4f} · {self.duration_s:.1f} s"
        )


def _add(a: Usage, b: Usage) -> Usage:
    return Usage(
        a.input_tokens + b.input_tokens,
        a.output_tokens + b.output_tokens,
        a.cache_write_tokens + b.cache_write_tokens,
        a.cache_read_tokens + b.cache_read_tokens,
        (a.thinking_tokens or 0) + (b.thinking_tokens or 0) or None,
        a.estimated or b.estimated,
    )


class Actions:
    """Plans and runs actions over one engine; one per workspace."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        catalog: ModelCatalog | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.catalog = catalog or ModelCatalog(price_overrides=settings.prices or None)
        self.ledger = ledger or Ledger(daily_cap_usd=settings.daily_cap_usd)
        self._prefixes: dict[str, float] = {}  # prompt prefixes sent, for cache estimates

    # ------------------------------------------------------------------ planning (offline)
    def _models(self) -> dict[str, ModelInfo | None]:
        r = self.settings.routing
        return {t.model: self.catalog.lookup(t.model) for t in (r.quick, r.standard, r.deep)}

    def plan(self, req: ActionRequest, *, budget: int | None = None) -> Plan:
        """Everything about the action but the call: fast, offline, no key needed."""
        return self.plan_all([req], budget=budget)[0]

    def plan_all(self, reqs: Sequence[ActionRequest], *, budget: int | None = None) -> list[Plan]:
        """Plans for several actions on one range (a code-action menu): the range is analysed
        and its context packed once, then each action is routed and estimated."""
        if not reqs:
            return []
        first = reqs[0]
        for req in reqs:
            if req.action not in ("explain", "refactor", "fix"):
                raise ActionError(f"unknown action {req.action!r} (explain, refactor or fix)")
            if req.tier not in (None, "auto", *TIERS):
                raise ActionError(f"unknown tier {req.tier!r} (auto, quick, standard or deep)")
            if (req.path, req.start_line, req.end_line) != (
                first.path,
                first.start_line,
                first.end_line,
            ):
                raise ActionError("plan_all takes actions on one range")
        if budget is not None and budget < 64:
            raise ActionError(f"a context budget of {budget} tokens is too small (at least 64)")
        try:
            self.engine.sync(first.path)  # the index's writer; analyze only reads it
            analysis = self.engine.analyze(
                first.path,
                first.start_line,
                first.end_line,
                max(len(r.diagnostics) for r in reqs),
            )
            ctx = self.engine.context_for(
                analysis, self.settings.context_budget if budget is None else budget
            )
        except EngineError as exc:
            raise ActionError(str(exc)) from None
        context_text = ctx.render()
        models = self._models()
        return [self._plan_one(req, analysis, ctx, context_text, models) for req in reqs]

    def _plan_one(
        self,
        req: ActionRequest,
        analysis: Analysis,
        ctx: Context,
        context_text: str,
        models: dict[str, ModelInfo | None],
    ) -> Plan:
        scope = analysis.scope
        if req.diagnostics and scope.diagnostics != len(req.diagnostics):
            scope = replace(scope, diagnostics=len(req.diagnostics))
        chosen = route(req.action, scope, self.settings.routing, models, req.tier)
        model = models.get(chosen.model)
        structured = model.structured_outputs if model is not None else True
        prompt = prompts.action_prompt(
            req.action,
            analysis.file.path,
            req.start_line,
            scope.end_line,
            instruction=req.instruction,
            intent=req.intent,
            diagnostics=req.diagnostics,
            structured=structured,
        )
        estimate = self._estimate(req.action, chosen, scope, context_text, prompt)
        blocked = None if req.override_cap else self.ledger.check_cap(estimate.usd)
        return Plan(
            req,
            analysis.file.path,
            scope,
            chosen,
            ctx,
            prompts.SYSTEM,
            prompt,
            structured,
            estimate,
            blocked,
        )

    def price(self, model: str) -> Price:
        return self.catalog.price(model) or Price(15.0, 75.0, 18.75, 1.5)  # unknown: assume dear

    def _prefix_key(self, model: str, context_text: str) -> str:
        return hashlib.sha1(f"{model}\0{prompts.SYSTEM}\0{context_text}".encode()).hexdigest()

    def _estimate(
        self, action: str, chosen: Route, scope: Scope, context_text: str, prompt: str
    ) -> Estimate:
        prefix = tokens.estimate(prompts.SYSTEM) + tokens.estimate(context_text)
        volatile = tokens.estimate(prompt) + 8
        sent = self._prefixes.get(self._prefix_key(chosen.model, context_text))
        cached = prefix if sent is not None and time.time() - sent < CACHE_LIFETIME_S else 0
        r = chosen.reasoning
        if r.budget_tokens:
            thinking = r.budget_tokens // 2
        elif r.thinking is not None and r.thinking.get("type") == "disabled":
            thinking = 0
        else:
            thinking = _THINKING_GUESS.get(r.effort, 1500)
        body = scope.lines * 12  # ~12 tokens a line of code
        answer = min(2000, 300 + scope.lines * 4) if action == "explain" else 150 + int(body * 1.2)
        output = min(r.max_tokens, answer + thinking)
        price = self.price(chosen.model).for_input(prefix + volatile)
        usd = (
            volatile * price.input
            + (prefix - cached) * price.cache_write_5m
            + cached * price.cache_read
            + output * price.output
        ) / 1e6
        return Estimate(prefix + volatile, cached, output, usd)

    # ------------------------------------------------------------------ running
    async def run(
        self,
        plan: Plan,
        client: ClaudeClient,
        on_event: OnEvent | None = None,
        read: Callable[[str], str | None] | None = None,
        on_stage: Callable[[str], Any] | None = None,
    ) -> ActionResult:
        """Call Claude for a plan; for edits, resolve them against the current text (`read`,
        default: the disk) and check their syntax. Raises ActionError, ClaudeError or
        CallCancelled; every call made is in the ledger whatever happens."""
        if plan.blocked:
            raise ActionError(plan.blocked)
        problem = client.check()
        if problem is not None:
            raise problem
        reader = read or self._read_disk
        result = ActionResult(plan, "", model=plan.route.model, tier=plan.route.tier)
        t0 = time.perf_counter()
        context_text = plan.context.render()
        prompt = plan.prompt
        route_now = await self._refresh_route(plan.route, plan, client)
        escalated = False
        attempts = 0
        # every call reserves its own estimate against the daily cap before it is made
        what, cost = "this call", plan.estimate.usd
        while True:
            answer = await self._call(
                plan, route_now, context_text, prompt, client, on_event, result, what, cost
            )
            if plan.request.action == "explain":
                result.text = answer.text
                break
            if on_stage:
                on_stage("checking the edit…")
            try:
                summary, proposed = parse_answer(answer.text)
                changes = resolve(
                    proposed, reader, self._prefer(plan, reader), self.edit_policy(plan)
                )
            except EditError as exc:
                attempts += 1
                if attempts >= 2:
                    raise ActionError(
                        f"the model's edit could not be applied: {exc}; nothing was changed"
                    ) from None
                result.notes.append(f"asked again after: {exc}")
                prompt = prompts.retry_prompt(plan.prompt, answer.text[:4000], str(exc))
                what = "the retry"
                cost = self._follow_up_cost(plan, route_now, context_text, prompt)
                continue
            broken = {c.path: n for c in changes if (n := new_syntax_errors(c))}
            if broken:
                where = ", ".join(f"{n} in {p}" for p, n in broken.items())
                nxt = _next_tier(route_now.tier)
                if escalated or nxt is None:
                    raise ActionError(
                        f"the edit would add syntax errors ({where}); nothing was changed"
                    )
                escalated = True
                result.notes.append(
                    f"escalated {route_now.tier} → {nxt} after syntax errors ({where})"
                )
                route_now = await self._refresh_route(
                    route(
                        plan.request.action, plan.scope, self.settings.routing, self._models(), nxt
                    ),
                    plan,
                    client,
                )
                result.tier, result.model = route_now.tier, route_now.model
                prompt = prompts.syntax_retry_prompt(plan.prompt, where)
                what = f"the escalation to {nxt}"
                cost = self._follow_up_cost(plan, route_now, context_text, prompt)
                continue
            result.text = summary
            result.changes = changes
            break
        result.duration_s = time.perf_counter() - t0
        return result

    async def _refresh_route(self, chosen: Route, plan: Plan, client: ClaudeClient) -> Route:
        """The same tier, with reasoning parameters checked against what the Models API says
        the model accepts today (cached for a day; the built-in table when offline)."""
        before = self.catalog.lookup(chosen.model)
        self.catalog.use_source(client)
        fresh = await self.catalog.get(chosen.model)
        if fresh == before:
            return chosen
        again = route(
            plan.request.action, plan.scope, self.settings.routing, self._models(), chosen.tier
        )
        return replace(again, forced=chosen.forced, reasons=chosen.reasons)

    def _follow_up_cost(self, plan: Plan, chosen: Route, context_text: str, prompt: str) -> float:
        """The estimate of a follow-up call (the mismatch retry, the escalation): the plan's
        context plus the new prompt (which carries the answer so far) as input, the answer
        the tier is expected to write as output, at that tier's model's price."""
        return self._estimate(plan.request.action, chosen, plan.scope, context_text, prompt).usd

    async def _call(
        self,
        plan: Plan,
        chosen: Route,
        context_text: str,
        prompt: str,
        client: ClaudeClient,
        on_event: OnEvent | None,
        result: ActionResult,
        what: str,
        estimate_usd: float,
    ) -> CallResult:
        """One call: reserve its estimate against the daily cap (refused with the reason
        unless the request overrides the cap), call, and settle what it really cost in the
        ledger whatever happens. The reservation covers the SDK's own retries: they redo only
        requests that failed before an answer began (429, 5xx, connection errors), which are
        not billed; a stream broken midway is never retried."""
        r = chosen.reasoning
        call = CallRequest(
            model=chosen.model,
            system=plan.system,
            context=context_text,
            prompt=prompt,
            max_tokens=r.max_tokens,
            thinking=r.thinking,
            effort=r.effort,
            output_schema=EDIT_SCHEMA
            if plan.request.action in EDIT_ACTIONS and plan.structured
            else None,
        )
        edits = plan.request.action in EDIT_ACTIONS
        held = self.ledger.reserve(
            estimate_usd,
            what=what,
            override=plan.request.override_cap,
            ttl_s=self.settings.timeout_s + 60,
        )
        if isinstance(held, Refusal):
            raise ActionError(f"{held.reason}; {'nothing applied' if edits else 'not run'}")
        price = self.price(chosen.model)
        t0 = time.perf_counter()
        outcome: Outcome = "ok"
        usage = Usage()
        try:
            answer = await client.run(call, on_event, deadline_s=self.settings.timeout_s)
            usage = answer.usage
            self._prefixes[self._prefix_key(chosen.model, context_text)] = time.time()
            if not answer.text.strip():
                outcome = "error"
                what_got = "thinking only" if answer.thinking or usage.thinking_tokens else "empty"
                raise ClaudeError(
                    "empty",
                    f"the model returned no edit ({what_got}); nothing applied"
                    if edits
                    else f"the model returned no explanation ({what_got})",
                    usage=usage,
                    request_id=answer.request_id,
                    result=answer,
                )
            return answer
        except CallCancelled as exc:
            outcome, usage = "cancelled", exc.usage
            raise
        except ClaudeError as exc:
            outcome, usage = "error", exc.usage or Usage()
            raise
        finally:
            usd = cost_usd(usage, price)
            result.usage = _add(result.usage, usage)
            result.usd += usd
            result.calls += 1
            self.ledger.settle(
                held,
                action=plan.request.action,
                tier=chosen.tier,
                model=chosen.model,
                usage=usage,
                usd=usd,
                duration_s=time.perf_counter() - t0,
                outcome=outcome,
            )

    def edit_policy(self, plan: Plan) -> EditPolicy:
        """What this action's answer may change: the files it showed the model (the
        selection's file, every file of the packed context, the files using the selection
        and their tests), and new files next to the selection only for a refactor with a
        free instruction or a file-creating intent."""
        shown = {s.path for s in plan.context.snippets}
        shown.update(plan.scope.files, plan.scope.tests)
        req = plan.request
        return EditPolicy.for_action(
            self.engine.root,
            plan.path,
            shown,
            action=req.action,
            intent=req.intent,
            instruction=req.instruction,
        )

    def _read_disk(self, path: str) -> str | None:
        return read_for_edit(self.engine.root, path)

    def _prefer(
        self, plan: Plan, reader: Callable[[str], str | None]
    ) -> dict[str, tuple[int, int]]:
        """The selection's span in characters: an ambiguous match inside it wins."""
        text = reader(plan.path)
        if text is None:
            return {}
        lines = text.split("\n")
        a = sum(len(x) + 1 for x in lines[: plan.request.start_line - 1])
        b = sum(len(x) + 1 for x in lines[: plan.scope.end_line])
        return {plan.path: (a, b)}


def _next_tier(tier: str) -> str | None:
    names: list[str] = list(TIERS)
    i = names.index(tier)
    return names[i + 1] if i + 1 < len(names) else None


# ---------------------------------------------------------------------------- explain document
def explanation_markdown(result: ActionResult, root: Path) -> str:
    """The explanation as a document: cost at the top, links to the symbols it mentions, the
    context manifest at the bottom."""
    plan = result.plan
    req = plan.request
    u = result.usage
    lines = [
        f"# Explain · {plan.path}:{req.start_line}-{plan.scope.end_line}",
        "",
        f"*{result.tier} · {result.model} · {plan.route.reasoning.describe()} · "
        f"{u.input_tokens + u.cache_read_tokens + u.cache_write_tokens:,} tokens in "
        f"({u.cache_read_tokens:,} from cache) · {u.output_tokens:,} out · "
        f"${result.usd:.4f} · {result.duration_s:.1f} s*",
        "",
        f"> {plan.route.summary}",
        "",
        result.text.strip(),
        "",
    ]
    mentioned = _mentioned_symbols(result.text, plan.context)
    if mentioned:
        lines += ["## Symbols", ""]
        for name, path, line in mentioned:
            uri = (root / path).as_uri()
            lines.append(f"- [`{name}`]({uri}#L{line}) — `{path}:{line}`")
        lines.append("")
    lines += ["## Context sent", ""]
    for s in plan.context.snippets:
        where = f"`{s.path}:{s.start_line}-{s.end_line}`"
        lines.append(f"- {s.kind} {where} {s.symbol} — {s.reason} (~{s.tokens} tok)")
    if plan.context.dropped:
        lines += ["", "Left out:", ""]
        lines += [
            f"- `{d.path}:{d.start_line}-{d.end_line}` {d.symbol} — {d.reason}"
            for d in plan.context.dropped[:30]
        ]
    if plan.context.redactions:
        lines += ["", "Redacted:", ""]
        lines += [f"- `{r.path}:{r.line}` ({r.what})" for r in plan.context.redactions]
    return "\n".join(lines) + "\n"


def _mentioned_symbols(text: str, ctx: Context) -> list[tuple[str, str, int]]:
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
    out: list[tuple[str, str, int]] = []
    seen: set[str] = set()
    for s in ctx.snippets:
        if not s.symbol or s.symbol.startswith("("):
            continue
        short = s.symbol.rsplit(".", 1)[-1]
        if short in words and s.symbol not in seen and len(short) > 2:
            seen.add(s.symbol)
            out.append((s.symbol, s.path, s.start_line))
    return out


def parse_diagnostics(items: Sequence[dict[str, Any]]) -> tuple[DiagnosticInfo, ...]:
    """Diagnostics given as dicts {line (1-based), message, severity?, source?}."""
    out = []
    for d in items:
        out.append(
            DiagnosticInfo(
                int(d["line"]),
                str(d["message"]),
                str(d.get("severity", "error")),
                d.get("source"),
            )
        )
    return tuple(out)
