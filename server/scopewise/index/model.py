"""The data an index holds for one file (definitions, references, imports, syntax errors)
and its (de)serialisation for the cache. Lines are 0-based here; the CLI speaks 1-based.
A definition is named by its index in its file's list; "none" is None, never -1."""

from __future__ import annotations

import bisect
import functools
import marshal
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from scopewise.vocab import CLASS_LIKE

# Reference kinds, packed with the line as ``line * 4 + kind``: a plain name, a name used as
# a type, or the member part of ``obj.member``.
REF_NAME, REF_TYPE, REF_MEMBER = 0, 2, 3

SCHEMA = 10  # bump when what extraction produces changes: cached entries are re-made
# 6: a top-level definition's parent is stored as None (it was -1)
# 7: member references carry a receiver key; type evidence and return annotations
# 8: Go interfaces and their methods, TypeScript namespaces are definitions
# 9: receivers, type evidence and return types in TypeScript/JavaScript, Java and Go; Go
#    methods' receiver types
# 10: the cache holds the reference graph (index/cache.py); an older cache is another version's

# A receiver key says what stands before the dot of ``obj.member`` (and an evidence value what
# a name is bound to), as plain text: a name or dotted name (``self``, ``url``, ``self.client``,
# ``pkg.mod``); ``f()`` / ``mod.f()`` for the result of a call; ``#str`` (``#list``, ...) for a
# literal of a builtin type (``#list`` an array, ``#dict`` a map); ``:T`` (``:A|B``) for an
# instance of a named type (annotations, ``isinstance``, declared types); ``?`` when unknown.
# TypeScript/JavaScript, Java and Go write ``this`` as ``self`` (index/typed.py).
UNKNOWN = "?"
RECV_BITS = 20  # receivers pack ``line << 20 | key index``


class Evidence(NamedTuple):
    """What a name is bound to from `start` to `end` (lines, inclusive; -1: to the end of its
    scope): `name` is a local or global name, or ``self.x`` for an attribute of the class."""

    name: str
    start: int
    end: int
    value: str  # a receiver key (see above); UNKNOWN: bound here, to nothing known
    line: int  # where it is said (an assignment holds from the line after it)


class Definition(NamedTuple):
    """A named definition: function, method, class, constant, ...

    A NamedTuple rather than a dataclass: a large workspace holds ~10^5 of them, and
    loading them from the cache must be cheap."""

    name: str
    kind: str
    start_line: int  # first line of the whole definition (decorators and `export` included)
    end_line: int  # last line, inclusive
    name_line: int
    header_end: int  # last line of the signature (before the body starts)
    parent: int | None  # index of the enclosing definition in the file's list; None: top level
    exported: bool

    @property
    def line_count(self) -> int:
        return self.end_line - self.start_line + 1


@dataclass(frozen=True, slots=True)
class Import:
    """One imported module (and the names taken from it) at a line."""

    module: str
    names: tuple[str, ...]  # (name, ...) taken from the module; empty for `import module`
    aliases: tuple[str, ...]  # local names the import binds, same order as names (or module)
    line: int


class Spliced(NamedTuple):
    """How an incremental update (index/incremental.py) made an index from another one: the
    digest of that one, the lines re-extracted (first, last; last before the edit), and
    whether the definitions are the same ones (names, kinds, parents, exported, in order)
    and, with them, whether the lines re-extracted say the same type evidence (names and
    values, each in the same innermost definition); the names the evidence is kept for (so
    the next splice need not work them out again)."""

    source: str
    first: int
    last: int
    old_last: int
    same_definitions: bool
    same_evidence: bool
    wanted: set[str] | None = None  # the names its evidence is kept for, when known


