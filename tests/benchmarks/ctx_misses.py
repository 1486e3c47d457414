"""Which oracle definitions and callers a context run misses (a debugging aid for ctxbench).

python tests/benchmarks/ctx_misses.py REPO TARGETS ORACLE [BUDGET]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from scopewise.analysis.engine import Engine


def main() -> None:
    repo, _targets, oracle_path = sys.argv[1:4]
    budget = int(sys.argv[4]) if len(sys.argv) > 4 else 4000
    oracle = json.loads(Path(oracle_path).read_text())
    engine = Engine(repo)
    engine.index()
    for key, orc in oracle.items():
        tgt = orc["target"]
        ctx = engine.context(
            str(Path(repo) / tgt["file"]), tgt["start_line"], tgt["end_line"], budget
        )
        present: dict[str, set[int]] = {}
        for b in ctx.blocks:
            present.setdefault(b.path, set()).update(range(b.start_line, b.end_line + 1))
        for d in orc["defs"]:
            if d["kind"] not in ("function", "class", "variable"):
                continue
            have = present.get(d["path"], set())
            lines = d["snippet"]
            frac = sum(1 for ln in lines if ln in have) / max(1, len(lines))
            if d["line"] not in have or frac < 0.8:
                where = f"{d['path']}:{d['line']}"
                sig = d["line"] in have
                print(f"{key}: {d['kind']} {d['name']} {where} sig={sig} body={frac:.2f}")
        for c in orc.get("callers") or []:
            if c["line"] not in present.get(c["path"], set()):
                print(f"{key}: CALLER {c['name']} {c['path']}:{c['line']}")
        print(f"{key}: tokens {ctx.tokens}")


if __name__ == "__main__":
    main()
