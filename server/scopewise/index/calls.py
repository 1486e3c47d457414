"""Calls and their arguments at given lines, and whether they fit a parameter list: what a
changed signature's verification counts, as far as the language lets it.

`calls_at` reads the calls of a source text from its tree (tree-sitter, never a regex):
each call's name (the last segment: ``obj.meth(...)`` is ``meth``), its positional arguments,
its keyword arguments (Python) and whether it unpacks (``*args``/``**kw``, ``...xs``, Go's
``xs...``, or a Go call whose one argument is a call that may return several values): an
unpacked call's arity is not checkable. `parse_params` reads a parameter list as written
(``["self", "a", "b=1", "*args", "**kw"]``) by parsing it inside a function of the language;
`arity_problem` says what is wrong with a call of it, in one line, or None.

Python (positional-only, defaults, ``*args``/``**kwargs``, keyword-only after ``*``,
``self``/``cls`` skipped for methods), JavaScript/TypeScript (count, optional ``?`` and
defaults, rest ``...``), Go and Java (exact count, variadics); Java (and TypeScript)
overloads are not checkable. Other languages: no calls, no signature.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import tree_sitter as ts

from scopewise.index import extract as _extract
from scopewise.index import languages
from scopewise.vocab import plural

_JS = frozenset({"javascript", "typescript", "tsx"})
_JS_CALLS = "[(call_expression) (new_expression)] @call"
_CALL_QUERIES = {
    "python": "(call) @call",
    "javascript": _JS_CALLS,
    "typescript": _JS_CALLS,
    "tsx": _JS_CALLS,
    "go": "(call_expression) @call",
    "java": "[(method_invocation) (object_creation_expression)] @call",
}
# the field of a call node holding what is called
_CALLEE = {
    "call": "function",
    "call_expression": "function",
    "new_expression": "constructor",
    "method_invocation": "name",
    "object_creation_expression": "type",
}
# the field of a callee node holding its last name (obj.meth, pkg.F, a.b.C)
_MEMBER_NAME = {
    "attribute": "attribute",
    "member_expression": "property",
    "selector_expression": "field",
    "generic_type": "",  # Java: List<T> -> its first named child
    "scoped_type_identifier": "",  # Java: a.b.C -> its last named child
}
_NAMES = frozenset({"identifier", "type_identifier", "property_identifier", "field_identifier",
                    "private_property_identifier"})  # fmt: skip
_SPREADS = frozenset({"list_splat", "dictionary_splat", "spread_element", "variadic_argument"})
_SELF = frozenset({"self", "cls", "mcs", "metacls"})
MAX_PARAMS_CHARS = 4000  # a parameter list longer than this is not read


@dataclass(frozen=True)
class Call:
    line: int  # 1-based: the line of the called name
    name: str  # the called name (last segment: obj.meth(...) -> "meth")
    positional: int  # positional arguments
    keywords: tuple[str, ...]  # keyword argument names (Python), () elsewhere
    unpacked: bool  # *args/**kw/spread present: arity not checkable


@functools.cache
def _query(language: str) -> ts.Query:
    return ts.Query(languages.grammar(language), _CALL_QUERIES[language])


def calls_at(
    language: str,
    source: bytes,
    lines: Collection[int] | None = None,
    names: Collection[str] | None = None,
) -> list[Call]:
    """The calls in `source` whose name is on one of `lines` (1-based; None: every line)
    and is one of `names` (None: any), in text order. [] for a language without calls here
    and for a text too slow to parse."""
    if language not in _CALL_QUERIES:
        return []
    try:
        tree = _extract.parse(language, source)
    except _extract.ParseTimeout:
        return []
    cursor = ts.QueryCursor(_query(language))
    if lines is not None:
        if not lines:
            return []
        cursor.set_point_range((max(min(lines) - 1, 0), 0), (max(lines), 0))
    out: list[Call] = []
    for nodes in cursor.captures(tree.root_node).values():
        for node in nodes:
            call = _call(language, node)
            if call is None or (lines is not None and call.line not in lines):
                continue
            if names is None or call.name in names:
                out.append(call)
    return sorted(out, key=lambda c: c.line)


def _callee_name(node: ts.Node | None) -> ts.Node | None:
    """The node of the last name of what is called, or None (a call of a call, a
    subscript, a parenthesised expression: nothing to name)."""
    while node is not None and node.type not in _NAMES:
        field = _MEMBER_NAME.get(node.type)
        if field is None:
            return None
        if field:
            node = node.child_by_field_name(field)
        elif node.type == "generic_type":
            node = node.named_children[0] if node.named_children else None
        else:
            node = node.named_children[-1] if node.named_children else None
    return node


def _call(language: str, node: ts.Node) -> Call | None:
    name = _callee_name(node.child_by_field_name(_CALLEE[node.type]))
    if name is None or name.text is None:
        return None
    args = node.child_by_field_name("arguments")
    positional, keywords, unpacked = _arguments(args)
    if language == "go" and positional == 1 and args is not None:
        only = args.named_children[0] if args.named_children else None
        unpacked = unpacked or (only is not None and only.type == "call_expression")
    text = name.text.decode("utf-8", "replace")
    return Call(name.start_point[0] + 1, text, positional, keywords, unpacked)


def _arguments(args: ts.Node | None) -> tuple[int, tuple[str, ...], bool]:
    """(positional count, keyword names, unpacked) of an argument list."""
    if args is None:  # `new Foo` without parentheses
        return 0, (), False
    if args.type == "generator_expression":  # f(x for x in y)
        return 1, (), False
    if args.type not in ("argument_list", "arguments"):  # a tagged template: tag`...`
        return 0, (), True
    positional, keywords, unpacked = 0, [], False
    for arg in args.named_children:
        if arg.type == "comment":
            continue
        if arg.type in _SPREADS:
            unpacked = True
        elif arg.type == "keyword_argument":
            key = arg.child_by_field_name("name")
            if key is not None and key.text is not None:
                keywords.append(key.text.decode("utf-8", "replace"))
        else:
            positional += 1
    return positional, tuple(keywords), unpacked


# ---------------------------------------------------------------------- signatures
POSITIONAL, POSITIONAL_ONLY, KEYWORD_ONLY = "positional", "positional-only", "keyword-only"


@dataclass(frozen=True)
class Param:
    name: str  # "" when the language does not name it (a Go type alone, a pattern)
    default: bool  # may be left out (a default, TypeScript's `?`)
    kind: str = POSITIONAL  # POSITIONAL (by position or keyword), POSITIONAL_ONLY, KEYWORD_ONLY


@dataclass(frozen=True)
class Signature:
    """A parameter list as written: its parameters in order (keyword-only ones last),
    whether it takes any number more (``*args``, ``...rest``, ``...T``, ``T...``) or any
    keyword (``**kw``), and whether the name is overloaded (then no call is checked)."""

    language: str
    params: tuple[Param, ...]
    variadic: bool = False
    var_keywords: bool = False
    overloaded: bool = False


_WRAP = {
    "python": ("def f(", "):\n    pass\n"),
    "javascript": ("function f(", ") {}\n"),
    "typescript": ("function f(", ") {}\n"),
    "tsx": ("function f(", ") {}\n"),
    "go": ("package p\n\nfunc f(", ") {}\n"),
    "java": ("class C { void f(", ") {} }\n"),
}


def parse_params(
    language: str, params: Sequence[str], *, overloaded: bool = False
) -> Signature | None:
    """The signature of a parameter list as written, or None when the language's arity is
    not checked here or the list does not parse. `overloaded`: the index holds other
    declarations of the name with other parameters (Java, TypeScript overloads)."""
    wrap = _WRAP.get(language)
    text = ", ".join(p.strip() for p in params if p.strip())
    if wrap is None or len(text) > MAX_PARAMS_CHARS:
        return None
    try:
        tree = _extract.parse(language, (wrap[0] + text + wrap[1]).encode("utf-8"))
    except _extract.ParseTimeout:
        return None
    node = _parameters(tree.root_node)
    if tree.root_node.has_error or node is None:
        return None
    read = _READERS[language]
    return read(language, node.named_children, overloaded)


def _parameters(root: ts.Node) -> ts.Node | None:
    """The parameter list of the one function of a wrapped text."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type in ("function_definition", "function_declaration", "method_declaration"):
            return node.child_by_field_name("parameters")
        stack.extend(reversed(node.named_children))
    return None


