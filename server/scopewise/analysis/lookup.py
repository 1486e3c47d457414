"""Read-only look-ups over the index for the deep tier's plan step: the uses of a symbol, its
definition, lines of a file, a text search — answered locally, as text for a tool result.

The same privacy rules as a context: only files the index holds or admits are read (never an
excluded, ignored or secrets file, nor a path outside the root or a link out of it), every
line goes through `redact`, and text comes from `Sources` (open buffers first, then the
disk). Each answer is cut at a token cap and says what it left out. A bad request (unknown
tool or symbol, a wrong argument, a path not in the workspace) is an answer with `error`
set and one line saying why, never an exception: the model reads it and tries again.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import regex

from scopewise.analysis import redact, tokens
from scopewise.analysis.candidates import Site
from scopewise.analysis.engine import Engine
from scopewise.analysis.packing import file_header, site_note
from scopewise.analysis.sites import CallerSite
from scopewise.index.extract import is_time_limit
from scopewise.index.files import inside
from scopewise.index.model import FileIndex
from scopewise.index.workspace import WorkspaceIndex
from scopewise.vocab import plural

MAX_SPAN = 400  # lines one read_lines answers at most
MAX_DEFINITIONS = 8  # definitions of an ambiguous name looked at
MAX_MATCHES = 200  # lines of a search answered at most (before the token cap)
MAX_PATTERN = 200  # characters of a search pattern
MAX_SYMBOL = 200
SEARCH_SECONDS = 2.0  # a search (a regex's matching included) stops after this long
LINE_CHARS = 240  # a line of a list is clipped to this many characters
TAIL_TOKENS = 40  # room kept under the cap for the "N more" line
MIN_TOKENS = 200
NOT_INDEXED = "not in the workspace's indexed files"

Decl = tuple[FileIndex, int]


@dataclass(frozen=True)
class LookupAnswer:
    """One tool's answer: `text` goes back to the model as the tool_result content."""

    text: str
    tokens: int  # analysis.tokens estimate of text
    doing: str  # progress words, e.g. "looking up the callers of Client.send"
    error: bool = False  # a bad request (unknown symbol, path not in the workspace, ...)


def _schema(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }


_SYMBOL = {
    "type": "string",
    "description": "a name as written in code: bare (send), qualified by its class "
    "(Client.send) or by its module (pkg.mod.send)",
}

TOOLS: dict[str, tuple[str, dict[str, Any]]] = {
    "find_references": (
        "Every use of a symbol in the workspace's indexed files, a line each as "
        "'path:line: text' (1-based lines), grouped by file: the uses the index is sure of "
        "first, then guesses marked '<- unsure'.",
        _schema({"symbol": _SYMBOL}, ["symbol"]),
    ),
    "read_definition": (
        "The source of a symbol's definition (every definition when the name is ambiguous), "
        "under '### path' and '@@ first-last kind name' (1-based lines).",
        _schema({"symbol": _SYMBOL}, ["symbol"]),
    ),
    "read_lines": (
        f"Lines of a workspace file, numbered (1-based, inclusive; at most {MAX_SPAN} lines "
        "at a time).",
        _schema(
            {
                "path": {"type": "string", "description": "workspace-relative path"},
                "start": {"type": "integer", "minimum": 1},
                "end": {"type": "integer", "minimum": 1},
            },
            ["path", "start", "end"],
        ),
    ),
    "search_text": (
        "Lines of the workspace's indexed files containing a text (case-sensitive), or "
        "matching a regular expression with regex=true, as 'path:line: text'.",
        _schema(
            {
                "pattern": {"type": "string"},
                "regex": {"type": "boolean", "default": False},
            },
            ["pattern"],
        ),
    ),
}


class _Bad(Exception):
    """A request that cannot be answered; the message is the one line the model reads."""


def shown(text: str, limit: int = 60) -> str:
    """A model-given text made fit for progress words: no control characters, clipped."""
    clean = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text).strip()
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def _clip(line: str) -> str:
    line = line.strip()
    return line if len(line) <= LINE_CHARS else line[: LINE_CHARS - 1] + "…"


