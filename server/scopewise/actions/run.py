"""Running a plan: call Claude, check what comes back, and retry or escalate — for an edit, a
mismatched answer is asked again once and one adding syntax errors climbs one tier — until a
result or an ActionError. Every call first reserves its estimate against the daily cap and is
settled in the ledger whatever happens (`meter.Meter`). It may not know the editor or the terminal:
progress goes to the callbacks it is given."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
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
    resolve,
)
from scopewise.actions.estimate import advised_call, estimate_call, prefix_key, price_of
from scopewise.actions.followup import Conversation, estimate_revise, revise_prompt
from scopewise.actions.meter import Meter
from scopewise.actions.model import ActionError, ActionResult, Plan
from scopewise.actions.routing import Route, route, tier_models
from scopewise.claude.call import (
    AdvisorProgress,
    CallRequest,
    CallResult,
    OnEvent,
    StreamEvent,
    Usage,
)
from scopewise.claude.client import ClaudeClient
from scopewise.claude.ledger import Ledger
from scopewise.claude.models import ModelCatalog
from scopewise.settings import Settings
from scopewise.vocab import EDIT_ACTIONS, Action, next_tier

Reader = Callable[[str], str | None]


def edit_policy(plan: Plan, root: Path) -> EditPolicy:
    """What this action's answer may change: the files it showed the model (the selection's
    file, every file of the packed context, the files using the selection and their tests),
    and new files next to the selection only for a refactor with a free instruction or a
    file-creating intent."""
    shown = {s.path for s in plan.context.snippets}
    shown.update(plan.scope.files, plan.scope.tests)
    req = plan.request
    return EditPolicy.for_action(
        root, plan.path, shown, action=req.action, intent=req.intent, instruction=req.instruction
    )


def selection_span(plan: Plan, reader: Reader) -> dict[str, tuple[int, int]]:
    """The selection's span in characters: an ambiguous match inside it wins."""
    text = reader(plan.path)
    if text is None:
        return {}
    lines = text.split("\n")
    a = sum(len(x) + 1 for x in lines[: plan.request.start_line - 1])
    b = sum(len(x) + 1 for x in lines[: plan.scope.end_line])
    return {plan.path: (a, b)}