def _text(node: ts.Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text else ""


def _python(language: str, nodes: list[ts.Node], overloaded: bool) -> Signature:
    out: list[Param] = []
    kind, variadic, var_kw = POSITIONAL, False, False
    for node in nodes:
        inner = node.named_children[0] if node.type == "typed_parameter" else node
        if node.type == "positional_separator":  # `/`: those before are positional-only
            out = [Param(p.name, p.default, POSITIONAL_ONLY) for p in out]
        elif node.type == "keyword_separator":
            kind = KEYWORD_ONLY
        elif inner.type == "list_splat_pattern":
            variadic, kind = True, KEYWORD_ONLY
        elif inner.type == "dictionary_splat_pattern":
            var_kw = True
        elif node.type in ("default_parameter", "typed_default_parameter"):
            out.append(Param(_text(node.child_by_field_name("name")), True, kind))
        elif inner.type == "identifier":
            out.append(Param(_text(inner), False, kind))
    return Signature(language, tuple(out), variadic, var_kw, overloaded)


def _js(language: str, nodes: list[ts.Node], overloaded: bool) -> Signature:
    out: list[Param] = []
    variadic = False
    for node in nodes:
        if node.type == "comment":
            continue
        pattern = node.child_by_field_name("pattern") or node
        if pattern.type == "this":  # TypeScript's `this: T` is not an argument
            continue
        if pattern.type == "rest_pattern":
            variadic = True
            continue
        optional = node.type in ("optional_parameter", "assignment_pattern") or (
            node.child_by_field_name("value") is not None
        )
        name = (
            pattern.child_by_field_name("left") if pattern.type == "assignment_pattern" else pattern
        )
        out.append(Param(_text(name) if name is not None and name.type == "identifier" else "",
                         optional))  # fmt: skip
    return Signature(language, tuple(out), variadic, False, overloaded)


def _go(language: str, nodes: list[ts.Node], overloaded: bool) -> Signature:
    out: list[Param] = []
    variadic = False
    for node in nodes:
        if node.type == "variadic_parameter_declaration":
            variadic = True
        elif node.type == "parameter_declaration":
            names = node.children_by_field_name("name")
            out += [Param(_text(n), False) for n in names] or [Param("", False)]
    return Signature(language, tuple(out), variadic, False, overloaded)


def _java(language: str, nodes: list[ts.Node], overloaded: bool) -> Signature:
    out: list[Param] = []
    variadic = False
    for node in nodes:
        if node.type == "spread_parameter":
            variadic = True
        elif node.type == "formal_parameter":
            out.append(Param(_text(node.child_by_field_name("name")), False))
    return Signature(language, tuple(out), variadic, False, overloaded)


_READERS = {"python": _python, "javascript": _js, "typescript": _js, "tsx": _js, "go": _go,
            "java": _java}  # fmt: skip


# ---------------------------------------------------------------------- arity


def _takes(name: str, low: int, high: int | None) -> str:
    if high is None:
        return f"{name} takes at least {low}"
    return f"{name} takes {low}" if low == high else f"{name} takes {low}-{high}"


def arity_problem(sig: Signature, call: Call, method: bool) -> str | None:
    """What is wrong with `call` of a function with signature `sig`, in one line ("passes 3
    arguments; send takes 1-2", "unknown keyword 'timeout'"), or None: it fits, or it is
    not checkable (an unpacking call, an overloaded name). `method`: the call goes through
    an instance or class, so a Python method's ``self``/``cls`` is not passed."""
    if call.unpacked or sig.overloaded:
        return None
    params = list(sig.params)
    if method and params and params[0].name in _SELF and params[0].kind != KEYWORD_ONLY:
        params = params[1:]
    if sig.language == "python":
        return _python_problem(sig, params, call)
    if call.keywords:
        return f"passes keyword arguments ({', '.join(call.keywords)}); {call.name} takes none"
    required = [i for i, p in enumerate(params) if not p.default]
    low = required[-1] + 1 if required else 0
    high = None if sig.variadic else len(params)
    n = call.positional
    if n < low or (high is not None and n > high):
        return f"passes {plural(n, 'argument')}; {_takes(call.name, low, high)}"
    return None


def _python_problem(sig: Signature, params: list[Param], call: Call) -> str | None:
    positional = [p for p in params if p.kind != KEYWORD_ONLY]
    n = call.positional
    low = sum(not p.default for p in positional)
    high = None if sig.variadic else len(positional)
    given = n + len(call.keywords)
    if high is not None and n > high:
        return f"passes {plural(given, 'argument')}; {_takes(call.name, low, high)}"
    filled = {p.name for p in positional[:n]}
    by_name = {p.name: p for p in params if p.name}
    for key in call.keywords:
        param = by_name.get(key)
        if param is None or param.kind == POSITIONAL_ONLY:
            if not sig.var_keywords:
                return f"unknown keyword '{key}'"
        elif key in filled:
            return f"passes '{key}' twice (by position and by keyword)"
    for p in params:
        named = p.name in call.keywords and p.kind != POSITIONAL_ONLY
        if not p.default and p.name not in filled and not named:
            if p.kind == KEYWORD_ONLY:
                return f"missing keyword argument '{p.name}'"
            return (
                f"passes {plural(given, 'argument')} without '{p.name}'; "
                f"{_takes(call.name, low, high)}"
            )
    return None
