"""What a keystroke costs the index of an open file: a character typed at the end of a
random line, then deleted; after each, the document's change (incremental reparse and the
changed bytes) and the index brought up to the text, whole (`extract.extract`, as before
index/incremental.py) and spliced (`incremental.update`), on the same text.

    python tests/benchmarks/bench_keystrokes.py FILE [KEYSTROKE_PAIRS [STEP_S]]

Prints p50/p99/max of each and how many splices fell back to a whole extraction. With
STEP_S (the server's: 0.001) a parse pauses after that much CPU, as in the language server's
didChange handler, and the rest of it is shown apart (done there between messages). Never
fails on time."""

from __future__ import annotations

import random
import sys
import time

from scopewise.index import extract, incremental, languages
from scopewise.index.buffer import Document, TextChange


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))]


def main(path: str, pairs: int, step_s: float | None = None) -> None:
    spec = languages.language_for_path(path)
    assert spec is not None, f"{path}: not a language scopewise indexes"
    with open(path, encoding="utf-8") as f:
        text = f.read()
    doc = Document(path, text, 1, spec.name, step_s=step_s)
    doc.settle()
    assert doc.tree is not None
    fi = extract.extract(path, spec.name, doc.source, doc.tree)
    doc.mark_indexed(fi.digest)
    lines = text.splitlines()
    rng = random.Random(0)
    change: list[float] = []
    rest: list[float] = []
    paused = 0
    whole: list[float] = []
    spliced: list[float] = []
    fell = 0
    for _ in range(pairs):
        ln = rng.randrange(len(lines))
        while not lines[ln].strip():
            ln = rng.randrange(len(lines))
        col = len(lines[ln])
        for edit in (
            TextChange("x", (ln, col), (ln, col)),
            TextChange("", (ln, col), (ln, col + 1)),
        ):
            t = time.perf_counter()
            doc.apply([edit], doc.version + 1)
            change.append(1000 * (time.perf_counter() - t))
            paused += doc.parsing
            t = time.perf_counter()
            doc.settle()
            rest.append(1000 * (time.perf_counter() - t))
            assert doc.tree is not None
            t = time.perf_counter()
            extract.extract(path, spec.name, doc.source, doc.tree)
            whole.append(1000 * (time.perf_counter() - t))
            t = time.perf_counter()
            span = doc.since(fi.digest)
            new = (
                incremental.update(fi, doc.tree, doc.source, span, doc.indexed_source)
                if span
                else None
            )
            if new is None:
                fell += 1
                new = extract.extract(path, spec.name, doc.source, doc.tree)
            spliced.append(1000 * (time.perf_counter() - t))
            fi = new
            doc.mark_indexed(fi.digest)
    print(f"{path}: {len(lines):,} lines, {len(change)} keystrokes, {fell} whole after all")
    if step_s:
        print(f"  parses paused past the step: {paused} of {len(change)}")
    for name, values in (
        ("didChange (apply, reparse, changed bytes)", change),
        ("the paused parse's rest, between messages", rest),
        ("index: whole extraction", whole),
        ("index: splice (index/incremental.py)", spliced),
    ):
        p50, p99 = pct(values, 50), pct(values, 99)
        print(f"  {name:<42} p50 {p50:7.2f}  p99 {p99:7.2f}  max {max(values):7.2f} ms")


if __name__ == "__main__":
    main(
        sys.argv[1],
        int(sys.argv[2]) if len(sys.argv) > 2 else 100,
        float(sys.argv[3]) if len(sys.argv) > 3 else None,
    )
