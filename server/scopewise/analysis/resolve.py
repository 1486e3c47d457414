"""Name resolution over the index: what a range uses, and who uses a definition.

Static and approximate by design (no type inference): a bare name resolves through the
file's own definitions, then its imports, then the workspace; ``self.x`` through the
enclosing class and its bases; ``module.x`` through the import that bound ``module``; any
other ``obj.x`` only by name, with a confidence that falls with the number of candidates.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import tree_sitter as ts

from scopewise.analysis import symbols
from scopewise.analysis.sources import Source
from scopewise.index import languages
from scopewise.index.model import REF_MEMBER, FileIndex, Import
from scopewise.index.workspace import WorkspaceIndex
from scopewise.vocab import CLASS_LIKE, CONTAINER_KINDS, DATA_KINDS, TYPE_KINDS, Kind

_SELF = frozenset({"self", "cls", "this", "super"})
# methods of builtin containers/strings: `x.get(...)` on an unknown receiver is most often these
_COMMON_METHODS = frozenset(
    (
        "get set pop items keys values update append extend insert remove clear copy add discard "
        "join split strip lower upper format replace startswith endswith encode decode read "
        "write close open find index count sort reverse push map filter reduce then catch "
        "length size len next send run start stop apply call bind toString equals hashCode"
    ).split()
)
_FAMILY = {"c": "c", "cpp": "c", "javascript": "js", "typescript": "js", "tsx": "js"}
_TEST_PATH = re.compile(
    r"(^|/)(tests?|spec|__tests__)/|(^|/)test_[^/]*$|_test\.[a-z]+$"
    r"|\.(test|spec)\.[jt]sx?$|Test\.java$"
)
_BINDING_WRAPPERS = frozenset(
    {"pattern_list", "tuple_pattern", "list_pattern", "tuple", "list", "list_splat_pattern",
     "dictionary_splat_pattern", "parenthesized_expression", "expression_list",
     "array_pattern", "object_pattern"}
)  # fmt: skip
_PARAM_PARENTS = frozenset(
    {"parameters", "lambda_parameters", "typed_parameter", "formal_parameters",
     "parameter_declaration", "required_parameter", "optional_parameter", "parameter",
     "formal_parameter", "method_parameters", "block_parameters"}
)  # fmt: skip
_FIELD_BINDINGS = (
    ("assignment", "left"),
    ("augmented_assignment", "left"),
    ("for_statement", "left"),
    ("for_in_clause", "left"),
    ("named_expression", "name"),
    ("default_parameter", "name"),
    ("typed_default_parameter", "name"),
    ("keyword_argument", "name"),
    ("variable_declarator", "name"),
    ("short_var_declaration", "left"),
    ("let_declaration", "pattern"),
    ("for_in_statement", "left"),
    ("var_spec", "name"),
)
_BINDING_PARENTS = frozenset({"as_pattern_target", "global_statement", "nonlocal_statement"})


def is_test_path(path: str) -> bool:
    return bool(_TEST_PATH.search(path))


@dataclass(frozen=True)
class Use:
    """A name read in a range: `name`, or `receiver.name` for member access."""

    name: str
    line: int
    receiver: str | None  # "self", a module alias, "<expr>" for anything else; None: bare name


@dataclass
class Resolved:
    """A definition a range uses, with how sure the resolution is (0..1)."""

    path: str
    index: int
    confidence: float
    via: str
    lines: list[int] = field(default_factory=list)  # where the range uses it


@dataclass(frozen=True)
class CallerSite:
    """A use of a target definition elsewhere, inside `caller` (a definition index; None at
    module level)."""

    path: str
    line: int
    caller: int | None
    confidence: float


def _is_binding(node: ts.Node) -> bool:
    cur = node
    parent = cur.parent
    while parent is not None and parent.type in _BINDING_WRAPPERS:
        cur, parent = parent, parent.parent
    if parent is None:
        return False
    if parent.type in _PARAM_PARENTS or parent.type in _BINDING_PARENTS:
        return True
    for ptype, fname in _FIELD_BINDINGS:
        if parent.type == ptype:
            child = parent.child_by_field_name(fname)
            if child is not None and child == cur:
                return True
    return False


def _receiver(node: ts.Node, spec: languages.LanguageSpec) -> tuple[bool, str | None]:
    """(is member access, receiver text) for an identifier node."""
    parent = node.parent
    if parent is None:
        return False, None
    for ntype, obj_field, prop_field in spec.member_access:
        if parent.type == ntype:
            prop = parent.child_by_field_name(prop_field)
            if prop is not None and prop == node:
                obj = parent.child_by_field_name(obj_field)
                if obj is None:
                    return True, None if ntype == "call" else "<expr>"
                if obj.type in ("identifier", "self", "this", "super", "constant"):
                    return True, (obj.text or b"").decode("utf-8", "replace")
                return True, "<expr>"
    return False, None


def uses_in(src: Source, start_line: int, end_line: int) -> tuple[list[Use], set[str]]:
    """The names read in [start_line, end_line] and the names bound there."""
    if src.tree is None or src.language is None:
        return [], set()
    spec = languages.spec(src.language)
    cursor = ts.QueryCursor(languages.refs_query(src.language))
    cursor.set_point_range((start_line, 0), (end_line + 1, 0))
    uses: list[Use] = []
    bound: set[str] = set()
    for nodes in cursor.captures(src.tree.root_node).values():
        for node in nodes:
            line = node.start_point[0]
            if line < start_line or line > end_line:
                continue
            name = (node.text or b"").decode("utf-8", "replace")
            if not name:
                continue
            member, receiver = _receiver(node, spec)
            if not member and _is_binding(node):
                bound.add(name)
                continue
            uses.append(Use(name, line, receiver if member else None))
    return uses, bound


class Resolver:
    """Resolves uses to definitions and finds the users of a definition."""

    def __init__(self, workspace: WorkspaceIndex) -> None:
        self.ws = workspace
        self._module_cache: dict[tuple[str, str], str | None] = {}
        self._bases: dict[tuple[str, str, int], list[str]] = {}

    # ------------------------------------------------------------------ modules
    def module_file(self, module: str, from_path: str) -> str | None:
        """The workspace file a module name denotes, seen from `from_path`."""
        key = (module, from_path)
        if key in self._module_cache:
            return self._module_cache[key]
        result = self._module_file(module, from_path)
        if len(self._module_cache) > 20000:
            self._module_cache.clear()
        self._module_cache[key] = result
        return result

    def _module_file(self, module: str, from_path: str) -> str | None:
        files = self.ws.files
        if module.startswith(".") and not module.startswith(("./", "../")):  # python relative
            dots = len(module) - len(module.lstrip("."))
            base = posixpath.dirname(from_path)
            for _ in range(dots - 1):
                base = posixpath.dirname(base)
            rest = module[dots:].replace(".", "/")
            stem = posixpath.join(base, rest) if rest else base
            for cand in (f"{stem}.py", f"{stem}/__init__.py", f"{stem}.pyi"):
                if cand in files:
                    return cand
            return None
        if module.startswith(("./", "../")):  # js/ts relative import
            stem = posixpath.normpath(posixpath.join(posixpath.dirname(from_path), module))
            for ext in ("", ".ts", ".tsx", ".js", ".jsx", ".mjs", "/index.ts", "/index.js"):
                if stem + ext in files:
                    return stem + ext
            return None
        if "/" in module or module.endswith((".h", ".hpp")):  # C include, Go path
            for cand in (module, posixpath.join(posixpath.dirname(from_path), module)):
                if cand in files:
                    return cand
            suffix = "/" + module
            hits = [f for f in files if f.endswith(suffix)]
            return hits[0] if len(hits) == 1 else None
        dotted = module.replace(".", "/").replace("::", "/")
        for suffix in (f"{dotted}.py", f"{dotted}/__init__.py", f"{dotted}.rb", f"{dotted}.java"):
            if suffix in files:
                return suffix
            hits = [f for f in files if f.endswith("/" + suffix)]
            if hits:
                return min(hits, key=len)
        return None

    # ------------------------------------------------------------------ uses -> definitions
    def _top_level(self, fi: FileIndex, name: str) -> int | None:
        return fi.top_level().get(name)

    def _member(self, fi: FileIndex, cls: int, name: str, depth: int = 0) -> tuple[str, int] | None:
        """A member `name` of class `cls` in `fi`, looking through base classes by name."""
        for i, d in enumerate(fi.definitions):
            if d.parent == cls and d.name == name:
                return fi.path, i
        for i, d in enumerate(fi.definitions):  # `self.name = ...` in one of its methods
            if d.kind == Kind.ATTRIBUTE and d.name == name and enclosing_class(fi, i) == cls:
                return fi.path, i
        if depth > 4:
            return None
        for base_name in self.base_names(fi, cls):
            for bfi, bi in self._resolve_name(fi, base_name):
                if bfi.definitions[bi].kind in CLASS_LIKE:
                    hit = self._member(bfi, bi, name, depth + 1)
                    if hit:
                        return hit
        return None

    def base_names(self, fi: FileIndex, cls: int) -> list[str]:
        """Names used on a class's header lines after its own name (its bases)."""
        key = (fi.path, fi.digest, cls)
        names = self._bases.get(key)
        if names is None:
            d = fi.definitions[cls]
            names = list(fi.names_used_in(d.name_line, d.header_end))
            if len(self._bases) > 4096:
                self._bases.clear()
            self._bases[key] = names
        return names

    def _resolve_name(self, fi: FileIndex, name: str) -> list[tuple[FileIndex, int]]:
        return self._bind(fi, name)[0]

    def _bind(
        self, fi: FileIndex, name: str, hops: int = 0
    ) -> tuple[list[tuple[FileIndex, int]], bool]:
        """Definitions a bare `name` in file `fi` refers to, and whether the file binds it at
        all (defines or imports it): a bound name that leads outside the workspace resolves
        to nothing rather than to a namesake found by name."""
        i = self._top_level(fi, name)
        if i is not None:
            return [(fi, i)], True
        for imp in fi.imports:
            for orig, alias in zip(imp.names, imp.aliases, strict=False):
                if alias != name:
                    continue
                target = self.module_file(imp.module, fi.path)
                tfi = self.ws.get(target) if target else None
                if tfi is None or tfi.path == fi.path or hops > 3:
                    return [], True  # outside the workspace, or `from pkg import module`
                j = self._top_level(tfi, orig)
                if j is not None:
                    return [(tfi, j)], True
                return self._bind(tfi, orig, hops + 1)[0], True  # re-exported by a package
            if not imp.names and name in imp.aliases:
                return [], True  # `import module`: a module, not a definition
        return [], False

    def resolve(
        self, fi: FileIndex, uses: list[Use], bound: set[str], enclosing_class: int | None
    ) -> list[Resolved]:
        """The definitions the uses refer to, best first, with confidences."""
        found: dict[tuple[str, int], Resolved] = {}

        def add(path: str, index: int, conf: float, via: str, line: int) -> None:
            key = (path, index)
            r = found.get(key)
            if r is None:
                found[key] = Resolved(path, index, conf, via, [line])
            else:
                r.confidence = max(r.confidence, conf)
                r.lines.append(line)

        module_aliases = {a: imp for imp in fi.imports for a in imp.aliases if not imp.names}
        module_aliases.update(
            {
                a: imp
                for imp in fi.imports
                for a, n in zip(imp.aliases, imp.names, strict=False)
                if n
            }
        )
        memo: dict[tuple[str, str | None], list[tuple[str, int, float, str]]] = {}
        for use in uses:
            key = (use.name, use.receiver)
            hits = memo.get(key)
            if hits is None:
                hits = memo[key] = self._resolve_use(
                    fi, use, bound, enclosing_class, module_aliases
                )
            for path, index, conf, via in hits:
                add(path, index, conf, via, use.line)
        return sorted(found.values(), key=lambda r: (-r.confidence, r.path, r.index))

    def _resolve_use(
        self,
        fi: FileIndex,
        use: Use,
        bound: set[str],
        enclosing_class: int | None,
        module_aliases: Mapping[str, Import],
    ) -> list[tuple[str, int, float, str]]:
        name, recv = use.name, use.receiver
        if recv is None:
            if name in bound:
                return []
            hits, is_bound = self._bind(fi, name)
            if hits:
                via = "same file" if hits[0][0].path == fi.path else "imported"
                return [(h.path, i, 1.0, via) for h, i in hits]
            if is_bound:
                return []
            if enclosing_class is not None and fi.language != "python":
                hit = self._member(fi, enclosing_class, name)
                if hit:
                    return [(hit[0], hit[1], 1.0, f"member {name}")]
            return self._by_name(name, fi, 0.8, "by name", top_level_only=True)
        if recv in _SELF and enclosing_class is not None:
            hit = self._member(fi, enclosing_class, name)
            if hit:
                return [(hit[0], hit[1], 1.0, f"{recv}.{name}")]
            return self._by_name(name, fi, 0.3, f"{recv}.{name} by name", members_only=True)
        if recv in module_aliases and recv not in bound:
            return self._via_import(fi, recv, name, module_aliases[recv])
        if (
            recv not in module_aliases
            and recv not in _SELF
            and recv not in bound
            and recv != "<expr>"
        ):
            # ClassName.attr with ClassName defined or imported here
            found = self._class_member(fi, recv, name, TYPE_KINDS)
            if found:
                return found
        base = 0.25 if name in _COMMON_METHODS else 0.6
        return self._by_name(name, fi, base, f".{name} by name", members_only=True)

    def _class_member(
        self, fi: FileIndex, recv: str, name: str, kinds: frozenset[Kind]
    ) -> list[tuple[str, int, float, str]]:
        """`recv.name` where `recv` names a class (of one of `kinds`) seen from `fi`: the
        member, through the bases too; empty when there is none."""
        hits = self._resolve_name(fi, recv)
        if hits and hits[0][0].definitions[hits[0][1]].kind in kinds:
            cfi, ci = hits[0]
            member = self._member(cfi, ci, name)
            if member:
                return [(member[0], member[1], 1.0, f"{recv}.{name}")]
        return []

    def _via_import(
        self, fi: FileIndex, recv: str, name: str, imp: Import
    ) -> list[tuple[str, int, float, str]]:
        """`recv.name` where an import bound `recv`: a member of an imported class, or a
        definition of an imported module (nothing for a module outside the workspace)."""
        found = self._class_member(fi, recv, name, CLASS_LIKE)
        if found:
            return found
        module = imp.module
        full = module
        for n, a in zip(imp.names, imp.aliases, strict=False):
            if a == recv:
                full = f"{module}.{n}" if not module.endswith(".") else f"{module}{n}"
        target = self.module_file(full, fi.path)
        if target is None:
            return []  # a module outside the workspace (stdlib, third party)
        tfi = self.ws.get(target)
        if tfi is None:
            return []
        return [(h.path, i, 1.0, f"{recv}.{name}") for h, i in self._resolve_name(tfi, name)]

    def _by_name(
        self,
        name: str,
        fi: FileIndex,
        base: float,
        via: str,
        members_only: bool = False,
        top_level_only: bool = False,
    ) -> list[tuple[str, int, float, str]]:
        """Candidates found by name alone; confidence shrinks with their number."""
        family = _FAMILY.get(fi.language, fi.language)
        cands = [
            (c, i)
            for c, i in self.ws.definitions_named(name)
            if _FAMILY.get(c.language, c.language) == family
            and (not members_only or c.definitions[i].parent is not None)
            and (not top_level_only or c.definitions[i].parent is None)
            and c.definitions[i].kind != Kind.ATTRIBUTE
        ]
        if not cands or len(cands) > 12:
            return []
        conf = base / len(cands)
        here = posixpath.dirname(fi.path)
        return [
            (c.path, i, min(0.95, conf * (1.2 if posixpath.dirname(c.path) == here else 1.0)), via)
            for c, i in cands
        ]

    # ------------------------------------------------------------------ definition -> users
    def callers(self, fi: FileIndex, index: int, limit: int = 200) -> list[CallerSite]:
        """Uses of definition `index` of `fi` outside its own body, most certain first: of
        every declaration of its symbol (`symbols`), and those other declarations.

        A member is used as ``obj.member``; in Python only so, elsewhere a bare name inside
        its own class counts too (anywhere, for a Ruby module's method)."""
        sym = symbols.symbol_of(self.ws, fi, index, self.module_file)
        found = [self._callers_of(dfi, di, sym) for dfi, di in sym.gathered]
        return _symbol_sites(sym, found)[:limit]

    def _callers_of(self, fi: FileIndex, index: int, sym: symbols.Symbol) -> list[CallerSite]:
        """Uses of one declaration of `sym` outside its own body (see `callers`)."""
        d = fi.definitions[index]
        cls = enclosing_class(fi, index)
        member = cls is not None and d.kind not in TYPE_KINDS
        cls_span = (
            (fi.definitions[cls].start_line, fi.definitions[cls].end_line)
            if cls is not None and member
            else None
        )
        n_defs = sym.namesakes
        module_names = _module_names(fi.path)
        out: list[CallerSite] = []
        family = _FAMILY.get(fi.language, fi.language)
        for path in self.ws.files_using(d.name):
            ufi = self.ws.get(path)
            if ufi is None or _FAMILY.get(ufi.language, ufi.language) != family:
                continue
            if sym.shadowed_in(ufi):  # the file's own namesake
                continue
            sure = sym.certain_in(ufi, self.module_file)
            if member:
                conf = (1.0 if path == fi.path else 0.8) if n_defs == 1 else 0.6 / n_defs
                if d.name in _COMMON_METHODS:
                    conf *= 0.4
            elif sure or path == fi.path or self._imports_target(ufi, module_names, d.name):
                conf = 1.0
            elif n_defs == 1:
                conf = 0.8
            else:
                conf = 0.5 / n_defs
            for line, kind in ufi.ref_lines(d.name):
                if path == fi.path and d.start_line <= line <= d.end_line:
                    continue
                if member and kind != REF_MEMBER:
                    in_class = (
                        path == fi.path
                        and cls_span is not None
                        and cls_span[0] <= line <= cls_span[1]
                    )
                    if (fi.language == "python" or not in_class) and not sym.bare_calls:
                        continue
                site_conf = 1.0 if sym.bare_calls and sure and kind != REF_MEMBER else conf
                out.append(CallerSite(path, line, _enclosing_callable(ufi, line), site_conf))
        return out

    def _imports_target(self, ufi: FileIndex, module_names: set[str], name: str) -> bool:
        for imp in ufi.imports:
            mod = imp.module.lstrip(".").replace("/", ".")
            if mod in module_names or any(mod.endswith("." + m) for m in module_names):
                return True
            if name in imp.names and (not mod or mod.split(".")[-1] in module_names):
                return True
        return False


