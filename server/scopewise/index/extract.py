"""From a parsed tree to a FileIndex: definitions, references, imports and syntax errors."""

from __future__ import annotations

import bisect
import hashlib
import re
import sys
import time
from array import array
from collections import defaultdict
from typing import Any

import tree_sitter as ts

from scopewise.index import chunks, evidence, languages, typed
from scopewise.index.model import REF_MEMBER, REF_NAME, REF_TYPE, Definition, FileIndex, Import
from scopewise.vocab import CLASS_LIKE, CONTAINER_KINDS, TYPE_KINDS, Kind

# which capture names a node captured as two kinds (a method over a function, ...)
_KIND_PRIORITY: dict[str, int] = {
    Kind.METHOD: 3,
    Kind.CLASS: 3,
    Kind.INTERFACE: 3,
    Kind.FUNCTION: 2,
}
# kinds whose exported members are exported (a method of a private class is not)
_EXPORTING = TYPE_KINDS | CONTAINER_KINDS | {Kind.TYPE}
_REF_CODES = {
    "reference.member": REF_MEMBER,
    "reference.type": REF_TYPE,
    "reference.name": REF_NAME,
}
_REF_KEYS = tuple(_REF_CODES)  # members first: a member use is not also a plain name


_SKIP_NAMES = {"python": {"self", "cls"}, "ruby": {"self"}}
_MAX_ERRORS = 200


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


# ---------------------------------------------------------------------------- parse limits
# Some inputs make tree-sitter's Python scanner quadratic (an indented block followed by
# thousands of comment lines: 26 s for 8,000 lines, where a normal 1 MB file takes 0.2 s).
# Every parse is therefore bounded, in CPU seconds of the parsing thread (so a busy machine
# does not make a normal file "slow"): 1 s, plus 4 s per MB, at most 30 s.
PARSE_FLOOR_S = 1.0
PARSE_PER_MB_S = 4.0
PARSE_CEILING_S = 30.0
_TIME_LIMIT = "parse took longer than"
# a parse with no pause to keep reads its clock at every 8th progress call (each ~20 us of
# parsing apart): the clock is a system call, 4% of a parse when read at every one
_CLOCK_EVERY = 7
# a parse that should have paused but is this far past its pause inside one step (no
# progress call comes while a scanner looks far ahead: the Python scanner reads a long run of
# comment lines to its end before one token, 0.7 s for 8,000 lines) gives up: a pause can
# only come between steps, so the loop's share is spent, and the parse goes off the loop
STUCK_PAST_PAUSE_S = 0.01


class ParseTimeout(Exception):
    """A parse ran past its time limit; the message is the reason shown to the user."""


def parse_limit(size: int) -> float:
    """CPU seconds a parse of `size` bytes may take."""
    return min(PARSE_CEILING_S, PARSE_FLOOR_S + PARSE_PER_MB_S * size / 1_000_000)


def time_limit_reason(limit: float) -> str:
    return f"{_TIME_LIMIT} {limit:.1f} s"


def is_time_limit(reason: str | None) -> bool:
    """Whether a skip reason is a parse that ran out of time (see `time_limit_reason`)."""
    return reason is not None and reason.startswith(_TIME_LIMIT)


def parse(
    language: str,
    source: bytes,
    old_tree: ts.Tree | None = None,
    limit: float | None = None,
    *,
    text: bool = True,
) -> ts.Tree:
    """Parse `source` (incrementally from an edited `old_tree`) within `limit` CPU seconds of
    this thread (default: `parse_limit` of its size); ParseTimeout past it. `text=False`:
    the tree is not given its text (see `parse_slice`'s `reread`): for a caller that never
    asks a node's text, nor queries it with a text predicate (`languages.query_reads_text`)
    — that would read freed memory — and slices `source` instead.

    The binding holds the interpreter lock for a whole parse of a bytes object and offers no
    timeout any more, so the text is fed through a read callback and a progress callback:
    both are Python calls, which is where the lock goes to other threads (a parse in a
    worker thread no longer stalls the event loop) and where the deadline is checked. Past
    it the reader says "end of input" (the scanner's long look-aheads end at once) and the
    progress callback cancels; either way the partial tree is dropped."""
    if limit is None:
        limit = parse_limit(len(source))
    deadline = time.thread_time() + limit
    tree = parse_slice(languages.parser(language), source, old_tree, deadline, limit, reread=text)
    assert tree is not None  # no pause before the deadline
    return tree


