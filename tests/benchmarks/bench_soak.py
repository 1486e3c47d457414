"""Soak: memory and open files over many actions and edits in one process (the engine the
server runs, in-process, against the fake Messages API on loopback). Bounded in count and
time; prints the figures, never fails on them.

    python tests/benchmarks/bench_soak.py [--actions 1000] [--edits 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fakeapi import FakeAPI, Reply
from scopewise.actions.plan import ActionRequest, Actions
from scopewise.analysis.engine import Engine
from scopewise.claude.client import ClaudeClient
from scopewise.index.buffer import Document, TextChange
from scopewise.settings import Settings


def rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--actions", type=int, default=1000)
    ap.add_argument("--edits", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=600, help="stop early after this long")
    args = ap.parse_args()
    t_end = time.monotonic() + args.seconds
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SCOPEWISE_CACHE_DIR"] = f"{tmp}/cache"
        os.environ["SCOPEWISE_STATE_DIR"] = f"{tmp}/state"
        root = Path(tmp) / "poly"
        shutil.copytree(Path(__file__).resolve().parents[1] / "fixtures" / "poly", root)
        docs: dict[str, Document] = {}
        engine = Engine(root, documents=docs.get)
        engine.index(workers=1)
        actions = Actions(engine, Settings())
        with FakeAPI() as api:
            client = ClaudeClient(api_key="sk-soak", base_url=api.base_url, max_retries=0)
            ranges = [("shop/pricing.py", 29, 32), ("shop/cart.py", 16, 18), ("web/api.ts", 18, 24)]
            samples: list[tuple[str, int, float, int]] = []
            gc.collect()
            samples.append(("start", 0, rss_mib(), open_files()))
            done = 0
            for i in range(args.actions):
                if time.monotonic() > t_end:
                    break
                path, a, b = ranges[i % len(ranges)]
                api.push(Reply(text="An explanation of the code. " * 20))
                plan = actions.plan(ActionRequest("explain", path, a, b, tier="quick"))
                await actions.run(plan, client)
                api.requests.clear()  # the fake server's own record is not the server's memory
                done += 1
                if done % max(1, args.actions // 5) == 0:
                    gc.collect()
                    samples.append(("actions", done, rss_mib(), open_files()))
            text = (root / "shop/pricing.py").read_text()
            doc = Document("shop/pricing.py", text, 1, "python")
            docs["shop/pricing.py"] = doc
            edits = 0
            for i in range(args.edits):
                if time.monotonic() > t_end:
                    break
                line = 20 + i % 10
                doc.apply([TextChange("x" if i % 2 == 0 else "", (line, 0), (line, i % 2))], i + 2)
                if i % 50 == 0:
                    engine.workspace.update(doc.path, doc.source, doc.tree)
                edits += 1
                if edits % max(1, args.edits // 5) == 0:
                    gc.collect()
                    samples.append(("edits", edits, rss_mib(), open_files()))
            await client.close()
    print(f"{'after':<10} {'n':>6} {'RSS MiB':>8} {'open fds':>9}")
    for what, n, rss, fds in samples:
        print(f"{what:<10} {n:>6} {rss:>8.1f} {fds:>9}")
    first_a = next(s for s in samples if s[0] == "actions")
    last_a = [s for s in samples if s[0] == "actions"][-1]
    print(
        f"actions {done}: RSS {first_a[2]:.1f} -> {last_a[2]:.1f} MiB, "
        f"fds {first_a[3]} -> {last_a[3]}; edits {edits}; "
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB"
    )


if __name__ == "__main__":
    asyncio.run(main())
