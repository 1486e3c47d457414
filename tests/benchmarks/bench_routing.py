"""Routing against labelled cases: agreement with a careful engineer's tier, and the cost of
auto routing against always-deep (estimated usage, list prices).

    python tests/benchmarks/bench_routing.py [--cases tests/data/routing_cases.json]
        [--advisor off|body|all]  (the setting; default: its default)

Downloads the projects' sdists from the package registry into .bench/ the first time.
Prints numbers; never fails on them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import time
from collections import Counter
from pathlib import Path

from scopewise.actions.estimate import estimate_call
from scopewise.actions.plan import ActionRequest, Actions, Plan
from scopewise.actions.routing import route, tier_models
from scopewise.analysis.engine import Engine
from scopewise.settings import build
from scopewise.vocab import DiagnosticInfo

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / ".bench"


def project_dir(spec: str) -> Path:
    name, version = spec.split("==")
    folder = BENCH / f"{name}-{version}"
    if not folder.is_dir():
        BENCH.mkdir(exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--no-binary", ":all:", spec, "-d", str(BENCH)],
            check=True,
        )  # fmt: skip
        with tarfile.open(BENCH / f"{name}-{version}.tar.gz") as tar:
            tar.extractall(BENCH, filter="data")
    return folder


def one_deep_call(actions: Actions, plan: Plan) -> float:
    """The same action as one call by the deep tier (what "deep" was before plan/write): it
    writes everything itself, every site's edit too when the interface moves."""
    req = plan.request
    models = tier_models(actions.catalog, actions.settings.routing)
    deep = route(
        req.action,
        plan.scope,
        actions.settings.routing,
        models,
        "deep",
        intent=req.intent,
        instruction=req.instruction,
        sites=len(plan.context.sites),
    )
    site_edits = len(plan.context.sites) if deep.interface else 0
    return estimate_call(
        req.action,
        deep,
        plan.scope,
        plan.context.render(),
        plan.prompt,
        actions.price(deep.model),
        None,
        site_edits,
    ).usd


def request_of(actions: Actions, case: dict[str, str]) -> ActionRequest | None:
    fi = actions.engine.workspace.get(case["file"])
    assert fi is not None, case["file"]
    index = next(
        (i for i in range(len(fi.definitions)) if fi.qualified_name(i) == case["symbol"]), -1
    )
    if index < 0:
        print(f"missing: {case['file']} {case['symbol']}")
        return None
    d = fi.definitions[index]
    start, end = d.start_line + 1, d.end_line + 1
    diags: tuple[DiagnosticInfo, ...] = ()
    if case["action"] == "fix":
        start = end = min(d.end_line, d.header_end + 1) + 1
        diags = (DiagnosticInfo(start, case.get("diagnostic", "error")),)
    intent = case.get("intent")
    return ActionRequest(case["action"], case["file"], start, end, intent=intent, diagnostics=diags)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default=str(ROOT / "tests/data/routing_cases.json"))
    ap.add_argument("--advisor", choices=("off", "body", "all"), default=None)
    args = ap.parse_args()
    settings = build({} if args.advisor is None else {"advisor": args.advisor})[0]
    data = json.loads(Path(args.cases).read_text())
    engines: dict[str, Actions] = {}
    rows: list[tuple[dict[str, str], Plan, float]] = []
    timings: list[float] = []
    for case in data["cases"]:
        project = case["project"]
        if project not in engines:
            engine = Engine(project_dir(data["projects"][project]))
            engine.index()
            engines[project] = Actions(engine, settings)
        actions = engines[project]
        req = request_of(actions, case)
        if req is None:
            continue
        actions.plan(req)  # warm: the file's tree is cached from here on
        t0 = time.perf_counter()
        auto = actions.plan(req)
        timings.append((time.perf_counter() - t0) * 1000)
        rows.append((case, auto, one_deep_call(actions, auto)))
    report(rows, timings)


def scale_tier(plan: Plan) -> str:
    """The tier the scale chose: deep on the advisor rung (the writer tier calls, the deep
    model advises), as for plan/write."""
    return "deep" if plan.route.advisor else plan.route.tier


def tiers_of(plan: Plan) -> str:
    if plan.route.advisor:
        return f"adv+{plan.route.tier}"
    if plan.steps:
        return "+".join(s.tier for s in plan.steps if s.tier)
    return plan.route.tier


