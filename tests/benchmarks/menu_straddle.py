"""Menus over ranges that straddle a member's first line, in-process, server-like GC (frozen,
automatic collection off): one line before each definition of FILE to one line before its
end, so the enclosing class is the target and its kept sites grow request by request (a class
used everywhere reaches thousands). Prints the CPU of the second half of the menus (the kept
sites by then whole): their sum, median and largest.

    PYTHONPATH=server python tests/benchmarks/menu_straddle.py ROOT FILE [--n 80]

Run the same command with another checkout's `server` on PYTHONPATH, in turn, to compare."""

from __future__ import annotations

import argparse
import gc
import time
from pathlib import Path

from scopewise.actions.plan import Actions
from scopewise.lsp import listing
from scopewise.lsp.capabilities import ClientSupport
from scopewise.settings import load


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("root", type=Path)
    ap.add_argument("file", help="relative to ROOT")
    ap.add_argument("--n", type=int, default=80, help="menus (definitions under 500 lines)")
    a = ap.parse_args()
    settings, _ = load(a.root)
    engine = listing.ServerEngine(a.root, settings.index)
    engine.index()
    actions = Actions(engine, settings)
    menus = listing.Listing(ClientSupport())
    fi = engine.workspace.get(a.file)
    if fi is None:
        raise SystemExit(f"{a.file}: not indexed")
    defs = [d for d in fi.definitions if d.end_line - d.start_line < 500 and d.start_line > 0]
    defs = defs[: a.n]
    uri = (a.root / a.file).as_uri()
    gc.collect()
    gc.freeze()
    gc.disable()
    cpu: list[float] = []
    for i, d in enumerate(defs):
        t0 = time.process_time()
        # 0-based lines taken as 1-based: one line before the definition, to one before its end
        target = listing.Target(uri, a.file, d.start_line, d.end_line, None)
        with engine.memo():
            menus.actions_for(actions, target, None)
        if i >= len(defs) // 2:
            cpu.append((time.process_time() - t0) * 1000)
    cpu.sort()
    print(
        f"{a.file}: {len(cpu)} menus, CPU sum {sum(cpu):.0f} ms, "
        f"p50 {cpu[len(cpu) // 2]:.1f}, max {cpu[-1]:.1f} ms"
    )
    engine.workspace.close()


if __name__ == "__main__":
    main()
