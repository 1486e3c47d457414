"""Soak over LSP: one real `scopewise serve` session (stdio, the fake Messages API on
loopback), many actions and keystrokes, the server process's memory and open files sampled
from /proc. Bounded in count and time; prints the figures, never fails on them.

    python tests/benchmarks/bench_soak_lsp.py [--actions 1000] [--edits 10000]

Actions alternate: explain (a Markdown document shown), refactor (a versioned edit applied,
flipping a constant back and forth). Between actions the editor types into an open file
(--edits keystrokes in all), so the index updates the whole time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(HERE), str(HERE / "lsp")]

from lspclient import Editor, copy_poly, start_editor, stop_editor  # noqa: E402

from fakeapi import FakeAPI, Reply  # noqa: E402

PRICING = "shop/pricing.py"
CART = "shop/cart.py"


def proc_figures(pid: int) -> tuple[float, int, int]:
    """(RSS MiB, open fds, threads) of a process."""
    rss, threads = 0.0, 0
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd")), threads


def refactor_reply(old: str, new: str) -> Reply:
    answer = {"summary": "s", "edits": [{"path": PRICING, "old_text": old, "new_text": new}]}
    return Reply(text=json.dumps(answer))


async def soak(ed: Editor, api: FakeAPI, pid: int, n_actions: int, n_edits: int, t_end: float):
    p_uri = ed.open(PRICING)
    c_uri = ed.open(CART)
    samples = [("start", 0, 0, *proc_figures(pid))]
    per_action = max(1, n_edits // max(1, n_actions))
    actions = edits = failures = 0
    values = ("0.5", "0.45")
    t0 = time.monotonic()
    for i in range(n_actions):
        if time.monotonic() > t_end:
            break
        for _ in range(per_action):  # keystrokes: type a character, then delete it
            text = ed.texts[c_uri]
            at = text.index("self.discount = 0.0") + len("self.discount = 0.0")
            if edits % 2 == 0:
                ed._change(c_uri, at, at, "#")
            else:
                ed._change(c_uri, at, at + 1, "")
            edits += 1
        if i % 2 == 0:
            api.push(Reply(text="An explanation of the code. " * 20))
            menu = await ed.actions(PRICING, 29, 32, only=["source"])
        else:
            now = values[(i // 2) % 2]
            new = values[(i // 2 + 1) % 2]
            api.push(refactor_reply(f"MAX_DISCOUNT = {now}", f"MAX_DISCOUNT = {new}"))
            menu = [
                a
                for a in await ed.actions(PRICING, 29, 32, only=["refactor"])
                if a.title.startswith("Refactor: simplify") and "(" not in a.title
            ]
        result = await ed.run(menu[0])
        ok = result.get("shown") if i % 2 == 0 else result.get("applied")
        failures += not ok
        api.requests.clear()  # the fake API's own record is not the server's memory
        ed.client.messages.clear()
        ed.client.progress_reports.clear()
        ed.edits.clear()
        actions += 1
        if actions % max(1, n_actions // 5) == 0:
            await asyncio.sleep(0.5)  # let the debounced index updates settle
            samples.append(("actions", actions, edits, *proc_figures(pid)))
    assert p_uri in ed.texts
    return samples, actions, edits, failures, time.monotonic() - t0


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--actions", type=int, default=1000)
    ap.add_argument("--edits", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=900, help="stop early after this long")
    args = ap.parse_args()
    t_end = time.monotonic() + args.seconds
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        root = copy_poly(Path(tmp) / "poly")
        with FakeAPI() as api:
            ed = await start_editor(root, home, api=api)
            server = ed.client._server  # type: ignore[attr-defined]
            try:
                samples, actions, edits, failures, seconds = await soak(
                    ed, api, server.pid, args.actions, args.edits, t_end
                )
            finally:
                await stop_editor(ed)
        docs = home / "cache" / "explanations"
        kept = len(list(docs.iterdir())) if docs.is_dir() else 0
        shutil.rmtree(home, ignore_errors=True)
    print(f"{'after':<8} {'actions':>7} {'keys':>6} {'RSS MiB':>8} {'fds':>4} {'threads':>7}")
    for what, n, keys, rss, fds, threads in samples:
        print(f"{what:<8} {n:>7} {keys:>6} {rss:>8.1f} {fds:>4} {threads:>7}")
    first = samples[1] if len(samples) > 1 else samples[0]
    last = samples[-1]
    print(
        f"{actions} actions ({failures} not applied/shown) and {edits} keystrokes in "
        f"{seconds:.0f} s ({1000 * seconds / max(1, actions):.0f} ms per action): server RSS "
        f"{first[3]:.1f} -> {last[3]:.1f} MiB after the first fifth, fds {first[4]} -> "
        f"{last[4]}, threads {first[5]} -> {last[5]}; explanation documents kept: {kept}"
    )


if __name__ == "__main__":
    asyncio.run(main())
