"""The `scopewise` command: the same engine as the language server, for scripts, CI and
debugging. Errors are one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from scopewise import __version__
from scopewise.cli.args import (
    add_action_parsers,
    add_project_parsers,
    answered,
    budget_arg,
    check_path,
    parse_range,
    setup,
)
from scopewise.cli.terminal import safe
from scopewise.settings import Settings
from scopewise.vocab import Action, EngineError

if TYPE_CHECKING:  # the analysis is imported as a command runs (`answered`: after its check starts)
    from scopewise.analysis.context import Context
    from scopewise.analysis.engine import Engine

EXIT_ERROR = 2


def _engine_for(file: str | None, root: str | None) -> Engine:
    engine, _ = setup(file, root)
    return engine


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=str)


# ---------------------------------------------------------------------------- commands
def cmd_index(args: argparse.Namespace) -> int:
    from scopewise.index.files import left_out

    engine = _engine_for(None, check_path(args.path or "."))
    stats = engine.index(workers=args.workers)
    lo = left_out(stats.skipped, engine.workspace.settings.max_files)
    if args.json:
        d = asdict(stats)
        d["skipped"] = [asdict(s) for s in stats.skipped]
        d["left_out"] = lo.to_dict() if lo else None
        print(_dump(d))
        return 0
    langs = ", ".join(f"{k} {v}" for k, v in stats.languages.items()) or "none"
    print(f"root        {stats.root}")
    print(f"files       {stats.files:,} ({langs})")
    print(f"symbols     {stats.symbols:,}")
    print(f"references  {stats.references:,}")
    print(f"seconds     {stats.seconds:.2f}")
    print(f"cache hits  {stats.cache_hits:,} (parsed {stats.parsed:,})")
    print(f"skipped     {len(stats.skipped):,}")
    for s in stats.skipped[:20]:
        print(f"  {s.path}: {s.reason}")
    if len(stats.skipped) > 20:
        print(f"  … and {len(stats.skipped) - 20} more (--json lists all)")
    if lo:
        print(lo.message(), file=sys.stderr)
    return 0


def cmd_scope(args: argparse.Namespace) -> int:
    file, start, end = parse_range(args.range)
    scope = answered(file, args.root, lambda engine, _: engine.scope(file, start, end))
    if args.json:
        print(_dump(scope.to_dict()))
        return 0
    print(f"{scope.path}:{scope.start_line}-{scope.end_line}  score {scope.score}")
    print("  " + scope.summary)
    for t in scope.targets:
        pub = "public" if t.exported else "private"
        print(f"  target  {t.kind} {t.qualified} ({pub}, {t.path}:{t.line})")
    print(
        f"  fan-in {scope.fan_in} in {scope.fan_in_files} files; fan-out {scope.fan_out};"
        f" files {len(scope.files)}; tests {len(scope.tests)}"
    )
    return 0


def cmd_context(args: argparse.Namespace) -> int:
    if args.jsonl:
        return _context_jsonl(args)
    if not args.range:
        raise EngineError("context needs FILE:START[-END] (or --jsonl)")
    file, start, end = parse_range(args.range)
    ctx = answered(file, args.root, lambda e, _: e.context(file, start, end, args.budget))
    if args.json:
        print(_dump(ctx.to_dict()))
        return 0
    print(ctx.render())
    print()
    sys.stderr.write(_manifest(ctx))  # in one write: a wide range lists a thousand lines
    return 0


def _manifest(ctx: Context) -> str:
    """What the context holds, left out and redacted: a line each, for stderr."""
    lines = [f"--- manifest: {ctx.tokens:,} of {ctx.budget:,} tokens"]
    for s in ctx.snippets:
        where = f"{s.path}:{s.start_line}-{s.end_line}"
        lines.append(f"  {s.kind:<9} {where} ~{s.tokens} tok  {s.symbol} — {s.reason}")
    for d in ctx.dropped:
        lines.append(f"  dropped   {d.path}:{d.start_line}-{d.end_line} {d.symbol} — {d.reason}")
    for r in ctx.redactions:
        lines.append(f"  redacted  {r.path}:{r.line} ({r.what})")
    return "\n".join(lines) + "\n"


def _context_jsonl(args: argparse.Namespace) -> int:
    """One JSON request per stdin line, one JSON answer per stdout line (ctxbench protocol)."""
    from scopewise.analysis.engine import Engine

    engines: dict[str, Engine] = {}

    def engine(repo: str | None) -> Engine:
        key = str(Path(repo or args.root or ".").resolve())
        eng = engines.get(key)
        if eng is None:
            eng = engines[key] = Engine(key)
            eng.index()
        return eng

    if args.root:
        engine(check_path(args.root, "--root"))
    for raw in sys.stdin:
        raw = raw.strip()
        if not raw:
            continue
        t0 = time.perf_counter()
        try:
            req = json.loads(raw)
            if not isinstance(req, dict):
                raise EngineError("a request is a JSON object")
            ctx = _jsonl_context(engine(req.get("repo")), req, args.budget)
            out: dict[str, Any] = {
                "snippets": [
                    {"path": b.path, "start_line": b.start_line, "end_line": b.end_line}
                    for b in ctx.blocks
                ],
                "tokens": ctx.tokens,
                "manifest": [asdict(s) for s in ctx.snippets],
                "budget": ctx.budget,
                "dropped": len(ctx.dropped),
                "ms": round((time.perf_counter() - t0) * 1000, 2),
            }
        except (EngineError, KeyError, ValueError, TypeError, OSError) as exc:
            msg = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            out = {"error": msg, "snippets": []}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
    return 0


def _jsonl_context(eng: Engine, req: dict[str, Any], default_budget: int) -> Context:
    """One JSONL request's context. With an "action" (explain, refactor, fix), the budget that
    action picks from the range's reach (as a plan would), the request's budget its hard cap;
    without, the context at the request's budget."""
    cap = int(req.get("budget", default_budget))
    action = req.get("action")
    file = str(eng.root / str(req["file"]))
    start = int(req["start_line"])
    end = int(req.get("end_line") or start)
    if action is None:
        return eng.context(file, start, end, cap)
    if action not in tuple(Action):
        raise EngineError(f"unknown action {action!r} (explain, refactor or fix)")
    from scopewise.actions.budget import contexts_for  # the actions only where one is asked

    eng.sync(file)
    analysis = eng.analyze(file, start, end)
    floor = min(Settings().context_budget, cap)
    contexts = contexts_for(
        [action], lambda b, wide: eng.context_for(analysis, b, wide), floor, cap
    )
    return contexts[action]


