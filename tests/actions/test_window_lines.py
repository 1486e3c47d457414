"""A writer's windows priced as the lines it is shown (actions/steps.py: `window_lines`)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from scopewise.actions.steps import SMALL_FILE_LINES, WINDOW, window_lines


def _shown(sites: list[int], line_count: int | None, span: tuple[int, int] | None) -> int:
    """The lines a writer is shown, one by one: within WINDOW of a site or of the span."""
    if line_count is not None and line_count <= SMALL_FILE_LINES:
        return line_count
    shown: set[int] = set()
    for line in sites:
        shown.update(range(line - WINDOW, line + WINDOW + 1))
    if span is not None:
        shown.update(range(span[0] - WINDOW, span[1] + WINDOW + 1))
    last = line_count if line_count is not None else max(shown, default=0)
    return sum(1 for n in shown if 1 <= n <= last)


lines = st.integers(min_value=-5, max_value=400)


@given(
    st.lists(lines, max_size=60),
    st.one_of(st.none(), st.integers(min_value=0, max_value=400)),
    st.one_of(st.none(), st.tuples(lines, lines)),
)
def test_the_lines_shown_are_counted_once_each(
    sites: list[int], line_count: int | None, span: tuple[int, int] | None
) -> None:
    assert window_lines(sites, line_count, span) == _shown(sites, line_count, span)


def test_sites_close_together_share_their_windows() -> None:
    # two sites 2 lines apart in a long file: 7 + 2 lines, not 14; the file's first line bounds
    assert window_lines([100, 102], 1000, None) == 2 * WINDOW + 1 + 2
    assert window_lines([1], 1000, None) == WINDOW + 1
    assert window_lines([10], 30, None) == 30  # a short file is shown whole
