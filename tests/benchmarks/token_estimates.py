"""How the local token estimate compares with a real tokenizer, per kind of text.

    TIKTOKEN_CACHE_DIR=/work/shared/bench/tiktoken_cache \
        PYTHONPATH=server python tests/benchmarks/token_estimates.py [--files N]

Prints, per kind of text, the ratio estimate / tiktoken cl100k (the stand-in for Claude's
tokenizers) as min / median / max over real files: the stdlib's .py files, the projects in
/work/bench, code in other languages where a checkout is found, minified JS/CSS (from
node_modules folders; else the JS found, whitespace squeezed), JSON minified from real
package.json files, the stdlib's CJK test texts, and generated digit tables, emoji/accented
text, long identifiers, whitespace and base64. The goal: min >= 0.95 everywhere (never more
than 5% under), and on code not far above the old chars/3.2 rule (printed beside it). Also:
the worst 30-line piece per kind (contexts are pieces of files), whether a text's line costs
sum to its estimate, and the cost per line.
"""

from __future__ import annotations

import argparse
import base64
import glob
import json
import math
import os
import random
import statistics
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

import tiktoken

from scopewise.analysis import tokens

ROOT = Path(__file__).resolve().parents[2]
STDLIB = Path(os.__file__).parent
NODE = [ROOT / "clients/vscode/node_modules", Path("/work/main/clients/vscode/node_modules")]
E2E = Path.home() / ".cache/scopewise-e2e"
CODE = {  # kind -> globs; a kind whose checkouts are missing is skipped
    "python (stdlib)": [f"{STDLIB}/*.py", f"{STDLIB}/*/*.py"],
    "python (bench)": ["/work/bench/*/**/*.py"],
    "c": ["/tmp/lang/redis/src/*.[ch]", "/usr/include/*.h"],
    "go": ["/tmp/lang/*/**/*.go", "/usr/share/doc/git/contrib/**/*.go"],
    "java": ["/tmp/lang/*/**/*.java"],
    "ruby": ["/tmp/lang/rails/**/*.rb"],
    "typescript": [f"{d}/**/*.ts" for d in NODE],
    "javascript": [f"{d}/**/[!.]*[!n].js" for d in NODE],  # not *.min.js
    "markdown/rst": ["/work/bench/*/**/*.md", "/work/bench/*/**/*.rst"],
}
MINIFIED = {
    "minified js": [f"{d}/**/*.min.js" for d in [*NODE, E2E]],
    "minified css": [f"{d}/**/*.min.css" for d in [*NODE, E2E]],
}
Corpus = dict[str, list[tuple[str, str]]]  # kind -> [(name, text)]


