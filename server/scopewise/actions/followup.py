"""Revising a finished run ("Revise…", e.g. "keep the old name", "shorter"): what a follow-up
needs of the run (`Conversation`: its last call as sent and the model's answer), the check of
the user's instruction, the follow-up's prompt, and its estimate — the same system prompt and
context (the same cache breakpoint, so the API reads them from the cache) with the answer as
the assistant turn and the instruction as the new user turn. A wide change (plan, write,
verify) is revised by one call of its writer tier on the whole change written as the one-call
answer (`wide_conversation`). Plain data and offline; the call itself is `run.PlanRun`'s."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from scopewise.actions.edits import EDIT_SCHEMA, FileChange
from scopewise.actions.estimate import (
    Estimate,
    advised_call,
    estimate_call,
    prefix_key,
    price_of,
)
from scopewise.actions.routing import Route
from scopewise.analysis.scope import Scope
from scopewise.claude.call import CallRequest
from scopewise.claude.models import ModelCatalog
from scopewise.vocab import Action

MAX_INSTRUCTION = 500  # characters


@dataclass(frozen=True)
class Conversation:
    """A finished run's last call as it was sent (system, context and its cache breakpoint,
    the first user turn and any turns after it, the model, the reasoning) and its answer, on
    the route it ran on. A follow-up appends the answer and the next user turn."""

    request: CallRequest
    answer: str
    route: Route

    def follow_up(self, prompt: str, route: Route) -> CallRequest:
        """The next call: the same prefix, the answer as the assistant turn, ``prompt`` as the
        user's; at ``route``'s model and reasoning (another after an escalation)."""
        r = route.reasoning
        history = (
            *self.request.history,
            {"role": "assistant", "content": [{"type": "text", "text": self.answer}]},
            {"role": "user", "content": prompt},
        )
        return replace(
            self.request,
            model=route.model,
            max_tokens=r.max_tokens,
            thinking=r.thinking,
            effort=r.effort,
            advisor=route.advisor,
            history=history,
        )

    def volatile(self) -> str:
        """What follows the cached prefix, as text (for the estimate)."""
        turns = [self.request.prompt, *(_text(t) for t in self.request.history), self.answer]
        return "\n".join(turns)


def _text(turn: dict[str, Any]) -> str:
    content = turn.get("content")
    if isinstance(content, str):
        return content
    return json.dumps(content)


def check_instruction(raw: object) -> str:
    """The user's instruction, stripped; ValueError says in one line what is wrong."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("say how to revise it (e.g. “keep the old name”, “shorter”)")
    text = " ".join(raw.split())
    if len(text) > MAX_INSTRUCTION:
        raise ValueError(
            f"the instruction is {len(text)} characters; at most {MAX_INSTRUCTION}, in one line"
        )
    return text


def revise_prompt(action: str, instruction: str, structured: bool = True) -> str:
    """The user turn of a follow-up: the instruction, and for an edit the whole change again."""
    if action == Action.EXPLAIN:
        return (
            f"Revise your explanation: {instruction}\n"
            "Write the whole revised explanation again (Markdown), not only what changed."
        )
    tail = "" if structured else "\nReply with the JSON object only."
    return (
        f"Revise your change: {instruction}\n"
        "Answer with the whole revised change in the same JSON form, every edit against the "
        "current files (old_text copied exactly from them, not from your previous answer)." + tail
    )


def estimate_revise(
    conv: Conversation,
    action: str,
    scope: Scope,
    instruction: str,
    catalog: ModelCatalog,
    prefixes: dict[str, float],
    structured: bool = True,
    cached: bool = True,
) -> Estimate:
    """The follow-up's estimate: the prefix read from the cache when it was sent within the
    cache's lifetime (else, or not ``cached``: as once it has expired, written again), the
    earlier turns and the instruction as input, an answer as long as the action's."""
    route = conv.route
    price = price_of(catalog, route.model)
    context = conv.request.context
    prompt = conv.volatile() + "\n" + revise_prompt(action, instruction, structured)
    sent = prefixes.get(prefix_key(route.model, context)) if cached else None
    call = estimate_call(action, route, scope, context, prompt, price, sent)
    if route.advisor:
        call = advised_call(call, price, price_of(catalog, route.advisor))
    return call


def as_answer(summary: str, changes: Sequence[FileChange]) -> str:
    """A change written as the one-call answer would be: the summary and its edits."""
    edits = [
        {"path": c.path, "old_text": c.before[r.start : r.end], "new_text": r.text}
        for c in changes
        for r in sorted(c.replacements, key=lambda r: r.start)
    ]
    return json.dumps({"summary": summary, "edits": edits}, ensure_ascii=False)


def wide_conversation(
    writer: Route,
    system: str,
    context: str,
    prompt: str,
    structured: bool,
    summary: str,
    changes: Sequence[FileChange],
) -> Conversation:
    """A wide change as if one call of its writer tier had written it: the plan's context
    and prompt, the whole change as the answer (a revise is then that tier's one call; the
    prefix was not sent in this form, so its estimate writes the cache)."""
    r = writer.reasoning
    request = CallRequest(
        model=writer.model,
        system=system,
        context=context,
        prompt=prompt,
        max_tokens=r.max_tokens,
        thinking=r.thinking,
        effort=r.effort,
        output_schema=EDIT_SCHEMA if structured else None,
    )
    return Conversation(request, as_answer(summary, changes), replace(writer, writer=None))
