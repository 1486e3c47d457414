"""Names and members in the languages that declare types (TypeScript/JavaScript, Java, Go),
for the receivers (analysis/receivers.py): what a bare name denotes in a file, a Go import's
package folder, a member's lookup through a class's bases, and whether a class derives from
another.

Java's and TypeScript's bases are symbols.py's (a class header's names, seen through the same
file or folder, or an import naming them): the Python hierarchy (hierarchy.py) binds names
through imports of module files, which Java's package imports (``import a.b.C``) and
TypeScript path aliases do not name. Go methods belong to their receiver type
(``func (s *T) m()``: ``FileIndex.owner_of``), in the type's package (folder)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from functools import lru_cache

from scopewise.analysis import symbols
from scopewise.analysis.hierarchy import Ref, same
from scopewise.index.model import FileIndex
from scopewise.index.workspace import WorkspaceIndex
from scopewise.vocab import CLASS_LIKE, TYPE_KINDS, Kind

JS = frozenset({"javascript", "typescript", "tsx"})
_CODE = frozenset({Kind.FUNCTION, Kind.METHOD})
# JavaScript's global objects: a receiver of one of these is not a workspace instance
JS_GLOBALS = frozenset(
    "Object Array JSON Math Promise Reflect Symbol Number String Boolean Date Error RegExp "
    "Map Set WeakMap WeakSet console window document globalThis process Buffer Intl "
    "navigator location history localStorage sessionStorage performance crypto".split()
)
GO_PREDECLARED = frozenset(
    "bool byte complex64 complex128 error float32 float64 int int8 int16 int32 int64 rune "
    "string uint uint8 uint16 uint32 uint64 uintptr any comparable".split()
)
_TYPE_PARAMETER = re.compile(r"[A-Z][A-Z0-9]?|T[A-Z]\w*")  # T, K, V, TKey: a type parameter
_MODULE = re.compile(r"^module\s+(\S+)", re.M)
_TYPES = CLASS_LIKE | {Kind.TYPE}  # what `outside_type` looks for: `is_class` or a type
GO_PACKAGE = "go:"  # a Go package's value name: "go:" + its folder ("go:" the root)


def family(language: str) -> str:
    return "js" if language in JS else language


def is_type_parameter(name: str) -> bool:
    return bool(_TYPE_PARAMETER.fullmatch(name))


def is_class(ref: Ref) -> bool:
    """A class, interface or (Go) named type: what makes instances with members."""
    d = ref[0].definitions[ref[1]]
    return d.kind in CLASS_LIKE or (d.kind == Kind.TYPE and ref[0].language == "go")


@lru_cache(maxsize=8)
def _go_module(root: str) -> str | None:
    try:
        with open(posixpath.join(root, "go.mod"), encoding="utf-8") as f:
            m = _MODULE.search(f.read(4096))
    except OSError:
        return None
    return m.group(1) if m else None


def java_package(path: str) -> str:
    """A Java file's package as a folder: the part after the source root (``src/main/java/``,
    ``src/test/java/``: a package's main and test classes share it), else its folder."""
    folder = posixpath.dirname(path)
    _, sep, tail = ("/" + folder).rpartition("/java/")
    return tail if sep else folder


def _in_package(package: str, module: str) -> bool:
    """Whether an import's module (``a.b``, or ``a.b.Outer`` for a nested class) names a
    package folder."""
    parts = module.split(".")
    while parts and parts[-1][:1].isupper():
        parts.pop()
    path = "/".join(parts)
    return bool(path) and (package == path or package.endswith("/" + path))


def _names_file(module: str, path: str) -> bool:
    """Whether a JavaScript module specifier may name a file (``@/lib/client`` and
    ``lib/client.ts`` or ``lib/client/index.ts``)."""
    tail = module.rstrip("/").rsplit("/", 1)[-1]
    stem = posixpath.splitext(path)[0]
    if stem.endswith("/index"):
        stem = stem[: -len("/index")]
    return bool(tail) and tail[0] not in ".@~" and (stem == tail or stem.endswith("/" + tail))


