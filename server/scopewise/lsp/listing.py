"""The code-action menu: Explain, Refactor per intent and Fix, each with a sibling forced to
the other end of the scale, planned from the index alone (no network, no blocking I/O) in a few
milliseconds — routed as a run would be, its cost estimated from measured contexts, not
packed ones (a run plans again); the cache that answers the same request again while nothing
changed; and the command each entry runs (filled in at resolve when the client resolves lazily).

Knows the documents, the engine and the planner it is handed; not the server, not Claude."""

from __future__ import annotations

import contextlib
import itertools
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lsprotocol import types

from scopewise.actions import project
from scopewise.actions.api import usd
from scopewise.actions.model import ActionError, Plan
from scopewise.actions.plan import Actions
from scopewise.analysis.cursor import SHORT_LINES, cut_to_fit, expand_cursor
from scopewise.analysis.engine import Engine
from scopewise.analysis.measure import Needs
from scopewise.analysis.scope import Analysis, rescored
from scopewise.analysis.work import Work
from scopewise.index import languages
from scopewise.settings import ProjectAction
from scopewise.vocab import (
    CHOOSE_INTENT_COMMAND,
    CHOOSE_PROJECT_ACTION_COMMAND,
    CODE_ACTION_KINDS,
    PROJECT_KIND_PREFIX,
    RUN_COMMAND,
    Action,
    DiagnosticInfo,
    EngineError,
    Intent,
    Tier,
)

from .capabilities import ClientSupport
from .documents import OpenDocuments
from .wire import ActionData, ProjectActionInfo, ProjectActions

log = logging.getLogger("scopewise.lsp")
EXPLAIN_KIND = CODE_ACTION_KINDS[Action.EXPLAIN]
REFACTOR_KIND = CODE_ACTION_KINDS[Action.REFACTOR]
FIX_KIND = CODE_ACTION_KINDS[Action.FIX]
MENU_MAX = 6  # entries at a cursor, unless the settings ask for every intent
OTHER_ENDS = (Tier.QUICK, Tier.DEEP)
# using files a menu's analysis classifies per request (those kept from before are free):
# past it the counts are lower bounds, completed over the next requests
MENU_SITE_FILES = 16
# a menu request's work, in stored files loaded plus using files classified (analysis/
# work.py), shared by its sites, its siblings' search and the overrides: past it each
# answers a lower bound, completed over the next requests
MENU_WORK = 32
# ...and its time, once it has done MENU_FLOOR units (a unit's cost grows with the workspace:
# a stored file loaded at 50k files, one in memory at 2k): past it each part answers a lower
# bound too, the range's own sites (their share) once it is up (analysis/sites.OWN_SHARE_TIME)
MENU_S = 0.006
MENU_FLOOR = 8  # (a small workspace's menus do fewer: the fixture poly's at most 7)
# a menu the editor asks for on its own (CodeActionTriggerKind.Automatic: VS Code's lightbulb
# after each keystroke or cursor move) gets a quarter of that: the user has not opened it,
# and while they type the next keystroke comes before it could be read. What it did is kept
# as any menu's is; the work ahead and the next menu (one the user opens: Invoked) count on
AUTO_WORK = 8
AUTO_SITE_FILES = 4
AUTO_S = 0.0015
AUTO_FLOOR = 2
LISTING_TTL_S = 30.0  # a menu is reused this long when nothing changed (estimates age)
_SEVERITY = {1: "error", 2: "warning", 3: "info", 4: "hint"}


