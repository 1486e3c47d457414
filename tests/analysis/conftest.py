"""Fixtures of the analysis tests (the engine fixture is in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest


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