def parse_slice(
    p: ts.Parser,
    source: bytes,
    old_tree: ts.Tree | None,
    deadline: float,
    limit: float,
    pause_at: float | None = None,
    *,
    reread: bool = True,
) -> ts.Tree | None:
    """Parse `source` with `p` until `pause_at` (this thread's CPU clock, `time.thread_time`):
    the tree, or None when it paused first — the same call on the same parser and text
    resumes where it stopped (`old_tree` is then not read again; `p.reset()` abandons it).
    ParseTimeout (`limit`: the reason's figure) past `deadline`, or when stuck in one step
    `STUCK_PAST_PAUSE_S` past `pause_at` (it cannot pause there), the parser reset.
    `reread=False`: the tree as parsed from the callback, whose nodes' text must never be
    asked (`Node.text`, a query's text predicates: the binding reads it back through the
    parse's read callback, gone by then — a crash) — the parse from the bytes that gives it
    its text is skipped, which is not ~free where the tree has errors (tree-sitter
    parses every error's region again: a fifth to a third of a C file's parse)."""
    clock = time.thread_time
    view = memoryview(source)
    late = paused = False
    calls = 0
    give_up = deadline if pause_at is None else min(deadline, pause_at + STUCK_PAST_PAUSE_S)

    def read(offset: int, _point: tuple[int, int]) -> bytes | memoryview:
        nonlocal late
        if late or clock() > give_up:
            late = True
            return b""
        return chunks.chunk(view, offset)  # not a slice of `source`: see index/chunks.py

    def progress(_offset: int, _has_error: bool) -> bool:
        nonlocal late, paused, calls
        calls += 1
        if calls & _CLOCK_EVERY and pause_at is None:  # called every ~100 parse steps
            return False
        now = clock()
        late = late or now > deadline
        paused = pause_at is not None and now > pause_at
        return late or paused

    try:
        if old_tree is None:
            tree = p.parse(read, progress_callback=progress)
        else:
            tree = p.parse(read, old_tree, progress_callback=progress)
    except ValueError:  # "Parsing failed": halted by the progress callback
        if not (late or paused):
            raise
        tree = None
    if late:
        p.reset()  # a halted parser would resume the old parse on its next call
        raise ParseTimeout(time_limit_reason(limit))
    if tree is None or not reread:
        return tree
    # a tree parsed from a callback reads node text back through it, byte by byte: parse
    # once more from the bytes with this tree as the old one (nothing changed: ~0.1 ms)
    return p.parse(source, tree)


def extract(
    path: str,
    language: str,
    source: bytes,
    tree: ts.Tree | None = None,
    *,
    hashed: str | None = None,
) -> FileIndex:
    """Index one file's source. Never raises on broken syntax: errors are recorded.
    Without a tree the source is parsed within its time limit (ParseTimeout past it).
    `hashed`: the source's `digest`, when the caller has it already (not made twice)."""
    own = tree is None  # parsed here: the tree's text is `source` byte for byte
    typed_lang = language in typed.TYPED
    if tree is None:  # evidence asks nodes' text; the rest of this module slices `source`
        asks = language == "python" or typed_lang or languages.query_reads_text(language)
        tree = parse(language, source, text=asks)
    text = source if own else None
    spec = languages.spec(language)
    root = tree.root_node
    out = FileIndex(path, language, hashed or digest(source), source.count(b"\n") + 1)

    # one pass of one query over the tree: definitions, their names, imports and every use
    caps = index_captures(language, root)

    for node in sorted(caps.get("import", ()), key=_span):
        imp = _parse_import(language, node, text)
        if imp is not None:
            out.imports.append(imp)
    found, def_names = _captured_definitions(spec, caps)
    uses: defaultdict[bytes, list[int]] = defaultdict(list)
    if language == "python":  # its member uses: with the receivers (see pack_receivers)
        out.receivers, out.recv_keys = evidence.receivers(
            caps.get("evidence.attribute", []), def_names, text, uses
        )
    elif typed_lang:
        out.receivers, out.recv_keys = typed.receivers(
            caps.get("evidence.attribute", []), def_names, text
        )
    out.refs = _refs(caps, def_names, _SKIP_NAMES.get(language, set()), text, uses)
    found.sort(key=_def_order)
    out.definitions = _definitions(spec, found, source=text)
    if language == "python" or typed_lang:
        def_at = {item[2].start_byte: i for i, item in enumerate(found)}
        wanted = {k.split(".", 1)[0] for k in out.recv_keys if evidence.is_name(k)}
        wanted.update(out.top_level())
        if typed_lang:
            out.evidence, out.returns, out.owners = typed.collect(language, caps, def_at, wanted)
        else:
            out.evidence, out.returns = evidence.collect(caps, def_at, wanted)
    if root.has_error:
        out.errors = error_lines(root)
    return out


