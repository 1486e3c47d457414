"""A range directly inside a giant function: the work follows the range, not the function
(issue #16: a 43,000-line TypeScript checker took 735 ms per code action)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scopewise.analysis import resolve, scope
from scopewise.analysis.engine import Engine


def _giant(tmp_path: Path, statements: int) -> Path:
    """A module with a helper `total` and one function of `statements` statements, each
    binding a local `total` of its own far from the middle."""
    body = "".join(f"    v{i} = helper(v{i - 1} if {i} else 0)\n" for i in range(statements))
    middle = statements // 2
    lines = body.splitlines(keepends=True)
    lines.insert(middle, "    total = 0\n")
    lines.insert(middle + 1, "    total = total + v1\n")
    text = "def helper(x):\n    return x\n\n\ndef total(x):\n    return x\n\n\ndef giant():\n"
    (tmp_path / "giant.py").write_text(text + "".join(lines) + "    return total\n")
    return tmp_path


def test_a_range_in_a_giant_function_reads_lines_near_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _giant(tmp_path, 12_000)
    engine = Engine(root, use_cache=False)
    engine.index()
    read: list[int] = []
    real = resolve.uses_in

    def counting(src: object, start: int, end: int) -> object:
        read.append(end - start + 1)
        return real(src, start, end)  # type: ignore[arg-type]

    monkeypatch.setattr(scope, "uses_in", counting)
    text = (root / "giant.py").read_text().splitlines()
    line = text.index("    total = total + v1") + 1
    analysis = engine.analyze("giant.py", line, line)
    assert sum(read) <= 2 * 100 + 10  # the range and 100 lines either side, not 12,000
    # `total` is bound on the line before: a local, not the module's function `total`
    assert "total" not in {analysis.file.definitions[r.index].name for r in analysis.uses}
    assert "helper" not in {r.name for r in analysis.uses if r.path != "giant.py"}


def test_a_normal_function_still_reads_all_its_bindings(tmp_path: Path) -> None:
    root = _giant(tmp_path, 400)
    engine = Engine(root, use_cache=False)
    engine.index()
    text = (root / "giant.py").read_text().splitlines()
    # the last line reads `total`, bound 200 lines above: still a local
    analysis = engine.analyze("giant.py", len(text), len(text))
    assert "total" not in {analysis.file.definitions[r.index].name for r in analysis.uses}


def test_which_lines_of_the_callable_bind_names_for_a_range() -> None:
    """The callable itself asked about: nothing around it; a short one: all of it; a long
    one: its header, and the lines near the range (the header clipped where they meet)."""
    assert scope.bound_lines(10, 400, 10, 400, 12) == []
    assert scope.bound_lines(50, 60, 10, 400, 12) == [(10, 400)]
    assert scope.bound_lines(5000, 5001, 0, 9000, 3) == [(0, 3), (4900, 5101)]
    assert scope.bound_lines(150, 151, 0, 9000, 80) == [(0, 49), (50, 251)]
    assert scope.bound_lines(20, 21, 0, 9000, 5) == [(0, 121)]
