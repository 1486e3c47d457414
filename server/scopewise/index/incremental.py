"""Incremental extraction: after an edit, the query pass runs again over the statements the
change touched alone, and its result is spliced into the file's previous `FileIndex`
(definitions, references, imports, receivers, evidence, return types; syntax errors are read
again from the whole tree, which only descends where errors are), the lines after the edit
shifted. What comes out is what `extract.extract` makes of the whole new text.

The part re-extracted is a run of consecutive statements of one body (the module, a class
body, a function's block...), the innermost one holding every byte that changed: the edits
and the ranges whose syntax changed (``Tree.changed_ranges``, which the open document
collects; see index/buffer.py). It stands on lines of its own (nothing before it on its
first line, nothing after it on its last), so every other line's facts are the same, moved.
It falls back to a full extraction (None here) when the change reaches across bodies or
covers most of the file, or when the names the file's type evidence is kept for change (a
receiver name gained or lost, a top-level name renamed): that evidence is file-wide.

The splice of packed references and receivers shifts the int64s after the edit by one
big-integer addition (the job numpy's vector add would do; numpy is not a dependency)."""

from __future__ import annotations

import bisect
import itertools
import operator
from array import array
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import tree_sitter as ts

from scopewise.index import evidence, languages, typed
from scopewise.index import extract as _extract
from scopewise.index.buffer import Document
from scopewise.index.lines import shift_int64s
from scopewise.index.model import RECV_BITS, Definition, Evidence, FileIndex, Import, Spliced
from scopewise.index.workspace import WorkspaceIndex

Span = tuple[int, int]  # bytes [start, end) of the current text

_LINE = operator.attrgetter("line")
MAX_SHARE = 0.5  # past this share of the file, a full extraction costs no more
# node types holding a list of statements or members: where a re-extracted part may start
BODIES = frozenset(
    {
        "block",
        "statement_block",
        "class_body",
        "declaration_list",
        "compound_statement",
        "body_statement",
        "field_declaration_list",
        "interface_body",
        "enum_body",
        "statement_list",
        "program",
        "module",
        "source_file",
        "translation_unit",
    }
)


@dataclass(frozen=True)
class Region:
    """The bytes re-extracted and their lines: first, last in the new text, last in the old;
    the node whose children they are (the body holding them)."""

    start: int
    end: int
    first: int
    last: int
    old_last: int
    body: ts.Node | None = field(default=None, compare=False)

    @property
    def delta(self) -> int:
        return self.last - self.old_last

    def moved(self, line: int) -> int:
        """A line of the old text outside the region, in the new text."""
        return line + self.delta if line > self.old_last else line

    def moved_end(self, line: int) -> int:
        """The last line of something outside the region: one ending in or after it holds it
        (it started before), and grows with it."""
        return line + self.delta if line >= self.first else line


def update(
    old: FileIndex,
    tree: ts.Tree,
    source: bytes,
    span: Span,
    before: bytes | None = None,
    digest: str | None = None,
) -> FileIndex | None:
    """The index of `source` (parsed as `tree`) from `old`, the index of the text before the
    edits that changed the bytes `span` (that text, `before`, when known: then only the
    names written in the region before or after are looked at); None when only a full
    extraction can tell. `digest`: the new text's, when the caller has it."""
    if before is not None:  # newlines counted where the text changed, not in the whole file
        grow = len(source) - len(before)
        gained = source[span[0] : span[1]].count(b"\n")
        line_count = old.line_count + gained - before[span[0] : span[1] - grow].count(b"\n")
    else:
        line_count = source.count(b"\n") + 1
    region = find_region(tree.root_node, source, span, line_count - old.line_count)
    if region is None or region.end - region.start > MAX_SHARE * len(source):
        return None
    was: str | None = None
    if before is not None:  # all changes lie in the region: the rest of the text is the same
        end = region.end - (len(source) - len(before))
        was = before[region.start : end].decode("utf-8", "replace")
    splice = _Splice(old, tree.root_node, source, region, line_count, was)
    splice.out.digest = digest or _extract.digest(source)
    return splice.run()


