"""An explanation shown as it is written. The model's text deltas are batched (every ~100 ms
or 200 characters, never one message a token); a client with the `stream` capability gets
them as `scopewise/explanation` notifications and shows them itself; for any client the
explanation document on disk is rewritten (atomic replace) with each batch, and a client
without `stream` is asked to show it once, at the first batch, so an editor that reloads
sees it grow. The finished document is the full one (`explanation_markdown`); a cancelled
one keeps what arrived and ends with a line saying it was cut and what it cost so far.

It talks to the server through `StreamHost` and never imports it."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from scopewise.actions.api import usd
from scopewise.actions.explanation import explanation_markdown, heading
from scopewise.actions.model import ActionResult, Plan

from .cachedocs import write_atomic
from .capabilities import ClientSupport

log = logging.getLogger(__name__)
KEEP_EXPLAINED = 20  # the newest explanations may be revised; older ones are forgotten

EXPLANATION = "scopewise/explanation"  # the notification's method
BATCH_S = 0.1  # a batch goes out this long after its first delta …
BATCH_CHARS = 200  # … or as soon as it holds this many characters
CHARS_PER_TOKEN = 4  # the output tokens of text so far are estimated from its length


class StreamHost(Protocol):
    """What a streamed explanation needs of the host."""

    @property
    def support(self) -> ClientSupport: ...

    def message(self, text: str, kind: types.MessageType = ...) -> None: ...
    def notify(self, method: str, params: Any) -> None: ...
    async def window_show_document_async(
        self, params: types.ShowDocumentParams
    ) -> types.ShowDocumentResult: ...


@dataclass(frozen=True)
class Cut:
    """How a cut explanation ended: its last line and the document's URI."""

    line: str
    uri: str


def cut_line(chars: int, spent: float, why: str = "cancelled") -> str:
    """The line a cut explanation ends with."""
    return f"*(cut) {why} after {chars:,} characters · {usd(spent, 4)} so far*"


class LiveExplanation:
    """One explanation under way: its text so far, its document, its batches."""

    def __init__(self, host: StreamHost, plan: Plan, run: str, path: Path) -> None:
        self.host = host
        self.plan = plan
        self.run = run
        self.path = path
        self.uri = path.as_uri()
        self.stream = host.support.stream
        self.text = ""
        self.thinking_tokens = 0
        self._pending = ""
        self._timer: asyncio.TimerHandle | None = None
        self._show: asyncio.Task[bool] | None = None

    @property
    def tokens(self) -> int:
        """Output tokens so far: the thinking's, and the text's estimated from its length."""
        return self.thinking_tokens + len(self.text) // CHARS_PER_TOKEN

    def thinking(self, tokens: int) -> None:
        self.thinking_tokens = max(self.thinking_tokens, tokens)

    def delta(self, text: str) -> None:
        """A piece of the answer: kept, and sent with its batch."""
        if not text:
            return
        self.text += text
        self._pending += text
        if len(self._pending) >= BATCH_CHARS:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(BATCH_S, self.flush)

    def flush(self) -> None:
        """Send the batch: a notification (with `stream`), the document rewritten, and the
        document shown once (without `stream`)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending:
            return
        batch, self._pending = self._pending, ""
        self._send(batch, done=False, cut=False)
        write_atomic(self.path, self._partial("writing…"))
        if not self.stream and self._show is None:
            self._show = asyncio.get_running_loop().create_task(self._show_document())

    async def finish(
        self, result: ActionResult, root: Path, revise: dict[str, Any] | None = None
    ) -> bool:
        """The whole answer arrived: the full document, the last batch (with what a revise
        would cost: ``revise``); whether it is shown (by the client itself with `stream`)."""
        self.stop()
        write_atomic(self.path, explanation_markdown(result, root))
        self._send(self._pending, done=True, cut=False, revise=revise)
        self._pending = ""
        return await self.shown()

    def cut(self, spent: float, why: str = "cancelled") -> Cut:
        """The run stopped before the end: what arrived stays, the last line says it was cut
        (`shown` then shows the document to a client without `stream`)."""
        self.stop()
        line = cut_line(len(self.text), spent, why)
        write_atomic(self.path, self._partial("cut at") + f"\n\n{line}\n")
        self._send(f"{self._pending}\n\n{line}\n", done=True, cut=True)
        self._pending = ""
        return Cut(line, self.uri)

    def stop(self) -> None:
        """No more batches (the run ended without an answer)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _partial(self, state: str) -> str:
        route = self.plan.route
        return (
            f"{heading(self.plan)}\n\n"
            f"*{route.tier} · {route.model} · {state} {self.tokens:,} tokens*\n\n"
            f"> {route.summary}\n\n{self.text.strip()}\n"
        )

    def _send(
        self, delta: str, *, done: bool, cut: bool, revise: dict[str, Any] | None = None
    ) -> None:
        if not self.stream:
            return
        extra = {"revise": revise} if revise is not None else {}
        self.host.notify(
            EXPLANATION,
            {
                **extra,
                "run": self.run,
                "uri": self.uri,
                "delta": delta,
                "chars": len(self.text),
                "tier": str(self.plan.route.tier),
                "tokens": self.tokens,
                "done": done,
                "cut": cut,
            },
        )

    async def shown(self) -> bool:
        """Whether the document is shown: by the client itself with `stream`; else asked
        once (or said where it is)."""
        if self.stream:
            return True
        if self._show is None:
            self._show = asyncio.get_running_loop().create_task(self._show_document())
        shown = await self._show
        if not shown:
            self.host.message(f"the explanation is in {self.path}", types.MessageType.Info)
        return shown

    async def _show_document(self) -> bool:
        if not self.host.support.show_document:
            return False
        try:
            answer = await self.host.window_show_document_async(
                types.ShowDocumentParams(uri=self.uri, take_focus=True)
            )
        except JsonRpcException as exc:
            log.info("showDocument failed: %s", exc)
            return False
        return bool(answer and answer.success)


class Explained:
    """The newest finished explanations by run id, for `scopewise.revise`."""

    def __init__(self, keep: int = KEEP_EXPLAINED) -> None:
        self.keep = keep
        self._held: OrderedDict[str, ActionResult] = OrderedDict()

    def add(self, run: str, result: ActionResult) -> None:
        self._held[run] = result
        while len(self._held) > self.keep:
            self._held.popitem(last=False)

    def get(self, run: str) -> ActionResult:
        held = self._held.get(run)
        if held is None:
            raise KeyError(f"no explanation {run!r} (too old, or the server restarted)")
        return held


def progress_line(tier: str, tokens: int) -> str:
    """The run's progress while the explanation is written: its tier and tokens so far."""
    return f"writing explanation… {tier} · ~{tokens:,} tokens"
