"""What a parse's read callback hands tree-sitter: the text in chunks that leak nothing.

py-tree-sitter (0.26) keeps a reference to every object a read callback returns, for good.
A slice of the text (a memoryview of it) therefore kept the whole text alive: every parse of
an open buffer, i.e. every keystroke, left its text behind (260 MiB after bench_scale's
session, ~0.5 MB a keystroke in a 1 MB file), and every file a worker parsed stayed in it.

So the callback returns only views that live as long as their thread: the chunk is copied
into the thread's own buffer (64 KiB), seen through one view per power-of-two length; the
end of a text comes in a few of them. What leaks is reference counts on those views."""

from __future__ import annotations

import threading

CHUNK_BITS = 16  # a chunk is at most 64 KiB


class _Views(threading.local):
    """This thread's buffer and its views, the views[k] being its first 2**k bytes."""

    def __init__(self) -> None:
        whole = memoryview(bytearray(1 << CHUNK_BITS))
        self.views = [whole[: 1 << k] for k in range(CHUNK_BITS + 1)]


_VIEWS = _Views()


def chunk(text: memoryview, offset: int) -> memoryview | bytes:
    """The bytes of `text` from `offset` on, or the first of them (a power of two many, at
    most 64 KiB), in this thread's buffer: valid until this thread's next call; b"" at the
    end. Thread-safe (each thread has its own buffer), not reentrant."""
    n = len(text) - offset
    if n <= 0:
        return b""
    view = _VIEWS.views[min(n.bit_length() - 1, CHUNK_BITS)]
    view[:] = text[offset : offset + len(view)]
    return view