def refresh(
    ws: WorkspaceIndex, rel: str, doc: Document, *, whole: bool = True, now: str | None = None
) -> FileIndex | None:
    """The index of an open document's current text, brought in line first when it is not:
    spliced where the document knows what changed since its indexed text, else (with
    `whole`) extracted whole as `WorkspaceIndex.update` does. None when the document has
    no tree, or when only a whole extraction would do and `whole` is False. `now`: the
    document's digest when the caller has it (hashing the text again costs ~1 ms/MB)."""
    fi = ws.get(rel)
    if doc.tree is None:
        return fi
    now = now or _extract.digest(doc.source)
    if fi is not None and fi.digest == now:
        if doc.indexed != now:
            doc.mark_indexed(now)
        return fi
    span = doc.since(fi.digest) if fi is not None else None
    new = (
        update(fi, doc.tree, doc.source, span, doc.indexed_source, now)
        if fi is not None and span
        else None
    )
    if new is not None:
        ws.install(rel, new)
    elif whole:
        new = ws.update(rel, doc.source, doc.tree)
    if new is not None:
        doc.mark_indexed(now)
    return new


# ---------------------------------------------------------------------------- the region
def find_region(root: ts.Node, source: bytes, span: Span, delta: int) -> Region | None:
    """The innermost run of statements holding `span`, on lines of its own."""
    lo, hi = span
    levels: list[tuple[ts.Node, int, int]] = []
    node, top = root, True
    while node.child_count:
        kids = _Kids(node)
        i, j = _touched(kids, lo, hi)
        if top or node.type in BODIES:
            levels.append((node, i, j))
        top = False
        child = kids[i]
        if i != j or not (child.start_byte <= lo and hi <= child.end_byte):
            break
        node = child
    for depth, (body, i, j) in reversed(list(enumerate(levels))):
        found = _own_lines(_Kids(body), i, j, source, span, depth > 0)
        if found is not None and _broken(body, found[0], found[1]):
            return None  # only a full pass knows what error recovery made of the rest
        if found is not None:
            a, b, first, last = found
            old_last = last - delta
            return Region(a, b, first, last, old_last, body) if old_last >= first else None
    return None


def _broken(body: ts.Node, start: int, end: int) -> bool:
    """Whether a syntax error lies near the region (bytes [start, end) of `body`): error
    recovery may shape the text around it differently from one parse to the next, and
    reach into the region. An error in a sibling (of the region or of a node holding it)
    with a whole statement free of errors between the two is far enough: recovery does not
    reach across it (a grammar that misreads one line of a file, e.g. a parameter named
    `using` in TypeScript, no longer makes every keystroke a whole extraction)."""
    node: ts.Node | None = body
    inside = start, end
    while node is not None:
        if node.is_error or node.is_missing:
            return True
        if not node.has_error:  # nor has any child: nothing to look at at this level
            inside = node.start_byte, node.end_byte
            node = node.parent
            continue
        if _errors_near(_Kids(node), inside):
            return True
        inside = node.start_byte, node.end_byte
        node = node.parent
    return False


def _errors_near(kids: _Kids, inside: Span) -> bool:
    """Whether a child holds an error that is not within `inside` and either overlaps it
    or has no whole statement free of errors between the two. The children overlapping it
    are found by bisection, then each side is looked at outwards up to its first such
    statement (a body of 1,600 statements was looked at whole, at each keystroke)."""

    def apart(k: ts.Node) -> bool:  # an error outside `inside`
        return k.has_error and not (inside[0] <= k.start_byte and k.end_byte <= inside[1])

    lo = bisect.bisect_right(kids, inside[0], key=_end_byte)
    hi = bisect.bisect_left(kids, inside[1], key=_start_byte) - 1
    if lo > hi:  # no child overlaps it: an error anywhere, unless a statement is anywhere
        every = kids.node.children  # in one pass (`Node.child(i)` walks to its child)
        return any(map(apart, every)) and not _barrier(every)
    if any(apart(kids[i]) for i in range(lo, hi + 1)):
        return True
    for side in (range(lo - 1, -1, -1), range(hi + 1, len(kids))):
        for i in side:
            if apart(kids[i]):
                return True
            if _barrier([kids[i]]):
                break
    return False