# ---------------------------------------------------------------------------- memoised planning
class ServerEngine(Engine):
    """The engine, with analyses and contexts shared between the plans of one request (a
    listing plans a dozen actions over the same range)."""

    _memo: dict[tuple[Any, ...], Any] | None = None
    work: Work | None = None  # the current menu request's work budget
    _site_files = MENU_SITE_FILES  # the current request's share for the range's own sites
    menu_s: float | None = MENU_S  # a menu request's time (None: counted in units alone)
    _most: int | None = None  # the current request's largest context (`memo`)

    @contextlib.contextmanager
    def memo(
        self,
        work: int | None = None,
        sites: int | None = None,
        yields: Callable[[], bool] | None = None,
        automatic: bool = False,
        most: int | None = None,
    ) -> Iterator[None]:
        """A menu request: its analyses shared, its work bounded (MENU_WORK, MENU_SITE_FILES
        and MENU_S unless told; the AUTO_ ones for a menu the user did not ask for: the
        work done ahead asks in smaller slices, and gives way when `yields` holds,
        lsp/ahead.py; a menu's own request never does); `most`: the largest context a run
        may pack, past which a range is analysed as far as a run would send it."""
        self._most = most
        limit = (AUTO_WORK if automatic else MENU_WORK) if work is None else work
        self._memo, self.work = {}, self.resolver.work(limit, yields)
        if work is None and self.menu_s is not None:
            if automatic:
                self.work.timed(min(AUTO_S, self.menu_s), AUTO_FLOOR)
            else:
                self.work.timed(self.menu_s, MENU_FLOOR)
        if sites is None:
            sites = AUTO_SITE_FILES if automatic else MENU_SITE_FILES
        self._site_files = sites
        try:
            yield
        finally:
            self._memo = self._most = None

    @property
    def capped(self) -> bool:
        """Whether the current request stopped a part of its work short (its counts or its
        siblings a lower bound): its listing is not remembered, the next ask carries on."""
        return self._memo is not None and self.work is not None and self.work.short

    def relpath(self, file: str | Path) -> str:
        """Within a menu's request (`memo`), each path checked once (its syncs and analyses
        ask for the same file five times: ~0.25 ms of path resolution and stats each)."""
        if self._memo is None:
            return super().relpath(file)
        key = ("relpath", str(file))
        hit: str | None = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = super().relpath(file)
        return hit

    def analyze(
        self,
        file: str | Path,
        start_line: int,
        end_line: int,
        diagnostics: int = 0,
        budget: int | None = None,
        work: Work | None = None,
        notes: tuple[str, ...] = (),
    ) -> Analysis:
        """Within a menu's request (`memo`), the uses counted within MENU_SITE_FILES using
        files and the request's work (a lower bound past it), once per range, and of a
        range too long for the largest context the part a run would send (`_fitting`):
        with other diagnostics (a Fix entry's), the same analysis scored again; outside it
        (a run), every use of the whole range."""
        if self._memo is None:
            return super().analyze(file, start_line, end_line, diagnostics, budget, work, notes)
        key = ("analyze", str(file), start_line, end_line, diagnostics)
        hit: Analysis | None = self._memo.get(key)
        if hit is None:
            same: Analysis | None = self._memo.get(key[:4])
            if same is None:
                end, cut = self._fitting(file, start_line, end_line)
                same = self._memo[key[:4]] = super().analyze(
                    file, start_line, end, diagnostics, self._site_files, self.work, notes + cut
                )
            hit = self._memo[key] = rescored(same, diagnostics)
        return hit

    def _fitting(self, file: str | Path, start: int, end: int) -> tuple[int, tuple[str, ...]]:
        """The last line of 1-based lines [start, end] a run's context holds at the request's
        cap (`memo`'s `most`: a run cuts the selection there, analysis/packing.py), and the
        note that says so when it is not `end`: a menu on 40,000 selected lines read them all
        (1.6 s of the loop) to plan a run that sends the first 2,000."""
        if self._most is None or end - start < SHORT_LINES:
            return end, ()
        try:
            last = cut_to_fit(self, self.relpath(file), start - 1, end - 1, self._most) + 1
        except (OSError, IndexError):
            return end, ()
        if last >= end:
            return end, ()
        fit = f"to fit {self._most:,} tokens"
        return last, (f"selection cut to lines {start}-{last} of {start}-{end} {fit}",)

    def needs_for(
        self, analysis: Analysis, cap: int, siblings: bool = False, work: Work | None = None
    ) -> Needs:
        """Within a menu's request, the siblings searched within the request's work, each
        measure made once (the menu's two rounds of plans, its entries and their other
        tiers, ask the same ones: 5.5 a request on tkinter's ranges at 50k files, 2 now)."""
        if self._memo is None or work is not None:
            return super().needs_for(analysis, cap, siblings, work)
        key = ("needs", id(analysis), cap, siblings)
        kept: tuple[Analysis, Needs] | None = self._memo.get(key)
        if kept is None or kept[0] is not analysis:  # kept with it: an id is never reused
            kept = self._memo[key] = (
                analysis,
                super().needs_for(analysis, cap, siblings, self.work),
            )
        return kept[1]

    def context_for(
        self, analysis: Analysis, budget: int, siblings: bool = False, work: Work | None = None
    ) -> Any:
        """Within a menu's request (an entry the daily cap may block, packed to decide it),
        the siblings searched within the request's work, as `needs_for` does."""
        if self._memo is None:
            return super().context_for(analysis, budget, siblings, work)
        key = ("context", id(analysis), budget, siblings)
        kept = self._memo.get(key)
        if kept is None or kept[0] is not analysis:
            kept = (analysis, super().context_for(analysis, budget, siblings, work or self.work))
            self._memo[key] = kept
        return kept[1]


