"""Name resolution over the index: what a range uses, and who uses a definition.

Static and approximate by design (type evidence, no inference): a bare name resolves
through the file's own definitions, then its imports (star imports too), then the
workspace, a Python builtin the file does not bind to nothing; ``self.x`` through the
enclosing class and its bases; ``module.x`` through the import that bound ``module``; a
Python ``obj.x`` through what the index's evidence says ``obj`` is (analysis/receivers.py:
``u = URL()``, ``c: Client``, ``self.a.b``, ``f()`` with ``-> T``, an annotated global,
``super()``; nothing for a ``str`` or an external type); where evidence is silent, only by
name, with a confidence that falls with the number of candidates. A name defined more than once in
one scope (``@overload`` stubs, ``if``/``else`` variants) resolves to all of its definitions,
the last one first.
"""

from __future__ import annotations

import builtins
import functools
import posixpath
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field

import tree_sitter as ts

from scopewise.analysis.hierarchy import Hierarchy, Ref
from scopewise.analysis.hierarchy import enclosing_class as enclosing_class
from scopewise.analysis.kept import BY_NAME_MAX as BY_NAME_MAX
from scopewise.analysis.kept import Kept
from scopewise.analysis.receivers import CLASS, INSTANCE, MODULE, OTHER, SUPER, Types, Value
from scopewise.analysis.sites import COMMON_METHODS as _COMMON_METHODS
from scopewise.analysis.sites import FAMILY as _FAMILY
from scopewise.analysis.sites import CallerSite as CallerSite
from scopewise.analysis.sites import SiteFinder
from scopewise.analysis.sources import Source
from scopewise.analysis.verdicts import Verdicts
from scopewise.analysis.work import Work
from scopewise.index import languages
from scopewise.index.evidence import value_key
from scopewise.index.graph import in_memory, rows_in
from scopewise.index.model import FileIndex, Import
from scopewise.index.workspace import WorkspaceIndex
from scopewise.vocab import CLASS_LIKE, TYPE_KINDS, Kind

_BUILTINS = frozenset(dir(builtins))
_SELF = frozenset({"self", "cls", "this", "super"})
_TYPED = 0.9  # `x.m` where evidence says `x` is an instance of a class that has `m`
_VARIANT = 0.4  # an earlier namesake's share of a use's confidence (see _namesakes)
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


@functools.lru_cache(maxsize=1 << 16)
def is_test_path(path: str) -> bool:
    """Whether a path names a test file or folder; remembered (a menu asks it of every
    site's file: 1,100 searches, 2 ms, for a wide name's range at 50k files)."""
    return bool(_TEST_PATH.search(path))


@dataclass(frozen=True)
class Use:
    """A name read in a range: `name`, or `receiver.name` for member access."""

    name: str
    line: int
    receiver: str | None  # "self", a module alias, "<expr>" for anything else; None: bare name
    key: str | None = None  # the receiver as the index's evidence keys it (`x`, `self.a`, `f()`)


@dataclass
class Resolved:
    """A definition a range uses, with how sure the resolution is (0..1)."""

    path: str
    index: int
    confidence: float
    via: str
    lines: list[int] = field(default_factory=list)  # where the range uses it


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


def _receiver(node: ts.Node, spec: languages.LanguageSpec) -> tuple[bool, str | None, str | None]:
    """(is member access, receiver text, receiver key) for an identifier node: the key as
    the index spells it (index/evidence.py `value_key`), for Python's ``obj.name``."""
    parent = node.parent
    if parent is None:
        return False, None, None
    for ntype, obj_field, prop_field in spec.member_access:
        if parent.type == ntype:
            prop = parent.child_by_field_name(prop_field)
            if prop is not None and prop == node:
                obj = parent.child_by_field_name(obj_field)
                if obj is None:
                    return True, None if ntype == "call" else "<expr>", None
                key = value_key(obj) if ntype == "attribute" else None
                if obj.type in ("identifier", "self", "this", "super", "constant"):
                    return True, (obj.text or b"").decode("utf-8", "replace"), key
                return True, "<expr>", key
    return False, None, None


