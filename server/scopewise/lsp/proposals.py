"""Proposals: a finished refactor or fix held by the server until the user accepts it.

`Proposals` keeps the newest few by id. A proposal is made of the run's changes as hunks
(`actions.proposal`); applying takes the accepted hunks, places them again on the current
text of each file (the open buffer, else the disk), and sends ONE versioned
`workspace/applyEdit` with all of them, checked and sent with no await in between. A client
with the `review` capability gets `scopewise/proposal` and shows it itself; any other is
asked with `window/showMessageRequest` (Apply / Show diff / Discard)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from scopewise.actions.api import usd
from scopewise.actions.edits import EditError, FileChange, Replacement
from scopewise.actions.model import ActionResult
from scopewise.actions.proposal import Hunk, hunks, place, unified

from .cachedocs import slot, write_atomic
from .capabilities import ClientSupport
from .documents import OpenDocuments
from .wire import (
    Applied,
    Discarded,
    HunkRefused,
    Proposal,
    ProposalApplied,
    ProposalFile,
    Refused,
    ReviseCost,
    WireHunk,
)
from .workspace_edit import StaleEdit, workspace_edit

log = logging.getLogger(__name__)
KEEP_PROPOSALS = 20  # the newest are kept; older ones are forgotten as new ones come
KEEP_DIFFS = 200
APPLY, SHOW_DIFF, DISCARD = "Apply", "Show diff", "Discard"


@dataclass
class Held:
    """A proposal as the server keeps it: the wire form and the hunks by file."""

    wire: Proposal
    name: str  # "Refactor: improve names", for messages and the edit's label
    description: str | None  # the model's summary, for the change annotation
    hunks: dict[str, list[Hunk]] = field(default_factory=dict)
    created: frozenset[str] = frozenset()
    result: ActionResult | None = None  # the run, for a revise (its conversation)


def _title(result: ActionResult, n_hunks: int, n_files: int) -> str:
    req = result.plan.request
    action = req.project_action or req.action.capitalize()
    changes = f"{n_hunks} change{'s' if n_hunks != 1 else ''}"
    files = f"{n_files} file{'s' if n_files != 1 else ''}"
    return f"{action}: {changes} in {files} ({result.tier}, {usd(result.usd, 2)})"


def _summary(result: ActionResult) -> str:
    """The run's own summary: a wide run's begins "verified" or "incomplete: N sites not
    verified" and names the first leftovers (actions/wide/run.py), so it is not said twice."""
    return result.text.strip()


def _wire_hunk(h: Hunk) -> WireHunk:
    strip: Callable[[str], str] = lambda line: line.rstrip("\r\n")  # noqa: E731
    return WireHunk(
        id=h.id,
        start=h.start,
        old_lines=[strip(x) for x in h.old],
        new_lines=[strip(x) for x in h.new],
    )


def make(
    pid: str,
    result: ActionResult,
    label: str,
    docs: OpenDocuments,
    versions: dict[str, int],
    revise: ReviseCost | None = None,
    supersedes: str | None = None,
) -> Held:
    """The proposal of a run's changes (hunk ids unique within it); ``revise``: what a
    revise would cost; ``supersedes``: the proposal it revises."""
    by_file: dict[str, list[Hunk]] = {}
    files: list[ProposalFile] = []
    next_id = 1
    for change in result.changes:
        cut = hunks(change.before, change.after, next_id)
        if not cut:
            continue
        next_id += len(cut)
        by_file[change.path] = cut
        uri = docs.uri(change.path)
        files.append(
            ProposalFile(
                path=change.path,
                uri=uri,
                version=None if change.created else versions.get(uri),
                hunks=[_wire_hunk(h) for h in cut],
                created=change.created,
            )
        )
    req = result.plan.request
    wire = Proposal(
        id=pid,
        title=_title(result, next_id - 1, len(files)),
        label=label,
        summary=_summary(result),
        files=files,
        leftovers=list(result.leftovers),
        tests=list(result.tests),
        usd=result.usd,
        tier=str(result.tier),
        model=result.model,
        revise=revise,
        supersedes=supersedes,
    )
    name = req.project_action or req.action.capitalize() + (f": {req.intent}" if req.intent else "")
    created = frozenset(c.path for c in result.changes if c.created)
    return Held(wire, name, result.text or None, by_file, created, result)


class Proposals:
    """The proposals not yet applied or discarded, newest last, at most `keep`."""

    def __init__(self, keep: int = KEEP_PROPOSALS) -> None:
        self.keep = keep
        self._held: OrderedDict[str, Held] = OrderedDict()
        self._ids = itertools.count(1)
        # one edit at a time: the next is placed on the text the previous one left
        self.applying = asyncio.Lock()

    def new_id(self) -> str:
        return f"{next(self._ids)}-{secrets.token_hex(3)}"

    def add(self, held: Held) -> None:
        self._held[held.wire.id] = held
        while len(self._held) > self.keep:
            self._held.popitem(last=False)

    def get(self, pid: str) -> Held:
        held = self._held.get(pid)
        if held is None:
            raise KeyError(f"no proposal {pid!r} (applied, discarded, or too old)")
        return held

    def pop(self, pid: str) -> Held | None:
        return self._held.pop(pid, None)