def index_captures(
    language: str, root: ts.Node, byte_range: tuple[int, int] | None = None
) -> dict[str, list[ts.Node]]:
    """The index query's captures over a tree (its root), with those of the language's
    `languages.top_query` at the root's children (in `byte_range` when given)."""
    cursor = ts.QueryCursor(languages.index_query(language))
    if byte_range is not None:
        cursor.set_byte_range(*byte_range)
    caps = cursor.captures(root)
    top = languages.top_query(language)
    if top is not None:
        cursor = ts.QueryCursor(top)
        cursor.set_max_start_depth(1)
        if byte_range is not None:
            cursor.set_byte_range(*byte_range)
        for key, nodes in cursor.captures(root).items():
            caps.setdefault(key, []).extend(nodes)
    return caps


_Found = tuple[int, ts.Node, ts.Node, str]  # (kind priority, extent, name node, kind)


def _captured_definitions(
    spec: languages.LanguageSpec, caps: dict[str, list[ts.Node]]
) -> tuple[list[_Found], set[int]]:
    """The definitions captured, one per extent (the kind of highest priority), and the
    start bytes of their names (which are not uses)."""
    # a definition's name is the first @name capture inside it (names precede bodies)
    names = sorted(caps.get("name", ()), key=_start)
    name_starts = [n.start_byte for n in names]
    defs_by_extent: dict[tuple[int, int], _Found] = {}
    def_names: set[int] = set()
    for key, nodes in caps.items():
        if not key.startswith("definition."):
            continue
        kind = key[11:]
        prio = _KIND_PRIORITY.get(kind, 1)
        for node in sorted(nodes, key=_span):  # see `_span`
            i = bisect.bisect_left(name_starts, node.start_byte)
            if i >= len(names) or names[i].end_byte > node.end_byte:
                continue
            name_node = names[i]
            extent = _extent(spec, node)
            ek = (extent.start_byte, extent.end_byte)
            prev = defs_by_extent.get(ek)
            if prev is None or prev[0] < prio:
                defs_by_extent[ek] = (prio, extent, name_node, kind)
            def_names.add(name_node.start_byte)
    return list(defs_by_extent.values()), def_names


def _refs(
    caps: dict[str, list[ts.Node]],
    seen: set[int],
    skip: set[str] | frozenset[str],
    source: bytes | None = None,
    uses: defaultdict[bytes, list[int]] | None = None,
) -> dict[str, bytes]:
    """name -> its uses packed as int64 ``line * 4 + kind``; `seen` (start bytes of the
    definitions' names, not uses) grows as uses are taken, but for the last kind present
    (nothing after it asks; no node is captured twice under one name: every @reference.*
    capture is a single-node pattern of queries/*-refs.scm, one per node type). With
    `source` (the text the tree was parsed from) a name is sliced from it: `Node.text` costs
    twice as much, and this loop runs once per identifier of the file (its line asked once,
    its list found by one lookup). `uses`: the uses taken already, by raw name (Python's
    members, from its receivers: `evidence.pack_receivers`, their start bytes in `seen`)."""
    by_raw: defaultdict[bytes, list[int]] = defaultdict(list) if uses is None else uses
    present = [key for key in _REF_KEYS if caps.get(key)]  # members first: see _REF_KEYS
    for key in present:
        code = _REF_CODES[key]
        last = key is present[-1]
        for node in caps[key]:
            sb = node.start_byte  # stored in the node; its end is computed: read after
            if sb in seen:
                continue
            if not last:
                seen.add(sb)
            raw = node.text if source is None else source[sb : node.end_byte]
            if raw:
                by_raw[raw].append(node.start_point.row * 4 + code)
    refs: dict[str, bytes] = {}
    for raw, packed in by_raw.items():
        text = raw.decode("utf-8", "replace")
        if text not in skip:
            packed.sort()
            refs[sys.intern(text)] = array("q", packed).tobytes()
    return refs


def _start(node: ts.Node) -> int:
    return node.start_byte


def _span(node: ts.Node) -> tuple[int, int]:
    """Where a node is, to order captures by: tree-sitter orders captures at the same place
    by node address, which differs from one parse of a text to the next (two nodes found
    for one definition's extent, or two includes, came in either order run to run)."""
    return node.start_byte, node.end_byte


def _def_order(item: tuple[int, ts.Node, ts.Node, str]) -> tuple[int, int]:
    return (item[1].start_byte, -item[1].end_byte)


def _text(node: ts.Node, source: bytes | None = None) -> str:
    """A node's text; sliced from `source` when given (the text its tree was parsed from)."""
    return _raw(node, source).decode("utf-8", "replace")


