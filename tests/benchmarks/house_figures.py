"""The house's figures (issue: The house): longest classes and functions, modules per folder,
import cycles (TYPE_CHECKING imports included) and imports that go up the layers.

    python tests/benchmarks/house_figures.py [server/scopewise]
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

# the layers, lowest first: a module may import its own layer and the ones below
LAYERS = ["vocab", "paths", "settings", "index", "analysis", "claude", "actions", "lsp", "cli"]


def module_name(root: Path, path: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(tree: ast.AST, me: str, is_pkg: bool) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("scopewise"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = me.split(".")
                base = base if is_pkg else base[:-1]
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("scopewise"):
                continue
            out.add(mod)
            for a in node.names:
                out.add(f"{mod}.{a.name}")
    return out


def layer(mod: str) -> int | None:
    parts = mod.split(".")
    if len(parts) < 2:
        return None
    name = parts[1]
    return LAYERS.index(name) if name in LAYERS else None


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "server/scopewise").resolve()
    files = sorted(root.rglob("*.py"))
    mods = {module_name(root, f): f for f in files}
    graph: dict[str, set[str]] = {}
    classes: list[tuple[int, str]] = []
    funcs: list[tuple[int, str]] = []
    for mod, f in mods.items():
        tree = ast.parse(f.read_text())
        graph[mod] = {m for m in imports(tree, mod, f.name == "__init__.py") if m in mods}
        graph[mod].discard(mod)
        for node in ast.walk(tree):
            n = (node.end_lineno or node.lineno) - node.lineno + 1 if hasattr(node, "lineno") else 0
            if isinstance(node, ast.ClassDef):
                classes.append((n, f"{mod}.{node.name}"))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                funcs.append((n, f"{mod}:{node.name}"))
    folders: dict[str, int] = defaultdict(int)
    for f in files:
        folders[str(f.parent.relative_to(root.parent))] += 1
    print("modules per folder:", dict(sorted(folders.items())))
    print("longest classes:", sorted(classes, reverse=True)[:3])
    print("longest functions:", sorted(funcs, reverse=True)[:5])
    print("functions over 60 lines:", sum(1 for n, _ in funcs if n > 60))
    # cycles: strongly connected components of size > 1 (packages' __init__ excluded as
    # they only re-export)
    index = 0
    stack: list[str] = []
    on: set[str] = set()
    idx: dict[str, int] = {}
    low: dict[str, int] = {}
    sccs: list[list[str]] = []

    def strong(v: str) -> None:
        nonlocal index
        idx[v] = low[v] = index
        index += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in idx:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], idx[w])
        if low[v] == idx[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in idx:
            strong(v)
    print("import cycles:", len(sccs), sccs)
    up = [
        (a, b)
        for a, deps in graph.items()
        for b in deps
        if layer(a) is not None and layer(b) is not None and layer(b) > layer(a)  # type: ignore[operator]
    ]
    print("imports up the layers:", len(up), sorted(up)[:20])


if __name__ == "__main__":
    main()