def cmd_serve(args: argparse.Namespace) -> int:
    tcp = None
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not host or not port.isdigit():
            raise EngineError(f"--tcp {args.tcp}: expected HOST:PORT")
        tcp = (host, int(port))
    from scopewise.lsp import serve

    return serve(tcp)


# ---------------------------------------------------------------------------- main
class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line, like every other error (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see {self.prog} -h)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="scopewise", description="Claude in your editor, reasoning sized to the change."
    )
    parser.add_argument("--version", action="version", version=f"scopewise {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="index a workspace and print what it holds")
    p.add_argument("path", nargs="?", help="the workspace root (default: .)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--workers", type=int, default=None, help="parser processes (default: cores)")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("scope", help="how far a change to a range reaches")
    p.add_argument("range", help="FILE:START[-END], 1-based lines")
    p.add_argument("--root", help="workspace root (default: found from the file)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_scope)

    p = sub.add_parser("context", help="the packed context for a range")
    p.add_argument("range", nargs="?", help="FILE:START[-END], 1-based lines")
    p.add_argument("--budget", type=budget_arg, default=4000, help="token budget (default 4000)")
    p.add_argument("--root", help="workspace root (default: found from the file)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--jsonl", action="store_true", help="serve JSON-lines requests on stdin")
    p.set_defaults(func=cmd_context)

    add_action_parsers(sub)
    add_project_parsers(sub)

    p = sub.add_parser("serve", help="run the language server (stdio unless --tcp)")
    p.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    p.add_argument("--stdio", action="store_true", help="stdio (the default; clients pass it)")
    p.set_defaults(func=cmd_serve)
    return parser


# commands that only read: run as the program, they end without tearing the interpreter down
_QUICK_EXIT = frozenset({"context", "scope", "plan"})


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command != "serve":  # the server runs its own collector (lsp/collector.py)
        # a command makes ~10^5 lasting objects at its start (the stored listing, the file
        # table): collected as they are made, they cost a fifth of a warm command's answer.
        # Collected 1,000 times less often, as mypy does; memory stays bounded
        gc.set_threshold(200_000, 30, 30)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    code = _run(args)
    if argv is None and args.command in _QUICK_EXIT:  # the program, not a caller's call
        _exit_now(code)
    return code


def _run(args: argparse.Namespace) -> int:
    try:
        result: int = args.func(args)
        return result
    except EngineError as exc:
        print(f"scopewise: {safe(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # `scopewise ... | head`: the reader left; say nothing (an
        # OSError too: caught before it)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as exc:
        print(f"scopewise: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("scopewise: interrupted", file=sys.stderr)
        return 130


def _exit_now(code: int) -> None:
    """End a read-only command at once, its output flushed: the interpreter's teardown frees
    the ~10^5 objects of a 50k-file workspace one by one (~50 ms; mypy ends the same way).
    Not while a thread that is not a daemon runs (its work would be cut short)."""
    if any(not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # the reader left: nothing more to say
        code = code or 1
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
