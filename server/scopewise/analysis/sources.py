"""File text and parse trees for the engine: open editor buffers first, then the disk.

The recent files are kept (an LRU keyed by content) up to `Sources.max_bytes` of text, not a
number of files: a 2k-file session ended holding 497 files, 20 MiB of text and 48 MiB of
their lines' strings (a line's string costs ~2.4 times its text; a file only priced, never
split, keeps its bytes alone: `ByteCosts`)."""

from __future__ import annotations

import bisect
import contextlib
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import overload

import tree_sitter as ts

from scopewise.analysis import tokens
from scopewise.index import extract as _extract
from scopewise.index import languages
from scopewise.index.buffer import Document
from scopewise.index.files import read_regular
from scopewise.index.workspace import WorkspaceIndex


class LineCosts(Sequence[float]):
    """The estimated tokens of a file's lines, each estimated on first use: a context reads
    the costs of a few definitions of a file, not of its every line."""

    __slots__ = ("_costs", "_lines")

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines
        self._costs: list[float | None] = [None] * len(lines)

    def __len__(self) -> int:
        return len(self._lines)

    @overload
    def __getitem__(self, i: int) -> float: ...
    @overload
    def __getitem__(self, i: slice) -> list[float]: ...
    def __getitem__(self, i: int | slice) -> float | list[float]:
        if isinstance(i, slice):
            return [self._one(j) for j in range(*i.indices(len(self)))]
        return self._one(i)

    def _one(self, i: int) -> float:
        cost = self._costs[i]
        if cost is None:
            cost = self._costs[i] = tokens.line_cost(self._lines[i])
        return cost

    def total(self, lines: Iterable[int], each: float = 0.0, cap: float | None = None) -> float:
        """The cost of some lines (those past the end count nothing), plus `each` per line
        counted: one call where packing would index line by line. With `cap`, counting
        stops once past it (a 40,000-line function is not read to learn it is too big)."""
        costs, src, n = self._costs, self._lines, len(self._lines)
        total = 0.0
        for i in lines:
            if 0 <= i < n:
                cost = costs[i]
                if cost is None:
                    cost = costs[i] = tokens.line_cost(src[i])
                total += cost + each
                if cap is not None and total > cap:
                    break
        return total

    def within(self, lines: Iterable[int]) -> list[int]:
        """The lines the file has, in the order given."""
        n = len(self)
        return [i for i in lines if 0 <= i < n]

    def known(self) -> dict[int, float]:
        """The costs estimated so far, by line."""
        return {i: c for i, c in enumerate(self._costs) if c is not None}


class KeptCosts(LineCosts):
    """A file's line costs as a command on the very same files left them (`Known`): the
    lines it estimated, the text read only when another line is asked."""

    __slots__ = ("_known", "_n", "_read", "_text")

    def __init__(self, n: int, known: dict[int, float], read: Callable[[], LineCosts]) -> None:
        self._n, self._known, self._read = n, known, read
        self._text: LineCosts | None = None

    def __len__(self) -> int:
        return self._n

    def _one(self, i: int) -> float:
        cost = self._known.get(i if i >= 0 else i + self._n)
        return self._costs_of_text()[i] if cost is None else cost

    def total(self, lines: Iterable[int], each: float = 0.0, cap: float | None = None) -> float:
        known, n = self._known, self._n
        total = 0.0
        for i in lines:
            if 0 <= i < n:
                cost = known.get(i)
                if cost is None:
                    cost = self._costs_of_text()[i]
                total += cost + each
                if cap is not None and total > cap:
                    break
        return total

    def known(self) -> dict[int, float]:
        return self._known if self._text is None else {**self._known, **self._text.known()}

    def _costs_of_text(self) -> LineCosts:
        if self._text is None:
            self._text = self._read()
        return self._text


