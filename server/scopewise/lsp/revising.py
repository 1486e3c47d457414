"""`scopewise.revise` ("Revise…"): a follow-up on a pending proposal or a finished explanation
with the user's short instruction ("keep the old name", "shorter"). One metered call on the
run's cached prefix (`Actions.revise`), run as any action is (progress, cancellation, the run
line): a revised edit becomes a NEW proposal that supersedes the old one (discarded once the
new one exists; a failed revise leaves it as it was), a revised explanation streams into a
new document. A bad argument or instruction is refused in one line and changes nothing.

It talks to the server through `runs.Host` and never imports it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import replace
from typing import Any

from lsprotocol import types

from scopewise.actions.followup import check_instruction
from scopewise.actions.model import ActionResult
from scopewise.vocab import REVISE_COMMAND

from .runs import Host, RunHandle, Runs, refuse, run_with_progress
from .wire import ReviseArgs, RunOutcome, command_args


def _target(host: Host, given: ReviseArgs) -> tuple[ActionResult, str | None]:
    """The result to revise and the proposal it supersedes; ValueError or KeyError say why
    there is none."""
    if (given.proposal is None) == (given.explanation is None):
        raise ValueError('give either "proposal" (its id) or "explanation" (its run id)')
    if given.proposal is not None:
        held = host.proposals.get(given.proposal)
        if held.result is None:
            raise ValueError(f"proposal {given.proposal} cannot be revised")
        return held.result, given.proposal
    assert given.explanation is not None
    return host.explained.get(given.explanation), None


async def revise(host: Host, runs: Runs, args: tuple[Any, ...], msg_id: Any) -> RunOutcome:
    """Revise a proposal or an explanation; every problem is one line (a message and the
    result) and leaves what was there as it was."""
    actions = host.actions
    if actions is None:
        return refuse(host, "no workspace folder is open; scopewise needs one")
    try:
        given = command_args(ReviseArgs, REVISE_COMMAND, args)
        instruction = check_instruction(given.instruction)
        done, supersedes = _target(host, given)
    except (ValueError, KeyError) as exc:
        why = str(exc.args[0] if exc.args else exc)
        return refuse(host, why if why.startswith(REVISE_COMMAND) else f"{REVISE_COMMAND}: {why}")
    conv, estimate = done.conversation, actions.revise_estimate(done, instruction)
    if conv is None or estimate is None:
        return refuse(host, f"{REVISE_COMMAND}: this result kept no conversation to follow up on")
    client = runs.claude()
    problem = client.check()
    if problem is not None:
        return refuse(host, problem.message, types.MessageType.Error)
    task = asyncio.current_task()
    assert task is not None
    handle = RunHandle(task, host.new_token("run"), msg_id)
    runs.started(handle, msg_id)
    # the progress and the run line name the follow-up: its tier, its estimate, one call
    plan = replace(done.plan, route=conv.route, steps=(), estimate=estimate)

    def go(on_event: Any, on_stage: Any) -> Awaitable[ActionResult]:
        return actions.revise(
            done, instruction, client, on_event, read=host.read_text, on_stage=on_stage
        )

    return await run_with_progress(host, actions, plan, client, handle, runs, go, supersedes)
