"""The advisor rung against plan/write on the same cases (issue #14 item 3): a deep edit as ONE
call by the writer tier with the deep model as its advisor (setting ``advisor``), against the
deep tier planning and a cheaper tier writing, and against one deep call.

1. the labelled cases (tests/data/routing_cases.json) that auto routing sends deep as an
   edit: the estimate of each way, body-only and interface changes apart (the rung's
   estimate: the executor's call plus the advisor reading the transcript and writing the
   notes' 1,400–1,800 tokens; shown at both ends of that range);
2. a real project's wide rename (bench_wide.py's: ≥ 40 uses in ≥ 10 files) through the real
   SDK against the fake Messages API with the scripted model: completeness (references to
   the old name left after apply) and the fake usage at list prices. The rung is one call,
   so it edits what its context shows, like today's single call.

    python tests/benchmarks/bench_advisor.py [--cases tests/data/routing_cases.json]
        [--rename ROOT FILE START END NEW]
    (default rename: /work/bench/click, src/click/decorators.py:28-36 pass_context -> pass_ctx)

Prints numbers; never fails on them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_routing import one_deep_call, project_dir, request_of
from bench_wide import applied, refs, run, single_call

from fakeapi import Reply
from scopewise.actions.estimate import ADVICE_OUTPUT_TOKENS
from scopewise.actions.model import ActionRequest, Plan
from scopewise.actions.plan import Actions
from scopewise.analysis.engine import Engine
from scopewise.settings import build
from widemodel import Model

ROOT = Path(__file__).resolve().parents[2]
ADVICE_RANGE = (1400, 1800)  # the notes' advisor output with thinking (§11)


@dataclass
class Row:
    name: str
    interface: bool
    deep: float  # one deep call
    split: float  # plan/write
    rung: float  # the advisor rung
    rung_range: tuple[float, float]  # at both ends of ADVICE_RANGE


def advice_range(actions: Actions, plan: Plan) -> tuple[float, float]:
    """The rung's estimate with the advisor writing the low and the high figure."""
    advisor = plan.route.advisor or ""
    per_token = actions.price(advisor).for_input(plan.estimate.input_tokens).output / 1e6
    lo, hi = ((n - ADVICE_OUTPUT_TOKENS) * per_token for n in ADVICE_RANGE)
    return plan.estimate.usd + lo, plan.estimate.usd + hi


def labelled(cases: Path) -> list[Row]:
    """Every labelled case auto routing sends deep as an edit, estimated three ways."""
    data = json.loads(cases.read_text())
    engines: dict[str, Engine] = {}
    rows = []
    for case in data["cases"]:
        project = case["project"]
        if project not in engines:
            engines[project] = Engine(project_dir(data["projects"][project]))
            engines[project].index()
        off = Actions(engines[project], build({"advisor": "off"})[0])
        rung = Actions(engines[project], build({"advisor": "all"})[0])
        req = request_of(off, case)
        if req is None:
            continue
        split = off.plan(req)
        if not split.steps:
            continue
        advised = rung.plan(req)
        what = case.get("intent") or case["action"]
        rows.append(
            Row(
                f"{project} {what} {case['symbol']}",
                split.route.interface,
                one_deep_call(off, split),
                split.estimate.usd,
                advised.estimate.usd,
                advice_range(rung, advised),
            )
        )
    return rows


