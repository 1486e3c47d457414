"""Text positions, shared by every layer: where the lines of a text start, and how many
units a piece of text counts in an LSP position encoding. The one copy of each: the open
buffers (index/buffer.py) use them; so can edits and the language server's converters."""

from __future__ import annotations

import sys
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
