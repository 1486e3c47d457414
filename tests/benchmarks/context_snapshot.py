"""Snapshot of the packed context: one hash per (workspace, range, budget) case.

Run it before and after a change to the context engine (analysis/candidates.py,
analysis/packing.py, analysis/context.py): the packed output must stay identical.

    PYTHONPATH=server python tests/benchmarks/context_snapshot.py > before.txt
    ... change ...
    PYTHONPATH=server python tests/benchmarks/context_snapshot.py > after.txt
    diff before.txt after.txt

Ranges are chosen deterministically (a seeded RNG over each workspace's definitions and
random line spans), ~40 per workspace, each packed under 3 budgets. A case hashes the
rendered text, the manifest (kept and dropped) and the redactions.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import sys
import tempfile
from pathlib import Path

from scopewise.analysis.engine import Engine, EngineError

HERE = Path(__file__).resolve().parent
STDLIB = Path("/root/.pyenv/versions/3.11.7/lib/python3.11")
WORKSPACES = {
    "poly": HERE.parent / "fixtures" / "poly",
    "json": STDLIB / "json",
    "email": STDLIB / "email",
    "asyncio": STDLIB / "asyncio",
}
BUDGETS = (300, 1500, 6000)
RANGES = 40


def _ranges(engine: Engine, rng: random.Random) -> list[tuple[str, int, int]]:
    files = sorted(engine.workspace.files)
    out: list[tuple[str, int, int]] = []
    while len(out) < RANGES:
        path = rng.choice(files)
        fi = engine.workspace.get(path)
        if fi is None or fi.line_count < 2:
            continue
        if fi.definitions and rng.random() < 0.6:
            d = rng.choice(fi.definitions)
            out.append((path, d.start_line + 1, d.end_line + 1))
        else:
            a = rng.randrange(1, fi.line_count)
            out.append((path, a, min(fi.line_count, a + rng.randrange(0, 25))))
    return out


def _case(engine: Engine, path: str, a: int, b: int, budget: int) -> str:
    try:
        ctx = engine.context(path, a, b, budget)
    except EngineError as exc:
        return "error:" + str(exc)
    blob = json.dumps(
        {"text": ctx.render(), "tokens": ctx.tokens, "dict": ctx.to_dict()},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for name, src in WORKSPACES.items():
            if not src.is_dir():
                print(f"{name}: missing {src}", file=sys.stderr)
                continue
            root = Path(tmp) / name
            shutil.copytree(src, root, ignore=shutil.ignore_patterns("__pycache__"))
            (root / ".git").mkdir()
            engine = Engine(root, use_cache=False)
            engine.index(workers=1)
            rng = random.Random(f"snapshot-{name}")
            for path, a, b in _ranges(engine, rng):
                for budget in BUDGETS:
                    print(f"{name} {path}:{a}-{b} @{budget} {_case(engine, path, a, b, budget)}")
            engine.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
