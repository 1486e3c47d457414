"""Does an extractor give the same FileIndex as another (main's)? Byte for byte, as cached.

    python tests/benchmarks/extract_equivalence.py OTHER_SERVER_DIR [ROOT] [--per N]
        (default ROOT: /work/scale/ws10k; N files per language, default 300)

A seeded sample of every language of ROOT is extracted twice, each in a fresh process: once
with this tree's `scopewise` (the one on PYTHONPATH) and once with OTHER_SERVER_DIR's (e.g.
/work/main/server). Each file's `FileIndex.dumps()` (what the cache stores) is compared;
for a file that differs, the fields that differ are printed. Exit status 1 on any difference.
Also prints each side's extraction CPU (the same files, one process, one after the other).
"""

from __future__ import annotations

import marshal
import os
import random
import subprocess
import sys
import tempfile
import textwrap
from array import array
from pathlib import Path

from scopewise.index.model import RECV_BITS

_EXTRACT = textwrap.dedent(
    """
    import marshal, sys, time
    from scopewise.index import extract
    rels = marshal.loads(open(sys.argv[2], "rb").read())
    out, cpu = {}, 0.0
    for rel, lang in rels:
        data = open(f"{sys.argv[1]}/{rel}", "rb").read()
        c0 = time.process_time()
        try:
            blob = extract.extract(rel, lang, data).dumps()
        except extract.ParseTimeout as exc:
            blob = str(exc).encode()
        cpu += time.process_time() - c0
        out[rel] = blob
    open(sys.argv[3], "wb").write(marshal.dumps((out, cpu)))
    """
)
_FIELDS = ("schema", "language", "line_count", "definitions", "refs", "imports", "errors")


def sample(root: Path, per: int) -> list[tuple[str, str]]:
    """Up to `per` readable files of each language of `root` (seeded: the same every run)."""
    from scopewise.index import languages
    from scopewise.index.files import content_problem, list_files
    from scopewise.settings import FileSettings

    settings = FileSettings()
    by_lang: dict[str, list[str]] = {}
    for rel in list_files(root).files:
        spec = languages.language_for_path(rel)
        if spec is not None:
            by_lang.setdefault(spec.name, []).append(rel)
    out: list[tuple[str, str]] = []
    for lang, rels in sorted(by_lang.items()):
        random.Random(7).shuffle(rels)
        taken = 0
        for rel in rels:
            if taken >= per:
                break
            data = (root / rel).read_bytes()
            if len(data) <= settings.max_file_bytes and content_problem(data, settings) is None:
                out.append((rel, lang))
                taken += 1
    return out


def run(server: str, root: Path, listing: str, dest: str) -> tuple[dict[str, bytes], float]:
    env = {**os.environ, "PYTHONPATH": server}
    subprocess.run([sys.executable, "-c", _EXTRACT, str(root), listing, dest], env=env, check=True)
    blobs, cpu = marshal.loads(Path(dest).read_bytes())
    return blobs, cpu


def canonical(blob: bytes) -> dict[str, object] | None:
    """A dumped FileIndex's fields in an order-free form: main's extraction already varies
    run to run in the order of its dicts (refs, receivers) and of evidence on one line (the
    order tree-sitter returns captures in), never in what they hold."""
    try:
        data = marshal.loads(blob)
    except (ValueError, EOFError, TypeError):
        return None
    if not isinstance(data, tuple) or len(data) != len(_FIELDS) + 1:
        return None
    out = dict(zip(_FIELDS, data, strict=False))
    out["refs"] = sorted(data[4].items())
    recv, keys, evidence, returns, owners = marshal.loads(data[-1])
    mask = (1 << RECV_BITS) - 1
    out["receivers"] = sorted(
        (name, sorted((v >> RECV_BITS, keys[v & mask]) for v in array("q", packed)))
        for name, packed in recv.items()
    )
    out["recv_keys"] = sorted(keys)
    out["evidence"] = sorted(evidence)
    out["returns"], out["owners"] = returns, owners
    return out


def differences(a: bytes, b: bytes) -> list[str]:
    """The names of the fields two dumped FileIndexes differ in (order aside)."""
    if a == b:
        return []
    ca, cb = canonical(a), canonical(b)
    if ca is None or cb is None:
        return [] if a == b else ["not a FileIndex: " + repr(a[:80]) + " / " + repr(b[:80])]
    return [name for name in ca if ca[name] != cb[name]]


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    per = int(sys.argv[sys.argv.index("--per") + 1]) if "--per" in sys.argv else 300
    if "--per" in sys.argv:
        args.remove(str(per))
    other = args[0]
    root = Path(args[1] if len(args) > 1 else "/work/scale/ws10k")
    mine = str(Path(__file__).resolve().parents[2] / "server")

    files = sample(root, per)
    with tempfile.TemporaryDirectory() as tmp:
        listing = f"{tmp}/files"
        Path(listing).write_bytes(marshal.dumps(files))
        theirs, their_cpu = run(other, root, listing, f"{tmp}/theirs")
        ours, our_cpu = run(mine, root, listing, f"{tmp}/ours")
    langs: dict[str, int] = {}
    bad = same = 0
    for rel, lang in files:
        langs[lang] = langs.get(lang, 0) + 1
        same += theirs[rel] == ours[rel]
        diff = differences(theirs[rel], ours[rel])
        if diff:
            bad += 1
            print(f"DIFFERS {lang} {rel}: {', '.join(diff)}")
    spread = ", ".join(f"{k} {v}" for k, v in sorted(langs.items()))
    print(f"{len(files):,} files ({spread}); {bad} differ ({same:,} byte for byte the same)")
    print(f"extraction CPU: {other} {their_cpu:.2f} s, this tree {our_cpu:.2f} s")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
