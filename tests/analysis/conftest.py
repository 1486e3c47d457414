"""Fixtures of the analysis tests: an engine over the fixture workspace."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from scopewise.analysis.engine import Engine


@pytest.fixture
def engine(poly: Path) -> Engine:
    e = Engine(poly, use_cache=False)
    e.index(workers=1)
    return e


def _lines_of(text: str, needle: str) -> int:
    """1-based line of the first line containing needle."""
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(needle)


@pytest.fixture
def lines_of() -> Callable[[str, str], int]:
    """1-based line of the first line of a text containing a needle."""
    return _lines_of
