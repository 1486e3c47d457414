"""What a receiver is, from the index's type evidence: ``u`` after ``u = URL(...)``, ``c``
annotated ``Client``, ``self.client`` set to ``Client(...)`` in the class, ``make()`` through
``-> T``, ``x`` inside ``if isinstance(x, T)``, ``""`` (a str), ``mod`` an imported module.
The same in TypeScript/JavaScript, Java and Go from their declared types (index/typed.py),
their names, packages and members through analysis/declared.py.

Static and approximate: evidence is taken in the receiver's own scope (the nearest before it),
then the scopes around it; an attribute of ``self`` from the class and its bases; a name the
file does not bind and no evidence names is unknown."""

from __future__ import annotations

import builtins
import posixpath
from dataclasses import dataclass

from scopewise.analysis import declared
from scopewise.analysis.declared import GO_PACKAGE, Declared
from scopewise.analysis.hierarchy import Hierarchy, Ref, class_at
from scopewise.index.evidence import is_name
from scopewise.index.model import UNKNOWN, Evidence, FileIndex
from scopewise.index.workspace import WorkspaceIndex
from scopewise.vocab import CLASS_LIKE, DATA_KINDS, Kind

_BUILTIN_TYPES = frozenset(
    "str bytes int float complex bool list dict set frozenset tuple bytearray".split()
)
_BUILTINS = frozenset(dir(builtins))
_OPAQUE = frozenset({"Any", "object", "TypeVar", "type", "Type", "Self", "any", "unknown",
                     "Object", "interface{}", "error"})  # fmt: skip
_CALLABLES = frozenset({Kind.FUNCTION, Kind.METHOD})
_MAX_DEPTH = 6

INSTANCE, CLASS, FUNCTION, MODULE, OTHER, SUPER, NOTHING = (
    "instance", "class", "function", "module", "other", "super", "unknown"
)  # fmt: skip


@dataclass(frozen=True)
class Value:
    """What an expression is: an instance or class object of workspace classes (`defs`), a
    workspace function, a module (`name`: its path, "" outside the workspace), another type
    (`name`: builtin or external), ``super()``, or unknown; `how` says from what evidence."""

    kind: str
    defs: tuple[Ref, ...] = ()
    name: str = ""
    how: str = ""


UNKNOWN_VALUE = Value(NOTHING)


def _shown(ev: Evidence) -> str:
    """Evidence in a few words: ``URL(...) at 12``, ``annotation Client at 3``."""
    key = ev.value
    if key.endswith("()"):
        key = key[:-1] + "...)"
    elif key.startswith(":"):
        key = ("isinstance " if ev.end >= 0 else "annotation ") + key[1:]
    return f"{key.lstrip('#')} at {ev.line + 1}"


