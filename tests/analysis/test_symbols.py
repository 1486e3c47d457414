"""`symbols`: one symbol's declarations, straight from the index."""

from __future__ import annotations

from pathlib import Path

from scopewise.analysis import symbols
from scopewise.analysis.engine import Engine


def _engine(root: Path, files: dict[str, str]) -> Engine:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    engine = Engine(root, use_cache=False)
    engine.index(workers=1)
    return engine


def _symbol(engine: Engine, rel: str, name: str, nth: int = 0) -> symbols.Symbol:
    fi = engine.workspace.get(rel)
    assert fi is not None
    index = [i for i, d in enumerate(fi.definitions) if d.name == name][nth]
    return symbols.symbol_of(engine.workspace, fi, index, engine.resolver.module_file)


def _where(sym: symbols.Symbol) -> list[tuple[str, int]]:
    return [(f.path, f.definitions[i].name_line + 1) for f, i in sym.declarations]


def test_a_static_c_function_is_its_files_alone(tmp_path: Path) -> None:
    engine = _engine(
        tmp_path,
        {
            "lib.h": "int f(int x);\n",
            "lib.c": '#include "lib.h"\nint f(int x) { return x; }\n',
            "tool.c": "static int f(int x) { return x; }\n",
        },
    )
    assert _where(_symbol(engine, "lib.c", "f")) == [("lib.c", 2), ("lib.h", 1)]
    assert _where(_symbol(engine, "lib.h", "f")) == [("lib.h", 1), ("lib.c", 2)]
    tool = _symbol(engine, "tool.c", "f")
    assert _where(tool) == [("tool.c", 1)] and tool.namesakes == 3  # itself, lib.c, lib.h


def test_namesakes_count_a_symbol_once(tmp_path: Path) -> None:
    engine = _engine(
        tmp_path,
        {
            "a.ts": "export function f(a: string): string\nexport function f(a: any) {\n"
            "  return a\n}\n",
            "b.ts": "export function f() {}\n",
        },
    )
    sym = _symbol(engine, "a.ts", "f", 1)
    assert _where(sym) == [("a.ts", 2), ("a.ts", 1)] and sym.namesakes == 2


def test_python_definitions_stay_alone(tmp_path: Path) -> None:
    engine = _engine(tmp_path, {"a.py": "def f():\n    pass\n\n\ndef f():\n    pass\n"})
    assert _where(_symbol(engine, "a.py", "f")) == [("a.py", 1)]
