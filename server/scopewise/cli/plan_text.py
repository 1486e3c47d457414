"""A plan as the terminal shows it (`scopewise plan`, `scopewise refactor --plan-only`): the
title, why this tier, the model, the estimate, and for a wide change each step (role, tier,
model, files, estimate), the site count and the total; then the context manifest. Pure: lines
of text, made inert (cli/terminal.py) where they quote the workspace."""

from __future__ import annotations

from scopewise.actions.estimate import Estimate
from scopewise.actions.model import Plan, StepPlan, usd
from scopewise.cli.terminal import safe


def _tokens(e: Estimate) -> str:
    return (
        f"{e.input_tokens:,} tokens in ({e.cached_tokens:,} from cache), "
        f"~{e.output_tokens:,} out, ~{usd(e.usd, 4)}"
    )


def step_line(step: StepPlan) -> str:
    """e.g. "write   quick     claude-haiku-5-5 (thinking off) · 3 files · ~2,100 tokens in
    (0 from cache), ~900 out, ~$0.0031"; verify runs no model; the advisor rung's one step
    names its advisor ("... (effort low), advisor claude-opus-5-5 · 1 file · ...")."""
    files = len(step.files)
    where = f" · {files} file{'s' if files != 1 else ''}" if files else ""
    if not step.model:
        return f"{step.role:<7} (no model){where}"
    how = f" ({step.reasoning})" if step.reasoning else ""
    if step.advisor:  # the advisor rung: one call, the deep model advising
        how += f", advisor {step.advisor}"
    return f"{step.role:<7} {step.tier:<9} {step.model}{how}{where} · {_tokens(step.estimate)}"


def plan_lines(plan: Plan) -> list[str]:
    """What `scopewise plan` prints for a plan (see the module's docstring)."""
    lines = [
        safe(plan.title),
        f"  {safe(plan.route.summary)}",
        f"  model      {plan.route.model} ({plan.route.reasoning.describe()})",
        f"  estimate   {_tokens(plan.estimate)}",
    ]
    if plan.steps:
        lines.append("  steps")
        for step in plan.steps:
            lines.append(safe(f"    {step_line(step)}"))
            lines += [safe(f"        {f}") for f in step.files[:8]]
            if len(step.files) > 8:
                lines.append(f"        … and {len(step.files) - 8} more (--json lists them)")
        total = sum(s.estimate.usd for s in plan.steps)
        n = len(plan.steps)
        lines.append(f"  total      ~{usd(total, 4)} over {n} step{'s' if n != 1 else ''}")
    sites = plan.context.sites
    if sites:
        files = len({s.path for s in sites})
        lines.append(f"  sites      {len(sites)} in {files} file{'s' if files != 1 else ''}")
    lines.append(f"  {plan.context_line}")
    for s in plan.context.snippets:
        where = f"{s.path}:{s.start_line}-{s.end_line}"
        lines.append(safe(f"    {s.kind:<9} {where}  {s.symbol} — {s.reason}"))
    if plan.context.dropped:
        lines.append(f"    ({len(plan.context.dropped)} left out; --json lists them)")
    if plan.blocked:
        lines.append(f"  blocked    {safe(plan.blocked)} (--over-cap runs it anyway)")
    return lines
