"""Context assembly latency, in process: `Engine.analyze` + `context_for` per target and
budget, a first pass on fresh caches (cold) then the same again (warm); and the refactor
action's contexts as `Actions.plan_all` packs them (the floor, then the budget its reach
asks for: actions/budget.py `contexts_for`). The goal (issue #13): p95 warm <= 30 ms.

    python tests/benchmarks/context_latency.py [--bench /work/bench] [PROJECT ...]

Targets: the ctxbench and ripple-sites targets of each project (BENCH/NAME.ctx.txt and
NAME.sites.txt, their ranges from the oracle caches NAME.ctx.json and NAME.sites.json), the
project's tree in BENCH/NAME. Set SCOPEWISE_CACHE_DIR to keep the index cache apart;
`--profile` prints the cProfile of the warm pass's hottest functions.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import time
from functools import partial
from pathlib import Path

from scopewise.actions.budget import contexts_for
from scopewise.analysis.engine import Engine
from scopewise.settings import Settings

Target = tuple[str, int, int]  # file, first and last line (1-based)


def targets(bench: Path, name: str) -> list[Target]:
    """The ctxbench and ripple-sites targets of a project, each range once."""
    out: dict[Target, None] = {}
    for suite in ("ctx", "sites"):
        listed, cache = bench / f"{name}.{suite}.txt", bench / f"{name}.{suite}.json"
        if not listed.exists() or not cache.exists():
            continue
        oracle = json.loads(cache.read_text())
        for spec in listed.read_text().split():
            t = oracle.get(spec, {}).get("target")
            if t:
                out[(t["file"], t["start_line"], t["end_line"])] = None
    return list(out)


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))] if xs else float("nan")


def timed_pass(engine: Engine, ts: list[Target], budgets: list[int]) -> dict[str, list[float]]:
    """Milliseconds of analyze + context_for per target, by budget ("refactor": the
    action's contexts, floor to ceiling as plan_all packs them)."""
    floor, ceiling = Settings().context_budget, Settings().context_budget_max
    out: dict[str, list[float]] = {}
    for file, start, end in ts:
        engine.sync(file)
        for b in budgets:
            t0 = time.perf_counter()
            engine.context_for(engine.analyze(file, start, end), b)
            out.setdefault(str(b), []).append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        analysis = engine.analyze(file, start, end)
        contexts_for(["refactor"], partial(engine.context_for, analysis), floor, ceiling)
        out.setdefault("refactor", []).append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("projects", nargs="*", default=["requests", "httpx", "click", "flask"])
    ap.add_argument("--bench", type=Path, default=Path("/work/bench"))
    ap.add_argument("--budgets", default="4000,8000,16000")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    print("| project | pass | budget | n | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|---|---|")
    for name in args.projects:
        ts = targets(args.bench, name)
        engine = Engine(args.bench / name)
        engine.index()
        profile = cProfile.Profile() if args.profile else None
        for label in ("cold", "warm"):
            if profile is not None and label == "warm":
                profile.enable()
            figures = timed_pass(engine, ts, budgets)
            for b, ms in figures.items():
                print(
                    f"| {name} | {label} | {b} | {len(ms)} | {_pct(ms, 0.5):.1f} "
                    f"| {_pct(ms, 0.95):.1f} | {max(ms):.1f} |"
                )
        if profile is not None:
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
        engine.close()


if __name__ == "__main__":
    main()