class _Kids:
    """A node's children, each made when asked (`Node.children` makes them all: a body of
    1,600 statements took 0.7 ms, at each level it was looked at, at every keystroke). For
    the few a bisection and a widening look at: `Node.child(i)` walks to the i-th in C."""

    __slots__ = ("count", "node")

    def __init__(self, node: ts.Node) -> None:
        self.node, self.count = node, node.child_count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i: int) -> ts.Node:
        if i < 0:
            i += self.count
        child = self.node.child(i) if 0 <= i < self.count else None
        if child is None:
            raise IndexError(i)
        return child


def _barrier(between: list[ts.Node]) -> bool:
    """Whether one of these nodes is a whole statement free of errors."""
    return any(k.is_named and not k.is_extra and not k.has_error for k in between)


def _touched(kids: _Kids, lo: int, hi: int) -> tuple[int, int]:
    """The first and last children touching bytes [lo, hi] (the neighbours of a gap): found
    by bisection (a body may hold thousands of statements)."""
    i = min(bisect.bisect_left(kids, lo, key=_end_byte), len(kids) - 1)
    j = max(bisect.bisect_right(kids, hi, key=_start_byte) - 1, 0)
    return (i, j) if i <= j else (j, i)


def _end_byte(node: ts.Node) -> int:
    return node.end_byte


def _start_byte(node: ts.Node) -> int:
    return node.start_byte


def _start_line(d: Definition) -> int:
    return d.start_line


def _own_lines(
    kids: _Kids, i: int, j: int, source: bytes, span: Span, inner: bool
) -> tuple[int, int, int, int] | None:
    """Children i..j widened until they hold `span` and stand on lines of their own: (start
    byte, end byte, first line, last line); None when the body runs out first. In an `inner`
    body the first and last children stay out: where they are decides where the body and its
    definition start and end (its header, what it swallows when a brace goes missing)."""
    low, high = (1, len(kids) - 2) if inner else (0, len(kids) - 1)
    while low <= i and j <= high:
        a, b = kids[i].start_byte, kids[j].end_byte
        if a > span[0] or not _line_starts_at(source, a, kids[i].start_point.column):
            i -= 1
        elif b < span[1] or not _line_ends_at(source, b):
            j += 1
        else:
            end = kids[j].end_point
            last = end.row - 1 if end.column == 0 and end.row > kids[i].start_point.row else end.row
            return a, b, kids[i].start_point.row, last
    return None


def _line_starts_at(source: bytes, offset: int, column: int) -> bool:
    return not source[offset - column : offset].strip()


def _line_ends_at(source: bytes, offset: int) -> bool:
    if offset == 0 or source[offset - 1 : offset] == b"\n":
        return True
    eol = source.find(b"\n", offset)
    return not source[offset : eol if eol >= 0 else len(source)].strip()


