"""Routing against labelled cases: agreement with a careful engineer's tier, and the cost of
auto routing against always-deep (estimated usage, list prices).

    python tests/benchmarks/bench_routing.py [--cases tests/data/routing_cases.json]

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

from scopewise.actions.plan import ActionRequest, Actions
from scopewise.analysis.engine import Engine
from scopewise.settings import Settings
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default=str(ROOT / "tests/data/routing_cases.json"))
    args = ap.parse_args()
    data = json.loads(Path(args.cases).read_text())
    engines: dict[str, Actions] = {}
    rows = []
    timings: list[float] = []
    for case in data["cases"]:
        project = case["project"]
        if project not in engines:
            engine = Engine(project_dir(data["projects"][project]))
            engine.index()
            engines[project] = Actions(engine, Settings())
        actions = engines[project]
        fi = actions.engine.workspace.get(case["file"])
        assert fi is not None, case["file"]
        index = next(
            (i for i in range(len(fi.definitions)) if fi.qualified_name(i) == case["symbol"]), -1
        )
        if index < 0:
            print(f"missing: {case['file']} {case['symbol']}")
            continue
        d = fi.definitions[index]
        start, end = d.start_line + 1, d.end_line + 1
        diags: tuple[DiagnosticInfo, ...] = ()
        if case["action"] == "fix":
            start = end = min(d.end_line, d.header_end + 1) + 1
            diags = (DiagnosticInfo(start, case.get("diagnostic", "error")),)
        req = ActionRequest(case["action"], case["file"], start, end, diagnostics=diags)
        actions.plan(req)  # warm: the file's tree is cached from here on
        t0 = time.perf_counter()
        auto = actions.plan(req)
        timings.append((time.perf_counter() - t0) * 1000)
        deep = actions.plan(ActionRequest(**{**req.__dict__, "tier": "deep"}))
        rows.append((case, auto, deep))

    ok = sum(1 for c, a, _ in rows if a.route.tier == c["label"])
    deep_to_quick = [c for c, a, _ in rows if c["label"] == "deep" and a.route.tier == "quick"]
    confusion = Counter((c["label"], a.route.tier) for c, a, _ in rows)
    cost_auto = sum(a.estimate.usd for _, a, _ in rows)
    cost_deep = sum(d.estimate.usd for _, _, d in rows)
    print(f"{'case':<58} {'label':<9} {'auto':<9} est.$   why")
    for c, a, _ in rows:
        mark = "" if a.route.tier == c["label"] else "  <-- differs"
        name = f"{c['project']} {c['action']} {c['symbol']}"
        print(
            f"{name:<58} {c['label']:<9} {a.route.tier:<9} {a.estimate.usd:.4f}  "
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
    not_deep = [(a, d) for c, a, d in rows if c["label"] != "deep"]
    if not_deep:
        share = sum(a.estimate.usd for a, _ in not_deep) / sum(d.estimate.usd for _, d in not_deep)
        print(f"cost on cases not labelled deep: auto = {share:.1%} of always-deep")
    print(
        f"cost auto / always-deep  ${cost_auto:.4f} / ${cost_deep:.4f} = "
        f"{cost_auto / cost_deep:.1%}  (goal <= 30%; estimated usage at list prices)"
    )


if __name__ == "__main__":
    main()