def _files(patterns: list[str], n: int, rng: random.Random) -> list[tuple[str, str]]:
    """Up to n files matching any of the patterns, sampled."""
    found = sorted(
        {f for pat in patterns for f in glob.glob(pat, recursive=True) if os.path.isfile(f)}
    )
    found = [f for f in found if 0 < os.path.getsize(f) < 400_000]
    out = []
    for f in rng.sample(found, min(n, len(found))):
        try:
            out.append((f, Path(f).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError):
            continue
    return out


def _number(rng: random.Random) -> str:
    kind = rng.randrange(3)
    if kind == 0:
        return f"{rng.uniform(-1e4, 1e4):.{rng.randint(0, 6)}f}"
    return f"{rng.random():.3e}" if kind == 1 else str(rng.randint(0, 10 ** rng.randint(1, 12)))


def _generated(rng: random.Random) -> Corpus:
    """Texts made here: digit tables, emoji and accents, long identifiers, whitespace,
    base64 and hex."""
    out: Corpus = {k: [] for k in ("digits", "emoji+accents", "long identifiers")}
    out.update({"whitespace": [], "base64/hex": []})
    for i in range(20):
        rows = [
            " ".join(_number(rng) for _ in range(rng.randint(3, 12)))
            for _ in range(rng.randint(50, 450))
        ]
        out["digits"].append((f"table {i}", "\n".join(rows)))
    emoji = [chr(c) for c in range(0x1F300, 0x1F6FF) if unicodedata.category(chr(c)) == "So"]
    words = "café déjà naïve façade Übermäßig größer Straße élève señor año São Øresund".split()
    parts = "get set user account http request response handler factory session token".split()
    for i in range(10):
        lines = [
            " ".join(rng.choice(emoji if rng.random() < 0.4 else words) for _ in range(8))
            for _ in range(100)
        ]
        out["emoji+accents"].append((f"emoji {i}", "\n".join(lines)))
        names = ["".join(p.capitalize() for p in rng.sample(parts, 5)) for _ in range(200)]
        calls = [f"        x{j} = {s}_{j}(y.{s})" for j, s in enumerate(names)]
        out["long identifiers"].append((f"idents {i}", "\n".join(calls)))
        ends = ["}", "end", "\t\tpass", "|  |"]
        pads = [" " * rng.randint(0, 60) + rng.choice(ends) for _ in range(300)]
        out["whitespace"].append((f"ws {i}", "\n".join(pads)))
        blob = "\n".join(base64.b64encode(rng.randbytes(57)).decode() for _ in range(40))
        hexes = [f'    "{rng.randbytes(32).hex()}": {rng.randint(0, 999)},' for _ in range(40)]
        out["base64/hex"] += [(f"base64 {i}", blob), (f"hex {i}", "\n".join(hexes))]
    return out


def corpus(n: int, seed: int = 0) -> Corpus:
    rng = random.Random(seed)
    kinds: Corpus = {k: _files(p, n, rng) for k, p in {**CODE, **MINIFIED}.items()}
    if not kinds["minified js"]:  # no node_modules here: minify the JS found, crudely
        kinds["minified js"] = [(f, " ".join(t.split())) for f, t in kinds["javascript"]]
    kinds["minified json"] = []
    for f, t in _files([f"{d}/**/package.json" for d in [*NODE, E2E]], n, rng):
        try:
            kinds["minified json"].append((f, json.dumps(json.loads(t), separators=(",", ":"))))
        except ValueError:
            continue
    kinds["cjk"] = _files([f"{STDLIB}/test/cjkencodings/*-utf8.txt"], n, rng)
    kinds["cjk"] += _files([f"{E2E}/**/i18n/locales/*.json"], n, rng)
    kinds.update(_generated(rng))
    return {k: v for k, v in kinds.items() if v}


def _pieces(text: str, rng: random.Random) -> Iterator[str]:
    lines = text.split("\n")
    for _ in range(4):
        a = rng.randrange(len(lines))
        yield "\n".join(lines[a : a + 30])


def ratios(
    texts: list[tuple[str, str]], count: Callable[[str], int], est: Callable[[str], int]
) -> tuple[list[float], float]:
    """Per-file ratios estimate / real, and the worst over 30-line pieces."""
    rng = random.Random(1)
    per_file, worst = [], math.inf
    for _, text in texts:
        real = count(text)
        if real:
            per_file.append(est(text) / real)
        for piece in _pieces(text, rng):
            n = count(piece)
            if n >= 30:
                worst = min(worst, est(piece) / n)
    return per_file, worst


def _old(text: str) -> int:
    return math.ceil(len(text) / 3.2) if text else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=60, help="files sampled per kind")
    args = ap.parse_args()
    enc = tiktoken.get_encoding("cl100k_base")

    def count(text: str) -> int:
        return len(enc.encode(text, disallowed_special=()))

    texts = corpus(args.files)
    head = f"{'kind':18} {'files':>5}  {'estimate / cl100k':>20}  {'30-line min':>11}"
    print(f"{head}  chars/3.2 (the old rule)")
    for kind, items in texts.items():
        new, worst = ratios(items, count, tokens.estimate)
        old, _ = ratios(items, count, _old)
        ours = f"{min(new):6.3f} {statistics.median(new):6.3f} {max(new):6.3f}"
        theirs = f"{min(old):.3f} {statistics.median(old):.3f} {max(old):.3f}"
        print(f"{kind:18} {len(items):5}  {ours}  {worst:11.3f}  {theirs}")
    everything = [t for items in texts.values() for _, t in items]
    gap = max(tokens.estimate(t) - sum(map(tokens.line_cost, t.split("\n"))) for t in everything)
    print(f"estimate minus the sum of its line costs, at most: {gap:.3f} (rounding up only)")
    lines = [ln for t in everything for ln in t.split("\n")]
    t0 = time.perf_counter()
    for ln in lines:
        tokens.line_cost(ln)
    per_line = (time.perf_counter() - t0) / len(lines) * 1e6
    chars = sum(map(len, lines)) / len(lines)
    print(f"line_cost: {per_line:.2f} us a line ({len(lines)} lines, {chars:.0f} chars on average)")


if __name__ == "__main__":
    sys.exit(main())
