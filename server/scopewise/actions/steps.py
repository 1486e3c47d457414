"""A wide change's steps before anything runs: the deep tier plans it, a cheaper tier writes it
(one call per group of files, `wide/groups.py`), verification checks it (no model) — which
tier, model, reasoning and files each step takes, and what each is expected to cost. Offline
and pure: the caller passes the line counts and the prices."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from scopewise.actions import prompts
from scopewise.actions.estimate import (
    CACHE_LIFETIME_S,
    LINE_TOKENS,
    SITE_EDIT_TOKENS,
    Estimate,
    advised_call,
    call_usd,
    edit_answer_tokens,
    estimate_call,
    thinking_tokens,
    total,
)
from scopewise.actions.model import StepPlan
from scopewise.actions.routing import Route
from scopewise.actions.wide.groups import write_groups
from scopewise.analysis import tokens
from scopewise.analysis.context import SiteEntry
from scopewise.analysis.scope import Scope
from scopewise.claude.models import Price
from scopewise.vocab import Role

# The plan's answer (the JSON schema the planner answers, see actions/wide): the summary and
# the new interface (~120), each site's line number (~12 with its separators), a sentence or
# two of "how" per file (~40); a body that is redesigned gets a paragraph for its own file.
PLAN_BASE_TOKENS = 120
PLAN_SITE_TOKENS = 12
PLAN_FILE_TOKENS = 40
PLAN_BODY_TOKENS = 250
# The plan step's thinking, as a share of what the same effort invites for one edit call
# (estimate._THINKING_GUESS). One call thinks about what to change and then works the code
# out: drafts the new text, copies each old_text exactly, checks every edit against the
# context. The plan answers the design only (~250 tokens of JSON, no code); drafting and
# copying move to the writers. Half of the one-call guess is our assumption for that design
# share (no measurement yet: usage of real plan calls should replace it).
PLAN_THINKING_SHARE = 0.5
# a site as the planner's prompt lists it (all of them, apart from its context): "12: text"
SITE_LINE_TOKENS = 16
# Verification sends a writer's call back only when one of its sites is left (or a syntax
# error is new): one call in four is our assumption, not a measurement (real runs' repair
# counts should replace it). Per call, so a one-file change and a 40-file one are priced
# alike (it was one repair per change: a whole extra call for a single body).
REPAIR_RATE = 0.25
WINDOW = 3  # a writer sees this many lines either side of each site ...
SMALL_FILE_LINES = 60  # ... or the whole file when it is this short
WRITE_BASE_TOKENS = 40  # a writer's answer: its summary and the JSON frame
# a writer's request after the shared prefix: which files, which sites, the answer's shape
WRITE_ASK_TOKENS = 60


@dataclass(frozen=True)
class Wide:
    """What the steps are estimated from: the change, its site list and the files."""

    scope: Scope
    own_file: str
    sites: Sequence[SiteEntry]  # every use found (the complete site list)
    line_count: Callable[[str], int | None]  # a file's lines, from the index (None: unknown)
    context_text: str  # what the plan step reads: Plan.planner_text
    prompt: str  # the action's prompt (what is asked)
    context_tokens: int | None = None  # the context's size without its text (a menu's)

    @property
    def context_size(self) -> int:
        """The plan step's context in tokens: its text's estimate, or the size given."""
        if self.context_tokens is not None:
            return self.context_tokens
        return tokens.estimate(self.context_text)


def sites_by_file(wide: Wide, interface: bool) -> dict[str, list[int]]:
    """The files a writer edits, each with its sites (1-based lines): the selection's own
    file always; the files with sites when the interface moves (a body change leaves its
    callers as they are)."""
    by_file: dict[str, list[int]] = {wide.own_file: []}
    if interface:
        for s in wide.sites:
            by_file.setdefault(s.path, []).append(s.line)
    return by_file


def window_lines(sites: Sequence[int], line_count: int | None, span: tuple[int, int] | None) -> int:
    """How many lines of a file a writer is shown: the whole file when it is short, else the
    lines within WINDOW of each site (and of the selection's span, in its own file), merged
    (as intervals: a wide name's 1,800 sites made a set of 13,000 lines at every menu)."""
    if line_count is not None and line_count <= SMALL_FILE_LINES:
        return line_count
    around = [(line - WINDOW, line + WINDOW) for line in sites]
    if span is not None:
        around.append((span[0] - WINDOW, span[1] + WINDOW))
    around = [(a, b) for a, b in around if a <= b]
    last = line_count if line_count is not None else max((b for _, b in around), default=0)
    shown = 0
    upto = 0  # the last line counted so far
    for a, b in sorted(around):
        a, b = max(a, upto + 1, 1), min(b, last)
        if a <= b:
            shown += b - a + 1
            upto = b
    return shown


def plan_estimate(
    wide: Wide, chosen: Route, by_file: Mapping[str, Sequence[int]], price: Price, fresh: bool
) -> tuple[Estimate, int]:
    """The plan call: the deep model reads the system prompt and the context (the cached
    prefix, read from the cache when ``fresh``), the plan prompt (what is asked, the schema,
    the sites the context left out) and answers the plan JSON after thinking by its effort.
    Also the plan's answer tokens (the writers read them)."""
    prefix = tokens.estimate(prompts.SYSTEM) + wide.context_size
    volatile = tokens.estimate(wide.prompt) + 8 + len(wide.sites) * SITE_LINE_TOKENS
    n_sites = sum(len(v) for v in by_file.values())
    answer = PLAN_BASE_TOKENS + PLAN_SITE_TOKENS * n_sites + PLAN_FILE_TOKENS * len(by_file)
    if n_sites == 0:  # a body: the plan says how to rewrite it
        answer += PLAN_BODY_TOKENS
    r = chosen.reasoning
    thinking = int(thinking_tokens(r) * PLAN_THINKING_SHARE)
    output = min(r.max_tokens, answer + thinking)
    cached = prefix if fresh else 0
    usd = call_usd(price, prefix, cached, volatile, output)
    return Estimate(prefix + volatile, cached, output, usd), min(answer, output)


def write_estimate(
    wide: Wide,
    writer: Route,
    by_file: Mapping[str, Sequence[int]],
    plan_tokens: int,
    price: Price,
) -> Estimate:
    """The write step: one call per group of files. Each call reads the writer's system
    prompt and the plan (a prefix shared by every writer: the first call writes it to the
    cache, the others read it), then its files' windows around their sites; it answers an
    edit per site (and the rewritten selection in its own file), thinking as its tier does.
    Repairs (leftovers go back once to their writer) are expected for REPAIR_RATE of the
    calls, each sized like an average writer call."""
    prefix = tokens.estimate(prompts.SYSTEM) + tokens.estimate(prompts.EDIT_RULES) + plan_tokens
    span = (wide.scope.start_line, wide.scope.end_line)
    think = thinking_tokens(writer.reasoning)
    calls: list[tuple[int, int]] = []  # (volatile input, output) per call
    for group in write_groups(by_file, wide.own_file):
        shown = output = 0
        for path in group:
            own = path == wide.own_file
            lines = window_lines(by_file[path], wide.line_count(path), span if own else None)
            shown += lines * LINE_TOKENS
            output += len(by_file[path]) * SITE_EDIT_TOKENS
            output += edit_answer_tokens(wide.scope) if own else 0
        answer = min(writer.reasoning.max_tokens, WRITE_BASE_TOKENS + output + think)
        calls.append((WRITE_ASK_TOKENS + shown, answer))
    mean_in = sum(c[0] for c in calls) // len(calls)
    mean_out = sum(c[1] for c in calls) // len(calls)
    parts = [
        Estimate(
            prefix + vol,
            prefix if i else 0,
            out,
            call_usd(price, prefix, prefix if i else 0, vol, out),
        )
        for i, (vol, out) in enumerate(calls)
    ]
    # the repairs: a writer call sent back (with the prefix cached), at REPAIR_RATE per call
    share = REPAIR_RATE * len(calls)
    repair = call_usd(price, prefix, prefix, mean_in, mean_out)
    parts.append(
        Estimate(
            round((prefix + mean_in) * share),
            round(prefix * share),
            round(mean_out * share),
            repair * share,
        )
    )
    return total(parts)


def plan_steps(
    wide: Wide,
    chosen: Route,
    writer: Route,
    prices: Callable[[str], Price],
    prefix_sent_at: float | None,
    now: float,
) -> tuple[StepPlan, ...]:
    """The plan, write and verify steps of a deep edit, each with its estimate."""
    by_file = sites_by_file(wide, chosen.interface)
    fresh = prefix_sent_at is not None and now - prefix_sent_at < CACHE_LIFETIME_S
    planned, plan_tokens = plan_estimate(wide, chosen, by_file, prices(chosen.model), fresh)
    written = write_estimate(wide, writer, by_file, plan_tokens, prices(writer.model))
    files = tuple(sorted(by_file, key=lambda p: (p != wide.own_file, p)))
    return (
        StepPlan(Role.PLAN, chosen.tier, chosen.model, chosen.reasoning.describe(), files, planned),
        StepPlan(
            Role.WRITE, writer.tier, writer.model, writer.reasoning.describe(), files, written
        ),
        StepPlan(Role.VERIFY, "", "", "", files),
    )


def advisor_steps(
    wide: Wide,
    rung: Route,
    prices: Callable[[str], Price],
    prefix_sent_at: float | None,
) -> tuple[StepPlan, ...]:
    """The advisor rung's one step: one call by the writer tier (``rung``) that edits what
    its context shows — every site's edit itself when the interface moves, as one call does —
    and may consult ``rung.advisor`` mid-answer; its estimate is the executor's call and the
    consultation (estimate.advised_call: the advisor reads the transcript at its input price
    and writes the notes' 1,400–1,800 tokens)."""
    assert rung.advisor is not None
    site_edits = len(wide.sites) if rung.interface else 0
    executor = estimate_call(
        rung.action,
        rung,
        wide.scope,
        wide.context_text,
        wide.prompt,
        prices(rung.model),
        prefix_sent_at,
        site_edits,
        wide.context_tokens,
    )
    estimate = advised_call(executor, prices(rung.model), prices(rung.advisor))
    by_file = sites_by_file(wide, rung.interface)
    files = tuple(sorted(by_file, key=lambda p: (p != wide.own_file, p)))
    how = rung.reasoning.describe()
    return (StepPlan(Role.WRITE, rung.tier, rung.model, how, files, estimate, rung.advisor),)
