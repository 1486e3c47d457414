"""One metered call, the only way actions call Claude: reserve the call's estimate against the
daily cap (refused with the reason unless the request overrides the cap), call, and settle
what it really cost in the ledger whatever happens — added to every tally the caller keeps
(the action's result, a wide change's step). `PlanRun` (run.py) and the wide run
(wide/run.py) both call through a `Meter`."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from scopewise.actions.estimate import price_of
from scopewise.actions.model import ActionError, add_usage
from scopewise.claude.call import CallRequest, CallResult, OnEvent, Usage
from scopewise.claude.client import ClaudeClient
from scopewise.claude.costs import cost_usd
from scopewise.claude.errors import CallCancelled, ClaudeError
from scopewise.claude.ledger import Ledger, Outcome, Refusal
from scopewise.claude.models import ModelCatalog


class Tally(Protocol):
    """What a call's usage is added to: an ActionResult, a StepCost."""

    usage: Usage
    usd: float
    calls: int


@dataclass
class Meter:
    """The fixed parts of every call of one run: the client, the ledger and the prices, the
    action (for the ledger), the cap override, the call deadline, and the prompt prefixes sent
    (shared with planning's estimates: a prefix sent lately is expected from the cache)."""

    client: ClaudeClient
    ledger: Ledger
    catalog: ModelCatalog
    action: str
    timeout_s: float
    override_cap: bool = False
    edits: bool = True  # the action answers with edits (for the messages)
    prefixes: dict[str, float] | None = None

    async def call(
        self,
        req: CallRequest,
        *,
        tier: str,
        cost: float,
        what: str,
        into: Iterable[Tally],
        prefix: str | None = None,
        on_event: OnEvent | None = None,
    ) -> CallResult:
        """One call of ``req`` at ``tier``, reserving ``cost`` dollars (``what`` names it in a
        refusal). The reservation covers the SDK's own retries: they redo only requests that
        failed before an answer began (429, 5xx, connection errors), which are not billed; a
        stream broken midway is never retried. An answer with neither text nor a tool use is
        an error. ``prefix``: the prompt-cache key of the request's stable prefix."""
        held = self.ledger.reserve(
            cost, what=what, override=self.override_cap, ttl_s=self.timeout_s + 60
        )
        if isinstance(held, Refusal):
            raise ActionError(f"{held.reason}; {'nothing applied' if self.edits else 'not run'}")
        t0 = time.perf_counter()
        outcome: Outcome = "ok"
        usage = Usage()
        try:
            answer = await self.client.run(req, on_event, deadline_s=self.timeout_s)
            usage = answer.usage
            if prefix is not None and self.prefixes is not None:
                self.prefixes[prefix] = time.time()
            if not answer.text.strip() and answer.stop_reason != "tool_use":
                outcome = "error"
                raise no_answer(answer, self.edits)
            return answer
        except CallCancelled as exc:
            outcome, usage = "cancelled", exc.usage
            raise
        except ClaudeError as exc:
            outcome, usage = "error", exc.usage or Usage()
            raise
        finally:
            usd = cost_usd(usage, price_of(self.catalog, req.model))
            for tally in into:
                tally.usage = add_usage(tally.usage, usage)
                tally.usd += usd
                tally.calls += 1
            self.ledger.settle(
                held,
                action=self.action,
                tier=tier,
                model=req.model,
                usage=usage,
                usd=usd,
                duration_s=time.perf_counter() - t0,
                outcome=outcome,
            )


def no_answer(answer: CallResult, edits: bool) -> ClaudeError:
    """An answer with no text (thinking only, or empty) is an error, not an empty edit."""
    what_got = "thinking only" if answer.thinking or answer.usage.thinking_tokens else "empty"
    return ClaudeError(
        "empty",
        f"the model returned no edit ({what_got}); nothing applied"
        if edits
        else f"the model returned no explanation ({what_got})",
        usage=answer.usage,
        request_id=answer.request_id,
        result=answer,
    )