# ---------------------------------------------------------------------------- the splice
def _splice_packed(
    old: dict[str, bytes],
    new: dict[str, bytes],
    lo: int,
    hi: int,
    shift: int,
    *,
    ordered: bool = True,
    was: str | None = None,
) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Each name's int64s (the line in the high bits): those in [lo, hi) replaced by `new`'s,
    those past it plus `shift`. References are stored sorted; receivers in the order of the
    query's matches (not `ordered`): they are sorted first, and come out sorted. Returns the
    result and what was cut. With nothing to shift and the region's old text `was`, a name
    not written there (nor in `new`) is kept as it is without a look: the names are copied
    and filtered in C, and only those written there are looked at."""
    fast = not shift and was is not None
    out: dict[str, bytes] = dict(old) if fast else {}
    cut: dict[str, bytes] = {}
    names: Iterable[str] = old
    if was is not None and fast:
        names = [n for n in {*filter(was.__contains__, old), *new} if n in old]
    for name in names:
        packed = old[name]
        if not ordered:
            packed = array("q", sorted(memoryview(packed).cast("q"))).tobytes()
        values = memoryview(packed).cast("q")
        i = bisect.bisect_left(values, lo)
        j = bisect.bisect_left(values, hi, i)
        if i == j and (j == len(values) or not shift) and name not in new:
            out[name] = packed
            continue
        if i != j:
            cut[name] = packed[i * 8 : j * 8]
        mine = new.get(name, b"")
        if not ordered and mine:
            mine = array("q", sorted(memoryview(mine).cast("q"))).tobytes()
        joined = packed[: i * 8] + mine + shift_int64s(packed[j * 8 :], shift)
        if joined:
            out[name] = joined
        else:
            out.pop(name, None)
    for name, packed in new.items():
        if name not in old:
            out[name] = (
                packed if ordered else array("q", sorted(memoryview(packed).cast("q"))).tobytes()
            )
    return out, cut


class _Splice:
    """One incremental update: the region's facts extracted, the old ones around them moved."""

    def __init__(
        self,
        old: FileIndex,
        root: ts.Node,
        source: bytes,
        region: Region,
        line_count: int,
        was: str | None,
    ) -> None:
        self.old, self.root, self.source, self.region = old, root, source, region
        self.was = was  # the region's text before the edits, when known
        self.language = old.language
        self.evidenced = old.language == "python" or old.language in typed.TYPED
        self.out = FileIndex(old.path, old.language, "", line_count)
        # the region's evidence now, and how many pieces it said before (`_same_evidence`)
        self.region_evidence: tuple[list[Evidence], int] = ([], 0)
        self.wanted: set[str] | None = None  # the names `out`'s evidence is kept for

    def run(self) -> FileIndex | None:
        old, out, region = self.old, self.out, self.region
        old.return_key(0)  # unpacks what the cache packed
        caps = self._captures()
        found, def_names = _extract._captured_definitions(languages.spec(self.language), caps)
        if any(
            not (region.start <= f[1].start_byte and f[1].end_byte <= region.end) for f in found
        ):
            return None
        recv: dict[str, bytes] = {}
        keys: list[str] = []
        uses: defaultdict[bytes, list[int]] = defaultdict(list)  # Python's members: as extract's
        attributes = caps.get("evidence.attribute", [])
        if self.language == "python":
            recv, keys = evidence.receivers(attributes, def_names, None, uses)
        elif self.evidenced:
            recv, keys = typed.receivers(attributes, def_names)
        skip = _extract._SKIP_NAMES.get(self.language, set())
        refs = _extract._refs(caps, def_names, skip, self.source, uses)  # the tree's own text
        found.sort(key=_extract._def_order)
        k0, k1 = self._old_block()
        if self._outgrown(k0):
            return None
        self._definitions(found, k0, k1)
        out.refs = _splice_packed(
            old.refs,
            refs,
            region.first * 4,
            (region.old_last + 1) * 4,
            region.delta * 4,
            was=self.was,
        )[0]
        out.imports = self._imports(caps)
        root = self.root
        out.errors = _extract.error_lines(root) if root.has_error else []
        if self.evidenced and not self._receivers(recv, keys):
            return None
        if self.evidenced and not self._evidence(caps, found, k0, k1):
            return None
        out.spliced = self._spliced()
        return out

    def _spliced(self) -> Spliced:
        """How the new index was made from the old one (see `Spliced`); with the same
        definitions, it takes the old one's lookups by name."""
        old, out, region = self.old, self.out, self.region
        k0, k1, renumber = self.renumber
        same = not renumber and all(
            (d.name, d.kind, d.parent, d.exported) == (e.name, e.kind, e.parent, e.exported)
            for d, e in zip(out.definitions[k0:k1], old.definitions[k0:k1], strict=True)
        )
        first, last, old_last = region.first, region.last, region.old_last
        if same:
            out.keep_lookups(
                old,
                same_lines=not region.delta
                and all(
                    d.start_line == e.start_line
                    for d, e in zip(out.definitions[k0:k1], old.definitions[k0:k1], strict=True)
                ),
                lines=(first, last),
            )
        same_evidence = same and self._same_evidence()
        return Spliced(old.digest, first, last, old_last, same, same_evidence, self.wanted)

    def _same_evidence(self) -> bool:
        """Whether the region says the evidence it said (names and values, each in the same
        innermost definition): then the file's evidence reads as it did, lines aside."""
        old, out, region = self.old, self.out, self.region
        now, count = self.region_evidence  # what the region says now; how much it said
        if len(now) != count or not now:
            return len(now) == count
        was = [e for e in old.evidence if region.first <= e.line <= region.old_last]
        return len(was) == len(now) and all(
            (a.name, a.value, old.enclosing(a.line, a.line))
            == (b.name, b.value, out.enclosing(b.line, b.line))
            for a, b in zip(was, now, strict=True)
        )

    def _outgrown(self, k0: int) -> bool:
        """Whether the region is not a run of whole statements for the old index, or the
        body holding it now reaches past the definition around it: a syntax error typed or
        mended there made error recovery end a definition elsewhere (the old one ended
        inside the region, or the new body ends past it), and the extents kept for the
        definitions around would be stale."""
        old, region, body = self.old, self.region, self.region.body
        i = old.enclosing(region.first, region.first)
        while i is not None and i >= k0:  # one starting in the region is the region's
            i = old.definitions[i].parent
        if i is None:
            return False
        d = old.definitions[i]  # the innermost one open before the region
        if d.end_line < region.old_last:
            return True
        return body is not None and body.end_point.row > region.moved_end(d.end_line)

    def _captures(self) -> dict[str, list[ts.Node]]:
        """The index query's captures lying wholly inside the region: those of the matches
        in the body holding it (a walk over that body's statements, not the file's), when no
        match rooted at a node around the body reaches into it (a look at each such node
        alone); else the whole tree's, as a full pass finds them."""
        a, b = self.region.start, self.region.end
        query = languages.index_query(self.language)
        body = self.region.body
        if body is None:
            return self._whole(a, b)
        node = body.parent
        while node is not None:  # matches starting there: no walk below what they need
            if any(_captures_in(query, node, a, b, start_depth=0).values()):
                return self._whole(a, b)
            node = node.parent
        top = languages.top_query(self.language)  # matches at the root's children
        if top is not None and any(_captures_in(top, self.root, a, b, start_depth=1).values()):
            return self._whole(a, b)
        return _captures_in(query, body, a, b)

    def _whole(self, a: int, b: int) -> dict[str, list[ts.Node]]:
        """The captures of the whole tree's pass (`extract.index_captures`) inside [a, b)."""
        caps = _extract.index_captures(self.language, self.root, (a, b))
        return {k: [n for n in v if a <= n.start_byte and n.end_byte <= b] for k, v in caps.items()}

    def _old_block(self) -> tuple[int, int]:
        """The old definitions [k0, k1) that started in the region."""
        defs = self.old.definitions
        return (
            bisect.bisect_left(defs, self.region.first, key=_start_line),
            bisect.bisect_right(defs, self.region.old_last, key=_start_line),
        )

    def _definitions(self, found: list[_extract._Found], k0: int, k1: int) -> None:
        """Before the region as they were (the enclosing ones longer), the region's new ones,
        after it moved (and their parents renumbered)."""
        old, region = self.old.definitions, self.region
        still = not region.delta  # the same lines: the definitions around are as they were
        before = (
            old[:k0]
            if still
            else [d._replace(end_line=region.moved_end(d.end_line)) for d in old[:k0]]
        )
        chain: list[int] = []
        i = self.old.enclosing(region.first, region.old_last)
        while i is not None:
            if i < k0:  # one starting in the region is the region's
                chain.append(i)
            i = old[i].parent
        chain.reverse()
        spec = languages.spec(self.language)
        self.top = not chain  # the region's definitions are top-level ones
        made = _extract._definitions(spec, found, [before[c] for c in chain])
        self.renumber_from = k0
        inside = [d._replace(parent=_outer(d.parent, chain, k0)) for d in made]
        renumber = len(inside) - (k1 - k0)
        self.out.definitions = before + inside + self._after(k1, renumber)
        self.renumber = (k0, k1, renumber)

    def _after(self, k1: int, renumber: int) -> list[Definition]:
        """The definitions after the region, moved and their parents renumbered."""
        old, region, mv = self.old.definitions, self.region, self.region.moved
        k0 = self.renumber_from
        if not region.delta and not renumber:
            return old[k1:]
        return [
            Definition(
                d.name,
                d.kind,
                mv(d.start_line),
                region.moved_end(d.end_line),
                mv(d.name_line),
                mv(d.header_end),
                d.parent if d.parent is None or d.parent < k0 else d.parent + renumber,
                d.exported,
            )
            for d in old[k1:]
        ]

    def _evidence_around(self) -> tuple[list[Evidence], list[Evidence]]:
        """The evidence said before the region and after it (moved; one said before it by a
        statement holding it, a declaration whose value spans it, holds from after it)."""
        region, first, last = self.region, self.region.first, self.region.old_last
        ev = self.old.evidence
        if not region.delta:  # as they were: picked in C (a large file has 10^4-10^5)
            lines = list(map(_LINE, ev))
            return (
                list(itertools.compress(ev, map(first.__gt__, lines))),
                list(itertools.compress(ev, map(last.__lt__, lines))),
            )
        mv, mv_end = region.moved, region.moved_end
        return (
            [e._replace(start=mv(e.start), end=mv_end(e.end)) for e in ev if e.line < first],
            [Evidence(e.name, mv(e.start), mv_end(e.end), e.value, mv(e.line))
             for e in ev if e.line > last],
        )  # fmt: skip

    def _named_outside(self, name: str) -> bool:
        """Whether `name` is written outside the region (bound or read: the references hold
        both), where evidence on it may be kept or dropped as the file's names change."""
        packed = self.old.refs.get(name)
        if not packed:
            return False
        values = memoryview(packed).cast("q")
        region = self.region
        lo, hi = region.first * 4, (region.old_last + 1) * 4
        return values[0] < lo or values[-1] >= hi

    def _index(self, i: int) -> int | None:
        """An old definition's index in the new list (None: it was in the region)."""
        k0, k1, renumber = self.renumber
        return i if i < k0 else None if i < k1 else i + renumber

    def _imports(self, caps: dict[str, list[ts.Node]]) -> list[Import]:
        region = self.region
        new = [
            imp
            for node in sorted(caps.get("import", ()), key=_extract._span)
            if (imp := _extract._parse_import(self.language, node)) is not None
        ]
        kept = [
            Import(imp.module, imp.names, imp.aliases, region.moved(imp.line))
            for imp in self.old.imports
            if not (region.first <= imp.line <= region.old_last)
        ]
        at = bisect.bisect_left([imp.line for imp in kept], region.first)
        return kept[:at] + new + kept[at:]

    def _receivers(self, recv: dict[str, bytes], keys: list[str]) -> bool:
        """The region's receivers under the file's key numbers (new keys appended). False
        when a receiver name the region read is read there no more (it may be gone from the
        file, and the evidence kept for it with it)."""
        old, region = self.old, self.region
        all_keys = list(old.recv_keys)
        number = {k: i for i, k in enumerate(all_keys)}
        mask = (1 << RECV_BITS) - 1
        remap: list[int] = []
        for k in keys:
            if k not in number:
                number[k] = len(all_keys)
                all_keys.append(k)
            remap.append(number[k])
        renumbered = {
            name: array(
                "q",
                [
                    v >> RECV_BITS << RECV_BITS | remap[v & mask]
                    for v in memoryview(packed).cast("q")
                ],
            ).tobytes()
            for name, packed in recv.items()
        }
        shift = region.delta << RECV_BITS
        lo, hi = region.first << RECV_BITS, (region.old_last + 1) << RECV_BITS
        self.out.receivers, cut = _splice_packed(
            old.receivers, renumbered, lo, hi, shift, ordered=False, was=self.was
        )
        self.out.recv_keys = all_keys
        read_before = {
            all_keys[v & mask] for packed in cut.values() for v in memoryview(packed).cast("q")
        }
        return all(k in keys for k in read_before if evidence.is_name(k))

    def _evidence(
        self, caps: dict[str, list[ts.Node]], found: list[_extract._Found], k0: int, k1: int
    ) -> bool:
        """The region's evidence merged into the rest (moved), and the return types and Go
        receiver types renumbered. False when the names evidence is kept for changed."""
        old, out = self.old, self.out
        wanted = _wanted(old)
        self.wanted = wanted  # as it is for `out` unless the names change
        if self.top or len(out.recv_keys) != len(old.recv_keys):  # the names may change
            wanted, was = _wanted(out), wanted
            self.wanted = wanted
            if any(self._named_outside(n) for n in wanted ^ was):
                return False  # the evidence kept elsewhere in the file would change
        def_at = {item[2].start_byte: k0 + i for i, item in enumerate(found)}
        returns: dict[int, str]
        owners: dict[int, str] = {}
        if self.language in typed.TYPED:
            new, returns, owners = typed.collect(self.language, caps, def_at, wanted)
        else:
            new, returns = evidence.collect(caps, def_at, wanted)
        before, after = self._evidence_around()
        self.region_evidence = new, len(old.evidence) - len(before) - len(after)
        merged = _merge(before, after, new)
        if merged is None:
            return False
        out.evidence = merged
        for mine, theirs, extra in ((out.returns, old.returns, returns),
                                    (out.owners, old.owners, owners)):  # fmt: skip
            for i, key in theirs.items():
                j = self._index(i)
                if j is not None:
                    mine[j] = key
            mine.update(extra)
        return True