def diagnostic_info(d: types.Diagnostic) -> DiagnosticInfo:
    severity = _SEVERITY.get(int(d.severity), "error") if d.severity is not None else "error"
    return DiagnosticInfo(d.range.start.line + 1, d.message, severity, d.source)


def kind_wanted(kind: str, only: Sequence[str] | None) -> bool:
    """LSP kinds are hierarchical: `refactor` asks for `refactor.rewrite` too."""
    if not only:
        return True
    return any(kind == f or kind.startswith(f + ".") for f in only)


# ---------------------------------------------------------------------------- listing
Entry = tuple[ActionData, str, tuple[types.Diagnostic, ...]]  # what to plan, its kind, diags
# a planned entry: the plan, its data, kind, diagnostics, and the auto plan it is the sibling of
Chosen = tuple[Plan, ActionData, str, tuple[types.Diagnostic, ...], Plan | None]


def _on_imports(engine: Engine, target: Target) -> bool:
    """Every line of the target is an import (nothing to refactor or fix there)."""
    fi = engine.workspace.get(target.path)
    if fi is None:
        return False
    imports = {i.line for i in fi.imports}
    return all(line - 1 in imports for line in range(target.start_line, target.end_line + 1))


@dataclass(frozen=True)
class Target:
    """The range a listing is for, in 1-based lines, with the document's version."""

    uri: str
    path: str
    start_line: int
    end_line: int
    version: int | None
    diagnostics: tuple[types.Diagnostic, ...] = ()


