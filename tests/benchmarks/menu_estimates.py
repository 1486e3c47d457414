"""How far the code-action menu's estimates (contexts measured, not packed:
analysis/measure.py) are from the full plan's (the context a run packs), over the scale
benchmark's code-action ranges (bench_scale.py: definitions of stdlib/asyncio/base_events.py).

    PYTHONPATH=server python tests/benchmarks/menu_estimates.py WORKSPACE [N]

For each range, the menu's requests (Explain, Refactor…, and both at the other tiers) are
planned both ways. Prints: how many routes (tier, way) and titles differ, and the menu's
cost and context size against the full plan's (median and 90th percentile of the ratio),
plus the time each way takes.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scale_workspaces as sw
from bench_scale import ranges

from scopewise.actions.model import ActionRequest, Plan
from scopewise.actions.plan import Actions
from scopewise.analysis.engine import Engine
from scopewise.lsp.listing import run_title
from scopewise.settings import load
from scopewise.vocab import Action, Tier


def requests(path: str, a: int, b: int) -> list[ActionRequest]:
    out = []
    for action in (Action.EXPLAIN, Action.REFACTOR):
        for tier in (None, Tier.QUICK, Tier.DEEP):
            out.append(ActionRequest(action, path, a, b, tier=tier))
    return out


def q(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))] if values else float("nan")


def main() -> None:
    root = Path(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    settings, _ = load(root)
    engine = Engine(root, settings.index)
    engine.index()
    actions = Actions(engine, settings)
    text = (root / sw.ACTION_FILE).read_text(encoding="utf-8")
    fi = engine.workspace.get(sw.ACTION_FILE)
    assert fi is not None
    usd: list[float] = []
    size: list[float] = []
    routes = titles = plans = 0
    timed = {"menu": 0.0, "full": 0.0}
    for a, b in ranges(text, n, 7):
        if b is None:  # a cursor: the definition around it, as the menu expands it
            i = fi.enclosing(a, a)
            a, b = (fi.definitions[i].start_line, fi.definitions[i].end_line) if i else (a, a)
        reqs = requests(sw.ACTION_FILE, a + 1, b + 1)
        got: dict[str, list[Plan]] = {}
        for way in ("menu", "full"):
            t = time.perf_counter()
            got[way] = [actions.plan_all([r], estimate=way == "menu")[0] for r in reqs]
            timed[way] += time.perf_counter() - t
        for menu, full in zip(got["menu"], got["full"], strict=True):
            plans += 1
            routes += (menu.route.tier, bool(menu.steps)) != (full.route.tier, bool(full.steps))
            titles += run_title(menu) != run_title(full)
            usd.append(menu.estimate.usd / full.estimate.usd)
            size.append(menu.context.tokens / max(1, full.context.tokens))
            if "-v" in sys.argv and not 0.6 < size[-1] < 1.5:
                kinds: dict[str, int] = {}
                for sn in full.context.snippets:
                    kinds[sn.kind] = kinds.get(sn.kind, 0) + sn.tokens
                print(
                    a + 1,
                    b + 1,
                    full.request.action,
                    full.route.tier,
                    menu.context.tokens,
                    full.context.tokens,
                    full.context.budget,
                    kinds,
                )
    print(f"workspace {root}: {n} ranges, {plans} plans each way")
    print(f"routes differing (tier or steps): {routes} ({100 * routes / plans:.1f}%)")
    print(f"menu titles differing (tier, reason or cost): {titles} ({100 * titles / plans:.1f}%)")
    for name, ratios in (("cost", usd), ("context tokens", size)):
        print(
            f"menu/full {name}: median {statistics.median(ratios):.2f}, "
            f"p10 {q(ratios, 10):.2f}, p90 {q(ratios, 90):.2f}, "
            f"min {min(ratios):.2f}, max {max(ratios):.2f}"
        )
    per = {k: 1000 * v / n for k, v in timed.items()}
    print(
        "time per range (6 plans; the menu's first, with the analysis): "
        f"menu {per['menu']:.1f} ms, full {per['full']:.1f} ms"
    )


if __name__ == "__main__":
    main()