def _raw(node: ts.Node, source: bytes | None) -> bytes:
    raw = node.text if source is None else source[node.start_byte : node.end_byte]
    return raw or b""


def _extent(spec: languages.LanguageSpec, node: ts.Node) -> ts.Node:
    """Climb from the captured node to the whole statement that defines the name."""
    cur, parent = node, node.parent  # a node's parent is looked up from the root: once
    while parent is not None and parent.type in spec.declarator_chain:
        cur, parent = parent, parent.parent
    while parent is not None and parent.type in spec.wrappers:
        cur, parent = parent, parent.parent
    return cur


def _body(node: ts.Node, body_fields: tuple[str, ...]) -> ts.Node | None:
    """The body of a definition's extent: its own body field, else a child's (a decorated
    Python definition), else a grandchild's (`export` / declarator wrappers). The children
    are only listed when the extent has no body of its own (most have)."""
    body = _field(node, body_fields)
    if body is not None:
        return body
    children = node.named_children
    for child in children:
        body = _field(child, body_fields)
        if body is not None:
            return body
    for child in children:
        for grand in child.named_children:
            body = _field(grand, body_fields)
            if body is not None:
                return body
    return None


def _field(node: ts.Node, names: tuple[str, ...]) -> ts.Node | None:
    for f in names:
        found = node.child_by_field_name(f)
        if found is not None:
            return found
    return None


def _definitions(
    spec: languages.LanguageSpec,
    found: list[tuple[int, ts.Node, ts.Node, str]],
    outer: list[Definition] | None = None,
    source: bytes | None = None,
) -> list[Definition]:
    """The definitions of `found`; with `outer` (the chain of definitions enclosing them, from
    the outermost: index/incremental.py re-extracts part of a file) the parents are indices
    into ``outer + result``. `source`: the text the tree was parsed from, names sliced from
    it (else asked of the nodes)."""
    out: list[Definition] = list(outer or ())
    stack: list[int] = list(range(len(out)))  # indices of open enclosing definitions
    for _, extent, name_node, kind in found:
        start, (end, end_column) = extent.start_point[0], extent.end_point  # computed: once
        if end_column == 0 and end > start:
            end -= 1
        while stack and out[stack[-1]].end_line < start:
            stack.pop()
        # a definition sharing its extent's end with a parent that started earlier is nested
        while stack and not (out[stack[-1]].start_line <= start and end <= out[stack[-1]].end_line):
            stack.pop()
        parent = stack[-1] if stack else None
        name = _text(name_node, source)
        name_line = name_node.start_point[0]
        body = _body(extent, spec.body_fields)
        body_line = body.start_point[0] if body is not None else -1
        if body_line >= name_line:
            prev = body.prev_sibling if body is not None else None
            prev_end = prev.end_point[0] if prev is not None else body_line
            header_end = prev_end if prev_end < body_line else body_line
        else:
            header_end = name_line
        header_end = max(name_line, min(header_end, end))
        if kind == Kind.FUNCTION and parent is not None and out[parent].kind in CLASS_LIKE:
            kind = Kind.METHOD.value  # stored as a plain str: the cache marshals it
        exported = _exported(spec.name, extent, name, parent, out, source)
        out.append(Definition(name, kind, start, end, name_line, header_end, parent, exported))
        stack.append(len(out) - 1)
    return out[len(outer or ()) :]


def _exported(
    language: str,
    extent: ts.Node,
    name: str,
    parent: int | None,
    defs: list[Definition],
    source: bytes | None = None,
) -> bool:
    if parent is not None:
        p = defs[parent]
        if not p.exported or p.kind not in _EXPORTING:
            return False
    if language == "python":
        return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))
    if language == "go":
        return name[:1].isupper()
    if language in ("javascript", "typescript", "tsx"):
        if parent is not None:
            return not name.startswith("#") and b"private " not in _raw(extent, source)[:40]
        node: ts.Node | None = extent
        while node is not None:
            if node.type == "export_statement":
                return True
            node = node.parent
        return False
    if language == "rust":
        return any(c.type == "visibility_modifier" for c in extent.children)
    if language == "java":
        for c in extent.children:
            if c.type == "modifiers":
                text = _raw(c, source)
                return b"public" in text or b"protected" in text
        return parent is not None and defs[parent].kind == Kind.INTERFACE
    if language in ("c", "cpp"):
        return not any(
            c.type == "storage_class_specifier" and _raw(c, source) == b"static"
            for c in extent.children
        )
    return not name.startswith("_")


