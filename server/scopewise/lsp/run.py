"""Running an action (`workspace/executeCommand scopewise.run`): server-created progress that
streams the model's status and can be cancelled, then the explanation shown as a document or
the edit sent as one `workspace/applyEdit` — never a stale one. Every run logs one line."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from scopewise import paths
from scopewise.actions.edits import EditError
from scopewise.actions.plan import ActionError, ActionResult, Plan, explanation_markdown
from scopewise.claude.client import (
    CallCancelled,
    ClaudeError,
    Retrying,
    StreamEvent,
    TextProgress,
    ThinkingProgress,
    Usage,
)
from scopewise.claude.ledger import cost_usd

from .actions import ActionData, StaleEdit, workspace_edit

if TYPE_CHECKING:
    from .server import ScopewiseServer

log = logging.getLogger(__name__)
_REPORT_EVERY_S = 0.1


@dataclass
class RunHandle:
    """A running action: its task, and whether its progress was cancelled by the user."""

    task: asyncio.Task[Any]
    token: str | None = None
    cancelled_by_user: bool = False

    def cancel(self) -> None:
        self.cancelled_by_user = True
        self.task.cancel()


class Status:
    """Work-done progress for one run (nothing when the client has no progress support)."""

    def __init__(self, server: ScopewiseServer, token: str | None) -> None:
        self.server = server
        self.token = token
        self.last = ""
        self._at = 0.0
        self.open = token is not None

    @classmethod
    async def begin(cls, server: ScopewiseServer, plan: Plan, token: str) -> Status:
        if not server.support.work_done_progress:
            return cls(server, None)
        try:
            await asyncio.wait_for(server.work_done_progress.create_async(token), 10)
        except (JsonRpcException, TimeoutError) as exc:
            log.info("no progress for this run: %s", exc)
            return cls(server, None)
        server.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title=f"scopewise {plan.route.summary}",  # why this tier, all the way through
                message=f"{plan.title} (estimated)",
                cancellable=True,
            ),
        )
        return cls(server, token)

    def report(self, message: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if message == self.last or (not force and now - self._at < _REPORT_EVERY_S):
            return
        self.last, self._at = message, now
        if self.open and self.token is not None:
            self.server.work_done_progress.report(
                self.token, types.WorkDoneProgressReport(message=message)
            )

    def end(self, message: str) -> None:
        if self.open and self.token is not None:
            self.open = False
            self.server.work_done_progress.end(
                self.token, types.WorkDoneProgressEnd(message=message)
            )
            self.server.work_done_progress.tokens.pop(self.token, None)


def _k(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


def run_line(
    action: str,
    tier: str,
    model: str,
    usage: Usage,
    usd: float,
    seconds: float,
    outcome: str,
) -> str:
    """The one line every run logs."""
    thinking = f" (thinking {usage.thinking_tokens:,})" if usage.thinking_tokens else ""
    guess = " (estimated)" if usage.estimated else ""
    return (
        f"{action} · {outcome} · {tier} · {model} · in {usage.input_tokens:,} · cache read "
        f"{usage.cache_read_tokens:,} / write {usage.cache_write_tokens:,} · out "
        f"{usage.output_tokens:,}{thinking}{guess} · ${usd:.4f} · {seconds:.1f} s"
    )


KEEP_EXPLANATIONS = 200  # the newest documents stay; older ones are removed as new ones come


def explanation_path(plan: Plan) -> Path:
    folder = paths.cache_dir() / "explanations"
    folder.mkdir(parents=True, exist_ok=True)
    _prune(folder, KEEP_EXPLANATIONS - 1)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", plan.path).strip("_") or "file"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return folder / f"{slug}-L{plan.request.start_line}-{plan.scope.end_line}-{stamp}.md"


def _prune(folder: Path, keep: int) -> None:
    """Remove all but the newest `keep` explanation documents (the cache must not grow
    without bound over months of use)."""
    try:
        docs = sorted(folder.glob("*.md"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    except OSError:
        return
    for old in docs[keep:]:
        old.unlink(missing_ok=True)


async def run_action(server: ScopewiseServer, data: ActionData) -> dict[str, Any]:
    """Plan again on the current text, call Claude, and show or apply the answer. Problems
    come back to the user as a message and in the result; cancellation is logged with what
    it cost."""
    actions = server.actions
    if actions is None:
        return server.refuse("no workspace folder is open; scopewise needs one")
    doc = server.docs.get(data.uri)
    planned = data.versions.get(data.uri)
    if doc is not None and planned is not None and doc.version != planned:
        return server.refuse(
            f"{data.path} changed since the actions were listed; ask for them again"
        )
    try:
        plan = actions.plan(data.request())
    except ActionError as exc:
        return server.refuse(str(exc))
    if plan.blocked:
        return server.refuse(f"{plan.blocked}; the “over the daily cap” action runs it anyway")
    client = server.claude()
    problem = client.check()
    if problem is not None:
        return server.refuse(problem.message, types.MessageType.Error)

    unrecorded = actions.ledger.warn_once()
    if unrecorded:
        server.message(unrecorded, types.MessageType.Warning)

    task = asyncio.current_task()
    assert task is not None
    token = server.new_token("run")
    handle = RunHandle(task, token)
    msg_id = server.protocol.msg_id
    server.runs_started(handle, msg_id)
    start_versions = server.docs.versions()
    t0 = time.perf_counter()
    status = Status(server, None)
    word = "explanation" if data.action == "explain" else "edit"

    def on_event(ev: StreamEvent) -> None:
        if isinstance(ev, ThinkingProgress):
            status.report(f"thinking… {_k(ev.tokens_so_far)} tokens")
        elif isinstance(ev, TextProgress):
            status.report(f"writing {word}… {ev.chars:,} chars")
        elif isinstance(ev, Retrying):
            status.report(ev.message(), force=True)
            server.log(f"{data.action}: {ev.message()}")

    on_stage: Callable[[str], Any] = lambda text: status.report(text, force=True)  # noqa: E731

    def log_unfinished(usage: Usage | None, outcome: str) -> float:
        """The run line of a run that did not finish (what it spent so far); its dollars."""
        usage = usage or Usage()
        usd = cost_usd(usage, actions.price(plan.route.model))
        seconds = time.perf_counter() - t0
        route = plan.route
        server.log(run_line(data.action, route.tier, route.model, usage, usd, seconds, outcome))
        return usd

    try:
        status = await Status.begin(server, plan, token)
        result = await actions.run(plan, client, on_event, read=server.read_text, on_stage=on_stage)
    except asyncio.CancelledError as exc:
        usd = log_unfinished(exc.usage if isinstance(exc, CallCancelled) else None, "cancelled")
        status.end(f"cancelled · ${usd:.4f}")
        if handle.cancelled_by_user and not server.request_cancelled(msg_id):
            task.uncancel()
            return {"applied": False, "cancelled": True, "usd": usd}
        raise
    except ClaudeError as exc:
        log_unfinished(exc.usage, f"error ({exc.kind})")
        status.end("failed")
        return server.refuse(exc.message, types.MessageType.Error, error=exc.kind)
    except ActionError as exc:
        status.end("failed")
        return server.refuse(str(exc))
    finally:
        server.runs_finished(handle, msg_id)
    server.log(
        run_line(
            data.action,
            result.tier,
            result.model,
            result.usage,
            result.usd,
            result.duration_s,
            "ok",
        )
    )
    for note in result.notes:
        server.log(f"note: {note}")
    if data.action == "explain":
        status.end(f"done · ${result.usd:.4f}")
        return await _show_explanation(server, result)
    status.end(f"applying · ${result.usd:.4f}")
    return await _apply(server, result, start_versions)


async def _show_explanation(server: ScopewiseServer, result: ActionResult) -> dict[str, Any]:
    assert server.engine is not None
    path = explanation_path(result.plan)
    path.write_text(explanation_markdown(result, server.engine.root), encoding="utf-8")
    uri = path.as_uri()
    shown = False
    if server.support.show_document:
        try:
            answer = await server.window_show_document_async(
                types.ShowDocumentParams(uri=uri, take_focus=True)
            )
            shown = bool(answer and answer.success)
        except JsonRpcException as exc:
            log.info("showDocument failed: %s", exc)
    if not shown:
        server.message(f"the explanation is in {path}", types.MessageType.Info)
    return {"document": uri, "shown": shown, "usd": result.usd, "tier": result.tier}


async def _apply(
    server: ScopewiseServer, result: ActionResult, start_versions: dict[str, int]
) -> dict[str, Any]:
    plan = result.plan
    facts: dict[str, Any] = {"usd": result.usd, "tier": result.tier, "model": result.model}
    if not result.changes:
        server.message(f"no change proposed. {result.text}".strip(), types.MessageType.Info)
        return {"applied": False, "reason": "no change proposed", **facts}
    annotation = None
    if server.support.change_annotations:
        annotation = types.ChangeAnnotation(
            label=f"scopewise {plan.request.action} · {result.tier} · ${result.usd:.4f}",
            needs_confirmation=True,
            description=result.text or None,
        )
    # check and send with no await in between: no didChange can slip in
    try:
        edit = workspace_edit(
            result.changes,
            server.docs,
            server.read_disk,
            start_versions,
            server.support,
            annotation,
        )
    except (StaleEdit, EditError) as exc:
        return server.refuse(f"{exc}; nothing was applied", **facts)
    name = plan.request.action.capitalize()
    if plan.request.intent:
        name += f": {plan.request.intent}"
    params = types.ApplyWorkspaceEditParams(
        edit=edit,
        label=f"scopewise {name}",
        metadata=types.WorkspaceEditMetadata(is_refactoring=True)
        if server.support.edit_metadata
        else None,
    )
    try:
        answer = await server.workspace_apply_edit_async(params)
    except JsonRpcException as exc:
        return server.refuse(f"the editor refused the edit: {exc}", **facts)
    if not answer.applied:
        why = f": {answer.failure_reason}" if answer.failure_reason else ""
        return server.refuse(f"the editor did not apply the edit{why}", **facts)
    files = [c.path for c in result.changes]
    summary = f" — {result.text}" if result.text else ""
    server.message(
        f"{name} applied to {', '.join(files)} · {result.tier} · ${result.usd:.4f}{summary}",
        types.MessageType.Info,
    )
    return {"applied": True, "files": files, "summary": result.text, **facts}
