"""One using file's classification within a request's work (analysis/sites.py): the
look-ups that type its uses' receivers read definition rows before they load a file, and
load only the files that may answer; what they still load counts as the request's work,
stops the classification once it is spent (its sites a lower bound, never kept as the
file's), and the next requests carry it on to the answer a run (no work bound) gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from small_workspace import warm

from scopewise.analysis.engine import Engine
from scopewise.analysis.sites import FILE_LOADS, CallerSite

MAKERS = 24  # the factories the using file calls, one file each: a file loaded per use
LIMIT = 6
SLACK = 1 + FILE_LOADS  # the using file, and the loads a file may make before it stops
OTHERS = 30  # files defining a name the using file's receiver is bound to by evidence


def _factories() -> dict[str, str]:
    """`Base.clone`, used once per factory in `use.ts` on `makeNN()`'s return type."""
    files = {"src/base.ts": "export class Base {\n  clone(): Base {\n    return this;\n  }\n}\n"}
    for i in range(MAKERS):
        files[f"src/make{i:02}.ts"] = (
            'import { Base } from "./base";\n\n'
            f"export function make{i:02}(): Base {{\n  return new Base();\n}}\n"
        )
    imports = "".join(f'import {{ make{i:02} }} from "./make{i:02}";\n' for i in range(MAKERS))
    calls = "".join(f"  make{i:02}().clone();\n" for i in range(MAKERS))
    files["src/use.ts"] = f"{imports}\nexport function useAll(): void {{\n{calls}}}\n"
    return files


def _clone(engine: Engine) -> tuple[object, int]:
    fi = engine.workspace.get("src/base.ts")
    assert fi is not None
    return fi, next(i for i, d in enumerate(fi.definitions) if d.name == "clone")


def _in_use(sites: list[CallerSite]) -> list[tuple[int, bool, str]]:
    return sorted((s.line, s.certain, s.via) for s in sites if s.path == "src/use.ts")


def test_a_files_classification_stops_within_the_work_and_the_next_requests_finish_it(
    tmp_path: Path,
) -> None:
    engine = warm(tmp_path, _factories())
    fi, index = _clone(engine)
    files = engine.workspace.files
    seen: list[tuple[int, bool, int]] = []
    for _ in range(3 * MAKERS):
        work = engine.resolver.work(LIMIT)
        before = files.loads
        found, capped = engine.resolver.callers_within(fi, index, None, work)  # type: ignore[arg-type]
        seen.append((len(_in_use(found)), capped, files.loads - before))
        if not capped:
            break
    assert seen[0][1] and seen[0][0] < MAKERS  # the first request: a lower bound
    assert all(loads <= LIMIT + SLACK for _, _, loads in seen), seen  # not MAKERS loads
    assert [n for n, _, _ in seen] == sorted(n for n, _, _ in seen)  # each carries on
    assert not seen[-1][1] and len(seen) > 2
    run = warm(tmp_path / "run", _factories())
    rfi, rindex = _clone(run)
    full = _in_use(run.resolver.callers(rfi, rindex))  # type: ignore[arg-type]
    assert len(full) == MAKERS and all(certain for _, certain, _ in full)
    assert _in_use(found) == full


def test_a_stopped_classification_is_not_kept_as_the_files(tmp_path: Path) -> None:
    """A run after a request that stopped inside the using file counts every use: the
    request's sites so far were not kept as that file's."""
    engine = warm(tmp_path, _factories())
    fi, index = _clone(engine)
    work = engine.resolver.work(LIMIT)
    first, capped = engine.resolver.callers_within(fi, index, None, work)  # type: ignore[arg-type]
    assert capped and work.short and 0 < len(_in_use(first)) < MAKERS
    assert len(_in_use(engine.resolver.callers(fi, index))) == MAKERS  # type: ignore[arg-type]


def test_a_receivers_lookup_loads_only_the_files_whose_rows_may_answer(tmp_path: Path) -> None:
    """`this.value.clone()`: `value` is bound by no import of the using file, so no file
    of the many defining a `value` elsewhere (other languages, not imported) can be what it
    denotes; the look-up judges their rows and loads none of them (it loaded them all)."""
    files = {
        "src/base.js": "export class Base {\n  clone() {\n    return this;\n  }\n}\n",
        "src/holder.js": (
            "export class Holder {\n  constructor(value) {\n    this.value = value;\n  }\n\n"
            "  copy() {\n    return new Holder(this.value.clone());\n  }\n}\n"
        ),
        **{f"other/o{i:02}.py": f"value = {i}\n" for i in range(OTHERS // 2)},
        **{f"other/o{i:02}.js": f"export const value = {i};\n" for i in range(OTHERS // 2)},
    }
    engine = warm(tmp_path, files)
    fi = engine.workspace.get("src/base.js")
    assert fi is not None
    index = next(i for i, d in enumerate(fi.definitions) if d.name == "clone")
    before = engine.workspace.files.loads
    sites = engine.resolver.callers(fi, index)
    assert engine.workspace.files.loads - before <= 3, engine.workspace.files.loads - before
    assert [(s.path, s.line, s.via) for s in sites] == [("src/holder.js", 6, "name only")]


class _Ticks:
    """A clock that moves a millisecond each time it is read (the thread's CPU time)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


def test_a_files_many_uses_stop_when_the_requests_time_is_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A using file with a hundred uses that load nothing (CPU alone): past FILE_USES of
    them the classification stops between two uses once the request's time is up, and the
    next requests carry it on to every use, as a run counts them."""
    from scopewise.analysis import work as work_module

    uses = 100
    calls = "".join(f"    helper({i})\n" for i in range(uses))
    files = {
        "lib.py": "def helper(x):\n    return x\n",
        "user.py": f"from lib import helper\n\n\ndef many():\n{calls}",
    }
    engine = warm(tmp_path, files)
    fi = engine.workspace.get("lib.py")
    assert fi is not None
    monkeypatch.setattr(work_module, "CLOCK", _Ticks())
    found: list[int] = []
    for _ in range(uses):
        work = engine.resolver.work(10_000).timed(0.005, 0)
        sites, capped = engine.resolver.callers_within(fi, 0, None, work)
        found.append(sum(s.path == "user.py" for s in sites))
        if not capped:
            break
    run = warm(tmp_path / "run", files)
    rfi = run.workspace.get("lib.py")
    assert rfi is not None
    full = [s.line for s in run.resolver.callers(rfi, 0) if s.path == "user.py"]
    assert len(full) == uses + 1  # the calls, and the import that names it
    assert len(found) > 2 and found[0] < uses
    assert found == sorted(found) and found[-1] == len(full)
