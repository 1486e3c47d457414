"""Scale benchmark (issue #16): how each cost grows from a 2k- to a 50k-file workspace.

    python tests/benchmarks/bench_scale.py [--sizes 2k,10k,50k] [--build-only] [--root DIR]
                                           [--actions N] [--keys N] [--after N] [--giant N]
                                           [--workers N] [--save FILE] [--summary FILE...]

Builds (or reuses) the workspaces of scale_workspaces.py (real packages: the stdlib, PyPI
sdists, npm tarballs, a few GitHub projects; ws2k, ws10k, ws50k) under --root (default: the
cache folder's bench-scale/), then for each size measures, each step in a fresh process and
with its own cache folder:
- the workspace: files, lines and languages as the index lists them;
- index: the single-process tree-sitter parse floor (parse every file once, no queries; CPU),
  then a cold and a warm `scopewise index` (wall, CPU of the process and its workers, peak
  RSS of the process tree);
- CLI: `scopewise context FILE:A-B` on the warm cache (median wall of 9 runs, peak RSS of 5
  more, sampled apart);
- server: the real `scopewise -v serve` over stdio on the warm cache: time to index, RSS
  after indexing (the process tree, from /proc); code actions over --actions ranges of the
  same real file at every size (server-side: the `scopewise.lsp.timing` log; and the round
  trip); keystrokes into a 4.6k- and a 27.8k-line real file: didChange (server-side) and a
  code action right after each keystroke, against the same round trip to a null pygls server
  (null_server.py); code actions on ranges inside TypeScript's 42,846-line checker function.
One table per size, then a summary (markdown) of how each figure grows. Never fails on time;
prints numbers only. `--save FILE` keeps each size's figures (sizes run apart, e.g. in
parallel, are summed up with `--summary FILE...`). On a busy machine the index's niced workers
get little CPU: `--workers 1` parses in the (un-niced) index process, and CPU figures compare.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import scale_workspaces as sw
from bench_index import _tree_rss_kb, communicate_sampled
from bench_lsp import Session, pct, wait_for_timings

PY = sys.executable
HERE = Path(__file__).resolve().parent
_PARSE = textwrap.dedent(
    """
    import json, sys, time
    from collections import Counter
    from pathlib import Path
    from scopewise import settings
    from scopewise.index import languages
    from scopewise.index.files import content_problem, list_files
    root = Path(sys.argv[1])
    conf = settings.load(root)[0].index
    todo = []
    for rel in list_files(root, conf).files:
        data = (root / rel).read_bytes()
        if content_problem(data, conf) is None:
            todo.append((languages.language_for_path(rel).name, data))
    langs = Counter(lang for lang, _ in todo)
    lines = sum(data.count(b"\\n") for _, data in todo)
    t0 = time.process_time()
    for lang, data in todo:
        languages.parser(lang).parse(data)
    print(json.dumps({"files": len(todo), "lines": lines, "cpu": time.process_time() - t0,
                      "languages": dict(langs.most_common())}))
    """
)
Figures = dict[str, float]
Add = Callable[[Figures], None]  # prints figures as they come and keeps them


@dataclass
class Run:
    out: str
    wall: float  # seconds
    cpu: float  # seconds, the process and the children it waited for
    peak_mib: float  # the process tree's largest resident set


def measure(cmd: list[str], env: dict[str, str], sampled: bool = True) -> Run:
    """Run `cmd` to its end: its output, wall and CPU time, and peak RSS (sampled /proc; 0
    unless `sampled`: the sampling slows the command it times, on a 2-core machine)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    out, err, peak = communicate_sampled(proc) if sampled else (*proc.communicate(), 0)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        print(err[-2000:], file=sys.stderr)
        raise SystemExit(f"{' '.join(cmd[2:5])} failed ({proc.returncode})")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return Run(out, wall, cpu, peak / 1024)