class Types:
    """Resolves receiver keys to values, over a workspace and its hierarchy."""

    def __init__(self, workspace: WorkspaceIndex, hierarchy: Hierarchy) -> None:
        self.ws = workspace
        self.h = hierarchy
        self.binder = hierarchy.binder
        self.declared = Declared(workspace)
        self._memo: dict[tuple[str, str, str, int], Value] = {}
        # an attribute of a class and a class's ancestors, under the class file's version:
        # the same `self.loop` of one test class is read by every use in it (a common name's
        # thousands of sites); they depend on other files as the receivers do, so they go
        # with them
        self._attrs: dict[tuple[str, str, int, str, int], Value] = {}
        self._ancestors: dict[tuple[str, str, int], list[Ref]] = {}

    def forget(self) -> None:
        """Drop the receivers worked out: another file's shape moved (analysis/verdicts.py),
        so a value kept under the using file's version may be stale (a class's new base)."""
        self._memo.clear()
        self._attrs.clear()
        self._ancestors.clear()
        self.declared.forget()
        self.h.forget()

    def receiver(self, fi: FileIndex, key: str, line: int) -> Value:
        """The value of the receiver `key` of a member use on `line` of `fi`."""
        mkey = (fi.path, fi.digest, key, line)
        v = self._memo.get(mkey)
        if v is None:
            if len(self._memo) > 50_000:
                self._memo.clear()
            v = self._memo[mkey] = self._as_receiver(self.value(fi, key, line))
        return v

    def _as_receiver(self, v: Value) -> Value:
        """A method read as an attribute is most often a property: its return type."""
        if v.kind == FUNCTION and v.defs:
            rfi, ri = v.defs[0]
            ret = rfi.return_key(ri)
            if ret is not None and rfi.definitions[ri].kind == Kind.METHOD:
                return self.value(rfi, ret, rfi.definitions[ri].name_line)
            return UNKNOWN_VALUE
        return v

    def value(self, fi: FileIndex, key: str, line: int, depth: int = 0) -> Value:
        if depth > _MAX_DEPTH or not key or key == UNKNOWN:
            return UNKNOWN_VALUE
        if key[0] == "#":
            return Value(OTHER, name=key[1:], how=f"a {key[1:]}")
        if key[0] == ":":
            return self._instance(fi, key[1:].split("|"), line, depth)
        if key.endswith("()"):
            return self._called(fi, key[:-2], line, depth)
        if not is_name(key):
            return UNKNOWN_VALUE
        head, *rest = key.split(".")
        v = self._name(fi, head, line, depth)
        for part in rest:
            v = self._attr(v, part, depth)
        return v

    # ------------------------------------------------------------------ names
    def _name(self, fi: FileIndex, name: str, line: int, depth: int) -> Value:
        if name in ("self", "cls"):
            cls = class_at(fi, line)
            if cls is None:
                return UNKNOWN_VALUE
            return Value(INSTANCE if name == "self" else CLASS, ((fi, cls),), how=name)
        ev = self.local(fi, name, line)
        if ev is not None:
            v = self.value(fi, ev.value, ev.start, depth + 1)
            return Value(v.kind, v.defs, v.name, _shown(ev))
        if fi.language == "java":  # a field used without `this.`
            cls = class_at(fi, line)
            field = self._attr_evidence((fi, cls), name, depth) if cls is not None else None
            if field is not None:
                return field
        if fi.language != "python":
            return self._declared_global(fi, name, depth)
        return self._global(fi, name, depth)

    def _declared_global(self, fi: FileIndex, name: str, depth: int) -> Value:
        """A name no local evidence binds, in a declared-type language: what its file
        defines or imports, a package, what its package (folder) defines, a global."""
        hits, bound = self.binder.bind_name(fi, name)
        if hits:
            return self._definition(hits[0], depth, "import" if hits[0][0] is not fi else "")
        package = self._package(fi, name)
        if package is not None:
            return package
        seen = self.declared.visible(fi, name)
        classes = tuple(r for r in seen if declared.is_class(r))
        if classes:
            return Value(CLASS, classes, how="import" if bound else "")
        if seen:
            return self._definition(seen[0], depth, "import" if bound else "")
        if bound and not self.ws.count_definitions(name):
            return Value(OTHER, name=name, how="import")  # from a package outside
        js = fi.language in declared.JS
        java_class = fi.language == "java" and name[:1].isupper()  # java.lang's, nested ones
        if (js and name in declared.JS_GLOBALS) or (
            java_class and self.declared.outside_type(fi.language, name)
        ):
            return Value(OTHER, name=name, how="global")
        return UNKNOWN_VALUE

    def _package(self, fi: FileIndex, name: str) -> Value | None:
        """A Go package or a JavaScript namespace import (``import * as m``) bound to
        `name`: a workspace module, one outside (another type), or unknown."""
        for imp in fi.imports:
            if fi.language == "go" and name in imp.aliases:
                found = self.declared.go_package(imp.module)
            elif imp.names == ("*",) and imp.aliases == (name,) and fi.language in declared.JS:
                found = self.binder.module_file(imp.module, fi.path)
                if found is None and "/" not in imp.module and imp.module[:1] not in ".@~#":
                    found = ""  # a package by its bare name: outside the workspace
            else:
                continue
            if found is None:
                return UNKNOWN_VALUE
            return Value(MODULE, name=found, how="import") if found else Value(OTHER, name=name)
        return None

    def _global(self, fi: FileIndex, name: str, depth: int) -> Value:
        hits, bound = self.binder.bind_name(fi, name)
        if hits:
            return self._definition(hits[0], depth, "import" if hits[0][0] is not fi else "")
        module = self.binder.module_alias(fi, name)
        if module is not None:
            return Value(MODULE, name=module, how="import")
        if bound:
            return Value(OTHER, name=name, how="import")  # imported from outside
        if name in _BUILTINS:
            return Value(OTHER, name=name, how="builtin")
        return UNKNOWN_VALUE

    def _definition(self, ref: Ref, depth: int, how: str) -> Value:
        rfi, ri = ref
        d = rfi.definitions[ri]
        if d.kind in CLASS_LIKE or declared.is_class(ref):
            return Value(CLASS, (ref,), how=how)
        if d.kind in _CALLABLES:
            return Value(FUNCTION, (ref,), how=how)
        if d.kind in DATA_KINDS and d.parent is None:  # a module-level name: its evidence
            ev = self.local(rfi, d.name, rfi.line_count)
            if ev is not None and not ev.value.endswith("TypeVar()"):
                return self.value(rfi, ev.value, ev.start, depth + 1)
        return UNKNOWN_VALUE

    def local(self, fi: FileIndex, name: str, line: int) -> Evidence | None:
        """The evidence on `name` that holds on `line`: the nearest before it in its own
        scope (a function), else in the scopes around it, the module last."""
        evs = fi.evidence_for(name)
        if not evs:
            return None
        scope = _scope(fi, line)
        while True:
            end = fi.definitions[scope].end_line if scope is not None else fi.line_count
            best = None
            for ev in evs:
                if ev.start > line:
                    break
                if ((ev.end < 0 and line <= end) or line <= ev.end) and _scope(
                    fi, ev.start
                ) == scope:
                    best = ev
            if best is not None or scope is None:
                return best
            scope = _outer_scope(fi, scope)

    # ------------------------------------------------------------------ attributes, calls
    def _attr(self, v: Value, part: str, depth: int) -> Value:
        if v.kind == MODULE:
            return self._module_attr(v.name, part, depth)
        if v.kind not in (INSTANCE, CLASS) or not v.defs:
            return Value(OTHER, name=part) if v.kind == OTHER else UNKNOWN_VALUE
        for cfi, ci in v.defs:
            found = self._class_attr(cfi, ci, part, depth)
            if found.kind != NOTHING:
                return found
        return UNKNOWN_VALUE

    def _module_attr(self, path: str, part: str, depth: int) -> Value:
        if path.startswith(GO_PACKAGE):
            defs = self.declared.package_defs(path, part)
            return self._definition(defs[0], depth, "import") if defs else UNKNOWN_VALUE
        mfi = self.ws.get(path) if path else None
        if mfi is None:
            return Value(OTHER, name=part)
        hits, _ = self.binder.bind_name(mfi, part)
        if hits:
            return self._definition(hits[0], depth, "import")
        sub = self.binder.module_alias(mfi, part)
        if sub is None and path.endswith("__init__.py"):
            base = posixpath.join(posixpath.dirname(path), part)
            sub = next(
                (p for p in (f"{base}.py", f"{base}/__init__.py") if p in self.ws.files), None
            )
        return Value(MODULE, name=sub, how="import") if sub is not None else UNKNOWN_VALUE

    def _class_attr(self, cfi: FileIndex, ci: int, part: str, depth: int) -> Value:
        """`part` of an instance (or the class) `ci`, kept (see `_attrs`)."""
        key = (cfi.path, cfi.digest, ci, part, depth)
        v = self._attrs.get(key)
        if v is None:
            if len(self._attrs) > 50_000:
                self._attrs.clear()
            v = self._attrs[key] = self._class_attr_now(cfi, ci, part, depth)
        return v

    def _class_attr_now(self, cfi: FileIndex, ci: int, part: str, depth: int) -> Value:
        """`part` of an instance (or the class) `ci`: its evidence in the class and its
        bases (``self.part = ...``, annotations), else the member it names."""
        found = self._attr_evidence((cfi, ci), part, depth)
        if found is not None:
            return found
        member = self.lookup((cfi, ci), part)
        if member is not None:
            return self._definition(member, depth, "")
        return UNKNOWN_VALUE

    def _attr_evidence(self, cls: Ref, part: str, depth: int) -> Value | None:
        """What the evidence in a class or its bases says attribute `part` is."""
        for kfi, ki in (cls, *self.ancestors(cls)):
            k = kfi.definitions[ki]
            for ev in kfi.evidence_for("self." + part):
                inside = k.start_line <= ev.start <= k.end_line
                owner = class_at(kfi, ev.start) == ki or k.kind == Kind.TYPE
                if inside and ev.value != UNKNOWN and owner:
                    v = self.value(kfi, ev.value, ev.start, depth + 1)
                    return Value(v.kind, v.defs, v.name, _shown(ev))
        return None

    # ------------------------------------------------------------------ members (all languages)
    def lookup(self, cls: Ref, name: str) -> Ref | None:
        """The member `name` an instance of `cls` reaches (its own, else its bases')."""
        if cls[0].language == "python":
            return self.h.lookup(cls[0], cls[1], name)
        return self.declared.lookup(cls, name)

    def ancestors(self, cls: Ref) -> list[Ref]:
        """The classes `cls` derives from, nearest first, kept (see `_attrs`)."""
        key = (cls[0].path, cls[0].digest, cls[1])
        found = self._ancestors.get(key)
        if found is None:
            if len(self._ancestors) > 50_000:
                self._ancestors.clear()
            found = self._ancestors[key] = self._ancestors_now(cls)
        return found

    def _ancestors_now(self, cls: Ref) -> list[Ref]:
        if cls[0].language == "python":
            return self.h.ancestors(cls[0], cls[1])
        return self.declared.ancestors(cls)

    def derives(self, cls: Ref, base: Ref) -> bool:
        """Whether class `cls` is `base` or derives from it."""
        if cls[0].language == "python":
            return self.h.derives(cls[0], cls[1], base)
        return self.declared.derives(cls, base)

    def module_binds(self, module: str, name: str) -> tuple[list[Ref], bool] | None:
        """What `name` is in a module value's module (a file, a Go package), and whether it
        binds it; None for a module outside the workspace."""
        if module.startswith(GO_PACKAGE):
            defs = self.declared.package_defs(module, name)
            return defs, bool(defs)
        mfi = self.ws.get(module) if module else None
        return None if mfi is None else self.binder.bind_name(mfi, name)

    def _called(self, fi: FileIndex, callee: str, line: int, depth: int) -> Value:
        if callee == "super":
            return Value(SUPER, how="super()")
        v = self.value(fi, callee, line, depth + 1)
        how = f"{callee}(...) at {line + 1}"
        if v.kind == CLASS:
            return Value(INSTANCE, v.defs, how=how)
        if v.kind == FUNCTION and v.defs:
            rfi, ri = v.defs[0]
            ret = rfi.return_key(ri)
            if ret is None:
                return UNKNOWN_VALUE
            r = self.value(rfi, ret, rfi.definitions[ri].name_line, depth + 1)
            return Value(r.kind, r.defs, r.name, f"{how} -> {ret.lstrip(':')}")
        if v.kind == OTHER and v.name in _BUILTIN_TYPES:
            return Value(OTHER, name=v.name, how=how)
        if v.kind == OTHER and fi.language != "python" and v.name[:1].isupper():
            return Value(OTHER, name=v.name, how=how)  # an outside class's constructor
        return UNKNOWN_VALUE

    def _instance(self, fi: FileIndex, names: list[str], line: int, depth: int) -> Value:
        """An instance of one of the named types (an annotation, ``isinstance``)."""
        defs: list[Ref] = []
        others: list[str] = []
        for n in names:
            last = n.rsplit(".", 1)[-1]
            if last == "Self":
                cls = class_at(fi, line)
                if cls is None:
                    return UNKNOWN_VALUE
                defs.append((fi, cls))
                continue
            python = fi.language == "python"
            if last in _OPAQUE or (not python and declared.is_type_parameter(last)):
                return UNKNOWN_VALUE
            v = self.value(fi, n, line, depth + 1)
            if v.kind == CLASS:
                defs += v.defs
            elif v.kind == OTHER or (v.kind == MODULE and not v.name):
                others.append(last)
            elif v.kind == NOTHING and not python and self.declared.outside_type(fi.language, last):
                others.append(last)  # a builtin or outside type: string, List<T>, error
            else:
                return UNKNOWN_VALUE  # a TypeVar, an alias we cannot follow: no evidence
        how = "annotation " + "|".join(names)
        return (
            Value(INSTANCE, tuple(defs), "|".join(others), how)
            if defs
            else Value(OTHER, name="|".join(others), how=how)
        )


def _scope(fi: FileIndex, line: int) -> int | None:
    """The function holding `line` (None: module level)."""
    i = fi.enclosing(line, line)
    while i is not None and fi.definitions[i].kind not in _CALLABLES:
        i = fi.definitions[i].parent
    return i


def _outer_scope(fi: FileIndex, scope: int) -> int | None:
    i = fi.definitions[scope].parent
    while i is not None and fi.definitions[i].kind not in _CALLABLES:
        i = fi.definitions[i].parent
    return i
