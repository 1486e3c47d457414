"""The range's own uses, resolved within a request's work (analysis/resolve.py `_overloads`,
analysis/measure.py `_within`): a hit found by name is judged from its file's definition rows
(the only definition of its name, kind and level there, or a top-level one) before its file
loads; a file that must still load (a nested definition with namesakes of its kind: their
parents decide) counts as the request's work, is left unloaded once it is spent (the answer a
lower bound, said to the work), and the next requests carry on to what a run resolves."""

from __future__ import annotations

from pathlib import Path

from small_workspace import warm

from scopewise.analysis.engine import Engine

PAINTERS = 5  # files defining the method the range calls on a receiver evidence says nothing of
LIMIT = 2


def _painters(variants: bool) -> dict[str, str]:
    """`obj.paintxyz()` in `src/main.py`; each painter file defines `paintxyz` once in a
    class (and a top-level `draw_here`), or twice there (`if`/`else` variants)."""
    files = {"src/main.py": "def run(obj):\n    obj.paintxyz()\n    return obj\n"}
    for i in range(PAINTERS):
        body = "    def paintxyz(self):\n        return 1\n"
        if variants:
            body = (
                "    if sys.platform == 'win32':\n"
                "        def paintxyz(self):\n            return 1\n"
                "    else:\n"
                "        def paintxyz(self):\n            return 2\n"
            )
        files[f"src/p{i}.py"] = (
            f"import sys\n\n\nclass Painter{i}:\n{body}\n\ndef draw_here():\n    return {i}\n"
        )
    return files


def _resolved(engine: Engine, work: object = None) -> list[tuple[str, int, float, str]]:
    a = engine.analyze("src/main.py", 1, 3, work=work)  # type: ignore[arg-type]
    return sorted((r.path, r.index, round(r.confidence, 6), r.via) for r in a.uses)


def test_a_by_name_hit_alone_of_its_kind_in_its_file_loads_no_file(tmp_path: Path) -> None:
    engine = warm(tmp_path, _painters(variants=False))
    files = engine.workspace.files
    engine.workspace.get("src/main.py")
    before = files.loads
    found = _resolved(engine)
    assert files.loads == before  # main: one load per painter file (PAINTERS)
    assert len(found) == PAINTERS and all(via == ".paintxyz by name" for *_, via in found)
    run = warm(tmp_path / "run", _painters(variants=False))
    for p in range(PAINTERS):
        run.workspace.get(f"src/p{p}.py")  # every file in memory: the overloads read off them
    assert _resolved(run) == found


def test_namesakes_that_need_their_file_stop_within_the_work_and_carry_on(
    tmp_path: Path,
) -> None:
    engine = warm(tmp_path, _painters(variants=True))
    files = engine.workspace.files
    engine.workspace.get("src/main.py")
    seen: list[tuple[int, bool, int]] = []
    answers = []
    for _ in range(3 * PAINTERS):
        work = engine.resolver.work(LIMIT)
        before = files.loads
        answers.append(_resolved(engine, work))
        seen.append((files.loaded(), work.short, files.loads - before))
        if not work.short:
            break
    run = warm(tmp_path / "run", _painters(variants=True))
    full = _resolved(run)  # a run: no work, every file loaded
    variants = [conf for _, _, conf, _ in full]
    assert len(full) == 2 * PAINTERS and min(variants) < max(variants)  # a variant's share
    assert seen[0][1] and answers[0] != full, seen  # stopped short: not every variant's share
    assert all(loads <= LIMIT for *_, loads in seen), seen  # main: PAINTERS loads at once
    assert [n for n, _, _ in seen] == sorted(n for n, _, _ in seen)  # each carries on
    assert not seen[-1][1] and len(seen) > 2 and answers[-1] == full


def test_the_menus_measure_loads_a_used_files_index_only_to_send_it_and_within_the_work(
    tmp_path: Path,
) -> None:
    """Two painters: `obj.paintxyz()` resolved by name surely enough to be sent (its body
    priced: its file loaded), unless the request's work is spent (then short, its need the
    cap, as a site count's lower bound takes); five: not sent, no file loaded by the
    analysis or the measure."""
    few = {k: v for k, v in _painters(variants=False).items() if k[-4] not in "234"}
    engine = warm(tmp_path, few)
    files = engine.workspace.files
    engine.workspace.get("src/main.py")
    spent = engine.resolver.work(0)
    before = files.loads
    short = engine.needs_for(engine.analyze("src/main.py", 1, 3), 6000, work=spent)
    assert files.loads == before and spent.short  # main: both painter files loaded
    run = engine.needs_for(engine.analyze("src/main.py", 1, 3), 6000)
    assert files.loads == before + 2 and run.plan < short.plan == 6000  # short: all it may
    many = warm(tmp_path / "many", _painters(variants=False))
    many.workspace.get("src/main.py")
    before = many.workspace.files.loads
    many.needs_for(many.analyze("src/main.py", 1, 3), 6000, work=many.resolver.work(32))
    assert many.workspace.files.loads == before  # main: PAINTERS files loaded
