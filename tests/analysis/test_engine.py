"""The engine's requests: clear errors for bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from scopewise.analysis.engine import Engine, EngineError


@pytest.mark.parametrize(
    ("file", "start", "end", "message"),
    [
        ("shop/missing.py", 1, 1, "no such file"),
        ("shop/pricing.py", 500, 501, "past the end"),
        ("shop/pricing.py", 0, 1, "bad range"),
    ],
)
def test_bad_requests_raise_clear_errors(
    engine: Engine, file: str, start: int, end: int, message: str
) -> None:
    with pytest.raises(EngineError, match=message):
        engine.context(file, start, end, 1000)


def test_unsupported_and_secret_files(engine: Engine, poly: Path) -> None:
    (poly / "notes.txt").write_text("hello\n")
    with pytest.raises(EngineError, match="unsupported language"):
        engine.scope("notes.txt", 1, 1)
    (poly / ".env").write_text("KEY=1\n")
    with pytest.raises(EngineError, match="secrets file"):
        engine.scope(".env", 1, 1)
