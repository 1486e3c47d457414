"""One symbol across its declarations, for the languages other than Python.

A change to one declaration of a symbol ripples to the others and to the users of all of
them: TypeScript overload signatures and their implementation, merged declarations (an
interface declared twice, a class and a namespace of one name); a C/C++ header prototype and
its definition; a Java or TypeScript method and the methods overriding it (subclasses found
through ``extends``/``implements`` by name, through imports or the same package); a Go
interface method and the methods of the types that have all of the interface's methods.

Pure functions over the index (no trees, no resolution beyond names and imports): the
resolver asks `symbol_of` for a definition and gathers the callers of each declaration.
Ruby's module methods are called bare (``link_to "x", path``): `Symbol.bare_calls` says so,
and a file that mixes the module in (``include``/``extend``/``helper``) uses them for sure.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from scopewise.analysis.work import Work
from scopewise.index import languages
from scopewise.index.model import FileIndex
from scopewise.index.workspace import WorkspaceIndex
from scopewise.vocab import CLASS_LIKE, DATA_KINDS, Kind

Decl = tuple[FileIndex, int]
ModuleFile = Callable[[str, str], str | None]  # (module, from path) -> workspace file

MAX_DECLARATIONS = 64  # an override family past this many is cut (a name everyone overrides)
# declarations whose uses are gathered one by one; all share the name, so the uses of the
# others are found through these too, only at the by-name confidence
MAX_GATHERED = 8
_MAX_DEPTH = 5  # class hierarchy levels followed each way
_C_FAMILY = frozenset({"c", "cpp"})
_JS_FAMILY = frozenset({"javascript", "typescript", "tsx"})
_HEADERS = (".h", ".hh", ".hpp", ".hxx")
_CODE = frozenset({Kind.FUNCTION, Kind.METHOD})
# kinds that merge with a namesake in the same scope (TypeScript declaration merging)
_MERGING = frozenset({Kind.FUNCTION, Kind.METHOD, Kind.CLASS, Kind.INTERFACE, Kind.MODULE,
                      Kind.ENUM})  # fmt: skip
_MIXINS = ("include", "extend", "prepend", "helper")  # Ruby: what makes a module's methods bare


def language_of(path: str) -> str:
    """A file's language by its name ("" when scopewise does not index it): what a
    definition's row says of it before its file loads."""
    spec = languages.language_for_path(path)
    return spec.name if spec is not None else ""


@dataclass(frozen=True)
class Symbol:
    """A definition's symbol: every declaration of it (the definition first), how many other
    definitions share its name, and how its uses may look."""

    ws: WorkspaceIndex
    declarations: tuple[Decl, ...]
    namesakes: int  # 1 + the definitions of the name outside this symbol (by-name odds)
    bare_calls: bool = False  # a member used without a receiver (Ruby module methods)
    module_name: str | None = None  # Ruby: the module whose mix-in makes a bare use certain
    _certain: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    @property
    def gathered(self) -> tuple[Decl, ...]:
        """The declarations whose uses the resolver gathers (the definition first)."""
        return self.declarations[:MAX_GATHERED]

    @property
    def paths(self) -> frozenset[str]:
        return frozenset(f.path for f, _ in self.declarations)

    def certain_in(self, ufi: FileIndex, module_file: ModuleFile) -> bool:
        """Whether a use of the name in `ufi` is surely this symbol's: the file declares it,
        includes a header that does (C/C++) or mixes its module in (Ruby)."""
        known = self._certain.get(ufi.path)
        if known is None:
            known = self._certain[ufi.path] = self._certain_in(ufi, module_file)
        return known

    def _certain_in(self, ufi: FileIndex, module_file: ModuleFile) -> bool:
        if ufi.path in self.paths:
            return True
        if ufi.language in _C_FAMILY:
            return bool(self.paths & includes(self.ws, ufi, module_file))
        if self.module_name is not None:
            return mixes_in(ufi, self.module_name)
        return False

    def shadowed_in(self, ufi: FileIndex) -> bool:
        """Whether a file defines a function of the name of its own, which its uses denote:
        a C/C++ top-level function (a static namesake in another program), a Ruby method
        when this symbol's uses are bare calls."""
        if ufi.path in self.paths:
            return False
        fi, index = self.declarations[0]
        name = fi.definitions[index].name
        if ufi.language in _C_FAMILY:
            own = ufi.top_level().get(name)
            return own is not None and ufi.definitions[own].kind in _CODE
        if self.bare_calls:
            return any(d.name == name and d.kind in _CODE for d in ufi.definitions)
        return False