class Listing:
    """Builds the code-action list for a range, remembers it until something changes, and
    resolves its entries later."""

    def __init__(self, support: ClientSupport, cache_size: int = 256) -> None:
        self.support = support
        self._plans: OrderedDict[str, Plan] = OrderedDict()
        self._ids = itertools.count(1)
        self._cache_size = cache_size
        self.generation = 0  # moves on with every change a plan depends on
        self._listings: OrderedDict[tuple[Any, ...], tuple[float, list[types.CodeAction]]] = (
            OrderedDict()
        )

    def changed(self) -> None:
        """Something a plan depends on changed: documents, the index, settings, the ledger."""
        self.generation += 1
        self._listings.clear()

    def code_actions(
        self,
        params: types.CodeActionParams,
        actions: Actions,
        engine: ServerEngine,
        docs: OpenDocuments,
    ) -> list[types.CodeAction | types.Command] | None:
        """`textDocument/codeAction`: the menu for a range (an empty one: the definition
        around the cursor), as commands for a client without code-action literals."""
        uri = params.text_document.uri
        rel = docs.rel(uri)
        if rel is None or languages.language_for_path(rel) is None:
            return None
        doc = docs.get(uri)
        start, end = target_lines(params.range, doc.line_count if doc else None)
        diagnostics = tuple(params.context.diagnostics)
        automatic = params.context.trigger_kind == types.CodeActionTriggerKind.Automatic
        most = actions.settings.largest_context
        with engine.memo(automatic=automatic, most=most):
            try:
                engine.sync(rel)  # an edited buffer: only its edited statements re-extracted
                if params.range.start == params.range.end:
                    start, end = expand_cursor(engine, rel, start, most)
                only = params.context.only
                key = (uri, start, end, tuple(only or ()), repr(diagnostics), self.generation)
                listed = self._listed(key)
                if listed is None:
                    version = doc.version if doc else None
                    target = Target(uri, rel, start, end, version, diagnostics)
                    listed = self.actions_for(actions, target, only)
                    if not engine.capped:  # a lower bound: the next ask counts on
                        self._remember_listing(key, listed)
                    work = engine.work.used if engine.work is not None else 0
                    short = ", stopped short" if engine.capped else ""
                    log.info(
                        "code action %s %d-%d: %d units of work%s", rel, start, end, work, short
                    )
            except (ActionError, EngineError, OSError) as exc:
                log.info("no code actions for %s: %s", uri, exc)
                return None
        if not self.support.code_action_literals:
            return [a.command for a in listed if a.command is not None and a.disabled is None]
        return list(listed)

    def _listed(self, key: tuple[Any, ...]) -> list[types.CodeAction] | None:
        """The same request with nothing changed since (editors ask again on every cursor
        move inside a definition) gets the same answer."""
        hit = self._listings.get(key)
        if hit is None or time.monotonic() - hit[0] > LISTING_TTL_S:
            return None
        return hit[1]

    def _remember_listing(self, key: tuple[Any, ...], listed: list[types.CodeAction]) -> None:
        self._listings[key] = (time.monotonic(), listed)
        while len(self._listings) > 32:
            self._listings.popitem(last=False)

    def remember(self, plan: Plan) -> str:
        pid = str(next(self._ids))
        self._plans[pid] = plan
        while len(self._plans) > self._cache_size:
            self._plans.popitem(last=False)
        return pid

    def recall(self, pid: str) -> Plan | None:
        return self._plans.get(pid)

    def actions_for(
        self, actions: Actions, target: Target, only: Sequence[str] | None
    ) -> list[types.CodeAction]:
        """The menu for the target, of the kinds the client asked for (`only`): Fix when there
        is something to fix, Explain, "Refactor…" (the intents in a second step), and the
        first entry's other tier: at most MENU_MAX entries. Every intent with its other tier
        when the settings say `menu_intents` or the client asked for refactors only (its own
        refactor picker). Nothing but Explain on import lines. Raises ActionError when the
        range cannot be planned at all (unsupported file, bad range...)."""
        versions = {target.uri: target.version} if target.version is not None else {}
        base = ActionData(
            Action.EXPLAIN, target.uri, target.path, target.start_line, target.end_line
        )
        base = replace(base, versions=versions)
        if _on_imports(actions.engine, target):
            return (
                self._menu(actions, [(base, EXPLAIN_KIND, ())], 0)
                if kind_wanted(EXPLAIN_KIND, only)
                else []
            )
        full = actions.settings.menu_intents or asks_refactors(only)
        menu: list[Entry] = []
        if kind_wanted(FIX_KIND, only):
            menu += self._fix(actions.engine, target, base)
        if kind_wanted(EXPLAIN_KIND, only):
            menu.append((base, EXPLAIN_KIND, ()))
        if kind_wanted(REFACTOR_KIND, only):
            refactor = replace(base, action=Action.REFACTOR)
            intents: list[Intent | None] = list(Intent) if full else [None]
            menu += [(replace(refactor, intent=i), REFACTOR_KIND, ()) for i in intents]
        ours = project.for_file(actions.settings.actions, target.path)
        ours = [a for a in ours if kind_wanted(project_kind(a), only)]
        if full or not menu:  # every one: asked for by kind, or the full menu
            menu += [project_entry(base, a) for a in ours]
            return self._menu(actions, menu, len(menu) if full else 0, interleave=True)
        room = MENU_MAX - len(menu) - 1  # the first entry's other tier comes last
        chooser = len(ours) > room
        if not chooser:
            menu += [project_entry(base, a) for a in ours]
        listed = self._menu(actions, menu, 1)[: MENU_MAX - chooser]
        return [*listed, choose_project_action(base, ours, only)] if chooser else listed

    def _fix(self, engine: Engine, target: Target, base: ActionData) -> list[Entry]:
        diags = tuple(diagnostic_info(d) for d in target.diagnostics)
        if not diags:
            diags = self._syntax_errors(engine, target)
        if not diags:
            return []
        lines = [d.line for d in diags]
        fix = replace(
            base,
            action=Action.FIX,
            start_line=min(target.start_line, *lines),
            end_line=max(target.end_line, *lines),
            diagnostics=diags,
        )
        return [(fix, FIX_KIND, target.diagnostics)]

    @staticmethod
    def _syntax_errors(engine: Engine, target: Target) -> tuple[DiagnosticInfo, ...]:
        try:
            engine.sync(target.path)
            analysis = engine.analyze(target.path, target.start_line, target.end_line)
        except EngineError:
            return ()
        lo, hi = target.start_line - 1, target.end_line - 1
        return tuple(
            DiagnosticInfo(line + 1, "syntax error", "error", "tree-sitter")
            for line in analysis.file.errors
            if lo <= line <= hi
        )

    def _menu(
        self, actions: Actions, menu: list[Entry], siblings: int, *, interleave: bool = False
    ) -> list[types.CodeAction]:
        """Each entry on the sliding scale; the first `siblings` of them with a sibling forced
        to the other end of the scale (right after it with `interleave`, else at the end);
        for each one over the spending cap a sibling that overrides the cap. One range: one
        analysis and one packed context for the whole menu."""
        if not menu:
            return []
        autos = actions.plan_all([d.request() for d, _, _ in menu], estimate=True)
        others = [
            replace(d, tier=Tier.QUICK if auto.route.tier == Tier.DEEP else Tier.DEEP)
            for (d, _, _), auto in zip(menu[:siblings], autos, strict=False)
        ]
        forced = actions.plan_all([o.request() for o in others], estimate=True)
        chosen: list[Chosen] = []
        extra: list[Chosen] = []
        for i, ((data, kind, diags), auto) in enumerate(zip(menu, autos, strict=True)):
            chosen.append((auto, data, kind, diags, None))
            if i < siblings:
                (chosen if interleave else extra).append((forced[i], others[i], kind, diags, auto))
        chosen += extra
        blocked = [c for c in chosen if c[0].blocked]
        overrides: dict[int, Plan] = {}
        if blocked:
            over = actions.plan_all(
                [replace(c[1], override_cap=True).request() for c in blocked], estimate=True
            )
            overrides = {id(b[0]): o for b, o in zip(blocked, over, strict=True)}
        out: list[types.CodeAction] = []
        for plan, data, kind, diags, sibling_of in chosen:
            title = entry_title(plan, data, sibling_of)
            out += self._entry(plan, data, kind, title, diags)
            if plan.blocked:
                over_data = replace(data, override_cap=True)
                over_title = (
                    entry_title(overrides[id(plan)], data, sibling_of) + " (over the daily cap)"
                )
                out += self._entry(overrides[id(plan)], over_data, kind, over_title, diags)
        return out

    def _entry(
        self,
        plan: Plan,
        data: ActionData,
        kind: str,
        title: str,
        diagnostics: Sequence[types.Diagnostic],
    ) -> list[types.CodeAction]:
        if plan.blocked and not self.support.disabled:
            return []  # a client that cannot grey it out gets only the override
        data = replace(data, title=title, reason=plan.route.summary, plan_id=self.remember(plan))
        action = types.CodeAction(
            title=title,
            kind=kind,
            diagnostics=list(diagnostics) or None,
            disabled=types.CodeActionDisabled(reason=plan.blocked) if plan.blocked else None,
            data=data.to_json(),
            tags=[types.CodeActionTag.LlmGenerated] if self.support.llm_tag else None,
        )
        if "command" not in self.support.resolve:
            action.command = command(plan, data)
        return [action]

    def resolve(self, actions: Actions, action: types.CodeAction) -> types.CodeAction:
        """`codeAction/resolve`: fill in what was left for later, the command with the plan in
        its tooltip (ValueError: the data is not ours; ActionError: it cannot be planned). An
        entry that came with its command and no data ("Project actions…") is complete."""
        if action.data is None and action.command is not None:
            return action
        data = ActionData.from_json(action.data)
        plan = self.recall(data.plan_id)
        if plan is None or plan.request != data.request():
            plan = actions.plan(data.request())
        action.command = command(plan, data)
        return action


