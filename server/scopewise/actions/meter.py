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
from scopewise.claude.costs import advised_cost_usd, cost_usd
from scopewise.claude.errors import CallCancelled, ClaudeError
from scopewise.claude.ledger import Ledger, Outcome, Refusal, Reservation
from scopewise.claude.models import ModelCatalog
from scopewise.vocab import Tier


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
        advice: Usage | None = None  # the advisor's own tokens, when it was consulted
        try:
            answer = await self.client.run(req, on_event, deadline_s=self.timeout_s)
            usage, advice = answer.usage, answer.advisor_usage
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
            advice = exc.result.advisor_usage if exc.result is not None else advice
            raise
        finally:
            spent = Spent(req, tier, usage, advice, time.perf_counter() - t0, outcome)
            self._settle(held, spent, into)

    def _settle(self, held: Reservation, spent: Spent, into: Iterable[Tally]) -> None:
        """A call's dollars, each model's tokens at its own price (`advised_cost_usd`), added
        to every tally and written to the ledger: the executor's entry under the call's
        reservation; an advisor's consultation as its own entry (its model, the deep tier:
        routing.advisor_route), recorded first, so until the call is settled the ledger
        counts it twice rather than not at all."""
        req, usage, advice = spent.request, spent.usage, spent.advice
        price = price_of(self.catalog, req.model)
        own = cost_usd(usage, price)
        both = own
        if advice is not None and req.advisor:
            both = advised_cost_usd(usage, price, advice, price_of(self.catalog, req.advisor))
            self.ledger.record(
                action=self.action,
                tier=Tier.DEEP,
                model=req.advisor,
                usage=advice,
                usd=both - own,
                duration_s=spent.duration_s,
                outcome=spent.outcome,
            )
        for tally in into:
            tally.usage = add_usage(add_usage(tally.usage, usage), advice or Usage())
            tally.usd += both
            tally.calls += 1
        self.ledger.settle(
            held,
            action=self.action,
            tier=spent.tier,
            model=req.model,
            usage=usage,
            usd=own,
            duration_s=spent.duration_s,
            outcome=spent.outcome,
        )


@dataclass(frozen=True)
class Spent:
    """What one call used: its request, tier, the executor's tokens and the advisor's."""

    request: CallRequest
    tier: str
    usage: Usage
    advice: Usage | None
    duration_s: float
    outcome: Outcome


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