def symbol_of(
    ws: WorkspaceIndex,
    fi: FileIndex,
    index: int,
    module_file: ModuleFile,
    work: Work | None = None,
) -> Symbol:
    """The symbol definition `index` of `fi` declares (Python's: itself alone); with a
    request's `work`, a method's overriders only those found before it was spent
    (`work.stop()`: the symbol is then a part of it)."""
    lang = fi.language
    found: list[Decl] = [(fi, index)]
    if lang in _C_FAMILY:
        found += c_declarations(ws, fi, index, module_file)
    elif lang in _JS_FAMILY:
        found += same_scope(fi, index)
        found += overrides(ws, fi, index, work)
    elif lang == "java":
        found += overrides(ws, fi, index, work)
    elif lang == "go":
        found += go_family(ws, fi, index)
    decls = tuple(_unique(found)[:MAX_DECLARATIONS])
    name = fi.definitions[index].name
    namesakes = max(1, ws.count_definitions(name) - len(decls) + 1)
    owner = fi.definitions[index].parent
    if lang == "ruby" and owner is not None and fi.definitions[owner].kind == Kind.MODULE:
        return Symbol(ws, decls, namesakes, True, fi.definitions[owner].name)
    return Symbol(ws, decls, namesakes)


def _unique(decls: list[Decl]) -> list[Decl]:
    seen: set[tuple[str, int]] = set()
    out: list[Decl] = []
    for f, i in decls:
        if (f.path, i) not in seen:
            seen.add((f.path, i))
            out.append((f, i))
    return out


# ---------------------------------------------------------------------------- TypeScript
def same_scope(fi: FileIndex, index: int) -> list[Decl]:
    """Namesakes in the same scope of the same file that merge with the definition: overload
    signatures and their implementation, an interface declared twice, a class or function
    and a namespace of its name."""
    d = fi.definitions[index]
    if d.kind not in _MERGING:
        return []
    if d.parent is not None and fi.definitions[d.parent].kind in DATA_KINDS:
        return []  # the entries of an object literal: one per key, each its own
    defs = fi.definitions
    return [
        (fi, i)
        for i in fi.named(d.name)  # the namesakes alone, not every definition of the file
        if i != index and defs[i].parent == d.parent and defs[i].kind in _MERGING
    ]


# ---------------------------------------------------------------------------- C / C++
def is_header(path: str) -> bool:
    return path.endswith(_HEADERS)


def c_declarations(
    ws: WorkspaceIndex, fi: FileIndex, index: int, module_file: ModuleFile
) -> list[Decl]:
    """A function's prototypes and definition: the file's own namesakes; from a source file
    the headers it includes (or of its stem) that declare the name; from a header the
    non-static definitions in files that include it (or of its stem)."""
    d = fi.definitions[index]
    if d.kind not in _CODE or d.parent is not None:
        return []
    out: list[Decl] = [
        (fi, i)
        for i, o in enumerate(fi.definitions)
        if i != index and o.name == d.name and o.parent is None and o.kind in _CODE
    ]
    if not d.exported and not is_header(fi.path):
        return out  # a static function: this file's alone
    in_header = is_header(fi.path)

    def other_side(path: str, kind: str, top: bool) -> bool:  # judged on the rows
        c = language_of(path) in _C_FAMILY and is_header(path) != in_header
        return c and top and kind in _CODE and path != fi.path

    for other, i in ws.definitions_named(d.name, other_side):
        o = other.definitions[i]
        if other.path == fi.path or o.parent is not None or o.kind not in _CODE:
            continue
        if other.language not in _C_FAMILY or is_header(other.path) == is_header(fi.path):
            continue
        header, source = (fi, other) if is_header(fi.path) else (other, fi)
        if (source is other and not o.exported) or not _declares_for(header, source, module_file):
            continue
        out.append((other, i))
    return out


def includes(
    ws: WorkspaceIndex, fi: FileIndex, module_file: ModuleFile, depth: int = 2
) -> set[str]:
    """The workspace files a C/C++ file includes, directly or through the headers it includes
    (`depth` levels)."""
    found: set[str] = set()
    frontier = [fi]
    for _ in range(depth):
        nxt: list[FileIndex] = []
        for f in frontier:
            for imp in f.imports:
                path = module_file(imp.module, f.path)
                if path is not None and path not in found:
                    found.add(path)
                    hfi = ws.get(path)
                    if hfi is not None:
                        nxt.append(hfi)
        frontier = nxt
    return found


def _declares_for(header: FileIndex, source: FileIndex, module_file: ModuleFile) -> bool:
    """Whether a header declares what a source file defines: the source includes it, or
    they share a stem (``server.h`` / ``server.c``)."""
    stem = posixpath.splitext(posixpath.basename(header.path))[0]
    if posixpath.splitext(posixpath.basename(source.path))[0] == stem:
        return True
    return any(module_file(imp.module, source.path) == header.path for imp in source.imports)