@dataclass
class Placed:
    """Accepted hunks placed on the current text: the edit to send and what it holds."""

    changes: list[FileChange]
    applied: list[int]
    refused: list[HunkRefused]
    files: list[str]


def _current(docs: OpenDocuments, read_disk: Callable[[str], str | None], rel: str) -> str | None:
    doc = docs.by_rel(rel)
    return doc.text if doc is not None else read_disk(rel)


def place_hunks(
    held: Held,
    accepted: set[int] | None,
    docs: OpenDocuments,
    read_disk: Callable[[str], str | None],
) -> Placed:
    """The accepted hunks (None: all) on each file's current text, or refused by hunk."""
    out = Placed([], [], [], [])
    for rel, cut in held.hunks.items():
        chosen = [h for h in cut if accepted is None or h.id in accepted]
        if not chosen:
            continue
        current = _current(docs, read_disk, rel)
        if current is None and rel not in held.created:
            out.refused += [HunkRefused(hunk=h.id, reason=f"{rel} is gone") for h in chosen]
            continue
        if current is not None and rel in held.created:
            why = f"{rel} appeared since the proposal was made"
            out.refused += [HunkRefused(hunk=h.id, reason=why) for h in chosen]
            continue
        spans, applied, refused = place(current or "", chosen)
        out.refused += [HunkRefused(hunk=r.hunk, reason=r.reason) for r in refused]
        if not applied:
            continue
        reps = [Replacement(a, b, text) for a, b, text in spans]
        out.changes.append(FileChange(rel, current or "", reps, created=current is None))
        out.applied += applied
        out.files.append(rel)
    out.applied.sort()
    out.refused.sort(key=lambda r: r.hunk)
    return out


def edit_params(
    held: Held,
    placed: Placed,
    docs: OpenDocuments,
    read_disk: Callable[[str], str | None],
    support: ClientSupport,
) -> types.ApplyWorkspaceEditParams:
    """The one versioned edit of the placed hunks, with the proposal's label (StaleEdit or
    EditError when it cannot be made). The user has confirmed it already (the review, or
    Apply): the annotation asks for nothing more — with `needsConfirmation` VS Code would open
    its refactor preview with the change unticked."""
    annotation = None
    if support.change_annotations:
        annotation = types.ChangeAnnotation(
            label=held.wire.label, needs_confirmation=False, description=held.description
        )
    edit = workspace_edit(placed.changes, docs, read_disk, docs.versions(), support, annotation)
    return types.ApplyWorkspaceEditParams(
        edit=edit,
        label=f"scopewise {held.name}",
        metadata=types.WorkspaceEditMetadata(is_refactoring=True)
        if support.edit_metadata
        else None,
    )


def diff_text(held: Held) -> str:
    """The proposal as one unified diff, its title and summary first."""
    said = [held.wire.title, held.wire.label, held.wire.summary]
    said += [f"not verified: {left}" for left in held.wire.leftovers]
    # every line a comment: the model's summary cannot write diff lines of its own
    head = [f"# {line}" for text in said if text for line in text.splitlines()]
    body = [unified(rel, cut, rel in held.created) for rel, cut in held.hunks.items()]
    return "\n".join(head) + "\n" + "".join(body)


def diff_path(held: Held) -> Path:
    """Where the proposal's diff document is written (the newest few kept)."""
    return slot("proposals", f"proposal-{held.wire.id}.diff", KEEP_DIFFS)


def write_diff(held: Held) -> Path:
    """The diff document, written atomically."""
    path = diff_path(held)
    if not write_atomic(path, diff_text(held)):
        raise OSError(f"could not write {path}")
    return path


def question(held: Held) -> types.ShowMessageRequestParams:
    wire = held.wire
    text = f"scopewise: {wire.title}"
    if wire.summary:
        text += f" — {wire.summary}"
    kind = types.MessageType.Warning if wire.leftovers else types.MessageType.Info
    return types.ShowMessageRequestParams(
        type=kind,
        message=text,
        actions=[types.MessageActionItem(title=t) for t in (APPLY, SHOW_DIFF, DISCARD)],
    )


async def ask(send: Callable[[types.ShowMessageRequestParams], Any], held: Held) -> str | None:
    """The user's answer to the stock question (None: dismissed, or the client cannot ask)."""
    try:
        answer = await send(question(held))
    except JsonRpcException as exc:
        log.info("showMessageRequest failed: %s", exc)
        return None
    title = getattr(answer, "title", None)
    return title if isinstance(title, str) else None


class ReviewHost(Protocol):
    """What the review flow needs of the server."""

    @property
    def support(self) -> ClientSupport: ...
    @property
    def docs(self) -> OpenDocuments: ...
    @property
    def proposals(self) -> Proposals: ...

    def message(self, text: str, kind: types.MessageType = ...) -> None: ...
    def read_disk(self, rel: str) -> str | None: ...
    async def window_show_document_async(
        self, params: types.ShowDocumentParams
    ) -> types.ShowDocumentResult: ...
    async def window_show_message_request_async(
        self, params: types.ShowMessageRequestParams
    ) -> types.MessageActionItem | None: ...
    async def workspace_apply_edit_async(
        self, params: types.ApplyWorkspaceEditParams
    ) -> types.ApplyWorkspaceEditResult: ...


