"""Planning an action, offline: the range analysed, its context packed, a tier chosen and the
call estimated (`plan`, `plan_all`) — and `Actions`, the facade the CLI and the language
server use for every action (plan it, run it: see run.py). Needs no key and no network.

The action's data (`ActionRequest`, `Plan`, `ActionResult`, `ActionError`) and the
explanation document are importable from here too, as before."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from scopewise.actions import project, prompts
from scopewise.actions.affected import affected_tests
from scopewise.actions.budget import contexts_for, planner_budget, wants_siblings
from scopewise.actions.edits import EditPolicy, read_for_edit
from scopewise.actions.estimate import Estimate, estimate_call, prefix_key, price_of, total
from scopewise.actions.explanation import explanation_markdown
from scopewise.actions.followup import Conversation, estimate_revise, wide_conversation
from scopewise.actions.model import ActionError, ActionRequest, ActionResult, Plan, StepPlan
from scopewise.actions.routing import Route, advisor_route, route, tier_models, writer_route
from scopewise.actions.steps import Wide, advisor_steps, plan_steps
from scopewise.analysis.context import Context
from scopewise.analysis.engine import Engine
from scopewise.analysis.measure import estimated
from scopewise.analysis.scope import Analysis, Scope
from scopewise.claude.ledger import Ledger
from scopewise.claude.models import ModelCatalog, ModelInfo, Price
from scopewise.settings import Settings
from scopewise.vocab import TIERS, Action, EngineError

if TYPE_CHECKING:  # the runs and the client are imported when an action runs, not to plan
    from scopewise.claude.call import OnEvent
    from scopewise.claude.client import ClaudeClient

__all__ = [
    "ActionError",
    "ActionRequest",
    "ActionResult",
    "Actions",
    "Estimate",
    "Plan",
    "explanation_markdown",
]

MIN_BUDGET = 64  # tokens: a context budget below this is an error, not the default
TEXTS_KEPT = 32  # contexts packed, remembered for the menu's cache estimates


def packer(
    engine: Engine, analysis: Analysis, cap: int, estimate: bool
) -> Callable[[int, bool], Context]:
    """The contexts of an analysed range by budget and kind, each made once: packed, or
    measured up to `cap` tokens (`estimate`: the menu's)."""
    packed: dict[tuple[int, bool], Context] = {}

    def pack(b: int, wide: bool) -> Context:
        if (b, wide) not in packed:
            packed[(b, wide)] = (
                estimated(analysis, engine.needs_for(analysis, cap, wide), b)
                if estimate
                else engine.context_for(analysis, b, wide)
            )
        return packed[(b, wide)]

    return pack


class SentTexts:
    """The contexts last packed, by file version, range, budget and kind: a measured
    context's text is the one packed for the same (so the menu's estimate knows whether a
    run just sent its prefix to the prompt cache), else none."""

    def __init__(self, prefixes: dict[str, float]) -> None:
        self.prefixes = prefixes  # prompt prefixes sent (the runs'), for cache estimates
        self._texts: dict[tuple[object, ...], str] = {}

    def text_for(self, analysis: Analysis, action: str, ctx: Context) -> str:
        wide = wants_siblings(action)
        key = (analysis.file.digest, ctx.start_line, ctx.end_line, ctx.budget, wide)
        if ctx.measured:
            return self._texts.get(key, "")
        text = self._texts[key] = ctx.render()
        while len(self._texts) > TEXTS_KEPT:
            self._texts.pop(next(iter(self._texts)))
        return text

    def sent_at(self, model: str, context_text: str) -> float | None:
        """When a call with this context's prefix was last sent to the model (None: never,
        or no text to tell)."""
        return self.prefixes.get(prefix_key(model, context_text)) if context_text else None


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
        self._sent = SentTexts(self._prefixes)

    # ------------------------------------------------------------------ planning (offline)
    def plan(self, req: ActionRequest, *, budget: int | None = None) -> Plan:
        """Everything about the action but the call: fast, offline, no key needed."""
        return self.plan_all([req], budget=budget)[0]

    def plan_all(
        self,
        reqs: Sequence[ActionRequest],
        *,
        budget: int | None = None,
        estimate: bool = False,
    ) -> list[Plan]:
        """Plans for several actions on one range (a code-action menu): the range is analysed
        and its context packed once, then each action is routed and estimated. With
        `estimate` (the menu's), contexts are measured, not packed (analysis/measure.py):
        the same routes, costs estimated from the measures, contexts without text — a run
        plans again."""
        if not reqs:
            return []
        reqs = [project.resolve(self.settings.actions, r) for r in reqs]
        first = reqs[0]
        for req in reqs:
            _check(req, first)
        if budget is not None and budget < MIN_BUDGET:
            raise ActionError(
                f"a context budget of {budget} tokens is too small (at least {MIN_BUDGET})"
            )
        try:
            self.engine.sync(first.path)  # the index's writer; analyze only reads it
            analysis = self.engine.analyze(
                first.path,
                first.start_line,
                first.end_line,
                max(len(r.diagnostics) for r in reqs),
            )
            floor = self.settings.context_budget if budget is None else budget
            ceiling = floor if budget is not None else self.settings.context_budget_max
            pack = packer(self.engine, analysis, max(floor, ceiling), estimate)
            contexts = contexts_for([r.action for r in reqs], pack, floor, ceiling)
        except EngineError as exc:
            raise ActionError(str(exc)) from None
        _check_projects(self.settings, reqs, analysis.file.path)

        def planner_context() -> Context:
            """What a wide change's plan step reads: an explanation's context packed at
            what it needs (the range, what it uses, the site list: what any context at the
            floor measures, the change's own already packed there — the siblings are not
            part of it); the text around each site goes to the writers."""
            try:
                at_floor = pack(floor, True)
                return pack(planner_budget(at_floor, max(floor, ceiling)), False)
            except EngineError as exc:
                raise ActionError(str(exc)) from None

        plans, unsure = self._plan_each(
            reqs, analysis, contexts, max(floor, ceiling), planner_context
        )
        if estimate and unsure:  # a measure does not decide the cap: pack
            exact = self.plan_all([reqs[i] for i in unsure], budget=budget)
            for i, plan in zip(unsure, exact, strict=True):
                plans[i] = plan
        return plans

    def _plan_each(
        self,
        reqs: Sequence[ActionRequest],
        analysis: Analysis,
        contexts: dict[str, Context],
        context_max: int,
        planner_context: Callable[[], Context],
    ) -> tuple[list[Plan], list[int]]:
        """Each request's plan, and which of them a measured estimate cannot settle: blocked
        by the cap (a measure may price a context above what packing sends)."""
        texts: dict[int, str] = {}  # rendered once per packed context
        models = tier_models(self.catalog, self.settings.routing)
        plans, unsure = [], []
        for i, req in enumerate(reqs):
            ctx = contexts[req.action]
            text = texts.setdefault(id(ctx), self._sent.text_for(analysis, req.action, ctx))
            best = self._plan_one(req, analysis, ctx, text, models, context_max, planner_context)
            plans.append(best)
            if best.blocked:
                unsure.append(i)
        return plans, unsure

    def _plan_one(
        self,
        req: ActionRequest,
        analysis: Analysis,
        ctx: Context,
        context_text: str,
        models: dict[str, ModelInfo | None],
        context_max: int,
        planner_context: Callable[[], Context],
    ) -> Plan:
        """The cheapest way's plan."""
        scope = analysis.scope
        if req.diagnostics and scope.diagnostics != len(req.diagnostics):
            scope = replace(scope, diagnostics=len(req.diagnostics))
        chosen = _route(self.settings, req, scope, models, len(ctx.sites))
        shaped = [
            self._shape(req, analysis, scope, ctx, context_text, models, way, planner_context)
            for way in ways(self.settings, chosen, models)
        ]
        best = min(shaped, key=lambda p: p.estimate.usd)
        if len(shaped) > 1:
            best.route = replace(best.route, reasons=[*best.route.reasons, _cheapest(shaped)])
        best.context_max = context_max
        return best

    def _shape(
        self,
        req: ActionRequest,
        analysis: Analysis,
        scope: Scope,
        ctx: Context,
        context_text: str,
        models: dict[str, ModelInfo | None],
        chosen: Route,
        planner_context: Callable[[], Context],
    ) -> Plan:
        """The plan of one way: its prompt, its steps (if any) and their estimate."""
        model = models.get(chosen.model)
        structured = model.structured_outputs if model is not None else True
        prompt = _prompt(self.settings, req, analysis.file.path, scope.end_line, structured)
        prompt += prompts.ADVISOR_NOTE if chosen.advisor else ""
        splits = writer_route(chosen, self.settings.routing, models) is not None
        plan_ctx = planner_context() if splits else None
        steps = self._steps(analysis, scope, ctx, context_text, plan_ctx, prompt, chosen, models)
        site_edits = len(ctx.sites) if chosen.interface else 0
        estimate = (
            total([s.estimate for s in steps])
            if steps
            else self._single(chosen, scope, ctx, context_text, prompt, site_edits)
        )
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
            0,
            steps,
            plan_ctx,
        )

    def _single(
        self,
        chosen: Route,
        scope: Scope,
        ctx: Context,
        context_text: str,
        prompt: str,
        site_edits: int,
    ) -> Estimate:
        """One call's estimate (a small change, or any change as one call)."""
        return estimate_call(
            chosen.action,
            chosen,
            scope,
            context_text,
            prompt,
            self.price(chosen.model),
            self._sent.sent_at(chosen.model, context_text),
            site_edits,
            ctx.tokens if ctx.measured else None,
        )

    def _steps(
        self,
        analysis: Analysis,
        scope: Scope,
        ctx: Context,
        context_text: str,
        plan_ctx: Context | None,
        prompt: str,
        chosen: Route,
        models: dict[str, ModelInfo | None],
    ) -> tuple[StepPlan, ...]:
        """A deep edit's steps (plan, write, verify; or the advisor rung's one write step)
        with their estimates; () for one call."""
        writer = writer_route(chosen, self.settings.routing, models)
        if writer is None and chosen.advisor is None:
            return ()
        read = ctx  # what the call reads (the plan step its own)
        if writer is not None and plan_ctx is not None:
            read = plan_ctx
            context_text = "" if read.measured else read.render(sites=False)
        ws = self.engine.workspace

        def line_count(path: str) -> int | None:
            fi = analysis.file if path == analysis.file.path else ws.get(path)
            return fi.line_count if fi is not None else None

        size = read.tokens if read.measured else None
        wide = Wide(scope, analysis.file.path, ctx.sites, line_count, context_text, prompt, size)
        sent = self._sent.sent_at(chosen.model, context_text)
        if writer is None:
            return advisor_steps(wide, chosen, self.price, sent)
        return plan_steps(wide, chosen, writer, self.price, sent, time.time())

    def price(self, model: str) -> Price:
        return price_of(self.catalog, model)

    def edit_policy(self, plan: Plan) -> EditPolicy:
        """What this action's answer may change (see run.edit_policy)."""
        from scopewise.actions.run import edit_policy

        return edit_policy(plan, self.engine.root)

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
        default: the disk) and check their syntax. A plan with steps (a wide change) runs
        them (actions/wide/run.py); any other is one call (run.py). Raises ActionError,
        ClaudeError or CallCancelled; every call made is in the ledger whatever happens. The
        advisor rung's one step is one call (run.py, with the advisor on its request)."""
        from scopewise.actions.run import PlanRun
        from scopewise.actions.wide.run import WideRun, helpers_for

        if plan.blocked:
            raise ActionError(plan.blocked)
        common = _common(self, client, read, on_event, on_stage)
        if plan.steps and not plan.route.advisor:  # a wide change: plan, write, verify
            wide = WideRun(plan, client, helpers=helpers_for(self.engine, self.settings), **common)
            result = await wide.go()
            result.conversation = wide_follow_up(self.settings, self.catalog, plan, result)
        else:
            result = await PlanRun(plan, client, **common).go()
        result.tests = affected_tests(self.engine, result.changes)
        return result

    async def revise(
        self,
        done: ActionResult,
        instruction: str,
        client: ClaudeClient,
        on_event: OnEvent | None = None,
        read: Callable[[str], str | None] | None = None,
        on_stage: Callable[[str], Any] | None = None,
    ) -> ActionResult:
        """A follow-up on a finished run (followup.py): one metered call on its cached
        prefix with its answer and ``instruction``; an edit's answer checked as the run's
        was. A new result (revisable in turn); ActionError when ``done`` cannot be revised."""
        from scopewise.actions.run import PlanRun

        conv = done.conversation
        if conv is None:
            raise ActionError("this result cannot be revised (it kept no conversation)")
        common = _common(self, client, read, on_event, on_stage)
        # an override of the daily cap was asked for the run, not for its revisions
        plan = replace(done.plan, request=replace(done.plan.request, override_cap=False))
        result = await PlanRun(plan, client, revise=(conv, instruction), **common).go()
        result.tests = affected_tests(self.engine, result.changes)
        return result

    def revise_estimate(
        self, done: ActionResult, instruction: str = "", cached: bool = True
    ) -> Estimate | None:
        """What a revise of ``done`` is expected to cost now, or (not ``cached``) once its
        prefix has left the prompt cache (None: it cannot be revised)."""
        conv = done.conversation
        if conv is None:
            return None
        req = done.plan.request
        structured = conv.request.output_schema is not None
        return estimate_revise(
            conv,
            req.action,
            done.plan.scope,
            instruction,
            self.catalog,
            self._prefixes,
            structured,
            cached,
        )