# ---------------------------------------------------------------------------- overrides
def overrides(
    ws: WorkspaceIndex, fi: FileIndex, index: int, work: Work | None = None
) -> list[Decl]:
    """A method's namesakes up and down its class hierarchy: the methods it overrides and
    the methods overriding it (Java, TypeScript, JavaScript; with `work`, `descendants`')."""
    d = fi.definitions[index]
    cls = d.parent
    if d.kind not in _CODE or cls is None or fi.definitions[cls].kind not in CLASS_LIKE:
        return []
    out: list[Decl] = []
    for cfi, ci in [*ancestors(ws, fi, cls), *descendants(ws, fi, cls, work)]:
        out += [(cfi, j) for j in members_named(cfi, ci, d.name)]
    return out


def members_named(fi: FileIndex, cls: int, name: str) -> list[int]:
    return [
        j
        for j, o in enumerate(fi.definitions)
        if o.parent == cls and o.name == name and o.kind in _CODE
    ]


def header_names(fi: FileIndex, cls: int) -> set[str]:
    """Names used on a class's header lines (its bases and interfaces, type parameters)."""
    d = fi.definitions[cls]
    # a class's header names are among the file's (`head_names`: one pass over its names,
    # kept), not every name of a file of thousands
    among = fi.head_names() if d.kind in CLASS_LIKE else None
    return set(fi.names_used_in(d.name_line, d.header_end, among))


def sees(ufi: FileIndex, dfi: FileIndex, name: str) -> bool:
    """Whether `name` in `ufi` may denote the definition in `dfi`: the same file or folder
    (package), or an import naming it (or a wildcard)."""
    if ufi.path == dfi.path or posixpath.dirname(ufi.path) == posixpath.dirname(dfi.path):
        return True
    return any(name in imp.names or "*" in imp.names for imp in ufi.imports)


def subclasses(
    ws: WorkspaceIndex, fi: FileIndex, cls: int, work: Work | None = None
) -> Iterator[Decl]:
    """Classes whose header names the class (``extends``/``implements``), through imports;
    with `work`, those in the files read before it was spent (`work.stop()`)."""
    name = fi.definitions[cls].name
    for path in ws.files_heading(name):  # a class header names it: no other file loaded
        if work is not None and work.spent():
            work.stop()
            return
        ufi = ws.get(path)
        if ufi is None or ufi.language != fi.language or not sees(ufi, fi, name):
            continue
        lines = {line for line, _ in ufi.ref_lines(name)}
        for j, o in enumerate(ufi.definitions):
            names_it = any(o.name_line <= line <= o.header_end for line in lines)
            if names_it and o.kind in CLASS_LIKE and (ufi.path, j) != (fi.path, cls):
                yield ufi, j


def descendants(
    ws: WorkspaceIndex, fi: FileIndex, cls: int, work: Work | None = None
) -> list[Decl]:
    return _closure(ws, fi, cls, lambda w, f, c: subclasses(w, f, c, work))


def ancestors(ws: WorkspaceIndex, fi: FileIndex, cls: int) -> list[Decl]:
    return _closure(ws, fi, cls, bases)


def bases(ws: WorkspaceIndex, fi: FileIndex, cls: int) -> Iterator[Decl]:
    """The workspace classes a class's header names, that the file can see."""

    def classes(path: str, kind: str, _: bool) -> bool:  # judged on the rows
        return kind in CLASS_LIKE and language_of(path) == fi.language

    for name in sorted(header_names(fi, cls)):
        for bfi, bi in ws.definitions_named(name, classes):
            ok = bfi.language == fi.language and bfi.definitions[bi].kind in CLASS_LIKE
            if ok and (bfi.path, bi) != (fi.path, cls) and sees(fi, bfi, name):
                yield bfi, bi


def _closure(
    ws: WorkspaceIndex,
    fi: FileIndex,
    cls: int,
    step: Callable[[WorkspaceIndex, FileIndex, int], Iterator[Decl]],
) -> list[Decl]:
    """The classes reached from a class by `step`, breadth first, bounded."""
    seen = {(fi.path, cls)}
    out: list[Decl] = []
    frontier: list[Decl] = [(fi, cls)]
    for _ in range(_MAX_DEPTH):
        nxt: list[Decl] = []
        for cfi, ci in frontier:
            for hit in step(ws, cfi, ci):
                if (hit[0].path, hit[1]) not in seen and len(out) < MAX_DECLARATIONS:
                    seen.add((hit[0].path, hit[1]))
                    nxt.append(hit)
        out += nxt
        frontier = nxt
    return out


