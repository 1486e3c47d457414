"""How often a menu's capped count (the site work bounded per request, MENU_SITE_FILES)
routes or titles a range otherwise than the full count, over bench_scale's code-action
ranges, in request order (the kept verdicts carrying a capped count on, as in the server).

    PYTHONPATH=server python tests/benchmarks/capped_routes.py /work/scale/ws2k [--n 200]

Two engines one after the other (a full count's verdicts would complete the capped one's).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_scale as bs
import scale_workspaces as sw

from scopewise.actions.routing import choose_tier
from scopewise.lsp.listing import MENU_SITE_FILES, ServerEngine, expand_cursor
from scopewise.settings import RoutingSettings
from scopewise.vocab import Action

CASES = ((Action.EXPLAIN, None), (Action.REFACTOR, None), (Action.REFACTOR, True))


def _routes(root: Path, n: int, budget: int | None) -> list[tuple[bool, list[tuple[str, str]]]]:
    eng = ServerEngine(root)
    eng.index()
    text = (root / sw.ACTION_FILE).read_text()
    settings = RoutingSettings()
    out = []
    for a, b in bs.ranges(text, n, 7):
        lo, hi = expand_cursor(eng, sw.ACTION_FILE, a + 1) if b is None else (a + 1, b + 1)
        scope = eng.analyze(sw.ACTION_FILE, lo, hi, budget=budget).scope
        chosen = [choose_tier(act, scope, settings, moves) for act, moves in CASES]
        out.append((scope.capped, [(c.tier, re.sub(r" \([^()]*\)", "", c.why)) for c in chosen]))
    eng.workspace.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("root", type=Path)
    ap.add_argument("--n", type=int, default=200)
    a = ap.parse_args()
    capped = _routes(a.root, a.n, MENU_SITE_FILES)
    full = _routes(a.root, a.n, None)
    n_capped = sum(c for c, _ in capped)
    routes = sum(
        any(x[0] != y[0] for x, y in zip(c, f, strict=True))
        for (_, c), (_, f) in zip(capped, full, strict=True)
    )
    titles = sum(c != f for (_, c), (_, f) in zip(capped, full, strict=True))
    pairs = Counter(
        (act + ("/interface" if moves else ""), x[0], y[0])
        for (_, c), (_, f) in zip(capped, full, strict=True)
        for (act, moves), x, y in zip(CASES, c, f, strict=True)
        if x[0] != y[0]
    )
    for (case, x, y), k in pairs.most_common():
        print(f"  {case}: {y} -> {x} on {k} ranges")
    print(f"{a.root.name}: {a.n} ranges, budget {MENU_SITE_FILES} files: {n_capped} capped; ")
    print(f"  a route (explain, refactor, interface refactor) differs on {routes} ranges")
    print(f"  a title differs on {titles} ranges (the '+' of a lower bound included)")


if __name__ == "__main__":
    main()