def table(rows: list[Row]) -> None:
    print(f"{'case':<58} {'kind':<9} {'1 deep':>8} {'plan/w':>8} {'rung':>8} "
          f"{'rung range':>17} rung/pw")  # fmt: skip
    for r in rows:
        kind = "interface" if r.interface else "body"
        lo, hi = r.rung_range
        print(f"{r.name[:58]:<58} {kind:<9} {r.deep:>8.4f} {r.split:>8.4f} {r.rung:>8.4f} "
              f"{lo:>8.4f}–{hi:<8.4f} {r.rung / r.split:>6.0%}")  # fmt: skip
    for kind, want in (("body", False), ("interface", True)):
        part = [r for r in rows if r.interface == want]
        if not part:
            continue
        deep, split, rung = (sum(getattr(r, k) for r in part) for k in ("deep", "split", "rung"))
        lo, hi = (sum(r.rung_range[i] for r in part) for i in (0, 1))
        cheaper = sum(1 for r in part if r.rung < r.split)
        print(f"  {kind:<9} {len(part):>2} cases: one deep ${deep:.4f}, plan/write ${split:.4f} "
              f"({split / deep:.0%} of deep), rung ${rung:.4f} ({rung / deep:.0%} of deep; "
              f"${lo:.4f}–${hi:.4f}); the rung is cheaper in {cheaper} of {len(part)}")  # fmt: skip


async def rename(src: Path, file: str, a: int, b: int, new: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / src.name
        shutil.copytree(src, root, ignore=shutil.ignore_patterns(".git"))
        engine = Engine(root, use_cache=False)
        engine.index(workers=1)
        req = ActionRequest("refactor", file, a, b, intent="improve names")
        off = Actions(engine, build({"advisor": "off"})[0])
        rung = Actions(engine, build({"advisor": "all"})[0])
        split, advised = off.plan(req), rung.plan(req)
        old = split.scope.targets[0].name
        before = refs(root, old)[0]
        sites = split.context.sites
        files = len({s.path for s in sites})
        print(f"\n{old} ({file}:{a}-{b}) -> {new}: {len(sites)} sites in {files} files, "
              f"{before} references and definitions")  # fmt: skip
        print(f"  plan/write: {split.title}\n  advisor:    {advised.title}")
        one = replace(split, steps=())
        ways: list[tuple[str, Actions, Plan, Any]] = [
            ("one deep call (every site)", off, one, single_call(root, old, new, True)),
            ("plan/write/verify", off, split, Model(old=old, new=new)),
            ("advisor rung (one call)", rung, advised, advised_model(root, old, new)),
        ]
        print(f"  {'way':<28} {'est. $':>8} {'fake $':>8} {'calls':>5} {'files':>5} "
              f"{'refs left':>9}")  # fmt: skip
        for name, actions, plan, responder in ways:
            estimate = one_deep_call(off, split) if plan is one else plan.estimate.usd
            result, _ = await run(actions, plan, responder)
            left = applied(root, result, old)[0]
            print(f"  {name:<28} {estimate:>8.4f} {result.usd:>8.4f} {result.calls:>5} "
                  f"{len(result.changes):>5} {left:>5} of {before}")  # fmt: skip
        engine.close()


def advised_model(root: Path, old: str, new: str) -> Any:
    """The rung's executor: the single call of today (renames what its context shows), after
    consulting the advisor, whose advice is ~550 text tokens and whose output is the notes'
    1,600 with thinking (fake usage; its input is the transcript, as the API bills it)."""
    answer = single_call(root, old, new, False)
    advice = f"Rename {old} to {new} at its definition and at every use you can see. " * 40

    def reply(body: dict[str, Any]) -> Reply:
        out: Reply = answer(body)
        return replace(out, advice=advice[:2200], advisor_usage={"output_tokens": 1600})

    return reply


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default=str(ROOT / "tests/data/routing_cases.json"))
    ap.add_argument("--rename", nargs=5, metavar=("ROOT", "FILE", "START", "END", "NEW"))
    args = ap.parse_args()
    print("labelled cases routed deep as an edit (estimates, list prices):")
    table(labelled(Path(args.cases)))
    src, file, a, b, new = args.rename or (
        "/work/bench/click",
        "src/click/decorators.py",
        "28",
        "36",
        "pass_ctx",
    )
    asyncio.run(rename(Path(src), file, int(a), int(b), new))


if __name__ == "__main__":
    main()