def error_lines(root: ts.Node) -> list[int]:
    lines: list[int] = []
    stack = [root]
    while stack and len(lines) < _MAX_ERRORS:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            lines.append(node.start_point[0])
            continue
        stack.extend(c for c in node.children if c.has_error or c.is_missing)
    return sorted(set(lines))


# --------------------------------------------------------------------------- imports
_QUOTED = re.compile(r"""["'<]([^"'<>]+)[>"']""")


def _parse_import(language: str, node: ts.Node, source: bytes | None = None) -> Import | None:
    """The import a captured statement makes; `source`: as `_text`'s."""
    line = node.start_point[0]
    if language == "python":
        return _python_import(node, line, source)
    text = _text(node, source)
    if language in ("javascript", "typescript", "tsx"):
        src = node.child_by_field_name("source")
        found = _QUOTED.search(_text(src, source)) if src is not None else None
        if found is None:
            return None
        names: list[str] = []
        aliases: list[str] = []
        _js_clause(node, names, aliases, source)
        return Import(found.group(1), tuple(names), tuple(aliases), line)
    if language == "go":
        path = node.child_by_field_name("path")
        m = _QUOTED.search(_text(path, source)) if path is not None else None
        if m is None:
            return None
        alias_node = node.child_by_field_name("name")
        alias = (
            _text(alias_node, source) if alias_node is not None else m.group(1).rsplit("/", 1)[-1]
        )
        return Import(m.group(1), (), (alias,), line)
    if language in ("c", "cpp", "ruby"):
        m = _QUOTED.search(text)
        return Import(m.group(1), (), (), line) if m else None
    if language == "java":
        body = text.removeprefix("import").removeprefix(" static").strip().rstrip(";").strip()
        module, _, last = body.rpartition(".")
        return Import(module, (last,), (last,), line)
    if language == "rust":
        body = text.removeprefix("pub ").removeprefix("use").strip().rstrip(";").strip()
        if "{" in body:
            module = body.split("{", 1)[0].rstrip(":")
            inner = body.split("{", 1)[1].rstrip("}")
            parts = [p.strip() for p in inner.split(",") if p.strip()]
        else:
            module, _, last = body.rpartition("::")
            parts = [last]
        return Import(
            module,
            tuple(p.split(" as ")[0].rsplit("::", 1)[-1] for p in parts),
            tuple(p.split(" as ")[-1].rsplit("::", 1)[-1] for p in parts),
            line,
        )
    return None


def _js_clause(node: ts.Node, names: list[str], aliases: list[str], source: bytes | None) -> None:
    for child in node.named_children:
        if child.type == "import_clause":
            for part in child.named_children:
                if part.type == "identifier":
                    names.append("default")
                    aliases.append(_text(part, source))
                elif part.type == "namespace_import":
                    ident = [c for c in part.named_children if c.type == "identifier"]
                    if ident:
                        names.append("*")
                        aliases.append(_text(ident[0], source))
                elif part.type == "named_imports":
                    for spec_node in part.named_children:
                        if spec_node.type != "import_specifier":
                            continue
                        n = spec_node.child_by_field_name("name")
                        a = spec_node.child_by_field_name("alias")
                        if n is not None:
                            names.append(_text(n, source))
                            aliases.append(_text(a if a is not None else n, source))


def _python_import(node: ts.Node, line: int, source: bytes | None) -> Import | None:
    names: list[str] = []
    aliases: list[str] = []
    if node.type == "import_statement":
        out: list[Any] = []
        for child in node.children_by_field_name("name"):
            if child.type == "aliased_import":
                n = child.child_by_field_name("name")
                a = child.child_by_field_name("alias")
                mod = _text(n, source) if n is not None else ""
                out.append((mod, _text(a, source) if a is not None else mod))
            else:
                mod = _text(child, source)
                out.append((mod, mod.split(".")[0]))
        if not out:
            return None
        # `import a, b` is rare enough: keep the first module, bind every alias
        return Import(out[0][0], (), tuple(a for _, a in out), line)
    module_node = node.child_by_field_name("module_name")
    module = _text(module_node, source) if module_node is not None else "__future__"
    for child in node.children_by_field_name("name"):
        if child.type == "aliased_import":
            n = child.child_by_field_name("name")
            a = child.child_by_field_name("alias")
            names.append(_text(n, source) if n is not None else "")
            aliases.append(_text(a, source) if a is not None else names[-1])
        else:
            names.append(_text(child, source))
            aliases.append(names[-1])
    if any(c.type == "wildcard_import" for c in node.children):
        names.append("*")
        aliases.append("*")
    return Import(module, tuple(names), tuple(aliases), line)