def _captures_in(
    query: ts.Query, node: ts.Node, a: int, b: int, start_depth: int | None = None
) -> dict[str, list[ts.Node]]:
    """The captures of the matches in `node` (starting at most `start_depth` below it) that
    lie wholly inside bytes [a, b)."""
    cursor = ts.QueryCursor(query)
    cursor.set_byte_range(a, b)
    if start_depth is not None:
        cursor.set_max_start_depth(start_depth)
    caps = cursor.captures(node)
    return {k: [n for n in v if a <= n.start_byte and n.end_byte <= b] for k, v in caps.items()}


def _outer(parent: int | None, chain: list[int], k0: int) -> int | None:
    """A re-extracted definition's parent in the new list: `made` numbers the enclosing
    `chain` first, then the region's own (which start at `k0`)."""
    if parent is None:
        return None
    return chain[parent] if parent < len(chain) else parent - len(chain) + k0


def _wanted(fi: FileIndex) -> set[str]:
    """The names a file's evidence is kept for (as extract.extract chooses them): worked out
    by the splice that made `fi`, else now (a pass over its receiver keys)."""
    if fi.spliced is not None and fi.spliced.wanted is not None:
        return fi.spliced.wanted
    wanted = {k.split(".", 1)[0] for k in fi.recv_keys if evidence.is_name(k)}
    wanted.update(fi.top_level())
    return wanted


def _merge(
    before: list[Evidence], after: list[Evidence], new: list[Evidence]
) -> list[Evidence] | None:
    """The evidence of the lines before the region, its own, and after it, as one list sorted
    by start. Among equal starts a full pass orders by the query's captures, which only it
    knows: None when that could change what one name's evidence reads (the same name on both
    sides of a tie)."""
    if new:
        for side, edge in ((before[-1:], new[0].start), (after[:1], new[-1].start)):
            if side and side[0].start == edge:
                mine = {e.name for e in new if e.start == edge}
                theirs = {e.name for e in (before if side is not after[:1] else after)
                          if e.start == edge}  # fmt: skip
                if mine & theirs:
                    return None
    return before + new + after
