"""What a call is expected to cost before it is made: tokens in (and how many the prompt cache
should serve), tokens out (the answer and the thinking the tier's reasoning invites) and the
dollars at the model's price. Offline; it may not know how calls are made."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

from scopewise.actions import prompts
from scopewise.actions.routing import Reasoning, Route
from scopewise.analysis import tokens
from scopewise.analysis.scope import Scope
from scopewise.claude.models import ModelCatalog, Price
from scopewise.vocab import Action

CACHE_LIFETIME_S = 300.0  # the API's default prompt-cache lifetime
# a shorter prefix is silently not cached (the 5.5 models' minimum; see the API notes §4): its
# tokens are billed as plain input, not as a cache write
CACHE_MIN_TOKENS = 512
LINE_TOKENS = 12  # ~12 tokens a line of code
# one site's edit in an answer: {"path", "old_text", "new_text"} with the site's line and a
# line around it on each side (enough to occur once), old and new: ~2 x 2 lines x 12 + ~20
SITE_EDIT_TOKENS = 70
_THINKING_GUESS = {None: 0, "low": 300, "medium": 1500, "high": 4000, "xhigh": 8000, "max": 16000}
UNKNOWN_PRICE = Price(15.0, 75.0, 18.75, 1.5)  # a model without a known price: assume dear
# The advisor tool (shared/notes/anthropic-api.md §11): the API runs the advisor on the full
# transcript and returns its guidance, "typically 400–700 text tokens, 1,400–1,800 with
# thinking". We cannot set the advisor's thinking, so its output is taken as thinking's middle
# figure, of which the advice the executor reads back is the text's middle figure.
ADVICE_TEXT_TOKENS = 550
ADVICE_OUTPUT_TOKENS = 1600


@dataclass(frozen=True)
class Estimate:
    input_tokens: int
    cached_tokens: int  # of input_tokens, expected from the prompt cache
    output_tokens: int  # thinking included
    usd: float
    # when the cached part is expected to have left the prompt cache (epoch seconds; None:
    # nothing is expected from it): after it, the same call costs its uncached estimate
    cached_until: float | None = None

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


def thinking_tokens(r: Reasoning) -> int:
    """The thinking a call's reasoning invites: half a fixed budget, none when off, else the
    guess for its effort."""
    if r.budget_tokens:
        return r.budget_tokens // 2
    if r.thinking is not None and r.thinking.get("type") == "disabled":
        return 0
    return _THINKING_GUESS.get(r.effort, 1500)


def edit_answer_tokens(scope: Scope) -> int:
    """An edit answer for the selection: the summary and JSON frame (~150) and the rewritten
    range with its old_text (~1.2 x the body)."""
    return 150 + int(scope.lines * LINE_TOKENS * 1.2)


def call_usd(price: Price, prefix: int, cached: int, volatile: int, output: int) -> float:
    """Dollars of one call: the prefix written to the cache (or read from it when ``cached``),
    the rest of the input at the input price, the output (thinking included)."""
    band = price.for_input(prefix + volatile)
    written = (prefix - cached) * (
        band.cache_write_5m if prefix >= CACHE_MIN_TOKENS else band.input
    )
    return (volatile * band.input + written + cached * band.cache_read + output * band.output) / 1e6


def estimate_call(
    action: str,
    chosen: Route,
    scope: Scope,
    context_text: str,
    prompt: str,
    price: Price,
    prefix_sent_at: float | None,
    site_edits: int = 0,
    context_tokens: int | None = None,
) -> Estimate:
    """The estimate of one call; ``prefix_sent_at``: when the same prefix was last sent to
    the same model (within the cache lifetime it is expected to be read from the cache);
    ``site_edits``: the sites outside the selection the answer edits (an interface that moves:
    one call has to write every site's edit itself); ``context_tokens``: the context's size
    when there is no text (a menu's estimate), else the text's estimate."""
    if context_tokens is None:
        context_tokens = tokens.estimate(context_text)
    prefix = tokens.estimate(prompts.SYSTEM) + context_tokens
    volatile = tokens.estimate(prompt) + 8
    fresh = prefix_sent_at is not None and time.time() - prefix_sent_at < CACHE_LIFETIME_S
    cached = prefix if fresh else 0
    until = prefix_sent_at + CACHE_LIFETIME_S if fresh and prefix_sent_at is not None else None
    explain = action == Action.EXPLAIN
    if explain:
        answer = min(2000, 300 + scope.lines * 4)
    else:
        answer = edit_answer_tokens(scope) + site_edits * SITE_EDIT_TOKENS
    output = min(chosen.reasoning.max_tokens, answer + thinking_tokens(chosen.reasoning))
    usd = call_usd(price, prefix, cached, volatile, output)
    return Estimate(prefix + volatile, cached, output, usd, until)


def advised_call(
    executor: Estimate, price: Price, advisor_price: Price, advice: int = ADVICE_OUTPUT_TOKENS
) -> Estimate:
    """One call with the advisor tool: the executor's own call (``executor``, at ``price``),
    plus the advisor's consultation — it reads the transcript, about the executor's input,
    at its own input price (no cache assumed: the notes do not say the advisor's read is
    cached) and writes ``advice`` tokens at its output price — plus the advice's text read
    back by the executor as input."""
    read = executor.input_tokens
    band = advisor_price.for_input(read)
    consult = (read * band.input + advice * band.output) / 1e6
    text = min(advice, ADVICE_TEXT_TOKENS)
    back = text * price.for_input(read + text).input / 1e6
    return Estimate(
        executor.input_tokens + read + text,
        executor.cached_tokens,
        executor.output_tokens + advice,
        executor.usd + consult + back,
        executor.cached_until,
    )


def total(parts: Sequence[Estimate]) -> Estimate:
    """Several calls' estimates as one (a wide change's steps)."""
    return Estimate(
        sum(e.input_tokens for e in parts),
        sum(e.cached_tokens for e in parts),
        sum(e.output_tokens for e in parts),
        sum(e.usd for e in parts),
    )
