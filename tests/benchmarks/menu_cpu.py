"""A code-action menu's CPU time in-process (thread CPU: steadier than a round trip on a busy
machine), on a warm cache home, with the server's memory settings (the index made ahead,
full collections off): three scenarios, each from the same fresh start.

    PYTHONPATH=server python tests/benchmarks/menu_cpu.py WS HOME [--n 200] [--repeat 1]
                          [--only menus|typing] [--file REL] [--typing REL] [--at LINE[:COL]]
                          [--automatic]

- first look: --n ranges of --file (default: the scale bench's action file; bench_scale's
  ranges, seed 7), each asked once (the menu as the issue's code-action figure has it);
- asked again: the same ranges asked again after a change elsewhere (any change makes a new
  listing: a keystroke in another file, a run, the ledger);
- typing: 60 keystrokes into --typing (default: the scale bench's 5k-line
  file; where: --at LINE[:COLUMN], else the end of the first non-blank line from the
  middle), a menu at the cursor after each one.

--automatic: every menu asked as an editor asks on its own (CodeActionTriggerKind.Automatic:
VS Code's lightbulb), within the smaller budget the server gives those.

For each: p50 / p90 / p99 CPU (ms) and the share of menus whose counts were a lower bound
(their work stopped short). HOME holds cache/index (SCOPEWISE_CACHE_DIR); its verdicts file
is copied aside and put back between scenarios, so each starts as the first one did.
Prints numbers only; never fails on time."""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_scale as bs
import scale_workspaces as sw
from lsprotocol import types

if TYPE_CHECKING:
    from scopewise.actions.plan import Actions
    from scopewise.lsp.documents import OpenDocuments
    from scopewise.lsp.listing import Listing, ServerEngine

Ask = Callable[[int, int | None], float]


class Server(NamedTuple):
    """What the language server's code-action handler is handed."""

    engine: ServerEngine
    actions: Actions
    listing: Listing
    docs: OpenDocuments

    def short(self) -> bool:
        """Whether the last menu's work stopped short (its counts a lower bound)."""
        return self.engine.work is not None and self.engine.work.short


def _engine(ws: Path) -> Server:
    """The server's engine on a warm cache (scopewise imported here: after main() has set
    the cache folder)."""
    from scopewise import settings as config
    from scopewise.actions.plan import Actions
    from scopewise.claude.ledger import Ledger
    from scopewise.index import graph
    from scopewise.lsp.capabilities import ClientSupport
    from scopewise.lsp.documents import OpenDocuments
    from scopewise.lsp.listing import Listing, ServerEngine

    settings = config.load(ws)[0]
    docs = OpenDocuments(ws, "utf-16")
    docs.max_bytes = settings.index.max_file_bytes  # as the server sets it
    engine = ServerEngine(ws, settings.index, documents=docs.by_rel)
    engine.index(workers=1)
    graph.made_ahead(engine.workspace.files)  # as the server's index thread does
    actions = Actions(engine, settings, ledger=Ledger())
    listing = Listing(ClientSupport(code_action_literals=True, disabled=True))
    gc.collect()
    gc.freeze()  # as lsp/collector.py: no full collection inside a request
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1 << 30)
    return Server(engine, actions, listing, docs)


AUTOMATIC = False  # --automatic


def _asker(ws: Path, rel: str, server: Server) -> tuple[Ask, str]:
    engine, actions, listing, docs = server
    text = (ws / rel).read_text(encoding="utf-8")
    uri = (ws / rel).as_uri()
    doc = docs.open(uri, text, 1)
    doc.settle()  # parsed before the first menu, as the server's loop steps and threads do
    if doc.needs_parse:
        doc.adopt(doc.background_parse()())

    def ask(start: int, end: int | None) -> float:
        end = start if end is None else end
        params = types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(start, 0), end=types.Position(end, 0)),
            context=types.CodeActionContext(
                diagnostics=[],
                trigger_kind=types.CodeActionTriggerKind.Automatic if AUTOMATIC else None,
            ),
        )
        listing.changed()
        t0 = time.thread_time()
        listing.code_actions(params, actions, engine, docs)
        return (time.thread_time() - t0) * 1000

    return ask, text


