"""A parse does not keep its text: the read callback's chunks (index/chunks.py)."""

from __future__ import annotations

import gc
import sys
import threading

from scopewise.index import chunks, languages
from scopewise.index.buffer import Document, TextChange
from scopewise.index.extract import parse

# multi-byte characters across the 64 KiB chunk boundaries, and a tail of odd length
LINE = 'def f{i}(x):\n    return "ünïcode 😀 {i}" + x\n\n'
TEXT = "".join(LINE.format(i=i) for i in range(4000)).encode()


def test_parsing_keeps_no_copy_of_the_text() -> None:
    source = TEXT + b"# one more\n"
    before = sys.getrefcount(source)
    for _ in range(5):
        tree = parse("python", source)
        tree.edit(10, 10, 11, (0, 10), (0, 10), (0, 11))
        tree = parse("python", source[:10] + b"x" + source[10:], tree)
        del tree
    gc.collect()
    assert sys.getrefcount(source) == before


def test_an_edited_buffer_leaves_no_old_text_behind() -> None:
    doc = Document("m.py", TEXT.decode(), 1, "python")
    old = doc.source
    doc.apply([TextChange("x", (2, 0), (2, 0))], 2)
    doc.mark_indexed("")  # the document's own reference to the old text goes
    gc.collect()
    assert sys.getrefcount(old) == 2  # `old` and getrefcount's argument


def test_chunked_parse_is_the_bytes_parse() -> None:
    for source in (TEXT, TEXT[:-7] + "é\n".encode(), b"x = 1\n"):
        tree = parse("python", source)
        want = languages.parser("python").parse(source)
        assert str(tree.root_node) == str(want.root_node)
        assert tree.root_node.end_byte == len(source)
        last = tree.root_node.children[-1]
        assert (last.start_byte, last.end_byte) == (
            want.root_node.children[-1].start_byte,
            want.root_node.children[-1].end_byte,
        )


def test_each_thread_has_its_own_chunks() -> None:
    text = memoryview(bytes(range(256)) * 1024)
    got: list[bytes] = []

    def read() -> None:
        got.append(bytes(chunks.chunk(text, 1000)))

    mine = chunks.chunk(text, 0)
    worker = threading.Thread(target=read)
    worker.start()
    worker.join()
    assert bytes(mine) == bytes(text[: len(mine)]) and len(mine) == 1 << chunks.CHUNK_BITS
    assert got == [bytes(text[1000 : 1000 + (1 << chunks.CHUNK_BITS)])]
    tail = chunks.chunk(text, len(text) - 5)
    assert bytes(tail) == bytes(text[-5:-1])  # a power of two: the rest comes next
    assert chunks.chunk(text, len(text)) == b""
