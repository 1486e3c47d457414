"""The run of a wide change: plan (deep, with look-ups) → write (a cheaper tier, one call per
group of files, in parallel) → verify (no model) → leftovers back once to their writer, then
once to the deep tier, verifying again each time. The result is one set of `FileChange`s over
every file (one WorkspaceEdit, one undo), each step's tier, model, files, usage, cost and
time, and what could not be verified, by site — never presented as complete. Every call is
metered (meter.py) into the result and its step; a cancelled run settles what it spent."""

from __future__ import annotations

import asyncio
import difflib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from scopewise.actions import prompts
from scopewise.actions.edits import EditError, FileChange, Replacement
from scopewise.actions.estimate import prefix_key, price_of
from scopewise.actions.meter import Meter
from scopewise.actions.model import ActionError, ActionResult, Plan, StepCost, StepPlan
from scopewise.actions.routing import Route, reasoning_for
from scopewise.actions.wide import planner
from scopewise.actions.wide.groups import write_groups
from scopewise.actions.wide.spec import WidePlan, parse_plan
from scopewise.actions.wide.verify import Overlay, Verdict, language_for, verify
from scopewise.actions.wide.writer import Writers, Written
from scopewise.analysis.engine import Engine
from scopewise.analysis.lookup import TOOLS, Lookups
from scopewise.claude.call import OnEvent
from scopewise.claude.client import ClaudeClient
from scopewise.claude.errors import CallCancelled
from scopewise.claude.ledger import Ledger
from scopewise.claude.models import ModelCatalog
from scopewise.index.workspace import WorkspaceIndex
from scopewise.settings import Settings
from scopewise.vocab import Kind, Role

Reader = Callable[[str], str | None]


@dataclass
class Helpers:
    """What a wide run uses beyond the call: the index, the look-ups and their tool
    definitions."""

    index: WorkspaceIndex
    lookups: planner.Lookup | None = None
    tools: Mapping[str, tuple[str, dict[str, Any]]] | None = None


