"""Text positions, shared by every layer: where the lines of a text start, and how many
units a piece of text counts in an LSP position encoding. The one copy of each: the open
buffers (index/buffer.py) use them; so can edits and the language server's converters."""

from __future__ import annotations

import bisect
import sys
from array import array
from typing import AnyStr


def newline_ends(text: AnyStr, base: int = 0) -> list[int]:
    """Offsets (shifted by `base`) just after each newline of a text (bytes or str)."""
    nl = b"\n" if isinstance(text, bytes) else "\n"
    out = []
    i = text.find(nl)
    while i >= 0:
        out.append(base + i + 1)
        i = text.find(nl, i + 1)
    return out


def line_starts(text: AnyStr) -> list[int]:
    """The offset of each line's start: bytes for bytes, characters for str."""
    return [0, *newline_ends(text)]


def shift_int64s(packed: bytes, amount: int) -> bytes:
    """`packed` native int64s (non-negative, staying so) each plus `amount`: one big-integer
    addition, lane by lane (no lane carries into the next) — numpy's vector add, without
    numpy. How line starts and packed positions after an edit move."""
    if not amount or not packed:
        return packed
    order = sys.byteorder
    lanes = abs(amount).to_bytes(8, order) * (len(packed) // 8)
    x, y = int.from_bytes(packed, order), int.from_bytes(lanes, order)
    return (x + y if amount > 0 else x - y).to_bytes(len(packed), order)


class LineStarts:
    """Where each line of a text starts (byte offsets, as int64s), following its edits. An
    edit within one line moves every later line: that move is recorded (from which line,
    by how many bytes), not written into the starts — typing along one line of a 30,000-line
    text moves none of them; an edit elsewhere writes it in first, by one big-integer
    addition (a list comprehension took 1-4 ms). Immutable: an edit gives a new one, which
    shares the starts it did not change (a caller may keep the old one to go back to)."""

    __slots__ = ("_by", "_from", "_starts")

    def __init__(self, starts: array[int], moved_from: int | None = None, by: int = 0) -> None:
        self._starts = starts  # never changed in place
        # the starts from `_from` on are each `_by` bytes short of their line's start
        self._from = len(starts) if moved_from is None else moved_from
        self._by = by

    @classmethod
    def of(cls, text: bytes) -> LineStarts:
        return cls(array("q", line_starts(text)))

    def __len__(self) -> int:
        return len(self._starts)

    def start(self, line: int) -> int:
        """Where a line starts."""
        start = self._starts[line]
        return start + self._by if line >= self._from else start

    def line_of(self, offset: int) -> int:
        """The line holding a byte offset (its start at or before it)."""
        starts, k, by = self._starts, self._from, self._by
        if k < len(starts) and offset >= starts[k] + by:
            return bisect.bisect_right(starts, offset - by, lo=k) - 1
        return bisect.bisect_right(starts, offset, hi=k) - 1

    def edited(self, first: int, last: int, start: int, end: int, new: bytes) -> LineStarts:
        """Lines first..last held the bytes [start, end), which became `new`."""
        breaks = newline_ends(new, base=start)
        shift = len(new) - (end - start)
        if first == last and not breaks:  # within one line: the later lines move alone
            k = first + 1
            if not shift or k >= len(self._starts):
                return self
            if self._by and self._from != k:
                return LineStarts(self._written(), k, shift)
            return LineStarts(self._starts, k, self._by + shift)
        starts = self._written()  # unchanged before the edit, moved after it, new inside it
        tail = starts[bisect.bisect_right(starts, end) :].tobytes()
        out = starts[: first + 1]
        out.extend(breaks)
        out.frombytes(shift_int64s(tail, shift))
        return LineStarts(out)

    def _written(self) -> array[int]:
        """The starts with the recorded move written in (a new array)."""
        k, by = self._from, self._by
        if not by or k >= len(self._starts):
            return self._starts
        out = self._starts[:k]
        out.frombytes(shift_int64s(self._starts[k:].tobytes(), by))
        return out


def units(s: str, encoding: str) -> int:
    """The length of `s` in the units of an LSP position encoding ("utf-8", "utf-16",
    "utf-32"); a lone surrogate (text that came through surrogatepass) counts as one."""
    if encoding == "utf-8":
        return len(s.encode("utf-8", "surrogatepass"))
    if encoding == "utf-16":
        return len(s) + sum(1 for ch in s if ord(ch) > 0xFFFF)
    return len(s)


def split_lines(chunk: bytes, count: int, at_end: bool) -> list[str] | None:
    """The `count` lines of `chunk` (whole lines, each ending in "\\n" except the text's last
    when `at_end`: the chunk runs to the text's end) decoded as ``str.splitlines`` reads
    them, one string per line; None when a line holds another break splitlines sees (a
    lone "\\r", "\\f", "\\u2028"...): then the text's lines are not its "\\n" lines."""
    got = chunk.decode("utf-8", "replace").splitlines()
    if at_end and (not chunk or chunk.endswith(b"\n")):
        got.append("")  # the text's empty last line, which splitlines leaves out
    return got if len(got) == count else None