def uses_in(src: Source, start_line: int, end_line: int) -> tuple[list[Use], set[str]]:
    """The names read in [start_line, end_line] and the names bound there."""
    if src.tree is None or src.language is None:
        return [], set()
    spec = languages.spec(src.language)
    cursor = ts.QueryCursor(languages.refs_query(src.language))
    cursor.set_point_range((start_line, 0), (end_line + 1, 0))
    found: list[tuple[int, Use]] = []
    bound: set[str] = set()
    for nodes in cursor.captures(src.tree.root_node).values():
        for node in nodes:
            line = node.start_point[0]
            if line < start_line or line > end_line:
                continue
            name = (node.text or b"").decode("utf-8", "replace")
            if not name:
                continue
            member, receiver, key = _receiver(node, spec)
            if not member and _is_binding(node):
                bound.add(name)
                continue
            found.append((node.start_byte, Use(name, line, receiver if member else None, key)))
    # in the order of the text, whatever order the captures come in: what resolves first
    # (and so how a definition's "via" reads) is the same from one run to the next
    found.sort(key=lambda f: f[0])
    return [u for _, u in found], bound


# a request's work counts a file loaded or classified as one, and its uses by this many (a
# file of hundreds of `self.x` costs what as many files would, each typed on its receiver)
USES_PER_UNIT = 8


