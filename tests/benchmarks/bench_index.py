"""Index benchmark: cold index, warm restart and peak memory against tree-sitter parsing alone.

    python tests/benchmarks/bench_index.py [ROOT] [--by-language [N]]
        (default ROOT: the running Python's Lib/)

Prints numbers; never fails on time. Each measurement runs in a fresh process with an empty
(cold) or filled (warm) cache folder; peak RSS is the largest resident set of the indexing
process plus its worker processes, sampled from /proc. CPU is user + system time of the
indexing process and its workers, against one process parsing alone (the parse floor).
`--by-language` adds, per language, the CPU of indexing N files (default 150) one after the
other in this process against parsing them alone: where the index spends more than the
parse (a busy machine changes wall times, much less these).
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
    t0, c0 = time.perf_counter(), time.process_time()
    for lang, data in todo:
        languages.parser(lang).parse(data)
    print(json.dumps({"files": len(todo), "seconds": time.perf_counter() - t0,
                      "cpu": time.process_time() - c0}))
    """
)

_INDEX = textwrap.dedent(
    """
    import json, resource, sys
    from scopewise.index.workspace import WorkspaceIndex
    def cpu():
        r = resource
        own, kids = r.getrusage(r.RUSAGE_SELF), r.getrusage(r.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    def main():
        c0 = cpu()
        w = WorkspaceIndex(sys.argv[1])
        s = w.build()
        print(json.dumps({"files": s.files, "seconds": s.seconds, "hits": s.cache_hits,
                          "parsed": s.parsed, "symbols": s.symbols, "refs": s.references,
                          "cpu": cpu() - c0}))
    if __name__ == "__main__":
        main()
    """
)


def _tree_rss_kb(pid: int) -> int:
    """RSS of a process plus what its descendants hold of their own, in KiB: a forked
    worker shares its parent's pages until it writes them, and summing each process's RSS
    would count those twice (a descendant's private pages, from smaps_rollup; its RSS where
    that is not readable)."""
    total = _status_kb(pid, "VmRSS:")
    pids = _children(pid)
    seen = {pid}
    while pids:
        p = pids.pop()
        if p in seen:
            continue
        seen.add(p)
        own = _private_kb(p)
        total += own if own is not None else _status_kb(p, "VmRSS:")
        pids.extend(_children(p))
    return total


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return next((int(ln.split()[1]) for ln in fh if ln.startswith(key)), 0)
    except OSError:
        return 0


def _private_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            rows = [ln.split() for ln in fh if ln.startswith(("Private_Clean:", "Private_Dirty:"))]
    except OSError:
        return None
    return sum(int(r[1]) for r in rows) if rows else None


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(c) for c in fh.read().split()]
    except OSError:
        return []


def run(code: str, root: str, env: dict[str, str]) -> tuple[dict[str, float], float, float]:
    """(its JSON answer, wall seconds, peak RSS MiB of the process tree)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, root], stdout=subprocess.PIPE, env=env, text=True
    )
    out, _, peak = communicate_sampled(proc)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"benchmark step failed ({proc.returncode})")
    data: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return data, wall, peak / 1024


def communicate_sampled(proc: subprocess.Popen[str]) -> tuple[str, str, int]:
    """The process's stdout and stderr at its end, and the largest resident set (KiB) of its
    process tree, sampled from /proc every 20 ms meanwhile."""
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kb(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    sampler.join()
    return out, err or "", peak


def main() -> None:
    given = len(sys.argv) > 1 and not sys.argv[1].startswith("--")
    root = sys.argv[1] if given else sysconfig.get_paths()["stdlib"]
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
    print(f"cold index            {cold['seconds']:.2f} s  = {ratio:.2f}x parse (wall)")
    cpu_ratio = cold["cpu"] / parse["cpu"]
    print(
        f"cold index CPU        {cold['cpu']:.2f} s  = {cpu_ratio:.2f}x the parse's"
        f" {parse['cpu']:.2f} s  (goal <= 1.5x)"
    )
    print(
        f"warm restart          {warm['seconds']:.2f} s  = {warm['seconds'] / cold['seconds']:.1%}"
        f" of cold (goal <= 10%), {int(warm['hits']):,} cache hits"
    )
    print(f"peak RSS              cold {cold_rss:.0f} MiB, warm {warm_rss:.0f} MiB (goal <= 300)")
    print(f"process wall time     cold {cold_wall:.2f} s, warm {warm_wall:.2f} s (with start-up)")
    if "--by-language" in sys.argv:
        at = sys.argv.index("--by-language") + 1
        per = int(sys.argv[at]) if at < len(sys.argv) and sys.argv[at].isdigit() else 150
        by_language(Path(root), per)


def by_language(root: Path, per: int) -> None:
    """Per language: CPU of indexing `per` files (parse within its limit, extract, marshal)
    against parsing them alone, one after the other in this process."""
    import random

    from scopewise.index import extract, languages
    from scopewise.index.files import content_problem, list_files
    from scopewise.settings import FileSettings

    settings = FileSettings()
    files: dict[str, list[str]] = {}
    for rel in list_files(root).files:
        spec = languages.language_for_path(rel)
        if spec is not None:
            files.setdefault(spec.name, []).append(rel)
    print("\nper language (CPU, one process)  files     MB   parse   index   ratio")
    for lang, rels in sorted(files.items()):
        random.Random(1).shuffle(rels)
        texts = [(r, (root / r).read_bytes()) for r in rels[:per]]
        texts = [(r, d) for r, d in texts if content_problem(d, settings) is None]
        languages.index_query(lang)
        parser = languages.parser(lang)
        c0 = time.process_time()
        for _, data in texts:
            parser.parse(data)
        c1 = time.process_time()
        for rel, data in texts:
            extract.extract(rel, lang, data).dumps()
        c2 = time.process_time()
        mb = sum(len(d) for _, d in texts) / 1e6
        ratio = (c2 - c1) / max(c1 - c0, 1e-9)
        print(
            f"  {lang:30s} {len(texts):5d} {mb:6.1f} {c1 - c0:6.2f}s {c2 - c1:6.2f}s {ratio:6.2f}x"
        )


if __name__ == "__main__":
    main()