def _common(
    actions: Actions,
    client: ClaudeClient,
    read: Callable[[str], str | None] | None,
    on_event: OnEvent | None,
    on_stage: Callable[[str], Any] | None,
) -> dict[str, Any]:
    """What every run of this workspace shares (the client checked first)."""
    problem = client.check()
    if problem is not None:
        raise problem
    root = actions.engine.root
    return {
        "settings": actions.settings,
        "catalog": actions.catalog,
        "ledger": actions.ledger,
        "root": root,
        "prefixes": actions._prefixes,
        "read": read or (lambda path: read_for_edit(root, path)),
        "on_event": on_event,
        "on_stage": on_stage,
    }


def wide_follow_up(
    settings: Settings, catalog: ModelCatalog, plan: Plan, result: ActionResult
) -> Conversation | None:
    """A wide change's follow-up: one call of its writer tier (followup.py)."""
    writer = writer_route(plan.route, settings.routing, tier_models(catalog, settings.routing))
    if writer is None or not result.changes:
        return None
    context = plan.context.render()
    return wide_conversation(
        writer, plan.system, context, plan.prompt, plan.structured, result.text, result.changes
    )


def ways(settings: Settings, chosen: Route, models: dict[str, ModelInfo | None]) -> list[Route]:
    """The ways to carry out a route: a deep edit of a body (its interface stays) may be
    planned then written, written by one deep call, or (the advisor setting) written by one
    call of the writer tier with the deep model as advisor — the same edit of one body each
    way, so the cheapest is kept. A change that moves an interface is planned and written
    (its every site verified); the advisor setting "all" or a forced tier decides alone."""
    advised = advisor_route(chosen, settings.routing, models, settings.provider)
    if chosen.writer is None or chosen.interface or chosen.forced:
        return [advised]
    base = chosen if advised.advisor else advised  # advised: why there is no advisor
    both = [base, replace(base, writer=None)]
    return [*both, advised] if advised.advisor else both


