"""Packing: the block headers a set of lines pays for."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from scopewise.analysis.packing import Packer


@given(
    have=st.sets(st.integers(0, 60), max_size=40),
    add=st.sets(st.integers(0, 60), max_size=40),
)
def test_run_counting_shortcut_matches_a_full_recount(have: set[int], add: set[int]) -> None:
    """Packing counts the code blocks (runs of lines) an addition opens without recounting
    the file's; the block headers it pays for must be exactly those of a full recount."""

    def runs(lines: set[int]) -> int:
        return sum(1 for ln in lines if ln - 1 not in lines)

    new = add - have
    assert Packer.new_runs(have, new) == runs(have | new) - runs(have)
