"""A wide change on a real project, through the real SDK against the fake Messages API with a
scripted model that edits exactly the text it is shown (tests/widemodel.py): a public function
renamed where it is used ≥ 40 times in ≥ 10 files.

- completeness: references to the old name left after the plan/write/verify run is applied;
  a writer that skips one site (repaired, or still skipped: reported); the same rename
  through the single call of today (the model renames what its packed context shows);
- cost: the plan/write split against the same change written entirely by the deep tier (one
  call that writes every site's edit), fake usage at list prices, per step;
- wall time: the write step with a fake latency per writer, in parallel and one at a time.

    python tests/benchmarks/bench_wide.py [ROOT FILE START END NEW]
    (default: /work/bench/click, src/click/decorators.py:28-36 pass_context -> pass_ctx)
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fakeapi import FakeAPI, Reply
from scopewise.actions.model import ActionRequest, ActionResult, Plan
from scopewise.actions.plan import Actions
from scopewise.actions.wide.writer import spans
from scopewise.analysis.engine import Engine
from scopewise.claude.client import ClaudeClient
from scopewise.settings import build
from widemodel import Model, edits_answer, system_of


def refs(root: Path, name: str) -> tuple[int, int]:
    """References to ``name`` (and definitions of it) left in the workspace, and in how many
    files."""
    e = Engine(root, use_cache=False)
    e.index(workers=1)
    files = 0
    total = 0
    for fi in e.workspace.files.values():
        n = len(fi.ref_lines(name)) + len(fi.named(name))
        total += n
        files += n > 0
    e.close()
    return total, files


def applied(root: Path, result: ActionResult, name: str) -> tuple[int, int]:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "ws"
        shutil.copytree(root, copy)
        for c in result.changes:
            (copy / c.path).write_text(c.after, encoding="utf-8")
        return refs(copy, name)


def site_lines(plan: Plan) -> dict[str, set[int]]:
    """Where the rename must happen: every site (1-based lines) and the definition's line."""
    out: dict[str, set[int]] = {}
    for s in plan.context.sites:
        out.setdefault(s.path, set()).add(s.line)
    out.setdefault(plan.path, set()).add(plan.scope.targets[0].line)
    return out


def left_at(root: Path, result: ActionResult, name: str, at: dict[str, set[int]]) -> int:
    """Sites (and the definition) still naming ``name`` once the result is applied — for a
    name other definitions share, where a count over the whole workspace means nothing."""
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    after = {c.path: c.after for c in result.changes}
    left = 0
    for path, lines in at.items():
        text = after.get(path) or (root / path).read_text(encoding="utf-8")
        rows = text.split("\n")
        left += sum(1 for n in lines if 0 < n <= len(rows) and pattern.search(rows[n - 1]))
    return left


def shown_bodies(context: str) -> list[tuple[str, str]]:
    """The runs of code a packed context shows in full: (path, text); the site list's
    one-line entries ("12: text") are not code to copy."""
    out: list[tuple[str, list[str]]] = []
    path, run = "", None
    for line in context.split("\n"):
        if line.startswith("### "):
            path, run = line[4:].strip(), None
        elif m := re.fullmatch(r"@@ (\d+-\d+ \S+|sites)", line):
            run = None if m.group(1) == "sites" else []
            if run is not None:
                out.append((path, run))
        elif run is not None:
            run.append(line)
    return [(p, "\n".join(lines)) for p, lines in out]


def single_call(
    root: Path, old: str, new: str, everything: bool, sites: dict[str, set[int]] | None = None
) -> Any:
    """Today's single call: rename ``old`` in every body its context shows (``everything``:
    around every site in every file — ``sites``, path -> 1-based lines, the definition's
    included — as if it were shown them all and wrote each site's edit, in runs of lines
    like a writer's)."""
    pattern = re.compile(rf"\b{re.escape(old)}\b")

    def around_every_use() -> list[tuple[str, str]]:
        out = []
        for path, at in sorted((sites or {}).items()):
            lines = (root / path).read_text(encoding="utf-8").split("\n")
            uses = sorted(n for n in at if 0 < n <= len(lines) and pattern.search(lines[n - 1]))
            out += [(path, "\n".join(lines[a - 1 : b])) for a, b in spans(lines, uses)]
        return out

    def answer(body: dict[str, Any]) -> Reply:
        runs = around_every_use() if everything else shown_bodies(system_of(body))
        edits = []
        for path, text in runs:
            whole = (root / path).read_text(encoding="utf-8")
            if pattern.search(text) and whole.count(text) == 1:
                edits.append({"path": path, "old_text": text, "new_text": pattern.sub(new, text)})
        return edits_answer(edits)

    return answer