class Resolver:
    """Resolves uses to definitions and finds the users of a definition."""

    def __init__(self, workspace: WorkspaceIndex) -> None:
        self.ws = workspace
        self._module_cache: dict[tuple[str, str], str | None] = {}
        self._imports: dict[tuple[str, str], dict[str, tuple[Import, str | None]]] = {}
        self.hierarchy = Hierarchy(workspace, self)
        self.types = Types(workspace, self.hierarchy)
        # each using file's sites, kept across edits elsewhere that keep the shape
        self.verdicts = Verdicts(workspace, moved=self.types.forget)
        self._sites = SiteFinder(workspace, self.hierarchy, self.types, self.verdicts)
        self._kept = Kept(workspace, self.verdicts, self.hierarchy)  # answers kept while they hold

    # ------------------------------------------------------------------ modules
    def module_file(self, module: str, from_path: str) -> str | None:
        """The workspace file a module name denotes, seen from `from_path`."""
        key = (module, from_path)
        if key in self._module_cache:
            return self._module_cache[key]
        result = _module_file(self.ws.files, module, from_path, self.ws.files.ending)
        if len(self._module_cache) > 20000:
            self._module_cache.clear()
        self._module_cache[key] = result
        return result

    # ------------------------------------------------------------------ uses -> definitions
    def _top_level(self, fi: FileIndex, name: str) -> int | None:
        return fi.top_level().get(name)

    def _member(self, fi: FileIndex, cls: int, name: str) -> tuple[str, int] | None:
        """A member `name` of class `cls` in `fi`, through its bases (analysis/hierarchy.py)."""
        hit = self.hierarchy.lookup(fi, cls, name)
        return (hit[0].path, hit[1]) if hit is not None else None

    def _imported(self, fi: FileIndex) -> dict[str, tuple[Import, str | None]]:
        """name -> the first import that binds it, and the name it imports (None: `import
        module`), per file version."""
        key = (fi.path, fi.digest)
        found = self._imports.get(key)
        if found is None:
            found = {}
            for imp in fi.imports:
                for orig, alias in zip(imp.names, imp.aliases, strict=False):
                    found.setdefault(alias, (imp, orig))
                if not imp.names:
                    for alias in imp.aliases:
                        found.setdefault(alias, (imp, None))
            if len(self._imports) > 4096:
                self._imports.clear()
            self._imports[key] = found
        return found

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
        bound = self._imported(fi).get(name)
        if bound is not None:
            imp, orig = bound
            if orig is None:
                return [], True  # `import module`: a module, not a definition
            target = self.module_file(imp.module, fi.path)
            tfi = self.ws.get(target) if target else None
            if tfi is None or tfi.path == fi.path or hops > 3:
                return [], True  # outside the workspace, or `from pkg import module`
            j = self._top_level(tfi, orig)
            if j is not None:
                return [(tfi, j)], True
            return self._bind(tfi, orig, hops + 1)[0], True  # re-exported by a package
        return [], False

    def resolve(
        self,
        fi: FileIndex,
        uses: list[Use],
        bound: set[str],
        enclosing_class: int | None,
        work: Work | None = None,
    ) -> list[Resolved]:
        """The definitions the uses refer to, best first, with confidences; a hit's namesakes
        looked for within a request's `work` (`_overloads`)."""
        found: dict[tuple[str, int], Resolved] = {}

        def add(path: str, index: int, conf: float, via: str, line: int) -> None:
            key = (path, index)
            r = found.get(key)
            if r is None:
                found[key] = Resolved(path, index, conf, via, [line])
            else:
                r.confidence = max(r.confidence, conf)
                r.lines.append(line)

        module_aliases = _module_aliases(fi)
        memo: dict[tuple[str, str | None, object], list[tuple[str, int, float, str]]] = {}
        for use in uses:
            value = self._receiver_value(fi, use)
            what = None if value is None else (value.kind, value.name, _refs_key(value.defs))
            key = (use.name, use.receiver, what)
            hits = memo.get(key)
            if hits is None:
                typed = self._typed(fi, use, value, enclosing_class)
                if typed is None:
                    typed = self._resolve_use(fi, use, bound, enclosing_class, module_aliases)
                hits = memo[key] = _namesakes(self.ws, fi, use.name, typed, work)
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
            hits, is_bound = self.bind_name(fi, name)
            if hits:
                via = "same file" if hits[0][0].path == fi.path else "imported"
                return [(h.path, i, 1.0, via) for h, i in hits]
            if is_bound or (fi.language == "python" and name in _BUILTINS):
                return []  # bound outside the workspace, or a builtin (not `compat.str`)
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

    def _receiver_value(self, fi: FileIndex, use: Use) -> Value | None:
        """What the receiver of a Python member use is, by the index's type evidence (None:
        not a member use, or one on ``self``/``cls``, which the enclosing class answers)."""
        if use.key is None or use.receiver in _SELF or fi.language != "python":
            return None
        return self.types.receiver(fi, use.key, use.line)

    def _typed(
        self, fi: FileIndex, use: Use, v: Value | None, cls: int | None
    ) -> list[tuple[str, int, float, str]] | None:
        """`obj.name` resolved through what evidence says `obj` is: the member of its class
        (`x = Foo()`, `x: Foo`, `self.a.b`, `f()` with `-> Foo`, an imported annotated
        global), of a module, of the bases for ``super()``; nothing for a builtin or an
        external type. None when evidence says nothing, or names no such member."""
        if v is None:
            return None
        name, how = use.name, v.how or "type"
        refs: list[Ref] = []
        if v.kind in (INSTANCE, CLASS):
            refs = [(cfi, ci) for cfi, ci in v.defs]
        elif v.kind == SUPER and cls is not None:
            refs = self.hierarchy.bases(fi, cls)[0]
            how = "super()"
        elif v.kind == MODULE:
            mfi = self.ws.get(v.name) if v.name else None
            hits = self.bind_name(mfi, name)[0] if mfi is not None else []
            return [(h.path, i, 1.0, f"{use.key}.{name}") for h, i in hits]
        elif v.kind == OTHER:
            return []  # a builtin or a type from outside the workspace
        found: list[Ref] = []
        for cfi, ci in refs:
            hit = self.hierarchy.lookup(cfi, ci, name)
            if hit is not None and all(h[0].path != hit[0].path or h[1] != hit[1] for h in found):
                found.append(hit)
        if not found:
            return None
        conf = (1.0 if v.kind != INSTANCE else _TYPED) / len(found)
        return [(h.path, i, conf, f"{use.key}: {how}") for h, i in found]

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
        """Candidates found by name alone; confidence shrinks with their number (none past
        BY_NAME_MAX)."""
        family = _FAMILY.get(fi.language, fi.language)
        cands = self._kept.named(name, family, members_only, top_level_only)
        if not cands:
            return []
        conf = base / len(cands)
        here = posixpath.dirname(fi.path)
        return [
            (path, i, min(0.95, conf * (1.2 if posixpath.dirname(path) == here else 1.0)), via)
            for path, i in cands
        ]

    def callers(self, fi: FileIndex, index: int) -> list[CallerSite]:
        """Every use of definition `index` of `fi` outside its own body, and the overrides
        of a method, classed by evidence (analysis/sites.py): certain first, then by
        confidence; uses that evidence says are of something else are left out.
        Remembered across requests until any file's index changes (a cursor moving inside a
        definition, the menu asked again, the ripple's siblings)."""
        return self._kept.callers(fi, index, self._sites.sites)

    def callers_within(
        self, fi: FileIndex, index: int, budget: int | None, work: Work | None = None
    ) -> tuple[list[CallerSite], bool]:
        """`callers`, classifying at most `budget` using files not classified before and
        none once `work` is spent, and whether it stopped short (the sites a lower bound,
        said to `work` too; such an answer is not kept, so the next ask carries on from the
        kept verdicts: SiteFinder.bounded)."""
        capped = False

        def find(f: FileIndex, i: int) -> list[CallerSite]:
            nonlocal capped
            found, capped = self._sites.bounded(f, i, budget, work)
            return found

        found = self._kept.callers(fi, index, find, keep=lambda: not capped)
        if capped and work is not None:
            work.stop()
        return found, capped

    def work(self, limit: int, yields: Callable[[], bool] | None = None) -> Work:
        """A request's work budget of `limit` units: a file loaded, a using file classified,
        USES_PER_UNIT uses classified (analysis/work.py); giving way when `yields` holds."""
        sites, files, verdicts = self._sites, self.ws.files, self.verdicts
        return Work(
            limit, lambda: files.loads + verdicts.classified + sites.uses // USES_PER_UNIT, yields
        )

    # ------------------------------------------------------------------ binding (Binder)
    def bind_name(self, fi: FileIndex, name: str, hops: int = 0) -> tuple[list[Ref], bool]:
        """Definitions a bare `name` refers to in `fi`, and whether `fi` binds it at all;
        through ``from module import *`` too (a package's ``__init__`` re-exporting)."""
        hits, bound = self._bind(fi, name)
        if hits or bound or hops > 3:
            return hits, bound
        for imp in fi.imports:
            if imp.names != ("*",):
                continue
            target = self.module_file(imp.module, fi.path)
            tfi = self.ws.get(target) if target else None
            if tfi is not None and tfi.path != fi.path:
                found, _ = self.bind_name(tfi, name, hops + 1)
                if found:
                    return found, True
        return [], False

    def module_alias(self, fi: FileIndex, alias: str) -> str | None:
        """The workspace file of the module an import binds to `alias` ("" for a module
        outside the workspace); None when `alias` is not bound to a module by an import."""
        for imp in fi.imports:
            if alias not in imp.aliases:
                continue
            if not imp.names:  # `import a.b` binds `a`; `import a.b as c` binds `c`
                first = imp.module.split(".")[0]
                full = imp.module if alias != first and len(imp.aliases) == 1 else alias
                return self.module_file(full, fi.path) or ""
            orig = imp.names[imp.aliases.index(alias)]
            full = f"{imp.module}{orig}" if imp.module.endswith(".") else f"{imp.module}.{orig}"
            target = self.module_file(full, fi.path)
            return target  # `from pkg import name`: a module when pkg/name is one
        return None