def way_name(plan: Plan) -> str:
    """How a plan carries its change out, in words: "plan/write", "one deep call", "deep
    advisor + standard write"."""
    r = plan.route
    if r.advisor:
        return f"deep advisor + {r.tier} write"
    return "plan/write" if plan.steps else f"one {r.tier} call"


def _cheapest(plans: Sequence[Plan]) -> str:
    """Why this way: "cheapest: one deep call $0.05 (plan/write $0.07, ...)"."""
    ranked = sorted(plans, key=lambda p: p.estimate.usd)
    others = ", ".join(f"{way_name(p)} ${p.estimate.usd:.2f}" for p in ranked[1:])
    return f"cheapest way: {way_name(ranked[0])} ${ranked[0].estimate.usd:.2f} ({others})"


def _check_projects(settings: Settings, reqs: Sequence[ActionRequest], path: str) -> None:
    """Each project action asked applies to the file (ActionError: it does not)."""
    for req in reqs:
        if req.project_action:
            project.check_file(project.named(settings.actions, req), path)


def _check(req: ActionRequest, first: ActionRequest) -> None:
    """A request plan_all can take: a known action and tier, on the first request's range."""
    if req.action not in tuple(Action):
        raise ActionError(f"unknown action {req.action!r} (explain, refactor or fix)")
    if req.tier not in (None, "auto", *TIERS):
        raise ActionError(f"unknown tier {req.tier!r} (auto, quick, standard or deep)")
    if (req.path, req.start_line, req.end_line) != (first.path, first.start_line, first.end_line):
        raise ActionError("plan_all takes actions on one range")