def _figures(name: str, ms: list[float], short: list[bool]) -> None:
    q = statistics.quantiles(ms, n=100, method="inclusive")
    print(
        f"{name:12s} n={len(ms):4d}  p50 {statistics.median(ms):6.2f}  p90 {q[89]:6.2f}  "
        f"p99 {q[98]:6.2f}  max {max(ms):6.2f} ms   lower bounds {100 * sum(short) / len(ms):4.1f}%"
    )


def first_and_again(ws: Path, rel: str, n: int) -> None:
    server = _engine(ws)
    ask, text = _asker(ws, rel, server)
    todo = bs.ranges(text, n, 7)
    for label in ("first look", "asked again"):
        ms, short = [], []
        for a, b in todo:
            ms.append(ask(a, b))
            short.append(server.short())
        _figures(label, ms, short)


def typing(ws: Path, rel: str, keys: int = 60, at: str | None = None) -> None:
    server = _engine(ws)
    ask, text = _asker(ws, rel, server)
    uri = (ws / rel).as_uri()
    lines = text.splitlines()
    line, _, column = (at or "").partition(":")
    if line:
        row = int(line) - 1
    else:
        row = next(i for i in range(len(lines) // 2, len(lines)) if lines[i].strip())
    col = int(column) if column else len(lines[row])
    for _ in range(20):  # the cursor's definition looked at before the typing starts
        ask(row, None)
    ms, short = [], []
    for i in range(keys):
        end = types.Position(row, col + (i % 2))
        edit = types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(row, col), end=end),
            text="x" if i % 2 == 0 else "",
        )
        doc = server.docs.change(uri, [edit], i + 2)
        assert doc is not None
        doc.settle()  # the parse finished between messages, as the loop's steps do
        ms.append(ask(row, None))
        short.append(server.short())
    _figures("typing", ms, short)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("ws", type=Path)
    ap.add_argument("home", type=Path)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--only", choices=("menus", "typing"), help="one scenario alone")
    ap.add_argument("--file", default=sw.ACTION_FILE, help="first look and asked again")
    ap.add_argument("--typing", default=sw.KEYS_5K, help="the file typed into")
    ap.add_argument(
        "--at", help="LINE[:COLUMN] typed at (1-based line; default: mid-file, its end)"
    )
    ap.add_argument("--automatic", action="store_true", help="asked by the editor on its own")
    args = ap.parse_args()
    global AUTOMATIC
    AUTOMATIC = args.automatic
    os.environ["SCOPEWISE_CACHE_DIR"] = str(args.home / "cache")
    os.environ.setdefault("SCOPEWISE_STATE_DIR", str(args.home / "state"))
    os.environ.setdefault("SCOPEWISE_CONFIG_DIR", str(args.home / "config"))
    index = args.home / "cache" / "index"

    def typing_() -> None:
        typing(args.ws, args.typing, at=args.at)

    verdicts = sorted(index.glob("*.verdicts")) if index.is_dir() else []
    for path in verdicts:
        shutil.copy(path, path.with_suffix(".verdicts-aside"))
    try:
        for _ in range(args.repeat):
            scenarios = {
                "menus": lambda: first_and_again(args.ws, args.file, args.n),
                "typing": typing_,
            }
            for name, scenario in scenarios.items():
                if args.only not in (None, name):
                    continue
                for path in verdicts:
                    shutil.copy(path.with_suffix(".verdicts-aside"), path)
                scenario()
    finally:
        for path in verdicts:
            shutil.move(path.with_suffix(".verdicts-aside"), path)


if __name__ == "__main__":
    main()