@dataclass(slots=True)
class FileIndex:
    """Everything the index knows about one file."""

    path: str  # relative to the workspace root, POSIX separators
    language: str
    digest: str
    line_count: int
    definitions: list[Definition] = field(default_factory=list)
    refs: dict[str, bytes] = field(default_factory=dict)  # name -> int64s packed line*4+kind
    imports: list[Import] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)  # lines with a syntax error
    # member name -> int64s packed ``line << 20 | index in recv_keys``, one per member use
    receivers: dict[str, bytes] = field(default_factory=dict)
    recv_keys: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)  # in source order
    returns: dict[int, str] = field(default_factory=dict)  # definition -> its return type key
    owners: dict[int, str] = field(default_factory=dict)  # Go method -> its receiver type name
    _starts: list[int] | None = field(default=None, repr=False, compare=False)
    _top: dict[str, int] | None = field(default=None, repr=False, compare=False)
    _named: dict[str, list[int]] | None = field(default=None, repr=False, compare=False)
    _ev: dict[str, list[Evidence]] | None = field(default=None, repr=False, compare=False)
    # receivers, evidence and returns as loaded from the cache, unpacked on first use: most
    # files are never asked who uses what, and these would double a warm index's memory
    _packed: bytes | None = field(default=None, repr=False, compare=False)
    # made by a splice from another index (None: extracted whole, or loaded)
    spliced: Spliced | None = field(default=None, repr=False, compare=False)
    _heads: list[str] | None = field(default=None, repr=False, compare=False)
    # a stored file's: its head names as the cache's rows hold them (`head_names`)
    heads_from: Callable[[], list[str] | None] | None = field(
        default=None, repr=False, compare=False
    )

    def named(self, name: str) -> list[int]:
        """Indices of the definitions called `name`, in file order."""
        if self._named is None:
            named: dict[str, list[int]] = {}
            for i, d in enumerate(self.definitions):
                named.setdefault(d.name, []).append(i)
            self._named = named
        return self._named.get(name, [])

    def keep_lookups(self, old: FileIndex, *, same_lines: bool, lines: tuple[int, int]) -> None:
        """Take `old`'s lookups by name (`named`, `top_level`): this index has its
        definitions (the same names, kinds and parents in the same order); with
        `same_lines` (each starts on the same line), its start lines too (`enclosing`).
        `lines`: the lines made again (the rest only moved); when no class's header lies
        on them, the names on the class headers are `old`'s (`head_names`: a pass over
        every name, 10 ms in a 3,700-name file, at every keystroke it was asked after)."""
        self._named, self._top = old._named, old._top
        if same_lines:
            self._starts = old._starts
        first, last = lines
        if old._heads is not None and not any(
            d.kind in CLASS_LIKE and d.name_line <= last and first <= d.header_end
            for d in self.definitions
        ):
            self._heads = old._heads

    def overloads(self, index: int) -> list[int]:
        """Definition `index` and the others of its name, kind and scope, in file order:
        `@overload` stubs and their implementation, `if`/`else` and `try`/`except` variants."""
        d = self.definitions[index]
        return [
            i
            for i in self.named(d.name)
            if self.definitions[i].parent == d.parent and self.definitions[i].kind == d.kind
        ]

    def top_level(self) -> dict[str, int]:
        """name -> index of the first top-level definition of that name."""
        if self._top is None:
            top: dict[str, int] = {}
            for i, d in enumerate(self.definitions):
                if d.parent is None:
                    top.setdefault(d.name, i)
            self._top = top
        return self._top

    @property
    def ref_count(self) -> int:
        return sum(len(v) for v in self.refs.values()) // 8

    def ref_lines(self, name: str) -> list[tuple[int, int]]:
        """(line, kind) of each use of `name` in this file."""
        packed = self.refs.get(name)
        return [(v >> 2, v & 3) for v in memoryview(packed).cast("q")] if packed else []

    def _unpack(self) -> None:
        if self._packed is not None:
            recv, keys, ev, returns, owners = marshal.loads(self._packed)
            self.receivers, self.recv_keys, self.returns = recv, keys, returns
            self.owners = owners
            self.evidence = list(map(_evidence, ev))
            self._packed = None  # last: another thread sees it unpacked or unpacks it too

    def return_key(self, index: int) -> str | None:
        """The return annotation of definition `index`, as a receiver key."""
        self._unpack()
        return self.returns.get(index)

    def owner_of(self, index: int) -> str | None:
        """The receiver type a Go method `index` is declared on (``func (s *T) m()``: T)."""
        self._unpack()
        return self.owners.get(index)

    def receivers_of(self, name: str) -> list[tuple[int, str]]:
        """(line, receiver key) of each ``obj.name`` use in this file."""
        self._unpack()
        packed = self.receivers.get(name)
        if not packed:
            return []
        keys, mask = self.recv_keys, (1 << RECV_BITS) - 1
        return [(v >> RECV_BITS, keys[v & mask]) for v in memoryview(packed).cast("q")]

    def evidence_for(self, name: str) -> list[Evidence]:
        """The evidence on `name` (a name, or ``self.x``), in source order."""
        if self._ev is None:
            self._unpack()
            by_name: dict[str, list[Evidence]] = {}
            for ev in self.evidence:
                by_name.setdefault(ev.name, []).append(ev)
            self._ev = by_name
        return self._ev.get(name, [])

    def on_class_header(self, name: str) -> bool:
        """Whether `name` is used on a class's header here (see `header_names`)."""
        packed = self.refs.get(name)
        spans = _header_spans(self.definitions) if packed else []
        return bool(spans) and _on(packed or b"", spans, [lo for lo, _ in spans])

    def head_names(self) -> list[str]:
        """The names used on any class's header here (`header_names`), worked out once: a
        class's bases are among them (a pass over every name once, not once per class)."""
        if self._heads is None and self.heads_from is not None:
            self._heads = self.heads_from()
        if self._heads is None:
            self._heads = header_names(self.definitions, self.refs)
        return self._heads

    def names_used_in(
        self, start_line: int, end_line: int, among: Iterable[str] | None = None
    ) -> dict[str, list[int]]:
        """name -> lines where it is used, for uses within [start_line, end_line] (each
        name's uses are stored sorted: a bisection per name, not a scan of every use); of
        the names `among` alone when given (a class header's: `head_names`)."""
        lo, hi = start_line * 4, end_line * 4 + 3
        out: dict[str, list[int]] = {}
        refs = self.refs
        for name in refs if among is None else among:
            packed = refs.get(name)
            if packed is None:
                continue
            values = memoryview(packed).cast("q")
            i = bisect.bisect_left(values, lo)
            lines = []
            while i < len(values) and values[i] <= hi:
                lines.append(values[i] >> 2)
                i += 1
            if lines:
                out[name] = lines
        return out

    def enclosing(
        self, start_line: int, end_line: int, skip: frozenset[str] = frozenset()
    ) -> int | None:
        """Index of the innermost definition holding lines [start_line, end_line], or None.

        Definitions of the kinds in `skip` do not count (a constant cannot enclose a call)."""
        # definitions nest: any that holds the range is the last one starting at or before it,
        # or an ancestor of that one; so bisect, then walk up the parents
        starts = self._starts
        if starts is None or len(starts) != len(self.definitions):
            starts = self._starts = [d.start_line for d in self.definitions]
        last = bisect.bisect_right(starts, start_line) - 1
        i: int | None = last if last >= 0 else None
        defs = self.definitions
        while i is not None:
            d = defs[i]
            if d.start_line <= start_line and end_line <= d.end_line and d.kind not in skip:
                return i
            i = d.parent
        return None

    def qualified_name(self, index: int) -> str:
        parts: list[str] = []
        i: int | None = index
        while i is not None:
            d = self.definitions[i]
            parts.append(d.name)
            i = d.parent
        return ".".join(reversed(parts))

    # -- (de)serialisation for the cache: marshal of plain values is fast and compact
    def dumps(self) -> bytes:
        return marshal.dumps(
            (
                SCHEMA,
                self.language,
                self.line_count,
                [tuple(d) for d in self.definitions],
                self.refs,
                [(i.module, i.names, i.aliases, i.line) for i in self.imports],
                self.errors,
                self._packed
                or marshal.dumps(
                    (
                        self.receivers,
                        self.recv_keys,
                        [tuple(e) for e in self.evidence],
                        self.returns,
                        self.owners,
                    )
                ),
            )
        )

    @classmethod
    def loads(cls, path: str, digest: str, blob: bytes) -> FileIndex | None:
        data = marshal.loads(blob)
        if not isinstance(data, tuple) or not data or data[0] != SCHEMA:
            return None
        _, language, line_count, defs, refs, imports, errors, packed = data
        out = cls(path, language, digest, line_count)
        out._packed = packed
        out.definitions = list(map(_definition, defs))
        out.refs = refs
        out.imports = [Import(m, tuple(n), tuple(a), ln) for m, n, a, ln in imports]
        out.errors = errors if type(errors) is list else list(errors)
        return out


