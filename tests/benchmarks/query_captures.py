"""Does the index query capture the same nodes as the wheels' tags queries as they ship?

    python tests/benchmarks/query_captures.py [ROOT] [--languages a,b,...]
        (default ROOT: /work/scale/ws10k; default languages: those whose wheel asks for doc
        comments, which `languages.without_docs` leaves out)

For every readable file of those languages in ROOT, the tree is queried twice: with
`languages.index_query` and with the same query built from the wheels' tags as they ship
(doc comments and all). Each capture name's nodes (start, end, type, in the order given) must
be the same, but for @doc, which the index never reads: the extraction reads nothing else of
a query, so its FileIndex is the same. Prints the files compared and the query CPU of each
side against the parse; exit status 1 on any difference.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import tree_sitter as ts

from scopewise.index import languages
from scopewise.index.files import content_problem, list_files
from scopewise.settings import FileSettings

_DOC_LANGUAGES = ("javascript", "typescript", "tsx", "go", "ruby")


def as_shipped(name: str) -> ts.Query:
    """The index query before `without_docs`: the wheels' tags as they ship."""
    return languages.query_over(name, languages.query_source(name))


Seen = dict[str, list[tuple[int, int, str]]]


def captured(query: ts.Query, root: ts.Node) -> tuple[Seen, float]:
    c0 = time.process_time()
    caps = ts.QueryCursor(query).captures(root)
    cpu = time.process_time() - c0
    seen = {k: [(n.start_byte, n.end_byte, n.type) for n in v] for k, v in caps.items()}
    seen.pop("doc", None)
    return seen, cpu


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    wanted = _DOC_LANGUAGES
    if "--languages" in sys.argv:
        wanted = tuple(sys.argv[sys.argv.index("--languages") + 1].split(","))
        args = [a for a in args if a != ",".join(wanted)]
    root = Path(args[0] if args else "/work/scale/ws10k")
    settings = FileSettings()
    cpu: dict[str, list[float]] = {name: [0.0, 0.0, 0.0] for name in wanted}  # parse, old, new
    files: dict[str, int] = dict.fromkeys(wanted, 0)
    bad = 0
    for rel in list_files(root).files:
        spec = languages.language_for_path(rel)
        if spec is None or spec.name not in wanted:
            continue
        data = (root / rel).read_bytes()
        if len(data) > settings.max_file_bytes or content_problem(data, settings) is not None:
            continue
        c0 = time.process_time()
        tree = languages.parser(spec.name).parse(data)
        cpu[spec.name][0] += time.process_time() - c0
        old, old_cpu = captured(as_shipped(spec.name), tree.root_node)
        new, new_cpu = captured(languages.index_query(spec.name), tree.root_node)
        cpu[spec.name][1] += old_cpu
        cpu[spec.name][2] += new_cpu
        files[spec.name] += 1
        if old != new:
            bad += 1
            keys = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
            print(f"DIFFERS {rel}: {', '.join(keys)}")
    for name in wanted:
        parse, old_q, new_q = cpu[name]
        ratio = f"{old_q / parse:.2f}x -> {new_q / parse:.2f}x the parse" if parse else "-"
        print(f"{name}: {files[name]:,} files, query {ratio}")
    print(f"{sum(files.values()):,} files; {bad} differ")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