def _module_file(
    files: Collection[str],
    module: str,
    from_path: str,
    ending: Callable[[Iterable[str]], list[str]],
) -> str | None:
    """The file of `module` among `files`, seen from `from_path` (Python, JS/TS, C, Go, Ruby,
    Java spellings); `ending(tails)`: the files ending with ``/`` + one of them, sorted."""
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
        hits = ending((module,))
        return hits[0] if len(hits) == 1 else None
    dotted = module.replace(".", "/").replace("::", "/")
    suffixes = (f"{dotted}.py", f"{dotted}/__init__.py", f"{dotted}.rb", f"{dotted}.java")
    for suffix in suffixes:
        if suffix in files:
            return suffix
    hits = ending(suffixes)
    if not hits:
        return None
    # as an import path would find it: next to the importer, then the project's own code
    # before its tests (a test app's `flask.py` is not the `flask` package), the shallowest
    here = posixpath.dirname(from_path) + "/"

    def rank(f: str) -> tuple[bool, bool, int, int]:
        root = posixpath.dirname(f.removesuffix("/__init__.py"))
        near = not root or here.startswith(root + "/")
        return not near, is_test_path(f), f.count("/"), len(f)

    return min(hits, key=rank)


def _namesakes(
    ws: WorkspaceIndex,
    fi: FileIndex,
    name: str,
    hits: list[tuple[str, int, float, str]],
    work: Work | None = None,
) -> list[tuple[str, int, float, str]]:
    """Each hit (of a use of `name`) with the other definitions of its name in the same
    scope: `@overload` stubs and their implementation, `if`/`else` and `try`/`except`
    variants. The last one (an overloaded function's implementation, the binding that runs)
    takes the hit's confidence; the others a share of it under `scope.CONFIDENT`: variants
    of one use, not more uses. A stored file's rows answer where they can (`_overloads`)."""
    out: list[tuple[str, int, float, str]] = []
    seen: set[tuple[str, int]] = set()
    for path, index, conf, via in hits:
        same = _overloads(ws, fi, path, index, name, work)
        if same is None:
            out.append((path, index, conf, via))
            continue
        for i in same:
            if (path, i) not in seen:
                seen.add((path, i))
                out.append((path, i, conf if i == same[-1] else conf * _VARIANT, via))
    return out


