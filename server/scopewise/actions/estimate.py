"""What a call is expected to cost before it is made: tokens in (and how many the prompt cache
should serve), tokens out (the answer and the thinking the tier's reasoning invites) and the
dollars at the model's price. Offline; it may not know how calls are made."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from scopewise.actions import prompts
from scopewise.actions.routing import Route
from scopewise.analysis import tokens
from scopewise.analysis.scope import Scope
from scopewise.claude.models import ModelCatalog, Price
from scopewise.vocab import Action

CACHE_LIFETIME_S = 300.0  # the API's default prompt-cache lifetime
_THINKING_GUESS = {None: 0, "low": 300, "medium": 1500, "high": 4000, "xhigh": 8000, "max": 16000}
UNKNOWN_PRICE = Price(15.0, 75.0, 18.75, 1.5)  # a model without a known price: assume dear


@dataclass(frozen=True)
class Estimate:
    input_tokens: int
    cached_tokens: int  # of input_tokens, expected from the prompt cache
    output_tokens: int  # thinking included
    usd: float

    @property
    def label(self) -> str:
        """e.g. "~6.1k tok · ~$0.04"."""
        total = self.input_tokens + self.output_tokens
        size = f"{total / 1000:.1f}k" if total >= 1000 else str(total)
        return f"~{size} tok · ~${self.usd:.2f}" if self.usd >= 0.01 else f"~{size} tok · <$0.01"


def price_of(catalog: ModelCatalog, model: str) -> Price:
    return catalog.price(model) or UNKNOWN_PRICE


def prefix_key(model: str, context_text: str) -> str:
    """The prompt-cache key of a call's stable prefix (system prompt and context)."""
    return hashlib.sha1(f"{model}\0{prompts.SYSTEM}\0{context_text}".encode()).hexdigest()


def estimate_call(
    action: str,
    chosen: Route,
    scope: Scope,
    context_text: str,
    prompt: str,
    price: Price,
    prefix_sent_at: float | None,
) -> Estimate:
    """The estimate of one call; ``prefix_sent_at``: when the same prefix was last sent to
    the same model (within the cache lifetime it is expected to be read from the cache)."""
    prefix = tokens.estimate(prompts.SYSTEM) + tokens.estimate(context_text)
    volatile = tokens.estimate(prompt) + 8
    fresh = prefix_sent_at is not None and time.time() - prefix_sent_at < CACHE_LIFETIME_S
    cached = prefix if fresh else 0
    r = chosen.reasoning
    if r.budget_tokens:
        thinking = r.budget_tokens // 2
    elif r.thinking is not None and r.thinking.get("type") == "disabled":
        thinking = 0
    else:
        thinking = _THINKING_GUESS.get(r.effort, 1500)
    body = scope.lines * 12  # ~12 tokens a line of code
    explain = action == Action.EXPLAIN
    answer = min(2000, 300 + scope.lines * 4) if explain else 150 + int(body * 1.2)
    output = min(r.max_tokens, answer + thinking)
    band = price.for_input(prefix + volatile)
    usd = (
        volatile * band.input
        + (prefix - cached) * band.cache_write_5m
        + cached * band.cache_read
        + output * band.output
    ) / 1e6
    return Estimate(prefix + volatile, cached, output, usd)
