"""Running an action (`workspace/executeCommand scopewise.run`): the run registry (by progress
token and by request id, for cancellation), the Claude client of the current settings,
server-created progress that streams the model's status and can be cancelled, then the
explanation shown as a document or the edit made a proposal (proposals.py) that nothing
applies until the user accepts it. Every run logs one line.

It talks to the server through `Host` (messages, documents, the planner, the editor's
requests) and never imports it."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.progress import Progress

from scopewise import settings as config
from scopewise.actions.api import (
    CallCancelled,
    ClaudeClient,
    ClaudeError,
    LedgerError,
    Retrying,
    StreamEvent,
    TextProgress,
    ThinkingProgress,
    Usage,
    cost_usd,
    from_settings,
    usage_line,
    usd,
)
from scopewise.actions.model import ActionError, ActionResult, Plan
from scopewise.actions.plan import Actions
from scopewise.analysis.engine import Engine
from scopewise.vocab import PROPOSAL_NOTIFICATION, Action

from .cachedocs import slot
from .capabilities import ClientSupport
from .documents import OpenDocuments
from .explaining import Explained, LiveExplanation, progress_line
from .listing import run_title
from .proposals import Proposals, make, offer
from .wire import (
    ActionData,
    Applied,
    Cancelled,
    Proposal,
    Refused,
    ReviseCost,
    RunOutcome,
    Shown,
    to_json,
)

# how a run calls Claude (default: `Actions.run` of its plan; a revise: `Actions.revise`)
Go = Callable[[Callable[[StreamEvent], None], Callable[[str], Any]], Awaitable[ActionResult]]


class Host(Protocol):
    """What a run needs of the host."""

    @property
    def support(self) -> ClientSupport: ...
    @property
    def settings(self) -> config.Settings: ...
    @property
    def docs(self) -> OpenDocuments: ...
    @property
    def engine(self) -> Engine | None: ...
    @property
    def actions(self) -> Actions | None: ...
    @property
    def work_done_progress(self) -> Progress: ...
    @property
    def proposals(self) -> Proposals: ...
    @property
    def explained(self) -> Explained: ...

    def message(self, text: str, kind: types.MessageType = ...) -> None: ...
    def notify(self, method: str, params: Any) -> None: ...
    def log(self, text: str, kind: types.MessageType = ...) -> None: ...
    def changed(self) -> None: ...
    def new_token(self, what: str) -> str: ...
    def read_text(self, rel: str) -> str | None: ...
    def read_disk(self, rel: str) -> str | None: ...
    async def window_show_document_async(
        self, params: types.ShowDocumentParams
    ) -> types.ShowDocumentResult: ...
    async def workspace_apply_edit_async(
        self, params: types.ApplyWorkspaceEditParams
    ) -> types.ApplyWorkspaceEditResult: ...
    async def window_show_message_request_async(
        self, params: types.ShowMessageRequestParams
    ) -> types.MessageActionItem | None: ...


def refuse(
    host: Host, why: str, kind: types.MessageType = types.MessageType.Warning, **facts: Any
) -> Refused:
    """Tell the user why an action did not happen; the command's result says it too."""
    host.message(why, kind)
    return Refused(reason=why, **facts)


log = logging.getLogger(__name__)
_REPORT_EVERY_S = 0.1


@dataclass
class RunHandle:
    """A running action: its task, and whether its progress was cancelled by the user."""

    task: asyncio.Task[Any]
    token: str | None = None
    msg_id: Any = None  # the executeCommand request's id
    cancelled_by_user: bool = False

    def cancel(self) -> None:
        self.cancelled_by_user = True
        self.task.cancel()


