"""A range directly inside a giant function: what analysing it and packing its contexts
(a change's, with siblings, and an explanation's) costs, over random two-line ranges whose
innermost definition is the giant function itself (the index is built first, in memory).

    python tests/benchmarks/bench_giant_function.py ROOT FILE [RANGES]

e.g. ROOT=/work/scale/ws2k/bench-files FILE=checker.js (TypeScript's createTypeChecker,
42,846 lines; the root's .scopewise.toml must admit a 2 MB file). Never fails on time."""

from __future__ import annotations

import random
import sys
import time

from scopewise.analysis.engine import Engine
from scopewise.settings import FileSettings


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))]


def main(root: str, rel: str, n: int) -> None:
    engine = Engine(root, FileSettings(max_file_bytes=50_000_000), use_cache=False)
    engine.index()
    fi = engine.workspace.get(rel)
    assert fi is not None, f"{rel}: not indexed"
    biggest = max(range(len(fi.definitions)), key=lambda i: fi.definitions[i].line_count)
    giant = fi.definitions[biggest]
    inside = [
        ln for ln in range(giant.start_line, giant.end_line) if fi.enclosing(ln, ln) == biggest
    ]
    engine.analyze(rel, inside[0] + 1, inside[0] + 1)  # the file read and parsed once
    times: list[float] = []
    for ln in random.Random(1).sample(inside, min(n, len(inside))):
        t = time.perf_counter()
        analysis = engine.analyze(rel, ln + 1, ln + 2)
        engine.context_for(analysis, 8000, siblings=True)
        engine.context_for(analysis, 8000)
        times.append(1000 * (time.perf_counter() - t))
    print(f"{rel}: {giant.name}, {giant.line_count:,} lines, {len(inside):,} lines directly in it")
    print(
        f"  analyze + 2 contexts  n={len(times)}  p50 {pct(times, 50):.1f}  "
        f"p90 {pct(times, 90):.1f}  p99 {pct(times, 99):.1f}  max {max(times):.1f} ms"
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 60)