def helpers_for(engine: Engine, settings: Settings) -> Helpers:
    """The helpers of a wide run over ``engine``: its index, and the look-ups (each answer
    capped at a third of the plan step's look-up tokens, at most 4,000)."""
    per_answer = max(200, min(4000, settings.lookup_max_tokens // 3))
    return Helpers(engine.workspace, Lookups(engine, max_tokens=per_answer), TOOLS)


class WideRun:
    """One run of a plan with steps (plan, write, verify)."""

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
        helpers: Helpers,
        on_event: OnEvent | None = None,
        on_stage: Callable[[str], Any] | None = None,
    ) -> None:
        self.plan, self.settings, self.catalog, self.root = plan, settings, catalog, root
        self.client = client
        self.read, self.helpers = read, helpers
        self.on_event, self.on_stage = on_event, on_stage
        self.meter = Meter(
            client,
            ledger,
            catalog,
            plan.request.action,
            settings.timeout_s,
            override_cap=plan.request.override_cap,
            prefixes=prefixes,
        )
        first = self.step(Role.PLAN)
        self.result = ActionResult(plan, "", model=first.model, tier=first.tier)
        self.original: dict[str, str] = {}  # each file's text before the change
        self.overlay: dict[str, str] = {}  # and after the edits so far
        self.verify_cost = StepCost(Role.VERIFY, "", "")

    def step(self, role: str) -> StepPlan:
        found = next((s for s in self.plan.steps if s.role == role), None)
        if found is None:
            raise ActionError(f"the wide change has no {role} step; nothing was changed")
        return found

    def stage(self, text: str) -> None:
        if self.on_stage is not None:
            self.on_stage(text)

    async def go(self) -> ActionResult:
        """Plan, write, verify, repair. Raises ActionError (nothing applied), ClaudeError
        from the plan step, or CallCancelled carrying the usage of every call so far."""
        t0 = time.perf_counter()
        try:
            wide = await self._plan_step()
            if wide.files:
                writers, groups = await self._writers(wide)
                verdict = await self._write_step(wide, writers, groups)
                verdict = await self._repair(wide, writers, groups, verdict)
        except asyncio.CancelledError as exc:
            partial = exc.partial_text if isinstance(exc, CallCancelled) else ""
            raise CallCancelled(self.result.usage, partial) from exc
        if wide.files:
            self._finish(wide, verdict)
        else:
            self.result.text = f"no change planned: {wide.summary.strip()}"
        self.result.duration_s = time.perf_counter() - t0
        return self.result

    # ------------------------------------------------------------------ plan
    async def route(self, step: StepPlan) -> Route:
        """The step's tier and model with the reasoning its tier config gives for what the
        Models API says the model accepts today (cached for a day; the built-in table
        offline): effort from the scope for the plan step, the lowest of the range for
        writers (routing.writer_route)."""
        self.catalog.use_source(self.client)
        await self.catalog.get(step.model)
        chosen = self.plan.route
        cfg = self.settings.routing.tier(step.tier)
        depth = chosen.depth if step.role == Role.PLAN else 0.0
        reasoning = reasoning_for(cfg, self.catalog.lookup(step.model), depth)
        return replace(chosen, tier=step.tier, model=step.model, reasoning=reasoning, depth=depth)

    async def _plan_step(self) -> WidePlan:
        step = self.step(Role.PLAN)
        cost = StepCost(Role.PLAN, step.tier, step.model)
        self.result.steps.append(cost)
        t0 = time.perf_counter()
        try:
            route = await self.route(step)
            loop = self._tool_loop(route, cost)
            context = self.plan.planner_text
            request = planner.plan_request(
                route.model,
                prompts.SYSTEM,
                context,
                planner.prompt_for(self.plan, self._text, bool(loop.lookups)),
                route.reasoning,
                planner.tool_definitions(self.helpers.tools or {}) if loop.lookups else (),
                self._structured(route.model),
            )
            self.stage(f"planning the change ({step.tier})…")
            answer = await loop.ask(request, step.estimate.usd, prefix_key(route.model, context))
            wide, notes = parse_plan(answer.text, planner.allowed_lines(self.plan))
            wide, added = planner.complete(wide, self.plan, self.helpers.index.get(self.plan.path))
            self.result.notes += notes + added
            self.result.notes += [f"plan step: {d}" for d in loop.looked_up]
            cost.files = tuple(f.path for f in wide.files)
            return wide
        finally:
            cost.duration_s = time.perf_counter() - t0

    def _tool_loop(self, route: Route, cost: StepCost) -> planner.ToolLoop:
        s = self.settings
        lookups = self.helpers.lookups if s.lookup_max_steps and self.helpers.tools else None
        return planner.ToolLoop(
            self.meter,
            route.tier,
            price_of(self.catalog, route.model),
            (self.result, cost),
            lookups,
            s.lookup_max_steps,
            s.lookup_max_tokens,
            self.on_stage,
            self.on_event,
        )

    def _structured(self, model: str) -> bool:
        info = self.catalog.lookup(model)
        return info.structured_outputs if info is not None else True

    # ------------------------------------------------------------------ write, verify
    async def _writers(self, wide: WidePlan) -> tuple[Writers, list[tuple[str, ...]]]:
        step = self.step(Role.WRITE)
        own = self.plan.path if wide.file(self.plan.path) else None
        groups = write_groups(wide.sites_by_file, own)
        files = tuple(p for g in groups for p in g)
        cost = StepCost(Role.WRITE, step.tier, step.model, files)
        self.result.steps.append(cost)
        route = await self.route(step)
        writers = Writers(
            self.meter,
            route,
            wide,
            self.root,
            step.estimate.usd / max(1, len(groups)),
            (self.result, cost),
            self._structured(route.model),
            self.settings.write_parallel,
            self.on_event,
            self.on_stage,
        )
        return writers, groups

    async def _write_step(
        self, wide: WidePlan, writers: Writers, groups: Sequence[tuple[str, ...]]
    ) -> Verdict:
        self._load([f.path for f in wide.files] + [s.path for s in self.plan.context.sites])
        files = sum(len(g) for g in groups)
        self.stage(f"writing {files} files in {len(groups)} calls ({writers.route.tier})…")
        step = self.result.steps[-1]
        t0 = time.perf_counter()
        try:
            self._take(await writers.write_all(groups, self.overlay))
        finally:
            step.duration_s += time.perf_counter() - t0
        return self._verify(wide)

    async def _repair(
        self,
        wide: WidePlan,
        writers: Writers,
        groups: Sequence[tuple[str, ...]],
        verdict: Verdict,
    ) -> Verdict:
        """Leftovers back once to their writers, then what remains once to the deep tier."""
        left = verdict.by_file()
        again = [g for g in groups if any(p in left for p in g)]
        if again:
            self.stage(f"repairing {_sites(len(verdict.leftovers))} ({writers.route.tier})…")
            step = self.result.steps[-1]
            t0 = time.perf_counter()
            try:
                bound = asyncio.Semaphore(self.settings.write_parallel)
                self._take(
                    await asyncio.gather(*(self._fix(writers, g, left, bound) for g in again))
                )
            finally:
                step.duration_s += time.perf_counter() - t0
            verdict = self._verify(wide)
        if verdict.leftovers:
            verdict = await self._deep_repair(wide, verdict)
        return verdict

    async def _fix(
        self,
        writers: Writers,
        group: tuple[str, ...],
        left: Mapping[str, list[str]],
        bound: asyncio.Semaphore,
    ) -> Written:
        async with bound:
            return await writers.write(
                group, self.overlay, {p: left[p] for p in group if p in left}
            )

    async def _deep_repair(self, wide: WidePlan, verdict: Verdict) -> Verdict:
        step = self.step(Role.PLAN)
        left = verdict.by_file()
        files = tuple(sorted(left))
        self._load(files)
        cost = StepCost(Role.WRITE, step.tier, step.model, files)
        self.result.steps.append(cost)
        route = await self.route(step)
        deep = Writers(
            self.meter,
            route,
            wide,
            self.root,
            step.estimate.usd,
            (self.result, cost),
            self._structured(route.model),
            on_event=self.on_event,
        )
        self.stage(f"repairing {_sites(len(verdict.leftovers))} ({step.tier})…")
        t0 = time.perf_counter()
        try:
            self._take([await deep.write(files, self.overlay, left)])
        finally:
            cost.duration_s = time.perf_counter() - t0
        return self._verify(wide)

    def _load(self, paths: Sequence[str]) -> None:
        for path in paths:
            self._text(path)

    def _text(self, path: str) -> str | None:
        """A file's current text (the overlay's), read once through the run's reader."""
        if path not in self.original:
            try:
                text = self.read(path)
            except EditError as exc:
                self.result.notes.append(str(exc))
                text = None
            if text is None:
                return None
            self.original[path] = self.overlay[path] = text
        return self.overlay[path]

    def _take(self, written: Sequence[Written]) -> None:
        for w in written:
            if w.error is not None:
                self.result.notes.append(f"{', '.join(w.files)}: {w.error}")
            for path, text in w.texts.items():
                if path in self.original:
                    self.overlay[path] = text

    def _verify(self, wide: WidePlan) -> Verdict:
        self.stage("verifying every site…")
        t0 = time.perf_counter()
        index = self.helpers.index
        ov = Overlay(self.original, self.overlay, language_for(index.files))
        targets = self.plan.scope.targets
        method = bool(targets) and targets[0].kind == Kind.METHOD
        sites = self.plan.context.sites
        verdict = verify(wide, ov, sites, index.files, self._target_only(wide), method)
        self.verify_cost.duration_s += time.perf_counter() - t0
        self.verify_cost.files = tuple(ov.changed())
        return verdict

    def _target_only(self, wide: WidePlan) -> list[str]:
        """The gone names that only the target defines in the whole workspace."""
        req, end = self.plan.request, self.plan.scope.end_line
        out = []
        for name in wide.gone:
            defs = self.helpers.index.definitions_named(name)
            if defs and all(
                fi.path == self.plan.path
                and req.start_line <= fi.definitions[i].start_line + 1 <= end
                for fi, i in defs
            ):
                out.append(name)
        return out

    # ------------------------------------------------------------------ the result
    def _finish(self, wide: WidePlan, verdict: Verdict) -> None:
        broken = {x.path for x in verdict.leftovers if x.reason.startswith("syntax error")}
        self.result.changes = [
            change_of(p, self.original[p], self.overlay[p])
            for p in sorted(self.overlay)
            if self.overlay[p] != self.original[p] and p not in broken
        ]
        self.result.notes += [f"{p}: left unchanged (its edit adds syntax errors)" for p in broken]
        self.result.notes += verdict.notes
        self.result.leftovers = [str(x) for x in verdict.leftovers]
        self.result.steps.insert(len(self.result.steps), self.verify_cost)
        self.result.text = "\n".join(
            [*_verdict_lines(verdict, len(self.result.changes)), wide.summary.strip()]
            + [s.line for s in self.result.steps]
        )


SHOWN_LEFTOVERS = 10  # leftovers named in the summary (all are in ActionResult.leftovers)


def _verdict_lines(verdict: Verdict, files: int) -> list[str]:
    """The summary's first lines: verified, or incomplete and the first leftovers by site."""
    left = verdict.leftovers
    if not left:
        return [f"verified: every site of the plan in {files} files"]
    out = [f"incomplete: {_sites(len(left))} not verified"]
    out += [f"  {x}" for x in left[:SHOWN_LEFTOVERS]]
    if len(left) > SHOWN_LEFTOVERS:
        out.append(f"  ... and {len(left) - SHOWN_LEFTOVERS} more")
    return out


def _sites(n: int) -> str:
    return f"{n} site{'s' if n != 1 else ''}"


def change_of(path: str, before: str, after: str) -> FileChange:
    """The edits that turn ``before`` into ``after``, a replacement per changed run of lines
    (so an editor keeps its marks on the lines in between)."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    starts = [0]
    for line in a:
        starts.append(starts[-1] + len(line))
    out = FileChange(path, before)
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            out.replacements.append(Replacement(starts[i1], starts[i2], "".join(b[j1:j2])))
    return out
