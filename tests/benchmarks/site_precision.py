"""Site list against jedi: how many of the certain sites are true, and how many true sites are
listed (certain, or at all). A benchmark, not a test; prints numbers, never fails on them.

    python tests/benchmarks/site_precision.py /work/bench/requests [--misses]

Targets and truth come from the ripple benchmark's sites suite (``NAME.sites.txt`` and
``NAME.sites.json`` next to the project folder; ``../shared/bench/ripple.py``): every line
where jedi finds a reference to the target, definitions and the target itself left out, import
lines apart. Sites that are overriding or overridden definitions, or import lines, are part
of the ripple but never a jedi reference: the precision is given with and without them.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from scopewise.analysis.engine import Engine
from scopewise.analysis.resolve import CallerSite

# sites of the ripple that jedi never lists as references: overriding and overridden methods,
# the other declarations of a symbol, and import lines (jedi takes an imported name for a
# definition; the oracle's import_sites are partial)
_NOT_REFERENCES = ("overrides", "overridden", "another declaration", "import line")


def _targets(root: Path) -> list[dict[str, object]]:
    specs = [
        s.strip()
        for s in (root.parent / f"{root.name}.sites.txt").read_text().splitlines()
        if s.strip() and not s.startswith("#")
    ]
    records = json.loads((root.parent / f"{root.name}.sites.json").read_text())
    return [records[s] for s in specs]


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f} ({a}/{b})" if b else "n/a"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("root", type=Path)
    ap.add_argument("--misses", action="store_true", help="print the misses per target")
    args = ap.parse_args()
    root = args.root.resolve()
    engine = Engine(root, use_cache=False)
    engine.index(workers=1)
    totals = dict.fromkeys(("certain", "certain_true", "override", "listed", "truth"), 0)
    totals.update(truth_certain=0, truth_listed=0)
    timings: list[float] = []
    for rec in _targets(root):
        t = rec["target"]
        assert isinstance(t, dict)
        t0 = time.perf_counter()
        sites = engine.analyze(str(t["file"]), int(t["start_line"]), int(t["end_line"])).callers
        timings.append((time.perf_counter() - t0) * 1000)
        truth = {(p, ln) for p, ln in rec["sites"]}  # type: ignore[union-attr]
        imports = {(p, ln) for p, ln in rec["import_sites"]}  # type: ignore[union-attr]
        listed = {(s.path, s.line + 1): s for s in sites}
        certain = {k for k, s in listed.items() if s.certain}
        overrides = {k for k in certain if listed[k].via.startswith(_NOT_REFERENCES)}
        totals["certain"] += len(certain)
        totals["override"] += len(overrides)
        totals["certain_true"] += len((certain - overrides) & (truth | imports))
        totals["listed"] += len(listed)
        totals["truth"] += len(truth)
        totals["truth_certain"] += len(truth & certain)
        totals["truth_listed"] += len(truth & set(listed))
        if args.misses:
            _misses(t, truth, imports, listed, certain)
    n = totals
    print(f"{root.name}: {len(timings)} targets, {n['truth']} true sites, {n['listed']} listed, "
          f"{n['certain']} certain ({n['override']} definitions or imports)")  # fmt: skip
    print(f"  precision of certain references "
          f"{_ratio(n['certain_true'], n['certain'] - n['override'])}"
          "  (the others: not judged by jedi)")  # fmt: skip
    print(f"  recall of certain sites         {_ratio(n['truth_certain'], n['truth'])}")
    print(f"  recall of all listed sites      {_ratio(n['truth_listed'], n['truth'])}")
    timings.sort()
    print(f"  analyze (scope + sites), cold   p50 {timings[len(timings) // 2]:.1f} ms, "
          f"max {timings[-1]:.1f} ms")  # fmt: skip


def _misses(
    t: dict[str, object],
    truth: set[tuple[str, int]],
    imports: set[tuple[str, int]],
    listed: dict[tuple[str, int], CallerSite],
    certain: set[tuple[str, int]],
) -> None:
    wrong = sorted(certain - truth - imports)
    unsure = sorted((truth - certain) & set(listed))
    missed = sorted(truth - set(listed))
    if not (wrong or unsure or missed):
        return
    print(f"-- {t['spec']} {t['qualname']}")
    for p, ln in wrong[:8]:
        print(f"   certain, not true: {p}:{ln}  ({listed[(p, ln)].via})")
    for p, ln in unsure[:8]:
        s = listed[(p, ln)]
        print(f"   true, candidate:   {p}:{ln}  ({s.confidence} {s.via})")
    for p, ln in missed[:8]:
        print(f"   true, not listed:  {p}:{ln}")


if __name__ == "__main__":
    main()