class Declared:
    """Names, packages and members of the declared-type languages over a workspace."""

    def __init__(self, workspace: WorkspaceIndex) -> None:
        self.ws = workspace
        self._ancestors: dict[tuple[str, str, int], list[Ref]] = {}
        self._dirs: tuple[int, frozenset[str]] = (-1, frozenset())

    # ------------------------------------------------------------------ names
    def visible(self, fi: FileIndex, name: str) -> list[Ref]:
        """The workspace definitions a bare `name` may denote in `fi`: Go's of its package
        (folder); Java's classes of its package or of a package it imports the name from
        (or all of); JavaScript's exported from a module it imports the name from, by the
        module's last path part (a path alias the resolver does not follow)."""
        here = posixpath.dirname(fi.path)
        modules = [i.module for i in fi.imports if name in i.aliases or "*" in i.aliases]
        lang = family(fi.language)

        def seen(path: str, kind: str, top: bool) -> bool:  # judged on the rows: no file loads
            if family(symbols.language_of(path)) != lang:
                return False
            if fi.language == "go":
                return top and posixpath.dirname(path) == here and kind != Kind.METHOD
            if fi.language == "java":
                pkg = java_package(path)
                return kind in TYPE_KINDS and (
                    pkg == java_package(fi.path) or any(_in_package(pkg, m) for m in modules)
                )
            return top and any(_names_file(m, path) for m in modules)

        return [
            (dfi, di)
            for dfi, di in self.ws.definitions_named(name, seen)
            if family(dfi.language) == lang
            and (fi.language in ("go", "java") or dfi.definitions[di].exported)
        ]

    def outside_type(self, language: str, name: str) -> bool:
        """Whether a type name no binding resolves names a type from outside the workspace:
        one the workspace defines nowhere (Go: one of its predeclared types; another name
        would be of the package, which the workspace lacks)."""
        if language == "go" and name not in GO_PREDECLARED:
            return False
        # no definition of the name makes instances (a class, an interface, a named type):
        # judged on the rows, none kept past the first (no file loads)
        typed = self.ws.definitions_where(name, lambda _, kind, __: kind in _TYPES, 0)
        return typed == []

    # ------------------------------------------------------------------ Go packages
    def go_package(self, import_path: str) -> str | None:
        """The value name of a Go package (``go:`` + its folder) the workspace holds; ""
        for one outside it (the standard library, another module); None: not known."""
        module = _go_module(str(self.ws.root))
        if module is not None and (import_path == module or import_path.startswith(module + "/")):
            folder = import_path[len(module) + 1 :]
            return GO_PACKAGE + folder if folder in self._go_dirs() or not folder else None
        parts = import_path.split("/")
        for i in range(len(parts)):
            folder = "/".join(parts[i:])
            if folder in self._go_dirs():
                return GO_PACKAGE + folder
        if "." not in parts[0] or module is not None:
            return ""  # the standard library (no domain), or another module
        return None

    def _go_dirs(self) -> frozenset[str]:
        n, dirs = self._dirs
        if n != len(self.ws.files):
            dirs = frozenset(posixpath.dirname(p) for p in self.ws.files if p.endswith(".go"))
            self._dirs = (len(self.ws.files), dirs)
        return dirs

    def package_defs(self, package: str, name: str) -> list[Ref]:
        """The top-level definitions `name` of a Go package (``go:`` + folder)."""
        folder = package[len(GO_PACKAGE) :]

        def there(path: str, kind: str, top: bool) -> bool:  # judged on the rows
            return top and kind != Kind.METHOD and posixpath.dirname(path) == folder

        return [
            (dfi, di)
            for dfi, di in self.ws.definitions_named(name, there)
            if dfi.language == "go"
            and dfi.definitions[di].parent is None
            and dfi.definitions[di].kind != Kind.METHOD
            and posixpath.dirname(dfi.path) == folder
        ]

    # ------------------------------------------------------------------ members
    def forget(self) -> None:
        """Drop the ancestors worked out (kept under the class file's version, they also
        depend on the files its bases are in)."""
        self._ancestors.clear()

    def ancestors(self, cls: Ref) -> list[Ref]:
        """The workspace classes `cls` derives from (Java/TypeScript), nearest first."""
        fi, ci = cls
        if fi.language == "go":
            return []
        key = (fi.path, fi.digest, ci)
        found = self._ancestors.get(key)
        if found is None:
            if len(self._ancestors) > 4096:
                self._ancestors.clear()
            found = self._ancestors[key] = symbols.ancestors(self.ws, fi, ci)
        return found

    def lookup(self, cls: Ref, name: str) -> Ref | None:
        """The member `name` an instance of `cls` reaches: its own, else its bases'; a Go
        type's methods are those declared on it in its package."""
        fi, ci = cls
        if fi.language == "go":
            folder = posixpath.dirname(fi.path)
            type_name = fi.definitions[ci].name
            in_package = _in_folder(folder)
            for mfi, mi in self.ws.definitions_named(name, in_package):
                if mfi.language != "go" or posixpath.dirname(mfi.path) != folder:
                    continue
                if mfi.definitions[mi].parent == ci and mfi is fi:
                    return mfi, mi  # a field, an interface's method
                if mfi.owner_of(mi) == type_name:
                    return mfi, mi
            return None
        for kfi, ki in (cls, *self.ancestors(cls)):
            for j, d in enumerate(kfi.definitions):
                if d.parent == ki and d.name == name:
                    return kfi, j
        return None

    def derives(self, cls: Ref, base: Ref) -> bool:
        return same(cls, base) or any(same(a, base) for a in self.ancestors(cls))


def go_owner(ws: WorkspaceIndex, fi: FileIndex, index: int) -> Ref | None:
    """The type a Go method is declared on (``func (s *T) m()``), in its package."""
    owner = fi.owner_of(index) if fi.language == "go" else None
    if owner is None:
        return None
    folder = posixpath.dirname(fi.path)
    for tfi, ti in ws.definitions_named(owner, _in_folder(folder)):
        if tfi.language == "go" and posixpath.dirname(tfi.path) == folder and is_class((tfi, ti)):
            return tfi, ti
    return None


def _in_folder(folder: str) -> Callable[[str, str, bool], bool]:
    """A definition row's test: a Go file in `folder` (its package)."""
    return lambda path, _, __: path.endswith(".go") and posixpath.dirname(path) == folder
