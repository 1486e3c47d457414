"""The data an index holds for one file (definitions, references, imports, syntax errors)
and its (de)serialisation for the cache. Lines are 0-based here; the CLI speaks 1-based.
A definition is named by its index in its file's list; "none" is None, never -1."""

from __future__ import annotations

import bisect
import marshal
from dataclasses import dataclass, field
from typing import NamedTuple

# Reference kinds, packed with the line as ``line * 4 + kind``: a plain name, a name used as
# a type, or the member part of ``obj.member``.
REF_NAME, REF_TYPE, REF_MEMBER = 0, 2, 3

SCHEMA = 7  # bump when what extraction produces changes: cached entries are re-made
# 6: a top-level definition's parent is stored as None (it was -1)
# 7: Go interfaces, their methods and type uses; TypeScript namespaces


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
    _starts: list[int] | None = field(default=None, repr=False, compare=False)
    _top: dict[str, int] | None = field(default=None, repr=False, compare=False)

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

    def names_used_in(self, start_line: int, end_line: int) -> dict[str, list[int]]:
        """name -> lines where it is used, for uses within [start_line, end_line]."""
        lo, hi = start_line * 4, end_line * 4 + 3
        out: dict[str, list[int]] = {}
        for name, packed in self.refs.items():
            lines = [v >> 2 for v in memoryview(packed).cast("q") if lo <= v <= hi]
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
            )
        )

    @classmethod
    def loads(cls, path: str, digest: str, blob: bytes) -> FileIndex | None:
        data = marshal.loads(blob)
        if not isinstance(data, tuple) or not data or data[0] != SCHEMA:
            return None
        _, language, line_count, defs, refs, imports, errors = data
        out = cls(path, language, digest, line_count)
        out.definitions = list(map(Definition._make, defs))
        out.refs = refs
        out.imports = [Import(m, tuple(n), tuple(a), ln) for m, n, a, ln in imports]
        out.errors = list(errors)
        return out
