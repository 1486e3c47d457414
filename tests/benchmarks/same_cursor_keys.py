"""Keystroke + code action on the same few ranges (the cursor stays while typing): the
verdicts kept per using file (analysis/verdicts.py) at work, on a warm cache home.

    same_cursor_keys.py /work/scale/ws50k HOME [--after 60] [--cursors 4]
"""

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_scale as bs
import scale_workspaces as sw
from bench_lsp import Session

ap = argparse.ArgumentParser()
ap.add_argument("ws")
ap.add_argument("home")
ap.add_argument("--after", type=int, default=60)
ap.add_argument("--cursors", type=int, default=4)
a = ap.parse_args()


async def run(rel, name):
    s = Session(Path(a.ws), Path(a.home))
    await s.start()
    await s.wait_indexed(timeout=7200)
    await asyncio.sleep(1.0)
    uri, text = await bs.open_file(s, rel)
    lines = text.splitlines()
    row = next(i for i in range(len(lines) // 2, len(lines)) if lines[i].strip())
    col = len(lines[row])
    cursors = [r for r, _ in bs.ranges(text, a.cursors, 5)]
    for c in cursors:  # each asked once before typing
        await s.code_action(uri, c, c + 5)
    await asyncio.sleep(0.5)
    since, cpu = len(s.timings), bs.server_cpu(s)
    trips = []
    for i in range(a.after):
        s.type_at(uri, row, col, i % 2, "x" if i % 2 == 0 else "")
        c = cursors[i % len(cursors)]
        trips.append((await s.code_action(uri, c, c + 5))[1])
    cpu_ms = (bs.server_cpu(s) - cpu) * 1000 / a.after
    server = await bs.wait_for_timings(s, "textDocument/codeAction", since, a.after)
    await s.stop()
    print(f"| {name}: keystroke + same-cursor action, server CPU mean (ms) | {cpu_ms:.1f} |")
    print(f"| {name}: server p50 / p99 (ms) | {bs.p(server, 50):.1f} / {bs.p(server, 99):.1f} |")
    print(
        f"| {name}: round trip p50 / p99 (ms) | {bs.p(trips, 50):.1f} / {bs.p(trips, 99):.1f} |",
        flush=True,
    )


async def main():
    await run(sw.KEYS_5K, "5k-line file")


asyncio.run(main())