# ---------------------------------------------------------------------------- Go
def go_family(ws: WorkspaceIndex, fi: FileIndex, index: int) -> list[Decl]:
    """An interface method and the methods of the types that satisfy the interface (all its
    method names, in its package or one importing it); from a method of a type, the methods
    of the interfaces its type satisfies."""
    d = fi.definitions[index]
    owner = d.parent
    if d.kind != Kind.METHOD:
        return []
    sets: dict[tuple[str, str], set[str]] = {}  # (package, type) -> its method names
    if owner is not None and fi.definitions[owner].kind == Kind.INTERFACE:
        needed = {fi.definitions[j].name for j in _children(fi, owner)}
        return [
            (mfi, mi)
            for mfi, mi, recv in _go_methods(ws, d.name, lambda m: _imports_package(m, fi.path))
            if needed <= _go_method_set(ws, mfi, recv, sets)
        ]
    out: list[Decl] = []
    for recv in _go_receivers(ws, fi, index):
        have = _go_method_set(ws, fi, recv, sets)
        for ifi, ii in ws.definitions_named(d.name, _go_member):
            parent = ifi.definitions[ii].parent
            if ifi.language != "go" or parent is None:
                continue
            if ifi.definitions[parent].kind != Kind.INTERFACE:
                continue
            needed = {ifi.definitions[j].name for j in _children(ifi, parent)}
            if needed <= have and _imports_package(fi, ifi.path):
                out.append((ifi, ii))
    return out


def _children(fi: FileIndex, parent: int) -> list[int]:
    return [j for j, o in enumerate(fi.definitions) if o.parent == parent]


def _go_receivers(ws: WorkspaceIndex, fi: FileIndex, index: int) -> list[str]:
    """The receiver type of a Go method: a type of its package named on its name line."""
    d = fi.definitions[index]
    if d.parent is not None:
        return []
    here = posixpath.dirname(fi.path)
    return [
        name
        for name in fi.names_used_in(d.name_line, d.name_line)
        if any(
            tfi.language == "go"
            and posixpath.dirname(tfi.path) == here
            and tfi.definitions[ti].parent is None
            and tfi.definitions[ti].kind in (Kind.TYPE, Kind.CLASS)
            for tfi, ti in ws.definitions_named(name, _go_type_in(here))
        )
    ]


def _go_methods(
    ws: WorkspaceIndex, name: str, where: Callable[[FileIndex], bool]
) -> Iterator[tuple[FileIndex, int, str]]:
    """Go methods named `name` declared on a type (not in an interface) in the files
    `where` keeps (judged before their receivers are looked up: `String` has hundreds),
    with each receiver type."""
    for mfi, mi in ws.definitions_named(name, _go_method):
        if mfi.language == "go" and mfi.definitions[mi].kind == Kind.METHOD and where(mfi):
            for recv in _go_receivers(ws, mfi, mi):
                yield mfi, mi, recv


def _go_member(path: str, _: str, top: bool) -> bool:  # a definition row's test
    return not top and path.endswith(".go")


def _go_method(path: str, kind: str, _: bool) -> bool:  # a definition row's test
    return kind == Kind.METHOD and path.endswith(".go")


def _go_type_in(folder: str) -> Callable[[str, str, bool], bool]:
    """A definition row's test: a top-level type of a Go package (its folder)."""
    return lambda path, kind, top: (
        top and kind in (Kind.TYPE, Kind.CLASS) and path.endswith(".go")
        and posixpath.dirname(path) == folder
    )  # fmt: skip


def _go_method_set(
    ws: WorkspaceIndex, fi: FileIndex, recv: str, memo: dict[tuple[str, str], set[str]]
) -> set[str]:
    """Names of the methods declared on type `recv` in `fi`'s package."""
    here = posixpath.dirname(fi.path)
    names = memo.get((here, recv))
    if names is not None:
        return names
    names = memo[(here, recv)] = set()
    for path in ws.files_using(recv):
        if not path.endswith(".go") or posixpath.dirname(path) != here:
            continue  # judged by its path, not loaded (a type name is used far and wide)
        pfi = ws.get(path)
        if pfi is None or pfi.language != "go":
            continue
        recv_lines = {line for line, _ in pfi.ref_lines(recv)}
        for o in pfi.definitions:
            if o.kind == Kind.METHOD and o.parent is None and o.name_line in recv_lines:
                names.add(o.name)
    return names


def _imports_package(fi: FileIndex, iface_path: str) -> bool:
    """Whether `fi`'s package is the interface's or imports it (a package path ending in
    the interface's folder; the root package's path is not known: any counts)."""
    folder = posixpath.dirname(iface_path)
    if posixpath.dirname(fi.path) == folder or not folder:
        return True
    return any(imp.module == folder or imp.module.endswith("/" + folder) for imp in fi.imports)


# ---------------------------------------------------------------------------- Ruby
def mixes_in(ufi: FileIndex, module: str) -> bool:
    """Whether a Ruby file mixes `module` in (``include M``, ``extend M``, ``helper M``)."""
    lines = {line for line, _ in ufi.ref_lines(module)}
    if not lines:
        return False
    return any(line in lines for word in _MIXINS for line, _ in ufi.ref_lines(word))