class Status:
    """Work-done progress for one run (nothing when the client has no progress support)."""

    def __init__(self, host: Host, token: str | None) -> None:
        self.host = host
        self.token = token
        self.last = ""
        self._at = 0.0
        self.open = token is not None

    @classmethod
    async def begin(cls, host: Host, plan: Plan, token: str) -> Status:
        if not host.support.work_done_progress:
            return cls(host, None)
        try:
            await asyncio.wait_for(host.work_done_progress.create_async(token), 10)
        except (JsonRpcException, TimeoutError) as exc:
            log.info("no progress for this run: %s", exc)
            return cls(host, None)
        host.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                # as the menu titled it (the tier and why, the cost), all the way through
                title=f"scopewise {run_title(plan)}",
                message=f"{plan.estimate.label.rsplit(' · ', 1)[0]} (estimated)",
                cancellable=True,
            ),
        )
        return cls(host, token)

    def report(self, message: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if message == self.last or (not force and now - self._at < _REPORT_EVERY_S):
            return
        self.last, self._at = message, now
        if self.open and self.token is not None:
            self.host.work_done_progress.report(
                self.token, types.WorkDoneProgressReport(message=message)
            )

    def end(self, message: str) -> None:
        if self.open and self.token is not None:
            self.open = False
            self.host.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
            self.host.work_done_progress.tokens.pop(self.token, None)


def _k(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


def run_line(
    action: str,
    tier: str,
    model: str,
    usage: Usage,
    dollars: float,
    seconds: float,
    outcome: str,
) -> str:
    """The one line every run logs."""
    spent = usage_line(usage, dollars, sep=" · ", detail=True)
    return f"{action} · {outcome} · {tier} · {model} · {spent} · {seconds:.1f} s"


def change_label(result: ActionResult) -> str:
    """The label of a change: the action and its tier and cost; for a wide change, the plan,
    each step's tier and cost and whether every site was verified, e.g. "scopewise refactor:
    improve names · deep plan $0.031 + quick write ×4 $0.004 · verified"."""
    name = result.plan.request.label
    if not result.steps:
        return f"scopewise {name} · {result.tier} · {usd(result.usd, 4)}"
    parts = [
        f"{s.tier} {s.role}{f' ×{s.calls}' if s.calls > 1 else ''} {usd(s.usd, 3)}"
        for s in result.steps
        if s.calls
    ]
    n = len(result.leftovers)
    state = f"incomplete: {n} site{'s' if n != 1 else ''} not verified" if n else "verified"
    return f"scopewise {name} · {' + '.join(parts)} · {state}"


KEEP_EXPLANATIONS = 200  # the newest documents stay; older ones are removed as new ones come


def explanation_path(plan: Plan) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", plan.path).strip("_") or "file"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    name = f"{slug}-L{plan.request.start_line}-{plan.scope.end_line}-{stamp}.md"
    return slot("explanations", name, KEEP_EXPLANATIONS)


class Runs:
    """The runs under way (by progress token and by request id), their cancellation, and the
    Claude client they share (a new one when the settings change; the old ones are closed
    once no run uses them)."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self._by_token: dict[str, RunHandle] = {}
        self._by_request: dict[Any, RunHandle] = {}
        self._cancelled: set[Any] = set()  # request ids the client cancelled
        self._claude: ClaudeClient | None = None
        self._claude_key: tuple[Any, ...] | None = None
        self._retired: list[ClaudeClient] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    def claude(self) -> ClaudeClient:
        """The Claude client for the current settings (a new one when they changed)."""
        s = self.host.settings
        key = (config.api_key(s), s.base_url, s.timeout_s, s.max_retries, s.provider)
        if self._claude is None or key != self._claude_key:
            if self._claude is not None:
                self._retired.append(self._claude)
            self._claude = from_settings(s, api_key=key[0])
            self._claude_key = key
        return self._claude

    def warm(self) -> None:
        """Build the Claude client in the background (importing the SDK takes a second, many
        on a busy machine), so that the first action does not wait for it."""
        task = asyncio.ensure_future(self._warm())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _warm(self) -> None:
        t0 = time.monotonic()
        try:
            await self.claude().warm()
        except ClaudeError as exc:  # no key yet, say: the first run reports it
            log.info("the Claude client is not built yet: %s", exc)
            return
        self.host.log(f"Claude client ready in {time.monotonic() - t0:.1f} s")

    async def run(self, data: ActionData, msg_id: Any) -> RunOutcome:
        """Plan again on the current text, call Claude, and show or apply the answer.
        Problems come back to the user as a message and in the result; cancellation is
        logged with what it cost."""
        host = self.host
        ready = _ready(host, data)
        if isinstance(ready, Refused):
            return ready
        actions, plan = ready
        client = self.claude()
        problem = client.check()
        if problem is not None:
            return refuse(host, problem.message, types.MessageType.Error)
        unrecorded = actions.ledger.warn_once()
        if unrecorded:
            host.message(unrecorded, types.MessageType.Warning)
        if data.override_cap:
            confirmed = await _confirm_override(host, actions, plan)
            if isinstance(confirmed, Refused):
                return confirmed
            plan = confirmed
        task = asyncio.current_task()
        assert task is not None
        handle = RunHandle(task, host.new_token("run"), msg_id)
        self.started(handle, msg_id)
        return await run_with_progress(host, actions, plan, client, handle, self)

    def started(self, handle: RunHandle, msg_id: Any) -> None:
        if handle.token is not None:
            self._by_token[handle.token] = handle
        if msg_id is not None:
            self._by_request[msg_id] = handle

    def finished(self, handle: RunHandle, msg_id: Any) -> None:
        self.host.changed()  # the ledger moved: the cap may bite now
        if handle.token is not None:
            self._by_token.pop(handle.token, None)
        if msg_id is not None:
            self._by_request.pop(msg_id, None)
            self._cancelled.discard(msg_id)
        if not self._by_token and self._retired:
            retired, self._retired = self._retired, []
            for client in retired:
                self._background(client.close())

    def running(self) -> int:
        return len(self._by_token)

    def cancel_request(self, msg_id: Any) -> None:
        """`$/cancelRequest` for a run's executeCommand: the run stops and answers an error."""
        handle = self._by_request.get(msg_id)
        if handle is not None:
            self._cancelled.add(msg_id)
            handle.task.cancel()

    def request_cancelled(self, msg_id: Any) -> bool:
        return msg_id in self._cancelled

    def cancel_progress(self, token: str) -> None:
        """`window/workDoneProgress/cancel`: the run stops and answers what it spent."""
        handle = self._by_token.get(token)
        if handle is not None:
            handle.cancel()

    def shutdown(self) -> None:
        for handle in list(self._by_token.values()):
            handle.task.cancel()

    def _background(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _ready(host: Host, data: ActionData) -> tuple[Actions, Plan] | Refused:
    """The run's plan, made again on the current text, or why there is none."""
    actions = host.actions
    if actions is None:
        return refuse(host, "no workspace folder is open; scopewise needs one")
    doc = host.docs.get(data.uri)
    planned = data.versions.get(data.uri)
    if doc is not None and planned is not None and doc.version != planned:
        return refuse(
            host, f"{data.path} changed since the actions were listed; ask for them again"
        )
    try:
        plan = actions.plan(data.request())
    except ActionError as exc:
        return refuse(host, str(exc))
    if plan.blocked:
        return refuse(host, f"{plan.blocked}; the “over the daily cap” action runs it anyway")
    return actions, plan


RUN_ANYWAY, CANCEL = "Run", "Cancel"


async def _confirm_override(host: Host, actions: Actions, plan: Plan) -> Refused | Plan:
    """A run over the daily cap runs only when the user says so, asked before anything is
    spent: "spent $X of $Y today; this run ~$Z — run anyway?" (Run / Cancel). No answer
    (dismissed, or a client that cannot ask): refused. The plan to run: as it is when the
    user said Run; without the override when the run is no longer over the cap (nothing to
    ask, and nothing it later spends may pass the cap unasked)."""
    ledger = actions.ledger
    cap = ledger.daily_cap_usd
    if cap is None or ledger.check_cap(plan.estimate.usd) is None:
        return replace(plan, request=replace(plan.request, override_cap=False))
    try:
        spent = ledger.day_totals().usd
    except LedgerError as exc:
        return refuse(host, str(exc), types.MessageType.Error)
    text = (
        f"scopewise: spent {usd(spent)} of {usd(cap)} today; this run "
        f"~{usd(plan.estimate.usd)} — run anyway? ({plan.title})"
    )
    params = types.ShowMessageRequestParams(
        type=types.MessageType.Warning,
        message=text,
        actions=[types.MessageActionItem(title=RUN_ANYWAY), types.MessageActionItem(title=CANCEL)],
    )
    try:
        answer = await host.window_show_message_request_async(params)
    except JsonRpcException as exc:
        log.info("showMessageRequest failed: %s", exc)
        answer = None
    if answer is not None and answer.title == RUN_ANYWAY:
        return plan
    why = "over the daily cap: not run" + (
        " (cancelled)" if answer is not None else " (no answer to the question)"
    )
    return refuse(host, why, types.MessageType.Info)


async def run_with_progress(
    host: Host,
    actions: Actions,
    plan: Plan,
    client: ClaudeClient,
    handle: RunHandle,
    runs: Runs,
    go: Go | None = None,
    supersedes: str | None = None,
) -> RunOutcome:
    """Call Claude with progress (``go``: a revise's call), then show or propose (a revised
    proposal ``supersedes`` the old one); cancelled by the user: the cost so far."""
    msg_id, action = handle.msg_id, plan.request.action
    start_versions = host.docs.versions()
    t0 = time.perf_counter()
    status = Status(host, None)
    on_stage: Callable[[str], Any] = lambda text: status.report(text, force=True)  # noqa: E731
    assert handle.token is not None
    live = None
    if action == Action.EXPLAIN:
        live = LiveExplanation(host, plan, handle.token, explanation_path(plan))

    def on_event(ev: StreamEvent) -> None:
        _report(host, status, action, ev, live)

    def log_unfinished(usage: Usage | None, outcome: str) -> float:
        """The run line of a run that did not finish (what it spent so far); its dollars."""
        usage = usage or Usage()
        spent = cost_usd(usage, actions.price(plan.route.model))
        route, seconds = plan.route, time.perf_counter() - t0
        host.log(run_line(action, route.tier, route.model, usage, spent, seconds, outcome))
        return spent

    try:
        status = await Status.begin(host, plan, handle.token)
        result = await (go or _plain(actions, plan, client, host))(on_event, on_stage)
    except asyncio.CancelledError as exc:
        spent = log_unfinished(exc.usage if isinstance(exc, CallCancelled) else None, "cancelled")
        status.end(f"cancelled · {usd(spent, 4)}")
        cut = live.cut(spent) if live is not None else None
        if handle.cancelled_by_user and not runs.request_cancelled(msg_id):
            handle.task.uncancel()
            if live is not None:
                await live.shown()  # what arrived, ending with the line saying it was cut
            return Cancelled(usd=spent, document=cut.uri if cut else None)
        raise
    except ClaudeError as exc:
        spent = log_unfinished(exc.usage, f"error ({exc.kind})")
        status.end("failed")
        if live is not None and live.text:
            live.cut(spent, f"failed ({exc.kind})")
        return refuse(host, exc.message, types.MessageType.Error, error=exc.kind)
    except ActionError as exc:
        status.end("failed")
        if live is not None:
            live.stop()
        return refuse(host, str(exc))
    finally:
        runs.finished(handle, msg_id)
    return await _finished(host, result, status, live, start_versions, supersedes)


def _plain(actions: Actions, plan: Plan, client: ClaudeClient, host: Host) -> Go:
    """A run's call: the plan's, on the current text."""
    return lambda on_event, on_stage: actions.run(
        plan, client, on_event, read=host.read_text, on_stage=on_stage
    )


def revise_cost(host: Host, result: ActionResult) -> ReviseCost | None:
    """What a revise of ``result`` would cost now, and once its prefix has left the prompt
    cache (None: it cannot be revised)."""
    conv, actions = result.conversation, host.actions
    estimate = actions.revise_estimate(result) if actions is not None else None
    if conv is None or estimate is None or actions is None:
        return None
    tier = str(conv.route.tier)
    until = estimate.cached_until
    later = actions.revise_estimate(result, cached=False) if until is not None else None
    if until is None or later is None:
        return ReviseCost(tier=tier, usd=round(estimate.usd, 6))
    return ReviseCost(
        tier=tier,
        usd=round(estimate.usd, 6),
        cached=True,
        cached_until=round(until, 1),
        uncached_usd=round(later.usd, 6),
    )


async def _finished(
    host: Host,
    result: ActionResult,
    status: Status,
    live: LiveExplanation | None,
    start_versions: dict[str, int],
    supersedes: str | None = None,
) -> RunOutcome:
    """The run line and notes; then the explanation finished (kept for a revise), or the
    edit proposed."""
    r = result
    host.log(run_line(r.plan.request.action, r.tier, r.model, r.usage, r.usd, r.duration_s, "ok"))
    for note in result.notes:
        host.log(f"note: {note}")
    for left in result.leftovers:
        host.log(f"not verified: {left}")
    if live is not None:
        status.end(f"done · {usd(result.usd, 4)}")
        assert host.engine is not None
        cost = revise_cost(host, result)
        host.explained.add(live.run, result)
        shown = await live.finish(result, host.engine.root, to_json(cost) if cost else None)
        return Shown(
            document=live.uri,
            shown=shown,
            usd=result.usd,
            tier=result.tier,
            run=live.run,
            revise=cost,
        )
    status.end(f"proposed · {usd(result.usd, 4)}")
    return await _propose(host, result, start_versions, supersedes)


def _report(
    host: Host, status: Status, action: str, ev: StreamEvent, live: LiveExplanation | None
) -> None:
    """The model's progress, in the run's status (and a retry in the log too); an
    explanation's text as it is written."""
    if isinstance(ev, ThinkingProgress):
        if live is not None:
            live.thinking(ev.tokens_so_far)
        status.report(f"thinking… {_k(ev.tokens_so_far)} tokens")
    elif isinstance(ev, TextProgress) and live is not None:
        live.delta(ev.delta)
        status.report(progress_line(str(live.plan.route.tier), live.tokens))
    elif isinstance(ev, TextProgress):
        word = "explanation" if action == Action.EXPLAIN else "edit"
        status.report(f"writing {word}… {ev.chars:,} chars")
    elif isinstance(ev, Retrying):
        status.report(ev.message(), force=True)
        host.log(f"{action}: {ev.message()}")


async def _propose(
    host: Host, result: ActionResult, start_versions: dict[str, int], supersedes: str | None
) -> Proposal | Applied | Refused:
    """The run's change as a proposal nothing applies yet: sent to a client that reviews it
    itself, else offered with the stock question (Apply / Show diff / Discard). A revised
    one replaces the proposal it revises (which is discarded)."""
    facts: dict[str, Any] = {"usd": result.usd, "tier": result.tier, "model": result.model}
    if not result.changes:
        host.message(f"no change proposed. {result.text}".strip(), types.MessageType.Info)
        return Refused(reason="no change proposed", **facts)
    pid, label = host.proposals.new_id(), change_label(result)
    cost = revise_cost(host, result)
    held = make(pid, result, label, host.docs, start_versions, cost, supersedes)
    if not held.hunks:
        host.message(f"no change proposed. {result.text}".strip(), types.MessageType.Info)
        return Refused(reason="no change proposed", **facts)
    host.proposals.add(held)
    if supersedes is not None:
        host.proposals.pop(supersedes)
    if host.support.review:
        host.notify(PROPOSAL_NOTIFICATION, to_json(held.wire))
        return held.wire
    return await offer(host, held)