def asks_intent(data: ActionData) -> bool:
    """ "Refactor…": a refactor that says neither intent nor instruction asks which first."""
    return (
        data.action == Action.REFACTOR
        and data.intent is None
        and not data.instruction
        and not data.project_action
    )


def asks_refactors(only: Sequence[str] | None) -> bool:
    """The client asked for refactors only (its own refactor picker): it gets each intent."""
    return bool(only) and all(kind_wanted(REFACTOR_KIND, [f]) for f in only or ())


def short_reason(plan: Plan) -> str:
    """The tier's reason in a few words, for the title: "a short read", "52 sites in 10
    files", "a short body of 3 lines, 0 branches" (the whole of it in the tooltip)."""
    why = plan.route.reasons[0] if plan.route.reasons else ""
    why = re.sub(r" \([^()]*\)", "", why).removeprefix("interface used at ")
    return why if len(why) <= 48 else why[:47].rstrip(" ,") + "…"


def entry_title(plan: Plan, data: ActionData, auto: Plan | None = None) -> str:
    """ "Refactor… · deep plan + quick write: 52 sites in 10 files · ~$0.05"; a sibling forced
    to the other tier says which tier it replaces: "Explain · deep instead of quick · ~$0.02"."""
    if auto is not None:
        name, tiers = plan.title.split(" · ")[:2]
        return f"{name} · {tiers} instead of {auto.route.tier} · {plan_cost(plan)}"
    title = run_title(plan)
    return "Refactor…" + title[title.index(" · ") :] if asks_intent(data) else title