def _refused_all(placed: Placed, why: str) -> ProposalApplied:
    lost = [HunkRefused(hunk=h, reason=why) for h in placed.applied]
    refused = sorted([*placed.refused, *lost], key=lambda r: r.hunk)
    return ProposalApplied(applied=[], refused=refused, files=[])


async def apply(host: ReviewHost, pid: str, accepted: list[int] | None) -> ProposalApplied:
    """`scopewise.applyProposal`: the accepted hunks (None: all) as one edit. KeyError for an
    unknown proposal, ValueError for hunks it does not have (nothing is sent then). One
    edit at a time: the editor's didChange of the last one comes before its answer."""
    async with host.proposals.applying:
        return await _apply(host, pid, accepted)


async def _apply(host: ReviewHost, pid: str, accepted: list[int] | None) -> ProposalApplied:
    held = host.proposals.get(pid)
    if accepted is not None:
        known = {h.id for cut in held.hunks.values() for h in cut}
        unknown = sorted(set(accepted) - known)
        if unknown:
            raise ValueError(f"proposal {pid} has no hunk {', '.join(map(str, unknown))}")
    # place, check and send with no await in between: no didChange can slip in
    placed = place_hunks(
        held, None if accepted is None else set(accepted), host.docs, host.read_disk
    )
    if not placed.changes:
        out = _refused_all(placed, "")
        _tell(host, held, out)
        return out
    try:
        params = edit_params(held, placed, host.docs, host.read_disk, host.support)
    except (StaleEdit, EditError) as exc:
        out = _refused_all(placed, str(exc))
        _tell(host, held, out)
        return out
    try:
        answer = await host.workspace_apply_edit_async(params)
    except JsonRpcException as exc:
        answer = types.ApplyWorkspaceEditResult(applied=False, failure_reason=str(exc))
    if not answer.applied:
        why = f": {answer.failure_reason}" if answer.failure_reason else ""
        out = _refused_all(placed, f"the editor did not apply the edit{why}")
    else:
        host.proposals.pop(pid)
        out = ProposalApplied(applied=placed.applied, refused=placed.refused, files=placed.files)
    _tell(host, held, out)
    return out


def _tell(host: ReviewHost, held: Held, out: ProposalApplied) -> None:
    refused = "; ".join(f"hunk {r.hunk}: {r.reason}" for r in out.refused if r.reason)
    if out.applied:
        wire = held.wire
        text = f"{held.name} applied to {', '.join(out.files)} · {wire.tier} · {usd(wire.usd, 4)}"
        if wire.summary:
            text += f" — {wire.summary}"
        if out.refused:
            text += f"; not applied: {refused or len(out.refused)}"
        kind = types.MessageType.Warning if out.refused else types.MessageType.Info
        host.message(text, kind)
    else:
        host.message(f"{held.name}: nothing was applied; {refused or 'no hunk accepted'}")


def discard(host: ReviewHost, pid: str) -> Discarded:
    """`scopewise.discardProposal`: forget it; nothing changes."""
    held = host.proposals.pop(pid)
    return Discarded(discarded=held is not None, id=pid)


async def show_diff(host: ReviewHost, pid: str) -> str:
    """`scopewise.proposalDiff`: the unified diff written as a document (shown when the
    client can); its URI."""
    path = write_diff(host.proposals.get(pid))
    uri = path.as_uri()
    if host.support.show_document:
        try:
            await host.window_show_document_async(
                types.ShowDocumentParams(uri=uri, take_focus=True)
            )
        except JsonRpcException as exc:
            log.info("showDocument failed: %s", exc)
    else:
        host.message(f"the diff is in {path}", types.MessageType.Info)
    return uri


async def offer(host: ReviewHost, held: Held) -> Applied | Refused:
    """The stock question until it is answered: Apply, Show diff (then ask again), Discard.
    Dismissed: nothing changes and the proposal is kept (for `scopewise.applyProposal`)."""
    wire = held.wire
    facts: dict[str, Any] = {"usd": wire.usd, "tier": wire.tier, "model": wire.model}
    while True:
        answer = await ask(host.window_show_message_request_async, held)
        if answer == SHOW_DIFF:
            await show_diff(host, wire.id)
            continue
        if answer == APPLY:
            out = await apply(host, wire.id, None)
            if not out.applied:
                why = "; ".join(r.reason for r in out.refused) or "nothing applied"
                return Refused(reason=why, **facts)
            return Applied(files=out.files, summary=wire.summary, tests=wire.tests, **facts)
        if answer == DISCARD:
            discard(host, wire.id)
            host.message(f"{held.name} discarded; nothing changed", types.MessageType.Info)
            return Refused(reason="discarded", **facts)
        why = f"not applied: the question was dismissed; the proposal is kept as {wire.id}"
        host.message(why, types.MessageType.Info)
        return Refused(reason=why, **facts)
