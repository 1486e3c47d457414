"""How often a menu whose work is bounded per request (lsp/listing.MENU_WORK,
MENU_SITE_FILES and MENU_S: analysis/work.py) routes or titles a range otherwise than the same menu
with no bound, over bench_scale's code-action ranges in request order (what one request
leaves, the next carries on, as in the server). Also the work each bounded request did.

    PYTHONPATH=server python tests/benchmarks/menu_partial.py /work/scale/ws2k [--n 200]
                                                              [--automatic]

--automatic: the bounded menus are asked as an editor asks on its own (the AUTO_ budget).

Two engines one after the other (the unbounded one's kept verdicts would complete the
bounded one's). A route is an entry's tiers ("deep plan + quick write"); a title is the
whole entry title (its reason's "N+" and its cost included).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_scale as bs
import scale_workspaces as sw

from scopewise.actions.plan import Actions
from scopewise.lsp import listing
from scopewise.lsp.capabilities import ClientSupport
from scopewise.settings import load

Menu = tuple[bool, int, list[str]]  # stopped short, work done, the entries' titles


def _menus(root: Path, n: int, bounded: bool, automatic: bool = False) -> list[Menu]:
    saved = getattr(listing, "MENU_WORK", 0), listing.MENU_SITE_FILES  # main before it: none
    if not bounded:
        listing.MENU_WORK = listing.MENU_SITE_FILES = 1 << 30
    settings, _ = load(root)
    eng = listing.ServerEngine(root, settings.index)
    if not bounded:
        eng.menu_s = None  # nor its time
    eng.index()
    actions = Actions(eng, settings)
    menus = listing.Listing(ClientSupport())
    text = (root / sw.ACTION_FILE).read_text()
    uri = (root / sw.ACTION_FILE).as_uri()
    out: list[Menu] = []
    try:
        for a, b in bs.ranges(text, n, 7):
            if b is None:
                lo, hi = listing.expand_cursor(eng, sw.ACTION_FILE, a + 1)
            else:
                lo, hi = a + 1, b + 1
            with eng.memo(automatic=automatic):
                target = listing.Target(uri, sw.ACTION_FILE, lo, hi, None, ())
                entries = menus.actions_for(actions, target, None)
                work = getattr(eng, "work", None)
                used = work.used if work is not None else -1
                out.append((eng.capped, used, [e.title for e in entries]))
    finally:
        listing.MENU_WORK, listing.MENU_SITE_FILES = saved
        eng.workspace.close()
    return out


def _route(title: str) -> str:
    """An entry's tiers: "Explain · standard: ..." -> "standard"."""
    parts = title.split(" · ")
    return parts[1].split(":")[0] if len(parts) > 1 else ""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("root", type=Path)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--automatic", action="store_true", help="asked by the editor on its own")
    a = ap.parse_args()
    bounded = _menus(a.root, a.n, True, a.automatic)
    full = _menus(a.root, a.n, False)
    pairs = list(zip(bounded, full, strict=True))
    short = sum(b[0] for b, _ in pairs)
    routes = sum([_route(t) for t in b[2]] != [_route(t) for t in f[2]] for b, f in pairs)
    titles = sum(b[2] != f[2] for b, f in pairs)
    work = sorted(b[1] for b, _ in pairs)
    print(
        f"{a.root.name}: {a.n} menus, MENU_WORK {getattr(listing, 'MENU_WORK', None)}, "
        f"MENU_SITE_FILES {listing.MENU_SITE_FILES}{', automatic' if a.automatic else ''}: "
        f"{short} stopped short"
    )
    print(f"  work per request: p50 {work[len(work) // 2]}, max {work[-1]}")
    print(f"  a route differs on {routes} menus, a title on {titles}")
    for (_, _, bt), (_, _, ft) in pairs:
        for x, y in zip(bt, ft, strict=False):
            if _route(x) != _route(y):
                print(f"    {y!r} -> {x!r}")


if __name__ == "__main__":
    main()