def run_title(plan: Plan) -> str:
    """A plan as the menu titles it: "Refactor: simplify · standard: a short body · <$0.01"
    (the menu's entry, and a run's progress all the way through)."""
    name, tiers = plan.title.split(" · ")[:2]
    return f"{name} · {tiers}: {short_reason(plan)} · {plan_cost(plan)}"


def plan_cost(plan: Plan) -> str:
    """ "~$0.05"; "~$0.05?" when the uses were counted in part (a menu's lower bound: its
    context priced at the ceiling, its sites as counted so far — the run counts them all)."""
    cost = plan.estimate.label.rsplit(" · ", 1)[-1]
    return f"{cost}?" if plan.scope.capped else cost


def intent_choices(actions: Actions, data: ActionData) -> list[tuple[str, ActionData]]:
    """ "Refactor…"'s second step: each intent planned on the same range (and tier, when the
    entry forced one), titled as the menu would title it (ActionError: it cannot be
    planned)."""
    variants = [replace(data, intent=i, title="", reason="", plan_id="") for i in Intent]
    plans = actions.plan_all([v.request() for v in variants], estimate=True)
    out = []
    for v, plan in zip(variants, plans, strict=True):
        title = entry_title(plan, v).removeprefix("Refactor: ")
        out.append((title, replace(v, title=f"Refactor: {title}", reason=plan.route.summary)))
    return out


def project_kind(action: ProjectAction) -> str:
    """A project action's code-action kind: `refactor.rewrite.scopewise.<slug>` (an edit),
    `source.scopewise.<slug>` (an explanation)."""
    return f"{PROJECT_KIND_PREFIX[action.kind]}.{action.slug}"