def _overloads(
    ws: WorkspaceIndex, fi: FileIndex, path: str, index: int, name: str, work: Work | None
) -> list[int] | None:
    """`FileIndex.overloads(index)` of the file `path` (None: no such file, or one left
    unloaded), from its index when it is in memory, else from the stored rows of `name` when
    they decide it — the definition alone of its name, kind and level, or one at the top
    level (its namesakes of that kind there share its scope) — else from its index loaded (a
    nested definition's namesakes of its kind: their parents decide), unless the request's
    `work` is spent (the hit then alone, a lower bound: work.stop)."""
    hfi = fi if path == fi.path else in_memory(ws.files, path)
    if hfi is None:
        rows = rows_in(ws.files, path, name)
        mine = next(((k, t) for i, k, t in rows or () if i == index), None)
        if rows is not None and mine is not None:
            same = [i for i, k, t in rows if (k, t) == mine]
            if len(same) == 1 or mine[1]:
                return same
        if work is not None and path in ws.files and work.spent():
            work.stop()
            return None
        hfi = ws.get(path)
    return None if hfi is None else hfi.overloads(index)


def _module_aliases(fi: FileIndex) -> dict[str, Import]:
    """A name `import m` or `from m import n` binds -> that import."""
    return {
        a: imp
        for imp in fi.imports
        for a, n in zip(imp.aliases, imp.names or imp.aliases, strict=False)
        if n
    }


def _refs_key(refs: tuple[Ref, ...]) -> tuple[tuple[str, int], ...]:
    return tuple((f.path, i) for f, i in refs)


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