class ByteCosts(LineCosts):
    """A file's line costs read from its bytes, a line found by its newlines and decoded
    alone when asked: a file priced for an estimate (a site list's line each) is neither
    decoded nor split whole (a 1.9 MB bundle: 10 ms and 46,000 strings at 50k files, each
    page of them a fault). Only for a text whose lines are the newlines' (`plain`); the
    same lines, so the same costs, as `str.splitlines` makes them."""

    __slots__ = ("_all", "_at", "_crlf", "_data", "_known", "_long", "_marks", "_n", "_offs")

    def __init__(self, data: bytes, crlf: bool) -> None:
        self._data, self._crlf = data, crlf
        self._known: dict[int, float] = {}
        self._n: int | None = None
        # where lines start: marks far apart (a long skip's end), and the line after the
        # last one read (`_at`: consecutive lines cost one newline's search each)
        self._marks, self._offs = [0], [0]
        self._at = (0, 0)
        # past _LONG_SKIPS long skips (lines asked out of order: each skips from a mark far
        # before it), every line's start found once, in C, and looked up from then on
        self._long = 0
        self._all: list[int] | None = None

    def __len__(self) -> int:
        if self._n is None:
            data = self._data
            self._n = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
        return self._n

    def _one(self, i: int) -> float:
        cost = self._cost(i if i >= 0 else i + len(self))
        if cost is None:
            raise IndexError(i)
        return cost

    def total(self, lines: Iterable[int], each: float = 0.0, cap: float | None = None) -> float:
        known = self._known
        if cap is None and not isinstance(lines, range):
            lines = self._found(lines)
        total = 0.0  # summed in the order asked: the same float as LineCosts' sum
        for i in lines:
            if i >= 0:
                cost = known.get(i)
                if cost is None:
                    cost = self._cost(i)
                    if cost is None:  # past the end
                        continue
                total += cost + each
                if cap is not None and total > cap:
                    break
        return total

    def within(self, lines: Iterable[int]) -> list[int]:
        cost = self._cost
        return [i for i in self._found(lines) if i >= 0 and cost(i) is not None]

    def known(self) -> dict[int, float]:
        return dict(self._known)

    def _found(self, lines: Iterable[int]) -> Sequence[int]:
        """The lines asked, their costs estimated in file order (each skip goes on from the
        last line found; a site list's lines come as a set)."""
        asked = lines if isinstance(lines, Sequence) else list(lines)
        known = self._known
        for i in sorted(asked):
            if i >= 0 and i not in known and self._cost(i) is None:
                break  # the rest are past the end
        return asked

    def _cost(self, i: int) -> float | None:
        """Line `i`'s cost (None: past the end), estimated once."""
        cost = self._known.get(i)
        if cost is not None:
            return cost
        data = self._data
        start = self._start(i)
        if start < 0:
            return None
        end = data.find(b"\n", start)
        self._at = (i + 1, end + 1) if end >= 0 else self._at
        end = len(data) if end < 0 else end
        if self._crlf and end > start and data[end - 1] == 13:  # "\r\n"
            end -= 1
        cost = self._known[i] = tokens.line_cost(data[start:end].decode("utf-8", "replace"))
        return cost

    def _start(self, i: int) -> int:
        """Where line `i` starts (-1: past the end), skipped to from the nearest known start
        before it."""
        if self._all is not None:
            return self._all[i] if i < len(self._all) else -1
        marks, offs = self._marks, self._offs
        k = bisect.bisect_right(marks, i) - 1
        line, pos = marks[k], offs[k]
        at_line, at_pos = self._at
        if line < at_line <= i:
            line, pos = at_line, at_pos
        if line < i:
            pos = _skip(self._data, pos, i - line, pos / line if line else 40.0)
            if pos < 0 or pos >= len(self._data):
                return -1
            if i - line > _FIND:
                marks.insert(k + 1, i)
                offs.insert(k + 1, pos)
                self._long += 1
                if self._long >= _LONG_SKIPS:
                    starts = [m.end() for m in re.finditer(b"\n", self._data)]
                    self._all = [0, *(p for p in starts if p < len(self._data))]
        return pos if pos < len(self._data) else -1