class PlanRun:
    """One run of one plan: the route it is on, the prompt it sends next, what the next call
    is called and expected to cost (for its reservation), and the result so far."""

    def __init__(
        self,
        plan: Plan,
        client: ClaudeClient,
        *,
        settings: Settings,
        catalog: ModelCatalog,
        ledger: Ledger,
        root: Path,
        prefixes: dict[str, float],
        read: Reader,
        on_event: OnEvent | None = None,
        on_stage: Callable[[str], Any] | None = None,
        revise: tuple[Conversation, str] | None = None,
    ) -> None:
        self.plan = plan
        self.client = client
        self.settings = settings
        self.catalog = catalog
        self.ledger = ledger
        self.root = root
        self.prefixes = prefixes  # prompt prefixes sent (shared with planning's estimates)
        self.read = read
        self.on_event = on_event
        self.on_stage = on_stage
        self.result = ActionResult(plan, "", model=plan.route.model, tier=plan.route.tier)
        self.context_text = plan.context.render()
        self.prompt = plan.prompt
        self.route = plan.route
        # every call reserves its own estimate against the daily cap before it is made
        self.what, self.cost = "this call", plan.estimate.usd
        # a revise: the earlier run's conversation, continued with the user's instruction
        self.before: Conversation | None = None
        if revise is not None:
            self._revising(*revise)
        self.asked = self.prompt  # the user turn being answered (a retry repeats it)
        self.meter = Meter(
            client,
            ledger,
            catalog,
            plan.request.action,
            settings.timeout_s,
            override_cap=plan.request.override_cap,
            edits=plan.request.action in EDIT_ACTIONS,
            prefixes=prefixes,
        )

    def _revising(self, conv: Conversation, instruction: str) -> None:
        """Start from a finished run's last call: the same prefix, its route, the answer as
        the assistant turn and the instruction as the user's."""
        self.before = conv
        self.context_text = conv.request.context
        self.route = conv.route
        self.result.model, self.result.tier = conv.route.model, conv.route.tier
        action = self.plan.request.action
        self.prompt = revise_prompt(action, instruction, conv.request.output_schema is not None)
        self.what = "the revise"
        self.result.notes.append(f"revised: {instruction}")
        self.cost = estimate_revise(
            conv, action, self.plan.scope, instruction, self.catalog, self.prefixes
        ).usd

    async def go(self) -> ActionResult:
        """Call until the answer is an explanation or edits that apply cleanly. Raises
        ActionError, ClaudeError or CallCancelled."""
        t0 = time.perf_counter()
        self.route = await self._refresh(self.route)
        escalated = False
        attempts = 0
        while True:
            answer = await self._call()
            if self.plan.request.action == Action.EXPLAIN:
                self.result.text = answer.text
                break
            if self.on_stage:
                self.on_stage("checking the edit…")
            try:
                summary, changes = self._resolve(answer.text)
            except EditError as exc:
                attempts += 1
                if attempts >= 2:
                    raise ActionError(
                        f"the model's edit could not be applied: {exc}; nothing was changed"
                    ) from None
                self._ask_again(answer.text, exc)
                continue
            broken = {c.path: n for c in changes if (n := new_syntax_errors(c))}
            if broken:
                await self._escalate(broken, escalated)
                escalated = True
                continue
            self.result.text = summary
            self.result.changes = changes
            break
        self.result.duration_s = time.perf_counter() - t0
        return self.result

    def _resolve(self, text: str) -> tuple[str, list[FileChange]]:
        summary, proposed = parse_answer(text)
        span = selection_span(self.plan, self.read)
        return summary, resolve(proposed, self.read, span, edit_policy(self.plan, self.root))

    def _ask_again(self, answer: str, exc: EditError) -> None:
        """The answer did not match the files: ask once more, showing it and why."""
        self.result.notes.append(f"asked again after: {exc}")
        self.prompt = prompts.retry_prompt(self.asked, answer[:4000], str(exc))
        self.what = "the retry"
        self.cost = self._follow_up_cost()

    async def _escalate(self, broken: dict[str, int], escalated: bool) -> None:
        """The edit adds syntax errors: climb one tier (once), or give up."""
        where = ", ".join(f"{n} in {p}" for p, n in broken.items())
        nxt = next_tier(self.route.tier)
        if escalated or nxt is None:
            raise ActionError(f"the edit would add syntax errors ({where}); nothing was changed")
        self.result.notes.append(
            f"escalated {self.route.tier} → {nxt} after syntax errors ({where})"
        )
        self.route = await self._refresh(self._route(nxt))
        self.result.tier, self.result.model = self.route.tier, self.route.model
        self.prompt = prompts.syntax_retry_prompt(self.asked, where)
        self.what = f"the escalation to {nxt}"
        self.cost = self._follow_up_cost()

    def _route(self, tier: str) -> Route:
        plan = self.plan
        models = tier_models(self.catalog, self.settings.routing)
        return route(plan.request.action, plan.scope, self.settings.routing, models, tier)

    async def _refresh(self, chosen: Route) -> Route:
        """The same tier, with reasoning parameters checked against what the Models API says
        the model accepts today (cached for a day; the built-in table when offline)."""
        before = self.catalog.lookup(chosen.model)
        self.catalog.use_source(self.client)
        fresh = await self.catalog.get(chosen.model)
        if fresh == before:
            return chosen
        again = self._route(chosen.tier)
        return replace(again, forced=chosen.forced, reasons=chosen.reasons, advisor=chosen.advisor)

    def _follow_up_cost(self) -> float:
        """The estimate of a follow-up call (the mismatch retry, the escalation): the plan's
        context plus the new prompt (which carries the answer so far) as input, the answer
        the tier is expected to write as output, at that tier's model's price."""
        chosen = self.route
        price = price_of(self.catalog, chosen.model)
        earlier = self.before.volatile() + "\n" if self.before is not None else ""
        call = estimate_call(
            self.plan.request.action,
            chosen,
            self.plan.scope,
            self.context_text,
            earlier + self.prompt,
            price,
            self.prefixes.get(prefix_key(chosen.model, self.context_text)),
        )
        if chosen.advisor:  # the advisor rung's retry consults the advisor again
            call = advised_call(call, price, price_of(self.catalog, chosen.advisor))
        return call.usd

    def _request(self) -> CallRequest:
        if self.before is not None:
            return self.before.follow_up(self.prompt, self.route)
        plan, r = self.plan, self.route.reasoning
        edits = plan.request.action in EDIT_ACTIONS
        return CallRequest(
            model=self.route.model,
            system=plan.system,
            context=self.context_text,
            prompt=self.prompt,
            max_tokens=r.max_tokens,
            thinking=r.thinking,
            effort=r.effort,
            output_schema=EDIT_SCHEMA if edits and plan.structured else None,
            advisor=self.route.advisor,
        )

    async def _call(self) -> CallResult:
        """One metered call (meter.py): reserved, made, settled in the ledger (the advisor's
        tokens at its own price), added up."""
        chosen = self.route
        req = self._request()
        answer = await self.meter.call(
            req,
            tier=chosen.tier,
            cost=self.cost,
            what=self.what,
            into=(self.result,),
            prefix=prefix_key(chosen.model, self.context_text),
            on_event=self._on_event if chosen.advisor else self.on_event,
        )
        if answer.advisor_usage is not None:
            self.result.notes.append(advice_note(answer, chosen.advisor or ""))
        # what a revise of this result continues from
        self.result.conversation = Conversation(req, answer.text, chosen)
        return answer

    async def _on_event(self, event: StreamEvent) -> None:
        """The stream's events to the caller; the advisor's consultation also as a stage."""
        if isinstance(event, AdvisorProgress) and self.on_stage:
            self.on_stage(
                "the advisor answered; writing the edit…"
                if event.answered
                else f"consulting the advisor ({event.model})…"
            )
        if self.on_event is not None:
            done = self.on_event(event)
            if done is not None:
                await done


def advice_note(answer: CallResult, advisor: str) -> str:
    """e.g. "consulted the advisor claude-opus-5-5 once: 9,120 tokens in, 1,610 out"."""
    usage = answer.advisor_usage or Usage()
    n = max(1, len(answer.advice))
    times = "once" if n == 1 else f"{n} times"
    return (
        f"consulted the advisor {advisor} {times}: {usage.total_input_tokens:,} tokens in, "
        f"{usage.output_tokens:,} out"
    )
