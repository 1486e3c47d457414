"""A using file's classification that a request's work stopped is carried on only at the
index version it was made at: an edit landing while the request classifies (the update
thread installs a file's new index) leaves nothing the next request resumes."""

from __future__ import annotations

from pathlib import Path

import pytest
from small_workspace import warm

from scopewise.analysis import sites
from scopewise.analysis.engine import Engine

MAKERS = 24
BASE = "export class Base {\n  clone(): Base {\n    return this;\n  }\n}\n"
OTHER = "export class Other {\n  clone(): Other {\n    return this;\n  }\n}\n"
MAKE00 = (
    'import { Other } from "./other";\n\n'
    "export function make00(): Other {\n  return new Other();\n}\n"
)


def _files(edited: bool) -> dict[str, str]:
    files = {"src/base.ts": BASE, "src/other.ts": OTHER}
    for i in range(MAKERS):
        files[f"src/make{i:02}.ts"] = (
            'import { Base } from "./base";\n\n'
            f"export function make{i:02}(): Base {{\n  return new Base();\n}}\n"
        )
    if edited:
        files["src/make00.ts"] = MAKE00
    imports = "".join(f'import {{ make{i:02} }} from "./make{i:02}";\n' for i in range(MAKERS))
    calls = "".join(f"  make{i:02}().clone();\n" for i in range(MAKERS))
    files["src/use.ts"] = f"{imports}\nexport function useAll(): void {{\n{calls}}}\n"
    return files


def _clone_sites(engine: Engine, bounded: bool) -> list[tuple[int, bool, str]]:
    fi = engine.workspace.get("src/base.ts")
    assert fi is not None
    index = next(i for i, d in enumerate(fi.definitions) if d.name == "clone")
    if bounded:
        for _ in range(4 * MAKERS):
            found, capped = engine.resolver.callers_within(fi, index, None, engine.resolver.work(6))
            if not capped:
                break
    else:
        found = engine.resolver.callers(fi, index)
    return sorted((s.line, s.certain, s.via) for s in found if s.path == "src/use.ts")


def test_an_edit_during_a_stopped_classification_is_not_resumed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = warm(tmp_path / "a", _files(False))
    member_use = sites.SiteFinder._member_use
    calls = [0]

    def edited_meanwhile(self, t, ufi, line, key):  # type: ignore[no-untyped-def]
        out = member_use(self, t, ufi, line, key)
        calls[0] += 1
        if calls[0] == 1:  # make00().clone() classified (as Base's): make00 now returns Other
            engine.workspace.update("src/make00.ts", MAKE00.encode())
        return out

    monkeypatch.setattr(sites.SiteFinder, "_member_use", edited_meanwhile)
    got = _clone_sites(engine, bounded=True)
    monkeypatch.setattr(sites.SiteFinder, "_member_use", member_use)
    want = _clone_sites(warm(tmp_path / "b", _files(True)), bounded=False)
    assert len(want) == MAKERS - 1  # make00's is Other.clone now
    assert got == want