def report(rows: list[tuple[dict[str, str], Plan, float]], timings: list[float]) -> None:
    ok = sum(1 for c, a, _ in rows if scale_tier(a) == c["label"])
    deep_to_quick = [c for c, a, _ in rows if c["label"] == "deep" and scale_tier(a) == "quick"]
    confusion = Counter((c["label"], scale_tier(a)) for c, a, _ in rows)
    print(f"{'case':<64} {'label':<9} {'auto':<15} est.$   why")
    for c, a, _ in rows:
        mark = "" if scale_tier(a) == c["label"] else "  <-- differs"
        what = c.get("intent") or c["action"]
        name = f"{c['project']} {what} {c['symbol']}"
        print(
            f"{name:<64} {c['label']:<9} {tiers_of(a):<15} {a.estimate.usd:.4f}  "
            f"{a.route.reasons[0]}{mark}"
        )
    print()
    print(f"cases                 {len(rows)}")
    print(f"agreement             {ok}/{len(rows)} = {ok / len(rows):.1%}  (goal >= 90%)")
    print(f"deep-labelled → quick {len(deep_to_quick)}  (goal 0)")
    print(
        "confusion (label → auto): "
        + ", ".join(f"{k[0]}→{k[1]} {v}" for k, v in sorted(confusion.items()))
    )
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    print(f"plan, warm            p50 {timings[len(timings) // 2]:.1f} ms, p95 {p95:.1f} ms, "
          f"max {timings[-1]:.1f} ms  (goal <= 50 ms)")  # fmt: skip
    split_report(rows)
    cost_report(rows)


def split_report(rows: list[tuple[dict[str, str], Plan, float]]) -> None:
    """Each split change's steps against the same change written entirely by the deep tier."""
    advised = [(a, d) for _, a, d in rows if a.route.advisor]
    if advised:
        ours, theirs = sum(a.estimate.usd for a, _ in advised), sum(d for _, d in advised)
        print(f"\nadvisor rung (one call, the deep model advising): {len(advised)} changes, "
              f"${ours:.4f} vs one deep call ${theirs:.4f} = {ours / theirs:.1%}")  # fmt: skip
    split = [(c, a, d) for c, a, d in rows if a.steps and not a.route.advisor]
    if not split:
        return
    print()
    print("plan/write split, per step (estimated usage, list prices):")
    for c, a, deep in split:
        what = c.get("intent") or c["action"]
        steps = " | ".join(
            f"{s.role} {s.tier or '-'} {s.estimate.input_tokens}→{s.estimate.output_tokens} "
            f"${s.estimate.usd:.4f}"
            for s in a.steps
        )
        share = a.estimate.usd / deep
        print(f"  {c['symbol']} ({what}): {steps} = ${a.estimate.usd:.4f}"
              f" vs one deep call ${deep:.4f} = {share:.0%}")  # fmt: skip
    ours = sum(a.estimate.usd for _, a, _ in split)
    theirs = sum(d for _, _, d in split)
    plan_part = sum(a.steps[0].estimate.usd for _, a, _ in split)
    goal = 0.40
    share = ours / theirs
    print(f"plan/write / one deep call  ${ours:.4f} / ${theirs:.4f} = {share:.1%}  (goal <= 40%)")
    if share > goal:
        print(
            f"  missed by {share - goal:.1%} of the deep bill: the plan step is ${plan_part:.4f}"
            f" of ${ours:.4f} — the deep model's input and its thinking stay with the plan;"
            " the split moves only the answer to the writers"
        )


def cost_report(rows: list[tuple[dict[str, str], Plan, float]]) -> None:
    cost_auto = sum(a.estimate.usd for _, a, _ in rows)
    cost_deep = sum(d for _, _, d in rows)
    not_deep = [(a, d) for c, a, d in rows if c["label"] != "deep"]
    if not_deep:
        share = sum(a.estimate.usd for a, _ in not_deep) / sum(d for _, d in not_deep)
        print(f"cost on cases not labelled deep: auto = {share:.1%} of always-deep")
    share = cost_auto / cost_deep
    print(
        f"cost auto / always-deep  ${cost_auto:.4f} / ${cost_deep:.4f} = "
        f"{share:.1%}  (goal <= 30%; always-deep: every action as one deep call; estimated"
        " usage at list prices)"
    )
    if share > 0.30:
        split = sum(a.estimate.usd for _, a, _ in rows if a.steps)
        print(
            f"  missed by {share - 0.30:.1%} of always-deep: the deep edits (split or rung) are"
            f" ${split:.4f} of the ${cost_auto:.4f} auto bill"
        )


if __name__ == "__main__":
    main()