def _module_names(path: str) -> set[str]:
    stem = path.rsplit(".", 1)[0]
    if stem.endswith("/__init__"):
        stem = stem[: -len("/__init__")]
    parts = stem.split("/")
    names = {".".join(parts[i:]) for i in range(len(parts))}
    names.add(parts[-1])
    return names


def _symbol_sites(sym: symbols.Symbol, found: list[list[CallerSite]]) -> list[CallerSite]:
    """The uses of each declaration of a symbol (`found`, in its order) as one list, most
    certain first: the symbol's other declarations, then each use once (at its highest
    confidence) unless it lies in one of the declarations."""
    best: dict[tuple[str, int, int], CallerSite] = {}  # (path, line, nth use there)
    for dfi, di in sym.declarations[1:]:
        line = dfi.definitions[di].name_line
        site = CallerSite(dfi.path, line, _enclosing_callable(dfi, line), 1.0)
        best[(dfi.path, line, 0)] = site
    spans: dict[str, list[tuple[int, int]]] = {}
    for f, i in sym.declarations:
        spans.setdefault(f.path, []).append(
            (f.definitions[i].start_line, f.definitions[i].end_line)
        )
    for sites in found:
        nth: dict[tuple[str, int], int] = {}
        for s in sites:
            n = nth[(s.path, s.line)] = nth.get((s.path, s.line), -1) + 1
            old = best.get((s.path, s.line, n))
            inside = any(a <= s.line <= b for a, b in spans.get(s.path, ()))
            if not inside and (old is None or old.confidence < s.confidence):
                best[(s.path, s.line, n)] = s
    return sorted(best.values(), key=lambda s: (-s.confidence, s.path, s.line))


