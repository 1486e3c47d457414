"""Where cold extraction's CPU goes, per language, against the single-process parse floor.

    python tests/benchmarks/extract_costs.py [ROOT] [--per N] [--repeat R]
        (default ROOT: /work/scale/ws10k; N files per language, default 150; min of R runs,
        default 3)

On the same seeded sample as extract_equivalence.py, each step is timed alone (CPU of this
process, the least of R runs) and shown as a multiple of the plain parse (`Parser.parse` of
the bytes: bench_scale's floor):
- `parse`: the floor; `x.parse`: the index's own time-limited parse (a read and a progress
  callback, then the tree given its text: extract.parse);
- `query`: running the index query over a parsed tree (`QueryCursor.captures`, the nodes
  made and thrown away): C work plus a Python object per capture, no Python per capture;
- `python`: the whole `extract.extract` less its parse and its query: the Python per capture
  and per row (definitions, uses, imports, receivers, evidence);
- `dumps`: the FileIndex marshalled for the cache; `write`: the cache write of those blobs
  (graph rows and all, `IndexCache.put_many`, 256 files a transaction, a fresh database).
`total` = x.parse + query + python + dumps + write: what one file costs a cold index, less the
listing and the worker processes' traffic.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import tree_sitter as ts
from extract_equivalence import sample

from scopewise.index import extract, languages
from scopewise.index.cache import IndexCache

_COLUMNS = ("parse", "x.parse", "query", "python", "dumps", "write", "total")


def least(step: Callable[[], object], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        c0 = time.process_time()
        step()
        runs.append(time.process_time() - c0)
    return min(runs)


def costs(language: str, files: list[tuple[str, bytes]], repeat: int) -> list[float]:
    """CPU seconds of each column for one language's files."""
    parser, query = languages.parser(language), languages.index_query(language)
    trees = [parser.parse(data) for _, data in files]
    parse = least(lambda: [parser.parse(data) for _, data in files], repeat)
    x_parse = least(lambda: [extract.parse(language, data) for _, data in files], repeat)
    captures = least(lambda: [ts.QueryCursor(query).captures(t.root_node) for t in trees], repeat)
    whole = least(lambda: [extract.extract(rel, language, data) for rel, data in files], repeat)
    indexes = [extract.extract(rel, language, data) for rel, data in files]
    dumps = least(lambda: [fi.dumps() for fi in indexes], repeat)
    rows = [
        (rel, 1, len(data), extract.digest(data), language, fi.dumps())
        for (rel, data), fi in zip(files, indexes, strict=True)
    ]

    def write() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            cache = IndexCache(Path(tmp) / "costs.sqlite3")
            for i in range(0, len(rows), 256):
                cache.put_many(rows[i : i + 256])
            cache.close()

    stored = least(write, repeat)
    python = max(0.0, whole - x_parse - captures)
    return [parse, x_parse, captures, python, dumps, stored, whole + dumps + stored]


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    per = int(sys.argv[sys.argv.index("--per") + 1]) if "--per" in sys.argv else 150
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 3
    args = [a for a in args if a not in (str(per), str(repeat))]
    root = Path(args[0] if args else "/work/scale/ws10k")
    by_language: dict[str, list[tuple[str, bytes]]] = {}
    for rel, language in sample(root, per):
        by_language.setdefault(language, []).append((rel, (root / rel).read_bytes()))
    print("| language | files | parse floor (s) | " + " | ".join(_COLUMNS[1:]) + " |")
    print("|---|---:|---:|" + "---:|" * (len(_COLUMNS) - 1))
    sums = [0.0] * len(_COLUMNS)
    for language, files in sorted(by_language.items()):
        row = costs(language, files, repeat)
        sums = [a + b for a, b in zip(sums, row, strict=True)]
        shown = " | ".join(f"{v / row[0]:.2f}" for v in row[1:])
        print(f"| {language} | {len(files)} | {row[0]:.3f} | {shown} |")
    n = sum(len(f) for f in by_language.values())
    shown = " | ".join(f"{v / sums[0]:.2f}" for v in sums[1:])
    print(f"| all | {n} | {sums[0]:.3f} | {shown} |")


if __name__ == "__main__":
    main()