class _Text:
    """Lines under a token cap: `add` refuses a line once the cap would be passed."""

    def __init__(self, cap: int) -> None:
        self.lines: list[str] = []
        self.cap = cap
        self.cost = 0.0
        self.full = False

    def add(self, line: str) -> bool:
        cost = tokens.line_cost(line)
        if self.full or self.cost + cost > self.cap:
            self.full = True
            return False
        self.lines.append(line)
        self.cost += cost
        return True


# ---------------------------------------------------------------------- arguments
def _str_arg(args: dict[str, Any], key: str, limit: int) -> str:
    value = args.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _Bad(f"'{key}' must be a non-empty string")
    if len(value) > limit:
        raise _Bad(f"'{key}' is too long ({len(value)} characters; at most {limit})")
    return value


def _int_arg(args: dict[str, Any], key: str) -> int:
    value = args.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(f"'{key}' must be an integer (a 1-based line)")
    return value


def _bool_arg(args: dict[str, Any], key: str, default: bool) -> bool:
    value = args.get(key, default)
    if not isinstance(value, bool):
        raise _Bad(f"'{key}' must be true or false")
    return value


# ---------------------------------------------------------------------- symbols
def module_of(path: str) -> str:
    """A file's dotted module path (``shop/pricing.py`` -> ``shop.pricing``; a package's
    ``__init__``/``index``/``mod`` file is the package)."""
    stem = path.rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path
    parts = stem.split("/")
    if len(parts) > 1 and parts[-1] in ("__init__", "index", "mod"):
        parts.pop()
    return ".".join(parts)


def _names(fi: FileIndex, i: int) -> list[str]:
    """The dotted names a definition answers to, its module's included (a Go method also
    by its receiver type: ``Circle.Area``)."""
    qual = fi.qualified_name(i)
    names = [qual, f"{module_of(fi.path)}.{qual}"]
    owner = fi.owner_of(i)
    if owner:
        names += [f"{owner}.{qual}", f"{module_of(fi.path)}.{owner}.{qual}"]
    return names


def symbol_parts(symbol: str) -> list[str]:
    """A symbol as written (``Client.send``, ``Client::send``, ``Client#send``,
    ``send()``) split into its dotted parts; _Bad for something that is not a name."""
    text = symbol.strip().removesuffix("()")
    for sep in ("::", "#", "->", "/"):
        text = text.replace(sep, ".")
    parts = [p for p in text.split(".") if p]
    if not parts or any(not (p.replace("$", "_").isidentifier()) for p in parts):
        raise _Bad(f"'{shown(symbol)}' is not a symbol name (e.g. send, Client.send)")
    return parts


def definitions(ws: WorkspaceIndex, symbol: str) -> list[Decl]:
    """The indexed definitions a symbol names, in (path, index) order: every definition of a
    bare name; of a dotted one, those whose qualified or module-qualified name ends with it."""
    parts = symbol_parts(symbol)
    found = ws.definitions_named(parts[-1])
    if len(parts) == 1:
        return found
    want = ".".join(parts)
    return [
        (fi, i)
        for fi, i in found
        if any(n == want or n.endswith("." + want) for n in _names(fi, i))
    ]


def _where(fi: FileIndex, i: int) -> str:
    d = fi.definitions[i]
    more = len(fi.overloads(i))
    said = f", {more} overloads" if more > 1 else ""
    return f"{fi.qualified_name(i)} ({d.kind}, {fi.path}:{d.name_line + 1}{said})"


def distinct(decls: list[Decl]) -> list[Decl]:
    """One declaration per symbol: the first of each file's overloads (`@overload` stubs
    and their implementation, TypeScript overload signatures), whose sites are the same."""
    out: list[Decl] = []
    seen: set[tuple[str, int]] = set()
    for fi, i in decls:
        if (fi.path, i) not in seen:
            out.append((fi, i))
            seen.update((fi.path, j) for j in fi.overloads(i))
    return out


def _resolve(ws: WorkspaceIndex, symbol: str) -> list[Decl]:
    """`definitions`, or _Bad saying what the index has instead."""
    found = definitions(ws, symbol)
    if found:
        return found
    name = symbol_parts(symbol)[-1]
    others = ws.definitions_named(name)
    if not others:
        raise _Bad(f"no definition named '{shown(name)}' in the workspace's indexed files")
    others = distinct(others)
    listed = ", ".join(_where(fi, i) for fi, i in others[:5])
    more = f" and {len(others) - 5} more" if len(others) > 5 else ""
    raise _Bad(f"no definition matches '{shown(symbol)}'; named {name}: {listed}{more}")