# a stored definition's (evidence's) tuple made a Definition (Evidence) without `_make`'s
# Python frame and length check (written by `dumps` from them: the length holds): a third
# of the definitions' cost in a load, ~0.4 ms of a 1,200-definition test file's 1.3 ms
_definition = functools.partial(tuple.__new__, Definition)
_evidence = functools.partial(tuple.__new__, Evidence)


class Graph(NamedTuple):
    """What the reference graph keeps of a stored FileIndex (see `graph_of`)."""

    defs: list[tuple[str, str, bool]]  # (name, kind, top level), in file order
    refs: list[str]  # the names it uses
    uses: int  # how many uses in all
    imports: list[tuple[str, str]]  # (module, name taken or "")
    heads: list[str]  # the names used on a class's header (see `header_names`)


def graph_of(blob: bytes) -> Graph | None:
    """What the reference graph keeps of a stored FileIndex: its definitions (in file order,
    so a name's position is the definition's index) with their kind and whether they are at
    the top level, the names it uses, how many uses in all, and what it imports. None when
    the blob is not this schema's."""
    try:
        data = marshal.loads(blob)
    except (EOFError, ValueError, TypeError):
        return None
    if not isinstance(data, tuple) or len(data) != 8 or data[0] != SCHEMA:
        return None
    defs, refs, imports = data[3], data[4], data[5]
    return Graph(
        [(d[0], d[1], d[6] is None) for d in defs],
        list(refs),
        sum(len(v) for v in refs.values()) // 8,
        sorted({(m, n) for m, names, _, _ in imports for n in (names or ("",))}),
        header_names(defs, refs),
    )


