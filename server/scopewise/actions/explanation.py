"""The explanation as a Markdown document: what it cost at the top, links to the symbols it
mentions, the context it was given (and what was left out or redacted) at the bottom. Pure:
it turns an ActionResult into text and writes nothing."""

from __future__ import annotations

import re
from pathlib import Path

from scopewise.actions.model import ActionResult, Plan
from scopewise.analysis.context import Context
from scopewise.claude.costs import usd


def heading(plan: Plan) -> str:
    """The document's first line: "# Explain · shop/pricing.py:29-32" (a project action's
    name for "Explain")."""
    req, name = plan.request, plan.request.project_action or "Explain"
    return f"# {name} · {plan.path}:{req.start_line}-{plan.scope.end_line}"


def explanation_markdown(result: ActionResult, root: Path) -> str:
    """The explanation as a document: cost at the top, links to the symbols it mentions, the
    context manifest at the bottom."""
    plan = result.plan
    u = result.usage
    lines = [
        heading(plan),
        "",
        f"*{result.tier} · {result.model} · {plan.route.reasoning.describe()} · "
        f"{u.total_input_tokens:,} tokens in ({u.cache_read_tokens:,} from cache) · "
        f"{u.output_tokens:,} out · {usd(result.usd, 4)} · {result.duration_s:.1f} s*",
        "",
        f"> {plan.route.summary}",
        "",
        result.text.strip(),
        "",
    ]
    mentioned = _mentioned_symbols(result.text, plan.context)
    if mentioned:
        lines += ["## Symbols", ""]
        for name, path, line in mentioned:
            uri = (root / path).as_uri()
            lines.append(f"- [`{name}`]({uri}#L{line}) — `{path}:{line}`")
        lines.append("")
    lines += ["## Context sent", ""]
    for s in plan.context.snippets:
        where = f"`{s.path}:{s.start_line}-{s.end_line}`"
        lines.append(f"- {s.kind} {where} {s.symbol} — {s.reason} (~{s.tokens} tok)")
    if plan.context.dropped:
        lines += ["", "Left out:", ""]
        lines += [
            f"- `{d.path}:{d.start_line}-{d.end_line}` {d.symbol} — {d.reason}"
            for d in plan.context.dropped[:30]
        ]
    if plan.context.redactions:
        lines += ["", "Redacted:", ""]
        lines += [f"- `{r.path}:{r.line}` ({r.what})" for r in plan.context.redactions]
    return "\n".join(lines) + "\n"


def _mentioned_symbols(text: str, ctx: Context) -> list[tuple[str, str, int]]:
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
    out: list[tuple[str, str, int]] = []
    seen: set[str] = set()
    for s in ctx.snippets:
        if not s.symbol or s.symbol.startswith("("):
            continue
        short = s.symbol.rsplit(".", 1)[-1]
        if short in words and s.symbol not in seen and len(short) > 2:
            seen.add(s.symbol)
            out.append((s.symbol, s.path, s.start_line))
    return out