def _merge_sites(groups: Iterable[list[CallerSite]]) -> list[CallerSite]:
    """The sites of several definitions, once per line (the surer verdict kept)."""
    best: dict[tuple[str, int], CallerSite] = {}
    for sites in groups:
        for s in sites:
            old = best.get((s.path, s.line))
            if old is None or (s.certain, s.confidence) > (old.certain, old.confidence):
                best[(s.path, s.line)] = s
    return sorted(best.values(), key=lambda s: (not s.certain, s.path, s.line))


def _note(s: CallerSite) -> str:
    """What the context's site list says beside the line (packing.site_note)."""
    return site_note(Site(s.path, s.line, s.caller, None, "", s.confidence, s.via, s.certain))


# ---------------------------------------------------------------------- the tools
class Lookups:
    """The answers to the plan step's look-ups, from one engine (read-only)."""

    def __init__(self, engine: Engine, *, max_tokens: int = 4000) -> None:
        self.engine = engine
        self.max_tokens = max(MIN_TOKENS, max_tokens)
        self._clean: dict[tuple[str, str], list[str]] = {}
        self._tools: dict[str, Callable[[dict[str, Any]], str]] = {
            "find_references": self._find_references,
            "read_definition": self._read_definition,
            "read_lines": self._read_lines,
            "search_text": self._search_text,
        }

    def answer(self, name: str, args: dict[str, Any]) -> LookupAnswer:
        """The answer to one tool use; a bad request is an answer with `error` set."""
        tool = self._tools.get(name) if isinstance(name, str) else None
        if tool is None:
            known = ", ".join(TOOLS)
            return _answer(f"unknown tool '{shown(str(name))}' (tools: {known})", "", True)
        if not isinstance(args, dict):
            return _answer("the tool's input must be an object", "", True)
        doing = _doing(name, args)
        try:
            text = tool(args)
        except _Bad as exc:
            return _answer(str(exc), doing, True)
        except OSError as exc:
            return _answer(f"cannot read the file ({exc.strerror or exc})", doing, True)
        return _answer(text, doing, False)

    # ------------------------------------------------------------------ files
    def admitted(self, path: object) -> str | None:
        """The workspace path of a file the look-ups may read, or None: a file the index
        holds, or one it admits (not excluded, ignored, a secret or a link out) and has not
        left out for its content; never an absolute path or one climbing out with ``..``."""
        if not isinstance(path, str) or not path or "\0" in path:
            return None
        p = path.replace("\\", "/")
        if p.startswith("/") or (len(p) > 1 and p[1] == ":"):
            return None
        parts = [s for s in p.split("/") if s not in ("", ".")]
        if not parts or ".." in parts:
            return None
        rel = "/".join(parts)
        ws = self.engine.workspace
        if not inside(ws.root, rel):
            return None
        if rel in ws.files:
            return rel
        reason = ws.skipped.get(rel)
        if reason is not None and not is_time_limit(reason):
            return None
        exists = (ws.root / rel).is_file() or self.engine.sources.is_open(rel)
        return rel if exists and ws.admits(rel) else None

    def lines(self, rel: str) -> list[str]:
        """The file's current lines, redacted (once per version of the file)."""
        src = self.engine.sources.get(rel)
        key = (rel, src.digest)
        hit = self._clean.get(key)
        if hit is None:
            hit = redact.redact_lines(src.lines)[0]
            if len(self._clean) >= 64:
                self._clean.pop(next(iter(self._clean)))
            self._clean[key] = hit
        return hit

    # ------------------------------------------------------------------ find_references
    def _find_references(self, args: dict[str, Any]) -> str:
        symbol = _str_arg(args, "symbol", MAX_SYMBOL)
        decls = distinct(_resolve(self.engine.workspace, symbol))
        looked = decls[:MAX_DEFINITIONS]
        sites = _merge_sites(self.engine.resolver.callers(fi, i) for fi, i in looked)
        out = _Text(self.max_tokens - TAIL_TOKENS)
        out.add(self._references_head(symbol, decls, looked, sites))
        rest: list[CallerSite] = []
        for n, s in enumerate(sites):
            try:
                text = self.lines(s.path)[s.line] if self.admitted(s.path) else None
            except (OSError, IndexError):
                continue  # gone since it was indexed
            if text is None:
                continue
            note = _note(s)
            row = f"{s.path}:{s.line + 1}: {_clip(text)}" + (f"  <- {note}" if note else "")
            if not out.add(row):
                rest = sites[n:]
                break
        if rest:
            files = len({s.path for s in rest})
            out.lines.append(
                f"{plural(len(rest), 'more site')} in {plural(files, 'file')} "
                f"(cut at {self.max_tokens} tokens)"
            )
        return "\n".join(out.lines)

    @staticmethod
    def _references_head(
        symbol: str, decls: list[Decl], looked: list[Decl], sites: list[CallerSite]
    ) -> str:
        files = len({s.path for s in sites})
        unsure = sum(not s.certain for s in sites)
        count = f"{plural(len(sites), 'site')} in {plural(files, 'file')}"
        if unsure:
            count += f" ({unsure} unsure)"
        if len(decls) == 1:
            what = _where(*decls[0])
        else:
            what = f"{shown(symbol)} ({len(decls)} definitions: " + ", ".join(
                _where(fi, i) for fi, i in looked
            )
            if len(decls) > len(looked):
                what += f"; the first {len(looked)} looked up, qualify the name for the others"
            what += ")"
        if not sites:
            return f"no uses of {what} outside its definition"
        return f"uses of {what}: {count}"

    # ------------------------------------------------------------------ read_definition
    def _read_definition(self, args: dict[str, Any]) -> str:
        symbol = _str_arg(args, "symbol", MAX_SYMBOL)
        decls = _resolve(self.engine.workspace, symbol)
        out = _Text(self.max_tokens - TAIL_TOKENS)
        if len(distinct(decls)) > 1:
            out.add(f"{shown(symbol)} is ambiguous: {len(decls)} definitions, each below")
        elif len(decls) > 1:
            out.add(f"{shown(symbol)}: {len(decls)} overloads, each below")
        left: list[Decl] = []
        for fi, i in decls[:MAX_DEFINITIONS]:
            if out.full or not self.admitted(fi.path):
                left.append((fi, i))
            else:
                self._definition_block(out, fi, i)
        left += decls[MAX_DEFINITIONS:]
        if left:
            out.lines.append(
                f"{plural(len(left), 'more definition')} not shown: "
                + ", ".join(_where(fi, i) for fi, i in left[:5])
            )
        return "\n".join(out.lines)

    def _definition_block(self, out: _Text, fi: FileIndex, i: int) -> None:
        """One definition under its file header and marker, cut at the cap with a line
        saying how to read the rest."""
        d = fi.definitions[i]
        lines = self.lines(fi.path)
        last = min(d.end_line, len(lines) - 1)
        out.add(file_header(fi.path))
        out.add(f"@@ {d.start_line + 1}-{last + 1} {d.kind} {fi.qualified_name(i)}")
        for n in range(d.start_line, last + 1):
            if not out.add(lines[n]):
                out.lines.append(
                    f"… cut at {self.max_tokens} tokens: read_lines {fi.path} "
                    f"{n + 1}-{last + 1} for the rest"
                )
                return

    # ------------------------------------------------------------------ read_lines
    def _read_lines(self, args: dict[str, Any]) -> str:
        raw = args.get("path")
        start, end = _int_arg(args, "start"), _int_arg(args, "end")
        rel = self.admitted(raw)
        if rel is None:
            raise _Bad(f"{shown(str(raw), 120)}: {NOT_INDEXED}")
        if start < 1 or end < start:
            raise _Bad(f"bad range {start}-{end} (1-based, start <= end)")
        lines = self.lines(rel)
        if start > len(lines):
            raise _Bad(f"{rel}: line {start} is past the end ({len(lines)} lines)")
        last = min(end, len(lines), start + MAX_SPAN - 1)
        out = _Text(self.max_tokens - TAIL_TOKENS)
        out.add(file_header(rel))
        out.add(f"@@ {start}-{last} of {len(lines)} lines")
        n = start
        while n <= last and out.add(f"{n}: {lines[n - 1]}"):
            n += 1
        if n <= min(end, len(lines)):
            why = f"{MAX_SPAN} lines" if n > last else f"{self.max_tokens} tokens"
            out.lines.append(f"… cut at {why}: ask for {n}-{min(end, len(lines))} next")
        return "\n".join(out.lines)

    # ------------------------------------------------------------------ search_text
    def _search_text(self, args: dict[str, Any]) -> str:
        pattern = _str_arg(args, "pattern", MAX_PATTERN)
        is_regex = _bool_arg(args, "regex", False)
        found = _Search(self, _matcher(pattern, is_regex))
        found.run(self.engine.workspace.paths())
        return found.render(pattern, self.max_tokens)