def project_entry(base: ActionData, action: ProjectAction) -> Entry:
    """A project action's menu entry on the base's range."""
    data = replace(base, action=project.effective_action(action), project_action=action.name)
    return (data, project_kind(action), ())


def choose_project_action(
    base: ActionData, ours: Sequence[ProjectAction], only: Sequence[str] | None
) -> types.CodeAction:
    """ "Project actions…": one entry when they do not all fit the menu; its command asks
    which (each with its tier and cost) and runs it. Nothing is planned until then. Its kind:
    an edit's prefix, unless the client asked for explanations' alone."""
    title = f"Project actions… ({len(ours)})"
    edit = PROJECT_KIND_PREFIX["edit"]
    wanted = any(a.kind == "edit" for a in ours) and kind_wanted(edit, only)
    # its data's action says what it offers: every kind (refactor), explanations' (explain)
    data = replace(base, action=Action.REFACTOR if wanted else Action.EXPLAIN)
    return types.CodeAction(
        title=title,
        kind=edit if wanted else PROJECT_KIND_PREFIX["explain"],
        command=types.Command(
            title=title, command=CHOOSE_PROJECT_ACTION_COMMAND, arguments=[data.to_json()]
        ),
    )


def project_choices(actions: Actions, data: ActionData) -> list[tuple[str, ActionData]]:
    """ "Project actions…"'s second step: each project action for the file (the explain-like
    ones alone when the entry's action is explain) planned on the range, titled as the menu
    would title it (ActionError: it cannot be planned)."""
    ours = project.for_file(actions.settings.actions, data.path)
    if data.action == Action.EXPLAIN:  # asked from a menu of explanations
        ours = [a for a in ours if a.kind == "explain"]
    if not ours:
        raise ActionError(f"no project action applies to {data.path}")
    bare = replace(data, title="", reason="", plan_id="", intent=None, instruction=None)
    variants = [project_entry(bare, a)[0] for a in ours]
    plans = actions.plan_all([v.request() for v in variants], estimate=True)
    out = []
    for v, plan in zip(variants, plans, strict=True):
        title = entry_title(plan, v)
        out.append((title, replace(v, title=title, reason=plan.route.summary)))
    return out


def project_actions(defined: Sequence[ProjectAction], path: str | None) -> ProjectActions:
    """`scopewise.projectActions`: every project action, and whether it applies to `path`."""
    return ProjectActions(
        actions=[
            ProjectActionInfo(
                name=a.name,
                kind=a.kind,
                route=a.scale,
                files=list(a.files),
                code_action_kind=project_kind(a),
                applies=path is None or project.applies(a, path),
            )
            for a in defined
        ]
    )


def command(plan: Plan, data: ActionData) -> types.Command:
    return types.Command(
        title=data.title or plan.title,
        command=CHOOSE_INTENT_COMMAND if asks_intent(data) else RUN_COMMAND,
        arguments=[data.to_json()],
        tooltip=tooltip(plan),
    )


def tooltip(plan: Plan) -> str:
    e = plan.estimate
    ctx = plan.context
    lines = [
        plan.route.summary,
        f"{plan.route.model} ({plan.route.reasoning.describe()})",
        f"~{e.input_tokens:,} tokens in ({e.cached_tokens:,} from cache), ~{e.output_tokens:,} "
        f"out, ~{usd(e.usd, 4)}",
        plan.context_line + (f"; {len(ctx.dropped)} left out" if ctx.dropped else ""),
    ]
    if plan.blocked:
        lines.append(plan.blocked)
    return "\n".join(lines)


def target_lines(rng: types.Range, line_count: int | None) -> tuple[int, int]:
    """1-based inclusive lines of an LSP range (a range ending at column 0 stops the line
    before)."""
    start = rng.start.line
    end = rng.end.line
    if end > start and rng.end.character == 0:
        end -= 1
    if line_count is not None:
        end = min(end, max(line_count - 1, 0))
        start = min(start, end)
    return start + 1, end + 1
