"""Open documents: the editor's text, kept as UTF-8 bytes with a parse tree that follows
each edit through tree-sitter's incremental parsing (``Tree.edit`` + reparse).

Every parse here is bounded by ``parse_limit`` CPU seconds (the language server passes a
short one: these parses run on its event loop), and with ``step_s`` runs only that long at
once: it pauses (``parsing``, no tree yet) and ``resume`` goes on where it stopped, ``settle``
to its end (a request that needs the tree); an edit meanwhile starts it again from the old
tree, edited along. A keystroke whose reparse is long (tree-sitter's error recovery after a
syntax error: 80-125 ms in a 3,000-line file) costs its handler ``step_s``, the rest is done
between messages. A text whose parse runs past the limit has no tree
and ``needs_parse``: a full parse (``background_parse``, within the normal limit) runs off
the loop and ``adopt`` installs it; one past that limit too leaves the document followed as
text only (``parse_problem`` says why) until its whole text is replaced.

A document also knows which bytes changed since the text its index was made from
(`mark_indexed`): the edits and the ranges whose syntax changed since (``Tree.changed_ranges``
of that text's tree, edited along, and the current one: asked once, by `since`, not at every
keystroke), as one span; index/incremental.py re-extracts only there.

A keystroke costs the reparse and little else: the new text is made in one copy (three
copies of a 1 MB text made the first keystrokes after the idle collection's `malloc_trim`
fault in 2-3 MiB of fresh pages: 5-15 ms), and the line starts (`lines.LineStarts`) of a
keystroke within one line record the move of the lines after it rather than write it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import tree_sitter as ts

from scopewise.index import extract as _extract
from scopewise.index import languages
from scopewise.index.lines import LineStarts, split_lines, units

Encoding = str  # "utf-8" | "utf-16" | "utf-32": how LSP positions count characters
Span = tuple[int, int]  # bytes [start, end) of the current text


class PositionError(ValueError):
    """A position outside the document."""


@dataclass(frozen=True)
class TextChange:
    """An LSP-style change: a range (line, character) to replace, or the whole text."""

    text: str
    start: tuple[int, int] | None = None  # None: replace the whole document
    end: tuple[int, int] | None = None


class _Parsing:
    """A parse of one text that may pause (`step`) and go on later where it stopped: the
    document's own parser (a paused parser resumes its parse on its next call, so it serves
    nothing else) and the CPU seconds it has left."""

    def __init__(self, parser: ts.Parser, source: bytes, old_tree: ts.Tree | None, limit: float):
        self.parser = parser
        self.source, self.old_tree, self.limit = source, old_tree, limit
        self.left = limit

    def step(self, step_s: float | None) -> ts.Tree | None:
        """Parse for at most `step_s` CPU seconds (None: to the end): the tree, or None when
        paused; ParseTimeout once the whole parse has taken `limit`."""
        t0 = time.thread_time()
        pause_at = None if step_s is None or step_s >= self.left else t0 + step_s
        try:
            return _extract.parse_slice(
                self.parser, self.source, self.old_tree, t0 + self.left, self.limit, pause_at
            )
        finally:
            self.left -= time.thread_time() - t0


@dataclass(frozen=True)
class ParseOutcome:
    """A background parse of one text: its tree, or why there is none."""

    source: bytes
    tree: ts.Tree | None
    problem: str | None


class Document:
    """One open document: version, text as bytes, line offsets and the parse tree."""

    def __init__(
        self,
        path: str,
        text: str,
        version: int,
        language: str | None,
        encoding: Encoding = "utf-16",
        parse_limit: float | None = None,
        step_s: float | None = None,
    ) -> None:
        self.path = path
        self.version = version
        self.language = language
        self.encoding = encoding
        self.parse_limit = parse_limit  # CPU seconds a parse here may take (None: by size)
        # CPU seconds a parse may run at once (None: to its end); past it the parse pauses,
        # to be resumed (`resume`, `settle`) where it stopped
        self.step_s = step_s
        self._parsing: _Parsing | None = None
        self._parser: ts.Parser | None = None  # this document's own: see `_Parsing`
        # a request on another thread may finish a paused parse (`settle`) the loop steps
        self._lock = threading.RLock()
        self.source = text.encode("utf-8", "surrogatepass")
        self._lines = LineStarts.of(self.source)
        # the text's lines as str, one per line (`text_lines`): made when first asked, then
        # only the edited lines decoded again; None until asked, or when a line holds a
        # break other than "\n" (str.splitlines would split it)
        self._strs: list[str] | None = None
        self.tree: ts.Tree | None = None
        self.needs_parse = False  # the parse here ran out of time: a full one is due off-loop
        self.parse_problem: str | None = None  # not parsed at all: followed as text only
        # the digest of the text the index was last made from (None: not known), and the
        # bytes changed since (None: none)
        self.indexed: str | None = None
        self.changed: Span | None = None
        self.indexed_source = self.source  # that text (while `indexed` is set)
        # the tree of the text `changed` last took in the syntax changes of, edited since
        self._base: ts.Tree | None = None
        self._parse(None)

    def mark_indexed(self, digest: str) -> None:
        """The index is (being) made from the current text, whose digest is `digest`."""
        self.indexed, self.changed = digest, None
        self.indexed_source = self.source
        self._base = None

    def since(self, digest: str) -> Span | None:
        """The bytes changed since the text of `digest`; None when that is not known (the
        text was never that, or was replaced or parsed afresh since)."""
        if self.indexed != digest or self.tree is None:
            return None
        if self._base is not None:  # the syntax changes since `changed` last took them in
            for r in self._base.changed_ranges(self.tree):
                self._widen(r.start_byte, r.end_byte)
            self._base = None
        return self.changed if self.changed is not None else (0, 0)

    def _widen(self, start: int, end: int) -> None:
        if self.changed is not None:
            start, end = min(start, self.changed[0]), max(end, self.changed[1])
        self.changed = start, end

    def _parse(self, old_tree: ts.Tree | None) -> None:
        """Parse the current text (from the edited old tree), within `parse_limit`, the
        first `step_s` of it now (the rest: `resume`)."""
        self.tree = None
        self._stop_parsing()
        if old_tree is None:
            self.indexed = None  # parsed afresh: what changed since is not known
            self._base = None
        if self.language is None or self.parse_problem is not None:
            return
        limit = self.parse_limit
        if limit is None:
            limit = _extract.parse_limit(len(self.source))
        if self._parser is None:
            self._parser = ts.Parser(languages.parser(self.language).language)
        self._parsing = _Parsing(self._parser, self.source, old_tree, limit)
        self.resume(self.step_s)

    @property
    def parsing(self) -> bool:
        """A parse of the current text paused (`resume` goes on with it): no tree yet."""
        return self._parsing is not None

    def resume(self, step_s: float | None) -> bool:
        """Go on with the paused parse for at most `step_s` CPU seconds (None: to its end,
        within `parse_limit`); whether it is over (a tree, or `needs_parse` past the limit)."""
        with self._lock:
            return self._resume(step_s)

    def _resume(self, step_s: float | None) -> bool:
        work = self._parsing
        if work is None:
            return True
        try:
            tree = work.step(step_s)
        except _extract.ParseTimeout:
            self._parsing = None
            self.needs_parse = True
            self.indexed = self._base = None
            return True
        if tree is None:
            return False
        self._parsing = None
        self.tree = tree
        self.needs_parse = False
        old_tree = work.old_tree
        if old_tree is not None and self.indexed is not None and self._base is None:
            self._base = old_tree  # compared with the tree of the day when `since` asks
        return True

    def settle(self) -> None:
        """Finish a paused parse now (a request needs the tree)."""
        self.resume(None)

    def _stop_parsing(self) -> None:
        if self._parsing is not None:
            self._parsing.parser.reset()
            self._parsing = None

    def background_parse(self) -> Callable[[], ParseOutcome]:
        """A full parse of the current text, within the normal limit, to run on another
        thread (it lets the interpreter lock go while it runs); `adopt` takes the outcome."""
        language, source = self.language, self.source

        def run() -> ParseOutcome:
            if language is None:
                return ParseOutcome(source, None, None)
            try:
                return ParseOutcome(source, _extract.parse(language, source), None)
            except _extract.ParseTimeout as exc:
                return ParseOutcome(source, None, str(exc))

        return run

    def adopt(self, outcome: ParseOutcome) -> bool:
        """Install a background parse of the current text; False when the text changed
        since (then parse again). A parse that ran out of time stands for the edits made
        meanwhile too: a few keystrokes do not make a pathological text parse in time."""
        if not self.needs_parse:
            return False
        if outcome.source is not self.source and outcome.problem is None:
            return False
        self.needs_parse = False
        self.tree = outcome.tree
        self.parse_problem = outcome.problem
        self.indexed = self._base = None
        return True

    @property
    def text(self) -> str:
        return self.source.decode("utf-8", "replace")

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def text_lines(self) -> list[str]:
        """The text's lines as ``text.splitlines()`` gives them (a new list each time):
        kept along the edits, so a keystroke decodes its own lines, not the whole text."""
        with self._lock:  # a request on another thread may ask while the loop edits
            if self._strs is None:
                self._strs = split_lines(self.source, len(self._lines), True)
                if self._strs is None:
                    return self.text.splitlines()
            ends_line = not self.source or self.source.endswith(b"\n")
            return self._strs[:-1] if ends_line else self._strs[:]

    def _edit_strs(self, first: int, old_last: int, new_last: int) -> None:
        """Lines first..old_last became first..new_last: decode those again."""
        if self._strs is None:
            return
        n = len(self._lines)
        end = self._lines.start(new_last + 1) if new_last + 1 < n else len(self.source)
        chunk = self.source[self._lines.start(first) : end]
        got = split_lines(chunk, new_last - first + 1, new_last + 1 >= n)
        if got is None:
            self._strs = None
        else:
            self._strs[first : old_last + 1] = got

    def line_bytes(self, line: int) -> bytes:
        start = self._lines.start(line)
        end = self._lines.start(line + 1) if line + 1 < len(self._lines) else len(self.source)
        return self.source[start:end]

    def offset(self, line: int, character: int) -> int:
        """Byte offset of an LSP position (clamped to the line's end, as LSP asks)."""
        if line < 0 or character < 0:
            raise PositionError(f"negative position {line}:{character}")
        if line >= len(self._lines):
            if line == len(self._lines) and character == 0:
                return len(self.source)
            raise PositionError(f"line {line + 1} is past the end ({len(self._lines)} lines)")
        raw = self.line_bytes(line)
        content = raw.rstrip(b"\r\n")
        start = self._lines.start(line)
        if self.encoding == "utf-8":
            return start + min(character, len(content))
        text = content.decode("utf-8", "replace")
        if self.encoding == "utf-32":
            return start + len(text[:character].encode("utf-8"))
        units = 0
        for i, ch in enumerate(text):
            if units >= character:
                return start + len(text[:i].encode("utf-8"))
            units += 2 if ord(ch) > 0xFFFF else 1
        return start + len(content)

    def position(self, offset: int) -> tuple[int, int]:
        """LSP position of a byte offset."""
        line = self._lines.line_of(offset)
        prefix = self.source[self._lines.start(line) : offset].decode("utf-8", "replace")
        return line, units(prefix, self.encoding)

    def _point(self, offset: int) -> tuple[int, int]:
        line = self._lines.line_of(offset)
        return line, offset - self._lines.start(line)

    def apply(self, changes: list[TextChange], version: int) -> None:
        """Apply the changes of one didChange, in order, editing the tree incrementally.

        All or nothing: a bad position raises PositionError and leaves the document as it was.
        """
        with self._lock:
            self._apply_all(changes, version)

    def _apply_all(self, changes: list[TextChange], version: int) -> None:
        saved = (self.source, self._lines, self.parse_problem)
        fresh = False  # a first parse was paused: the new text is parsed afresh
        if self._parsing is not None:  # a paused parse: its old tree is edited along instead
            fresh = self._parsing.old_tree is None
            self.tree = self._parsing.old_tree
            self._stop_parsing()
        had_tree = self.tree is not None or fresh
        try:
            replaced = self._apply(changes)
        except PositionError:
            self.source, self._lines, self.parse_problem = saved
            self._strs = None  # some of the changes may have gone in: made again when asked
            self.indexed = self._base = None
            if had_tree:  # edited in place: parse the restored text again
                self._parse(None)
            raise
        if replaced or fresh:  # a new text: parsed afresh (after any incremental changes)
            self.parse_problem = None if replaced else self.parse_problem
            self._parse(None)
        elif self.tree is not None:
            self._parse(self.tree)
        elif self.language and self.parse_problem is None:
            self.needs_parse = True  # the text moved on while a full parse was due
        self.version = version

    def _apply(self, changes: list[TextChange]) -> bool:
        """Apply the changes to the text (and edit the tree); whether the whole text was
        replaced (the tree is then dropped, to be parsed afresh)."""
        replaced = False
        for change in changes:
            if change.start is None or change.end is None:
                self.source = change.text.encode("utf-8", "surrogatepass")
                self._lines = LineStarts.of(self.source)
                self._strs = None
                self.tree = None
                self.indexed = self._base = None
                replaced = True
                continue
            start = self.offset(*change.start)
            end = self.offset(*change.end)
            if end < start:
                raise PositionError("range end before its start")
            new = change.text.encode("utf-8", "surrogatepass")
            start_point, old_end_point = self._point(start), self._point(end)
            old = memoryview(self.source)
            self.source = b"".join((old[:start], new, old[end:]))  # one copy, not three
            old.release()
            # line starts: unchanged before the edit, shifted after it, new ones inside it
            self._lines = self._lines.edited(start_point[0], old_end_point[0], start, end, new)
            self._edit_strs(start_point[0], old_end_point[0], start_point[0] + new.count(b"\n"))
            self._moved(start, end, start + len(new))
            new_end_point = self._point(start + len(new))
            for tree in (self.tree, self._base):
                if tree is not None:
                    tree.edit(
                        start, end, start + len(new), start_point, old_end_point, new_end_point
                    )
        return replaced

    def _moved(self, start: int, old_end: int, new_end: int) -> None:
        """One more edit (bytes [start, old_end) became [start, new_end)): the changed span
        moves with the text after it and takes in the edit."""
        if self.changed is None:
            self.changed = start, new_end
            return
        shift = new_end - old_end

        def moved(pos: int, inside: int) -> int:
            return pos if pos <= start else pos + shift if pos >= old_end else inside

        lo, hi = self.changed
        self.changed = min(moved(lo, start), start), max(moved(hi, new_end), new_end)