def header_names(defs: Iterable[tuple[Any, ...]], refs: Mapping[str, bytes]) -> list[str]:
    """The names used on any class's header — from its name line to its header's end, where
    its bases are written — sorted: the files where a class may derive from a name, known
    without loading them. `defs` as Definition tuples, `refs` as `FileIndex.refs`."""
    spans = _header_spans(defs)
    starts = [lo for lo, _ in spans]
    return sorted(name for name, packed in refs.items() if spans and _on(packed, spans, starts))


def _header_spans(defs: Iterable[tuple[Any, ...]]) -> list[list[int]]:
    """The lines of the class headers, sorted and merged where they touch."""
    spans: list[list[int]] = []
    for lo, hi in sorted((d[4], d[5]) for d in defs if d[1] in CLASS_LIKE):
        if spans and lo <= spans[-1][1] + 1:
            spans[-1][1] = max(spans[-1][1], hi)
        else:
            spans.append([lo, hi])
    return spans


def _on(packed: bytes, spans: list[list[int]], starts: list[int]) -> bool:
    """Whether a name's uses (packed, sorted) fall on one of the spans: each use looked up
    among the spans, or each span among the uses, whichever are fewer."""
    values = memoryview(packed).cast("q")
    if len(values) <= len(spans):
        for v in values:
            j = bisect.bisect_right(starts, v >> 2) - 1
            if j >= 0 and v >> 2 <= spans[j][1]:
                return True
        return False
    for lo, hi in spans:
        i = bisect.bisect_left(values, lo * 4)
        if i < len(values) and values[i] <= hi * 4 + 3:
            return True
    return False
