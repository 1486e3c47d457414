"""A Go type's method set (analysis/symbols.py, for an interface's implementations) is read
from the files of its package alone: a type name used far and wide (other packages, other
languages) loads none of the other users to say they are not the package's."""

from __future__ import annotations

from pathlib import Path

import pytest
from small_workspace import warm

from scopewise.analysis import symbols

USERS = 20


def _files() -> dict[str, str]:
    return {
        "pkg/iface.go": "package pkg\n\ntype Doer interface {\n\tDo()\n}\n",
        "pkg/thing.go": "package pkg\n\ntype Thing struct{}\n\nfunc (t *Thing) Do() {}\n",
        **{f"py/u{i:02}.py": f"Thing = {i}\nprint(Thing)\n" for i in range(USERS)},
        **{
            f"other/o{i:02}/use.go": f"package o{i:02}\n\nvar Thing = {i}\n\nfunc f() int {{\n"
            "\treturn Thing\n}\n"
            for i in range(USERS)
        },
    }


def test_a_go_methods_interfaces_load_only_its_packages_files(tmp_path: Path) -> None:
    engine = warm(tmp_path, _files())
    ws = engine.workspace
    fi = ws.get("pkg/thing.go")
    assert fi is not None
    do = next(i for i, d in enumerate(fi.definitions) if d.name == "Do")
    before = ws.files.loads
    family = symbols.go_family(ws, fi, do)
    assert [(f.path, f.definitions[i].name) for f, i in family] == [("pkg/iface.go", "Do")]
    assert ws.files.loads - before <= 2, ws.files.loads - before  # not the 2 x USERS users


def test_an_interface_methods_namesakes_elsewhere_are_not_looked_into(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An interface method's implementations are in its package or one importing it: the
    namesake methods of other packages (`String` has hundreds at 50k files) are judged by
    their imports before their receiver types are looked up."""
    files = _files() | {
        f"far/f{i:02}/impl.go": f"package f{i:02}\n\ntype T struct{{}}\n\nfunc (t *T) Do() {{}}\n"
        for i in range(USERS)
    }
    engine = warm(tmp_path, files)
    ws = engine.workspace
    fi = ws.get("pkg/iface.go")
    assert fi is not None
    do = next(i for i, d in enumerate(fi.definitions) if d.name == "Do")
    looked: list[str] = []
    real = symbols._go_receivers

    def counting(ws_, mfi, mi):  # type: ignore[no-untyped-def]
        looked.append(mfi.path)
        return real(ws_, mfi, mi)

    monkeypatch.setattr(symbols, "_go_receivers", counting)
    family = symbols.go_family(ws, fi, do)
    assert [(f.path, f.definitions[i].name) for f, i in family] == [("pkg/thing.go", "Do")]
    assert sorted(looked) == ["pkg/iface.go", "pkg/thing.go"]  # its own package alone