# a file read from disk this big or bigger is priced from its bytes (`ByteCosts`): below it,
# splitting costs less than finding lines one by one (a 15 KB file's 50-line body: the same;
# its whole: 0.33 ms split, 1.0 ms found)
BYTE_COSTS_MIN = 128 << 10
# skips of more lines than this count newlines in spans (C), shorter ones find them one by one
_FIND = 32
# long skips after which a file's every line start is found at once (a 1.9 MB bundle's lines
# asked backwards skipped 46,000 lines each: 4.6 s for 3,000 of them; its starts: ~5 ms)
_LONG_SKIPS = 16
# a line ending `str.splitlines` knows besides "\n" and "\r\n" (UTF-8; \r is asked apart)
_OTHER_BREAKS = (b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e")
_WIDE_BREAKS = (b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xa9")


def plain(data: bytes) -> bool | None:
    """Whether the text's lines are what its newlines make them: True with "\r\n" endings
    (each "\r" before a "\n"), False without any "\r", None when another ending
    `str.splitlines` knows is there (a lone "\r", a form feed, U+2028, ...)."""
    if any(b in data for b in _OTHER_BREAKS):
        return None
    # their last bytes first (memchr): a 2 MB bundle's few non-ASCII letters rarely hold them
    if not data.isascii() and any(b[-1:] in data and b in data for b in _WIDE_BREAKS):
        return None
    if b"\r" not in data:
        return False
    return True if data.count(b"\r") == data.count(b"\r\n") else None


def _skip(data: bytes, pos: int, k: int, per_line: float) -> int:
    """The offset just past the `k`-th newline from `pos` (-1: fewer than `k` there): a
    long skip counts newlines (`bytes.count`) over spans three quarters as long as `k`
    lines at `per_line` bytes (then at the last span's mean; halved when a span held too
    many), a short one finds them (`bytes.find`)."""
    size = len(data)
    while k > _FIND:
        end = min(size, pos + int((k - _FIND // 2) * per_line * 0.75) + 1)
        n = data.count(b"\n", pos, end)
        if n >= k:
            per_line /= 2
            continue
        if end == size:
            return -1
        if n:
            per_line = (end - pos) / n
        pos, k = end, k - n
    while k > 0:
        j = data.find(b"\n", pos)
        if j < 0:
            return -1
        pos, k = j + 1, k - 1
    return pos


# a site's enclosing definition: the line naming it, its qualified name, kind, first and
# last line (0-based); the line -1 at module level (or past the file's definitions)
CallerFacts = tuple[int, str, str, int, int]


class Known:
    """What a command on the very same files (cli/kept.py makes sure: the same listing, the
    same code, no file held in memory) worked out of them, handed to the next: some lines'
    costs (`KeptCosts`) and the definitions around sites (`candidates.sites`) — a wide
    name's hundreds of using files are then neither read nor loaded unless packed. What this
    command works out is added (`asked`, `callers`)."""

    def __init__(
        self,
        costs: dict[str, tuple[int, dict[int, float]]] | None = None,
        callers: dict[tuple[str, int], CallerFacts] | None = None,
    ) -> None:
        self.costs = costs or {}  # path -> (line count, {line: cost})
        self.callers = callers or {}  # (path, definition index or -1) -> facts
        self.asked: dict[str, LineCosts] = {}  # the line costs handed out, by path


@dataclass
class Source:
    path: str
    data: bytes
    _lines: list[str] | None  # without line endings; None: split from `data` when asked
    tree: ts.Tree | None
    language: str | None
    _costs: LineCosts | None = field(default=None, repr=False)
    _digest: str | None = field(default=None, repr=False)

    @property
    def lines(self) -> list[str]:
        """The text's lines (without line endings), split on first use."""
        if self._lines is None:
            self._lines = _split(self.data)
        return self._lines

    @property
    def digest(self) -> str:
        """The content hash the index keys files by, computed once per version."""
        if self._digest is None:
            self._digest = _extract.digest(self.data)
        return self._digest

    def line_costs(self) -> LineCosts:
        """Estimated tokens of each line (its newline included), each computed once per
        version when first asked: the lines of a text cost what `tokens.estimate` says the
        text costs. A big text read from disk and not split yet is priced from its bytes
        (`ByteCosts`) where its newlines make its lines."""
        if self._costs is None:
            crlf = None
            if self._lines is None and len(self.data) >= BYTE_COSTS_MIN:
                crlf = plain(self.data)
            if crlf is None:
                self._costs = LineCosts(self.lines)
            else:
                self._costs = ByteCosts(self.data, crlf)
        return self._costs


class Derived:
    """What a request made of what it read, by what it read, for the next requests (a few,
    the latest): `candidates.sites`' list by the sites it was made of — a menu asked again
    after any change (a keystroke, a plan run) has a wide name's kept sites, and making
    their list again was most of its cost (1,841 sites: 17 of 37 ms)."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._made: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()  # the work ahead asks from its own thread

    def get(self, key: Hashable) -> object | None:
        with self._lock:
            hit = self._made.get(key)
            if hit is not None:
                self._made.move_to_end(key)
            return hit

    def put(self, key: Hashable, value: object) -> None:
        with self._lock:
            self._made[key] = value
            while len(self._made) > self.size:
                self._made.popitem(last=False)


class Sources:
    """Text and trees of workspace files, with an LRU keyed by content so repeats are free."""

    # a context touches many files (callers, tests, definitions): the recent ones are kept up
    # to this much text (their lines, trees and line costs come with them: up to ~3.5 times
    # that, a file only priced keeps its bytes alone;
    # 24 MiB made a code action at 50k files read files again, p50 19 -> 39 ms)
    max_bytes = 64 << 20

    def __init__(
        self,
        workspace: WorkspaceIndex,
        documents: Callable[[str], Document | None] | None = None,
        capacity: int = 512,
    ) -> None:
        self.workspace = workspace
        self._documents = documents
        self._cache: OrderedDict[str, tuple[tuple[int, int] | int, Source]] = OrderedDict()
        self._capacity = capacity
        self._bytes = 0  # the text the cache holds
        self.known: Known | None = None  # a command's: what the last one worked out
        self.derived = Derived()

    def line_costs(self, path: str) -> LineCosts:
        """The file's line costs (raises OSError when it cannot be read): with `known`, as
        the last command left them, while they hold the lines asked."""
        known = self.known
        if known is None or self.is_open(path):
            return self.get(path).line_costs()
        costs = known.asked.get(path)
        if costs is None:
            kept = known.costs.get(path)
            if kept is None:
                costs = self.get(path).line_costs()
            else:
                costs = KeptCosts(*kept, lambda: self.get(path).line_costs())
            known.asked[path] = costs
        return costs

    def is_open(self, path: str) -> bool:
        """Whether an editor buffer holds the file (it may not be on disk yet)."""
        return self._documents is not None and self._documents(path) is not None

    def document(self, path: str) -> Document | None:
        """The editor's buffer of the file, when one is open."""
        return self._documents(path) if self._documents else None

    def get(self, path: str, with_tree: bool = False) -> Source:
        """The file's current text (raises OSError when it cannot be read)."""
        doc = self._documents(path) if self._documents else None
        if doc is not None:
            key: tuple[int, int] | int = -doc.version - 1
            hit = self._cache.get(path)
            if hit is not None and hit[0] == key:
                return hit[1]
            doc.settle()  # a parse the keystrokes left paused is finished: the tree is asked
            # a buffer over max_file_bytes is never parsed (no language there), yet it is code
            spec = languages.language_for_path(path)
            language = doc.language or (spec.name if spec else None)
            src = Source(path, doc.source, doc.text_lines(), doc.tree, language)
            self._put(path, key, src)
            return src
        full = os.path.join(self.workspace.root, path)
        st = os.stat(full)
        key = (st.st_mtime_ns, st.st_size)
        hit = self._cache.get(path)
        limit = self.workspace.settings.max_file_bytes
        whole = hit is not None and (hit[1].tree is not None or len(hit[1].data) > limit)
        if hit is not None and hit[0] == key and (whole or not with_tree):
            self._cache.move_to_end(path)
            return hit[1]
        data, _ = read_regular(full)
        spec = languages.language_for_path(path)
        tree = None
        # too slow to parse, or over max_file_bytes: followed as text, like such a buffer
        if with_tree and spec and len(data) <= limit:
            with contextlib.suppress(_extract.ParseTimeout):
                tree = _extract.parse(spec.name, data)
        src = Source(path, data, None, tree, spec.name if spec else None)
        self._put(path, key, src)
        return src

    def _put(self, path: str, key: tuple[int, int] | int, src: Source) -> None:
        old = self._cache.pop(path, None)
        if old is not None:
            self._bytes -= len(old[1].data)
        self._cache[path] = (key, src)
        self._bytes += len(src.data)
        while len(self._cache) > 1 and (
            len(self._cache) > self._capacity or self._bytes > self.max_bytes
        ):
            _, (_, gone) = self._cache.popitem(last=False)
            self._bytes -= len(gone.data)


def _split(data: bytes) -> list[str]:
    return data.decode("utf-8", "replace").splitlines()
