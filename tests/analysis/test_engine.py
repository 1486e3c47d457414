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


def test_queries_never_write_to_the_index(engine: Engine, poly: Path) -> None:
    """analyze and context_for only read the index: a file changed (or created) since it
    was indexed is analysed from its current text on its own; sync brings the index in line."""
    rel = "shop/pricing.py"
    indexed = engine.workspace.get(rel)
    assert indexed is not None
    path = poly / rel
    path.write_text(path.read_text() + "\n\ndef added_later():\n    return 1\n")
    n = len(path.read_text().splitlines())
    analysis = engine.analyze(rel, n - 1, n)
    engine.context_for(analysis, 1000)
    assert engine.workspace.get(rel) is indexed
    assert [t.name for t in analysis.scope.targets] == ["added_later"]
    (poly / "shop" / "fresh.py").write_text("def fresh():\n    return 2\n")
    assert engine.analyze("shop/fresh.py", 1, 2).scope.targets[0].name == "fresh"
    assert engine.workspace.get("shop/fresh.py") is None
    for file in (rel, "shop/fresh.py"):
        engine.sync(file)
    synced = engine.workspace.get(rel)
    assert synced is not None and synced is not indexed
    assert any(d.name == "added_later" for d in synced.definitions)
    assert engine.workspace.get("shop/fresh.py") is not None
