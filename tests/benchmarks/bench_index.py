"""Index benchmark: cold index, warm restart and peak memory against tree-sitter parsing alone.

    python tests/benchmarks/bench_index.py [ROOT]     (default: the running Python's Lib/)

Prints numbers; never fails on time. Each measurement runs in a fresh process with an empty
(cold) or filled (warm) cache folder; peak RSS is the largest resident set of the indexing
process plus its worker processes, sampled from /proc.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import threading
import time
from pathlib import Path

_PARSE_ONLY = textwrap.dedent(
    """
    import json, sys, time
    from scopewise.index.files import list_files, content_problem
    from scopewise.settings import FileSettings
    from scopewise.index import languages
    root = sys.argv[1]
    listing = list_files(__import__("pathlib").Path(root))
    settings = FileSettings()
    todo = []
    for rel in listing.files:
        data = open(f"{root}/{rel}", "rb").read()
        if content_problem(data, settings) is None:
            todo.append((languages.language_for_path(rel).name, data))
    t0 = time.perf_counter()
    for lang, data in todo:
        languages.parser(lang).parse(data)
    print(json.dumps({"files": len(todo), "seconds": time.perf_counter() - t0}))
    """
)

_INDEX = textwrap.dedent(
    """
    import json, sys
    from scopewise.index.workspace import WorkspaceIndex
    def main():
        w = WorkspaceIndex(sys.argv[1])
        s = w.build()
        print(json.dumps({"files": s.files, "seconds": s.seconds, "hits": s.cache_hits,
                          "parsed": s.parsed, "symbols": s.symbols, "refs": s.references}))
    if __name__ == "__main__":
        main()
    """
)


def _tree_rss_kb(pid: int) -> int:
    """RSS of a process and all its descendants, in KiB."""
    total = 0
    pids = [pid]
    seen = set()
    while pids:
        p = pids.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            with open(f"/proc/{p}/task/{p}/children") as fh:
                pids.extend(int(c) for c in fh.read().split())
        except OSError:
            continue
    return total


def run(code: str, root: str, env: dict[str, str]) -> tuple[dict[str, float], float, float]:
    """(its JSON answer, wall seconds, peak RSS MiB of the process tree)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, root], stdout=subprocess.PIPE, env=env, text=True
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kb(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    done.set()
    sampler.join()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"benchmark step failed ({proc.returncode})")
    data: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return data, wall, peak / 1024


def main() -> None:
    root = sys.argv[1] if len(sys.argv) > 1 else sysconfig.get_paths()["stdlib"]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SCOPEWISE_CACHE_DIR": str(Path(tmp) / "cache")}
        parse, _, _ = run(_PARSE_ONLY, root, env)
        cold, cold_wall, cold_rss = run(_INDEX, root, env)
        warm, warm_wall, warm_rss = run(_INDEX, root, env)
    ratio = cold["seconds"] / parse["seconds"]
    print(f"root                  {root}")
    print(f"files                 {int(cold['files']):,} ({int(parse['files']):,} parsed alone)")
    print(f"symbols / references  {int(cold['symbols']):,} / {int(cold['refs']):,}")
    print(f"tree-sitter parse     {parse['seconds']:.2f} s (one process, parsing only)")
    print(f"cold index            {cold['seconds']:.2f} s  = {ratio:.2f}x parse  (goal <= 1.5x)")
    print(
        f"warm restart          {warm['seconds']:.2f} s  = {warm['seconds'] / cold['seconds']:.1%}"
        f" of cold (goal <= 10%), {int(warm['hits']):,} cache hits"
    )
    print(f"peak RSS              cold {cold_rss:.0f} MiB, warm {warm_rss:.0f} MiB (goal <= 300)")
    print(f"process wall time     cold {cold_wall:.2f} s, warm {warm_wall:.2f} s (with start-up)")


if __name__ == "__main__":
    main()