def bench_env(home: Path) -> dict[str, str]:
    """The environment of every step: its own cache, state and (empty) config folders."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env["SCOPEWISE_CACHE_DIR"] = str(home / "cache")
    env["SCOPEWISE_STATE_DIR"] = str(home / "state")
    env["SCOPEWISE_CONFIG_DIR"] = str(home / "config")
    return env


def index_figures(ws: Path, env: dict[str, str], workers: int | None) -> Figures:
    """A cold and a warm index."""
    index = [PY, "-m", "scopewise.cli", "index", "--json", str(ws)]
    index += [] if workers is None else ["--workers", str(workers)]
    cold = measure(index, env)
    warm = measure(index, env)
    stats = json.loads(cold.out)
    return {
        "files indexed": stats["files"],
        "symbols": stats["symbols"],
        "references": stats["references"],
        "cold index wall (s)": cold.wall,
        "cold index CPU (s)": cold.cpu,
        "cold index peak RSS (MiB)": cold.peak_mib,
        "warm index wall (s)": warm.wall,
        "warm index CPU (s)": warm.cpu,
        "warm / cold wall (%)": 100 * warm.wall / cold.wall,
        "warm index peak RSS (MiB)": warm.peak_mib,
    }


def floor_figures(ws: Path, env: dict[str, str], cold_cpu: float) -> tuple[Figures, str]:
    """The single-process parse floor; and the languages, as one line."""
    floor = json.loads(measure([PY, "-c", _PARSE, str(ws)], env).out)
    langs = ", ".join(f"{k} {v:,}" for k, v in floor["languages"].items())
    figs = {
        "lines": floor["lines"],
        "parse floor CPU (s)": floor["cpu"],
        "cold CPU / parse floor (x)": cold_cpu / floor["cpu"],
    }
    return figs, langs


def action_file_range(ws: Path) -> tuple[int, int]:
    """1-based lines of one method of the code-action file (the CLI's range)."""
    lines = (ws / sw.ACTION_FILE).read_text(encoding="utf-8").splitlines()
    first = next(i for i, ln in enumerate(lines) if "def run_until_complete" in ln)
    return first + 1, first + 30


def cli_figures(ws: Path, env: dict[str, str]) -> Figures:
    """`scopewise context FILE:A-B` on the warm cache: the median wall of 9 runs timed
    alone, the largest peak of 5 runs sampled (`measure`)."""
    a, b = action_file_range(ws)
    cmd = [
        PY,
        "-m",
        "scopewise.cli",
        "context",
        f"{ws / sw.ACTION_FILE}:{a}-{b}",
        "--root",
        str(ws),
    ]
    walls = [measure(cmd, env, sampled=False).wall for _ in range(9)]
    runs = [measure(cmd, env) for _ in range(5)]
    return {
        "CLI context wall (s)": statistics.median(walls),
        "CLI context peak RSS (MiB)": max(r.peak_mib for r in runs),
    }


_DEF = re.compile(r"\s*(export\s+)?(async\s+)?(def|class|function|func)\b")


def starts(text: str, first: int = 0, last: int | None = None) -> list[int]:
    """0-based lines that start a definition (Python, JavaScript, Ruby, Go), within
    first..last."""
    found = [i for i, ln in enumerate(text.splitlines()) if _DEF.match(ln)]
    return [i for i in found if first < i and (last is None or i < last)]


Ranges = list[tuple[int, int | None]]


def ranges(text: str, n: int, seed: int, first: int = 0, last: int | None = None) -> Ranges:
    """n code-action ranges (start, end or None for a cursor) at definitions in the text."""
    rng = random.Random(seed)
    where = starts(text, first, last)
    top = (last if last is not None else text.count("\n")) - 1
    out: Ranges = []
    for i in range(n):
        a = rng.choice(where)
        out.append((a, None if i % 4 == 0 else min(a + rng.randint(2, 30), top)))
    return out


def server_cpu(s: Session) -> float:
    """CPU seconds the server process has used so far (all its threads; /proc)."""
    assert s.client._server is not None
    with open(f"/proc/{s.client._server.pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


_BODY = re.compile(r"  (var|let|const|return) ")  # a statement of the checker's own body


def body_ranges(text: str, n: int, seed: int) -> Ranges:
    """n ranges directly in the giant function's body (its own statements, not a nested
    function's): the enclosing function of each is the 42,846-line one."""
    first, last = sw.GIANT_FUNCTION
    lines = text.splitlines()
    where = [i for i in range(first + 1, last) if _BODY.match(lines[i])]
    rng = random.Random(seed)
    out: Ranges = []
    for i in range(n):
        a = rng.choice(where)
        out.append((a, None if i % 4 == 0 else a + rng.randint(0, 3)))
    return out


def p(values: list[float], q: float) -> float:
    return pct(values, q) if values else float("nan")


async def actions(s: Session, uri: str, todo: Ranges, name: str) -> Figures:
    """Code actions over `todo`: server-side and round trip, p50 and p99."""
    since, cpu = len(s.timings), server_cpu(s)
    trips: list[float] = []
    counts: list[int] = []
    for a, b in todo:
        count, ms = await s.code_action(uri, a, b)
        trips.append(ms)
        counts.append(count)
    cpu = (server_cpu(s) - cpu) * 1000 / len(todo)
    server = await wait_for_timings(s, "textDocument/codeAction", since, len(todo))
    return {
        f"{name}: actions offered (mean)": statistics.mean(counts),
        f"{name}: server CPU per request, mean (ms)": cpu,
        f"{name}: server p50 (ms)": p(server, 50),
        f"{name}: server p99 (ms)": p(server, 99),
        f"{name}: round trip p50 (ms)": p(trips, 50),
        f"{name}: round trip p99 (ms)": p(trips, 99),
    }


async def open_file(s: Session, rel: str) -> tuple[str, str]:
    text = (s.root / rel).read_text(encoding="utf-8")
    language = "python" if rel.endswith(".py") else "javascript"
    uri = s.open(rel, language)
    await s.code_action(uri, 0, None)  # the open is handled; then the deferred re-index
    await asyncio.sleep(1.0)
    return uri, text


async def keystrokes(s: Session, rel: str, name: str, keys: int, after: int) -> Figures:
    """didChange one keystroke at a time, then a code action right after each keystroke."""
    uri, text = await open_file(s, rel)
    lines = text.splitlines()
    row = next(i for i in range(len(lines) // 2, len(lines)) if lines[i].strip())
    col = len(lines[row])
    since = len(s.timings)
    for i in range(keys):
        s.type_at(uri, row, col, i % 2, "x" if i % 2 == 0 else "")
        await asyncio.sleep(0.005)
    changes = await wait_for_timings(s, "textDocument/didChange", since, keys)
    figs: Figures = {}
    if changes:  # the null server logs no timings
        figs[f"{name}: didChange server p99 (ms)"] = p(changes, 99)
    await asyncio.sleep(1.0)
    since, cpu = len(s.timings), server_cpu(s)
    trips: tuple[list[float], list[float]] = ([], [])  # asked by the user, by the editor
    for i, (a, _) in enumerate(ranges(text, 2 * after, 5)):  # the two kinds in turn
        s.type_at(uri, row, col, i % 2, "x" if i % 2 == 0 else "")
        trips[i % 2].append((await s.code_action(uri, a, a + 5, automatic=i % 2 == 1))[1])
    figs[f"{name}: keystroke + action, server CPU mean (ms)"] = (
        (server_cpu(s) - cpu) * 1000 / after / 2
    )
    server = await wait_for_timings(s, "textDocument/codeAction", since, 2 * after)
    if server:
        figs[f"{name}: action after a keystroke, server p99 (ms)"] = p(server[::2], 99)
    figs[f"{name}: action after a keystroke, round trip p50 (ms)"] = p(trips[0], 50)
    figs[f"{name}: action after a keystroke, round trip p99 (ms)"] = p(trips[0], 99)
    figs[f"{name}: the editor's own after a keystroke, round trip p50 (ms)"] = p(trips[1], 50)
    figs[f"{name}: the editor's own after a keystroke, round trip p99 (ms)"] = p(trips[1], 99)
    if server:  # what the keystroke adds to a menu asked again (the null server asks none)
        figs |= await keystroke_cost(s, uri, (row, col), ranges(text, after, 5), name)
    return figs


async def keystroke_cost(
    s: Session, uri: str, at: tuple[int, int], asked: Ranges, name: str
) -> Figures:
    """The same ranges asked again, without a keystroke and then each right after one: the
    median of the per-range difference is what a keystroke itself costs a menu (its edit
    applied, the index spliced, what it moved worked out again), apart from the menu's own
    work on a range looked at for the first time."""
    alone: list[float] = []
    for a, b in asked:
        alone.append((await s.code_action(uri, a, b))[1])
    keyed: list[float] = []
    for i, (a, b) in enumerate(asked):
        s.type_at(uri, *at, i % 2, "x" if i % 2 == 0 else "")
        keyed.append((await s.code_action(uri, a, b))[1])
    return {
        f"{name}: the same ranges asked again, round trip p50 (ms)": p(alone, 50),
        f"{name}: ... each right after a keystroke, round trip p50 (ms)": p(keyed, 50),
        f"{name}: ... each right after a keystroke, round trip p99 (ms)": p(keyed, 99),
        f"{name}: a keystroke's own cost, median per range (ms)": statistics.median(
            k - a for k, a in zip(keyed, alone, strict=True)
        ),
    }


async def server_figures(ws: Path, home: Path, args: argparse.Namespace, add: Add) -> None:
    s = Session(ws, home)
    await s.start()
    assert s.client._server is not None
    pid = s.client._server.pid
    add({"server index, warm cache (s)": await s.wait_indexed(timeout=7200)})
    await asyncio.sleep(1.0)
    add({"server RSS after indexing (MiB)": _tree_rss_kb(pid) / 1024})
    uri, text = await open_file(s, sw.ACTION_FILE)
    add(await actions(s, uri, ranges(text, args.actions, 7), "code action"))
    add(await keystrokes(s, sw.KEYS_5K, "5k-line file", args.keys, args.after))
    add(await keystrokes(s, sw.KEYS_30K, "30k-line file", args.keys, args.after))
    uri, text = await open_file(s, sw.GIANT)
    add(await actions(s, uri, body_ranges(text, args.giant, 17), "giant function body"))
    inside = ranges(text, args.giant, 13, *sw.GIANT_FUNCTION)
    add(await actions(s, uri, inside, "giant function, nested definitions"))
    add({"server RSS at the end (MiB)": _tree_rss_kb(pid) / 1024})
    await s.stop()


async def null_figures(ws: Path, home: Path, args: argparse.Namespace) -> Figures:
    """The same keystroke round trips against the null pygls server."""
    s = Session(ws, home, command=(PY, str(HERE / "null_server.py")))
    await s.start()
    figs: Figures = {}
    for rel, name in ((sw.KEYS_5K, "5k-line file"), (sw.KEYS_30K, "30k-line file")):
        got = await keystrokes(s, rel, name, 0, args.after)
        figs |= {f"null server, {k}": v for k, v in got.items()}
    await s.stop()
    return figs


def reference_loop() -> float:
    """The CPU seconds of a fixed pure-Python loop, best of 3: how fast this machine runs
    Python, so figures taken on machines of different speeds can be told apart (the same
    commit's 2k menus measured 2.6 and 6.3 ms at p50 on two machines of the same kind)."""
    best = float("inf")
    for _ in range(3):
        t0, total = time.process_time(), 0
        for i in range(10_000_000):
            total += i
        best = min(best, time.process_time() - t0)
    return best


def bench_size(ws: Path, args: argparse.Namespace) -> tuple[Figures, str]:
    """Every figure of one workspace; each printed as soon as it is measured (a row of the
    size's table), the most wanted first, so a run stopped midway still says something."""
    figs: Figures = {}

    def add(new: Figures) -> None:
        for name, value in new.items():
            print(f"| {name} | {shown(value)} |", flush=True)
        figs.update(new)

    print("| figure | value |\n|---|---|", flush=True)
    add({"machine: a 10M-addition Python loop, CPU (s)": reference_loop()})
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        env = bench_env(Path(tmp))
        add(index_figures(ws, env, args.workers))
        add(cli_figures(ws, env))
        asyncio.run(server_figures(ws, Path(tmp), args, add))
        add(asyncio.run(null_figures(ws, Path(tmp) / "null", args)))
        floor, langs = floor_figures(ws, env, figs["cold index CPU (s)"])
        add(floor)
    return figs, langs


def shown(v: float) -> str:
    if v != v:  # NaN
        return "—"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"


def table(sizes: list[str], results: dict[str, Figures]) -> str:
    """Markdown: one row a figure, one column a size, then how the largest compares."""
    growth = len(sizes) > 1
    head = (
        "| figure | " + " | ".join(sizes) + (f" | {sizes[-1]} / {sizes[0]} |" if growth else " |")
    )
    rule = "|---" * (len(sizes) + 1 + growth) + "|"
    rows = [head, rule]
    for name in results[sizes[0]]:
        vals = [results[s].get(name, float("nan")) for s in sizes]
        cells = [shown(v) for v in vals]
        if growth:
            known = vals[0] and vals[0] == vals[0] and vals[-1] == vals[-1]  # not 0, not NaN
            cells.append(f"{vals[-1] / vals[0]:.2f}x" if known else "—")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


# The README's table: (row, the figures shown "a / b", their unit)
BRIEF = [
    ("machine: a 10M-addition Python loop", ("machine: a 10M-addition Python loop, CPU (s)",), "s"),
    ("files indexed", ("files indexed",), ""),
    (
        "cold index CPU / × parse floor",
        ("cold index CPU (s)", "cold CPU / parse floor (x)"),
        "s / ×",
    ),
    ("warm restart: wall / % of cold", ("warm index wall (s)", "warm / cold wall (%)"), "s / %"),
    (
        "CLI context, warm: wall / peak RSS",
        ("CLI context wall (s)", "CLI context peak RSS (MiB)"),
        "s / MiB",
    ),
    (
        "server RSS after indexing / at the end",
        ("server RSS after indexing (MiB)", "server RSS at the end (MiB)"),
        "MiB",
    ),
    (
        "code action: p50 / p99",
        ("code action: server p50 (ms)", "code action: server p99 (ms)"),
        "ms",
    ),
    (
        "code action: server CPU per request",
        ("code action: server CPU per request, mean (ms)",),
        "ms",
    ),
    (
        "didChange p99: 5k-line / 30k-line file",
        ("5k-line file: didChange server p99 (ms)", "30k-line file: didChange server p99 (ms)"),
        "ms",
    ),
    (
        "action after a keystroke, 5k-line file: p50 / p99",
        (
            "5k-line file: action after a keystroke, round trip p50 (ms)",
            "5k-line file: action after a keystroke, round trip p99 (ms)",
        ),
        "ms",
    ),
    (
        "the same, asked by the editor on its own (Automatic): p50 / p99",
        (
            "5k-line file: the editor's own after a keystroke, round trip p50 (ms)",
            "5k-line file: the editor's own after a keystroke, round trip p99 (ms)",
        ),
        "ms",
    ),
    (
        "the same, null server: p50 / p99",
        (
            "null server, 5k-line file: action after a keystroke, round trip p50 (ms)",
            "null server, 5k-line file: action after a keystroke, round trip p99 (ms)",
        ),
        "ms",
    ),
    (
        "a keystroke's own cost to a menu asked again: 5k / 30k-line file",
        (
            "5k-line file: a keystroke's own cost, median per range (ms)",
            "30k-line file: a keystroke's own cost, median per range (ms)",
        ),
        "ms",
    ),
    (
        "a range asked again right after a keystroke, p99: 5k / 30k-line file",
        (
            "5k-line file: ... each right after a keystroke, round trip p99 (ms)",
            "30k-line file: ... each right after a keystroke, round trip p99 (ms)",
        ),
        "ms",
    ),
    (
        "action after a keystroke, 30k-line file: p50 / p99",
        (
            "30k-line file: action after a keystroke, round trip p50 (ms)",
            "30k-line file: action after a keystroke, round trip p99 (ms)",
        ),
        "ms",
    ),
    (
        "the same, asked by the editor on its own (Automatic): p50 / p99",
        (
            "30k-line file: the editor's own after a keystroke, round trip p50 (ms)",
            "30k-line file: the editor's own after a keystroke, round trip p99 (ms)",
        ),
        "ms",
    ),
    (
        "inside the 42,846-line function: p50 / p99",
        ("giant function body: server p50 (ms)", "giant function body: server p99 (ms)"),
        "ms",
    ),
]


def brief(sizes: list[str], results: dict[str, Figures]) -> str:
    """The README's table: the figures that show how cost grows with the workspace."""
    rows = ["| | " + " | ".join(sizes) + " | unit |", "|---" * (len(sizes) + 2) + "|"]
    for label, names, unit in BRIEF:
        cells = []
        for size in sizes:
            vals = [results[size].get(n, float("nan")) for n in names]
            cells.append(" / ".join("—" if v != v else shown(v) for v in vals))
        rows.append(f"| {label} | " + " | ".join(cells) + f" | {unit} |")
    return "\n".join(rows)


def compile_package() -> None:
    """The package's bytecode written first, as an install does: with
    PYTHONDONTWRITEBYTECODE set (some machines set it) an editable tree would otherwise be
    compiled anew by every CLI run, 0.3-0.5 s of each figure."""
    import scopewise

    subprocess.run([PY, "-m", "compileall", "-q", str(Path(scopewise.__file__).parent)], check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="2k,10k,50k", help="of 2k, 10k, 50k")
    ap.add_argument("--root", type=Path, default=None, help="where the workspaces live")
    ap.add_argument("--build-only", action="store_true", help="build the workspaces, no runs")
    ap.add_argument("--actions", type=int, default=200, help="code actions on the one file")
    ap.add_argument("--keys", type=int, default=201, help="keystrokes into each big file")
    ap.add_argument("--after", type=int, default=40, help="code actions after a keystroke")
    ap.add_argument("--giant", type=int, default=40, help="ranges inside the giant function")
    ap.add_argument(
        "--workers", type=int, help="`scopewise index --workers N` (default: the index's own)"
    )
    ap.add_argument("--save", type=Path, help="JSON of the figures per size, kept across runs")
    ap.add_argument("--summary", type=Path, nargs="+", help="only the summary of --save files")
    ap.add_argument("--brief", action="store_true", help="with --summary: the README's table")
    args = ap.parse_args()
    if args.summary:
        saved = {k: v for f in args.summary for k, v in json.loads(f.read_text()).items()}
        order = [s for s in sw.SIZES if s in saved]
        print(brief(order, saved) if args.brief else table(order, saved))
        return
    sizes = args.sizes.split(",")
    built = sw.prepare(args.root or sw.default_root(), sizes)
    if args.build_only:
        for size, ws in built.items():
            print(f"ws{size}: {ws}")
        return
    compile_package()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load}")
    results: dict[str, Figures] = {}
    saved = json.loads(args.save.read_text()) if args.save and args.save.exists() else {}
    for size, ws in built.items():
        print(f"\n## ws{size}: {ws}\n", flush=True)
        figs, langs = bench_size(ws, args)
        results[size] = saved[size] = figs
        if args.save:
            args.save.write_text(json.dumps(saved, indent=1))
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"\n{langs}; load average after: {load}", flush=True)
    order = [s for s in sw.SIZES if s in saved or s in results]
    if len(order) > 1:
        print(f"\n## summary\n\n{table(order, {**saved, **results})}")


if __name__ == "__main__":
    main()