def _route(
    settings: Settings,
    req: ActionRequest,
    scope: Scope,
    models: dict[str, ModelInfo | None],
    sites: int,
) -> Route:
    """The request's route on the sliding scale; a project action's on its route's scale
    (explain's or refactor's), or at its fixed tier, named by its name."""
    if not req.project_action:
        return route(
            req.action,
            scope,
            settings.routing,
            models,
            req.tier,
            intent=req.intent,
            instruction=req.instruction,
            sites=sites,
        )
    named = project.named(settings.actions, req)
    fixed = project.fixed_tier(named)
    chosen = route(
        req.action,
        scope,
        settings.routing,
        models,
        req.tier or fixed,
        sites=sites,
        scale=project.scale(named),
    )
    if fixed and not req.tier:  # the project's tier: say so first (the menu's reason)
        chosen = replace(chosen, reasons=["the project's tier", *chosen.reasons])
    return replace(chosen, label=named.name)


def _prompt(
    settings: Settings, req: ActionRequest, path: str, end_line: int, structured: bool
) -> str:
    """What is asked: a built-in action's prompt, or a project action's own as the task."""
    if req.project_action:
        named = project.named(settings.actions, req)
        return prompts.project_prompt(
            named.name, named.prompt, req.action, path, req.start_line, end_line, structured
        )
    return prompts.action_prompt(
        req.action,
        path,
        req.start_line,
        end_line,
        instruction=req.instruction,
        intent=req.intent,
        diagnostics=req.diagnostics,
        structured=structured,
    )