async def run(actions: Actions, plan: Plan, responder: Any) -> tuple[ActionResult, float]:
    with FakeAPI() as api:
        api.responder = responder
        client = ClaudeClient(api_key="sk-bench", base_url=api.base_url, max_retries=0)
        t0 = time.perf_counter()
        try:
            result = await actions.run(plan, client)
        finally:
            await client.close()
        return result, time.perf_counter() - t0


def steps_line(result: ActionResult) -> str:
    return "; ".join(s.line for s in result.steps)


async def main() -> None:
    if len(sys.argv) == 6:
        src, file, a, b, new = Path(sys.argv[1]), sys.argv[2], *map(int, sys.argv[3:5]), sys.argv[5]
    else:
        src, file, a, b, new = (
            Path("/work/bench/click"),
            "src/click/decorators.py",
            28,
            36,
            "pass_ctx",
        )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / src.name
        shutil.copytree(src, root, ignore=shutil.ignore_patterns(".git"))
        await bench(root, file, a, b, new)


async def bench(root: Path, file: str, a: int, b: int, new: str) -> None:
    engine = Engine(root, use_cache=False)
    engine.index(workers=1)
    settings = build({})[0]
    actions = Actions(engine, settings)
    plan = actions.plan(ActionRequest("refactor", file, a, b, intent="improve names"))
    old = plan.scope.targets[0].name
    sites = plan.context.sites
    before = refs(root, old)
    print(f"{old} ({file}:{a}-{b}): {len(sites)} sites in {len({s.path for s in sites})} files; "
          f"{before[0]} references and definitions in {before[1]} files")  # fmt: skip
    print(f"plan: {plan.title}")

    every = site_lines(plan)
    n_at = sum(len(v) for v in every.values())
    wide, wall = await run(actions, plan, Model(old=old, new=new))
    left = applied(root, wide, old)
    print(f"\nplan/write/verify: {len(wide.changes)} files changed, {len(wide.leftovers)} "
          f"leftovers, {left[0]} references to {old} left after apply (all of the name), "
          f"{left_at(root, wide, old, every)} of {n_at} sites ({wall:.1f} s)")  # fmt: skip
    for s in wide.steps:
        print(f"  {s.line}")

    first = next(s for s in sites if s.certain and s.path != file)
    line = (root / first.path).read_text(encoding="utf-8").split("\n")[first.line - 1].strip()
    for skips, what in ((1, "skipped once"), (-1, "always skipped")):
        model = Model(old=old, new=new, skip={(first.path, line)}, skips=skips)
        result, _ = await run(actions, plan, model)
        print(f"a writer that skips {first.path}:{first.line} ({what}): "
              f"{model.requests.count('repair')} repair calls, leftovers {result.leftovers}, "
              f"{applied(root, result, old)[0]} references left, "
          f"{left_at(root, result, old, every)} of {n_at} sites")  # fmt: skip

    single = replace(plan, steps=())
    today, _ = await run(actions, single, single_call(root, old, new, everything=False))
    print(f"\nthe single call of today ({single.route.tier}, its packed context): "
          f"{len(today.changes)} files changed, {applied(root, today, old)[0]} of "
          f"{before[0]} references left, {left_at(root, today, old, every)} of {n_at} "
          "sites")  # fmt: skip

    all_deep, _ = await run(actions, single, single_call(root, old, new, True, every))
    print(f"the same change written entirely by the deep tier (one call, every site): "
          f"${all_deep.usd:.4f}, {applied(root, all_deep, old)[0]} references left, "
          f"{left_at(root, all_deep, old, every)} of {n_at} sites")  # fmt: skip
    share = wide.usd / all_deep.usd if all_deep.usd else float("nan")
    print(f"plan/write: ${wide.usd:.4f} = {share:.0%} of all-deep (goal <= 40%)")

    await walls(engine, plan, old, new)


async def walls(engine: Engine, plan: Plan, old: str, new: str) -> None:
    """The write step with a fake latency per writer (20 stream events, 0.05 s apart)."""
    print("\nwall time, fake latency ~1 s per writer call:")
    for parallel in (1, 4, 16):
        actions = Actions(engine, build({"write_parallel": parallel})[0])
        model = Model(old=old, new=new, writer_reply={"delay": 0.05, "chunks": 18})
        result, wall = await run(actions, plan, model)
        write = next(s for s in result.steps if s.role == "write")
        print(f"  write_parallel {parallel:>2}: {write.calls} writer calls, write step "
              f"{write.duration_s:.1f} s, whole run {wall:.1f} s")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