_VALUES = DATA_KINDS | {Kind.ATTRIBUTE}  # cannot enclose a use: a use there is its owner's
_CLASSES = TYPE_KINDS | CONTAINER_KINDS  # what a member belongs to


def _enclosing_callable(fi: FileIndex, line: int) -> int | None:
    """The definition a use on `line` belongs to (None: module level); a decorator belongs
    to the code around the decorated definition, not to the definition itself."""
    i = fi.enclosing(line, line, skip=_VALUES)
    while i is not None and line < fi.definitions[i].name_line:
        i = fi.definitions[i].parent
        while i is not None and fi.definitions[i].kind in _VALUES:
            i = fi.definitions[i].parent
    return i


def enclosing_class(fi: FileIndex, index: int) -> int | None:
    """The class (or module, enum, ...) that contains definition `index`, or None."""
    i = fi.definitions[index].parent
    while i is not None:
        if fi.definitions[i].kind in _CLASSES:
            return i
        i = fi.definitions[i].parent
    return None


def definition_at(fi: FileIndex, start_line: int, end_line: int) -> int | None:
    """The innermost definition that encloses the whole range, or None."""
    return fi.enclosing(start_line, end_line)


def defined_in(fi: FileIndex, start_line: int, end_line: int) -> list[int]:
    """Definitions that lie within the range, outermost only."""
    inside = [
        i
        for i, d in enumerate(fi.definitions)
        if start_line <= d.start_line and d.end_line <= end_line
    ]
    keep = set(inside)
    return [i for i in inside if fi.definitions[i].parent not in keep]