def _matcher(pattern: str, is_regex: bool) -> Callable[[str, float], bool]:
    """Whether a text holds the pattern, given the seconds left (TimeoutError past them):
    a literal is a substring; a regular expression runs with the `regex` module's time
    limit, so a catastrophic pattern stops instead of hanging the plan step."""
    if not is_regex:
        return lambda text, _left: pattern in text
    try:
        rx = regex.compile(pattern)
    except (regex.error, ValueError, OverflowError) as exc:
        raise _Bad(f"not a valid regular expression: {exc}") from None
    return lambda text, left: rx.search(text, timeout=max(left, 0.001)) is not None


class _Search:
    """One search_text over the indexed files: matching lines, redacted, until the caps or
    the time limit; a file is scanned whole first, its redacted lines only on a hit."""

    def __init__(self, lookups: Lookups, match: Callable[[str, float], bool]) -> None:
        self.lookups = lookups
        self.match = match
        self.hits: list[tuple[str, int, str]] = []  # (path, 1-based line, text)
        self.files = 0
        self.timed_out = False
        self.deadline = time.monotonic() + SEARCH_SECONDS

    def run(self, paths: list[str]) -> None:
        try:
            for rel in paths:
                if len(self.hits) >= MAX_MATCHES * 5:
                    break
                self._file(rel)
        except TimeoutError:
            self.timed_out = True

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left

    def _file(self, rel: str) -> None:
        try:
            src = self.lookups.engine.sources.get(rel)
        except OSError:
            return
        if not self.match("\n".join(src.lines), self._left()):
            return
        before = len(self.hits)
        for n, line in enumerate(self.lookups.lines(rel), 1):
            if self.match(line, self._left()):
                self.hits.append((rel, n, line))
        self.files += len(self.hits) > before

    def render(self, pattern: str, max_tokens: int) -> str:
        n = len(self.hits)
        head = f"{plural(n, 'matching line')} in {plural(self.files, 'file')}"
        if self.timed_out:
            head += f" (the search stopped after {SEARCH_SECONDS:g} s: there may be more)"
        elif n >= MAX_MATCHES * 5:
            head += " (the search stopped there: narrow the pattern)"
        if not n:
            return f"no line matches {shown(pattern)!r} ({head})"
        out = _Text(max_tokens - TAIL_TOKENS)
        out.add(head)
        shown_n = 0
        for path, line, text in self.hits[:MAX_MATCHES]:
            if not out.add(f"{path}:{line}: {_clip(text)}"):
                break
            shown_n += 1
        if shown_n < n:
            rest = self.hits[shown_n:]
            files = len({p for p, _, _ in rest})
            why = f"{max_tokens} tokens" if out.full else f"{MAX_MATCHES} lines"
            out.lines.append(
                f"{plural(len(rest), 'more line')} in {plural(files, 'file')} (cut at {why})"
            )
        return "\n".join(out.lines)


def _doing(name: str, args: dict[str, Any]) -> str:
    """Progress words for a request, made before it is checked (it may be bad)."""
    what = shown(str(args.get("symbol") or args.get("path") or args.get("pattern") or ""))
    if name == "find_references":
        return f"looking up the callers of {what}"
    if name == "read_definition":
        return f"reading the definition of {what}"
    if name == "read_lines":
        return f"reading {what}:{shown(str(args.get('start')))}-{shown(str(args.get('end')))}"
    return f"searching the workspace for {what!r}"


def _answer(text: str, doing: str, error: bool) -> LookupAnswer:
    return LookupAnswer(text, tokens.estimate(text), doing, error)
