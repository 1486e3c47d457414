"""Line starts and LSP position units: the one copy every layer uses."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from scopewise.index.lines import line_starts, newline_ends, units


@given(st.text(alphabet="ab\n\r😀é"))
def test_line_starts_are_where_each_line_begins(text: str) -> None:
    data = text.encode("utf-8")
    for t in (text, data):
        starts = line_starts(t)
        assert starts[0] == 0 and len(starts) == t.count("\n" if isinstance(t, str) else b"\n") + 1
        assert all(t[s - 1 : s] in ("\n", b"\n") for s in starts[1:])
    assert newline_ends(data, base=7) == [s + 7 for s in line_starts(data)[1:]]


def test_units_count_as_each_encoding_does() -> None:
    s = "a😀é"
    assert units(s, "utf-8") == len(s.encode("utf-8")) == 7
    assert units(s, "utf-16") == len(s.encode("utf-16-le")) // 2 == 4
    assert units(s, "utf-32") == 3
    lone = "a\ud800"  # a lone surrogate, as text read with surrogatepass holds it
    assert units(lone, "utf-16") == 2 and units(lone, "utf-8") == 4
