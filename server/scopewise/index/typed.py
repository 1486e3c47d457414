"""Receivers and type evidence for the languages that declare types: TypeScript/JavaScript,
Java and Go. The same keys as Python's (index/evidence.py, described in index/model.py), read
off what these languages spell out: declared types of parameters, fields and variables
(``x: Foo``, ``Foo x``, ``var x Foo``), constructor calls (``new Foo(...)``, ``Foo{...}``),
class fields and constructor parameter properties, ``instanceof``, Go method receivers,
return types, literals. ``this`` is written ``self`` so the analysis reads one spelling."""

from __future__ import annotations

import tree_sitter as ts

from scopewise.index.evidence import is_name, pack_receivers
from scopewise.index.model import UNKNOWN, Evidence

JS_FAMILY = frozenset({"javascript", "typescript", "tsx"})
TYPED = JS_FAMILY | {"java", "go"}
_MAX_KEY = 100
_LITERALS = {
    "string": "#str", "template_string": "#str", "string_literal": "#str",
    "interpreted_string_literal": "#str", "raw_string_literal": "#str",
    "text_block": "#str", "array": "#list", "number": "#number",
    "regex": "#RegExp",
}  # fmt: skip
_UNWRAP = frozenset({"parenthesized_expression", "await_expression", "non_null_expression",
                     "satisfies_expression", "cast_expression"})  # fmt: skip
_CALLS = frozenset({"call_expression"})
_NEWS = frozenset({"new_expression", "object_creation_expression"})
# member access: node type -> (object field, member field)
_MEMBER = {
    "member_expression": ("object", "property"),
    "method_invocation": ("object", "name"),
    "field_access": ("object", "field"),
    "selector_expression": ("operand", "field"),
}
# type wrappers that say nothing of the type itself (TypeScript)
_TRANSPARENT = frozenset({"Promise", "PromiseLike", "Readonly"})
_NOTHING = frozenset({"undefined", "null", "void", "never"})
_PRIMITIVES = frozenset({"integral_type", "floating_point_type", "boolean_type", "void_type"})


def _text(node: ts.Node | None) -> str:
    raw = node.text if node is not None else None
    return raw.decode("utf-8", "replace") if raw else ""


# --------------------------------------------------------------------------- types
def type_names(node: ts.Node | None, depth: int = 0) -> list[str] | None:
    """The type names a declared type allows (``null`` left out), ``#list``/``#dict`` for
    arrays and maps; None when it says nothing usable."""
    if node is None or depth > 4:
        return None
    t = node.type
    if t in ("type_annotation", "parenthesized_type", "pointer_type", "type_elem"):
        return type_names(node.named_children[-1], depth + 1) if node.named_child_count else None
    if t in ("type_identifier", "identifier", "predefined_type", "scoped_type_identifier",
             "nested_type_identifier", "qualified_type"):  # fmt: skip
        name = _text(node)
        return [] if name in _NOTHING else [name]
    if t in _PRIMITIVES:
        return [] if t == "void_type" else [_text(node)]
    if t in ("literal_type",):
        inner = node.named_children[0] if node.named_child_count else None
        return [] if inner is not None and inner.type in _NOTHING else None
    if t == "union_type":
        out: list[str] = []
        for c in node.named_children:
            names = type_names(c, depth + 1)
            if names is None:
                return None
            out += names
        return out
    if t in ("array_type", "slice_type", "tuple_type"):
        return ["#list"]
    if t == "map_type":
        return ["#dict"]
    if t == "generic_type":
        head = node.child_by_field_name("name") or node.child_by_field_name("type")
        head = head if head is not None else node.named_children[0]
        args = node.child_by_field_name("type_arguments")
        if _text(head) in _TRANSPARENT and args is not None and args.named_child_count:
            return type_names(args.named_children[0], depth + 1)
        return type_names(head, depth + 1)
    return None


def type_key(node: ts.Node | None) -> str:
    """The key of a declared type: ``:T`` (``:A|B``), ``#list``, or ``?``."""
    names = type_names(node)
    if not names or names == ["var"]:
        return UNKNOWN
    if len(names) == 1 and names[0][0] == "#":
        return names[0]
    return ":" + "|".join(dict.fromkeys(n for n in names if n[0] != "#"))


# --------------------------------------------------------------------------- values
def value_key(node: ts.Node) -> str:
    """The key of an expression: ``x``, ``self.a``, ``f()``, ``Foo()`` (``new Foo``),
    ``:Foo`` (``Foo{}``, ``x as Foo``), ``#str``, or ``?``."""
    t = node.type
    if t == "identifier":
        return _text(node)
    if t == "this":
        return "self"
    fields = _MEMBER.get(t)
    if fields is not None:
        obj, member = node.child_by_field_name(fields[0]), node.child_by_field_name(fields[1])
        if obj is None and t == "method_invocation":  # Java: `make(...)` in its class
            return _text(member) + "()"
        base = value_key(obj) if obj is not None else UNKNOWN
        key = f"{base}.{_text(member)}"
        if t == "method_invocation":
            key += "()"
        return key if is_name(base) and len(key) < _MAX_KEY else UNKNOWN
    if t in _CALLS:
        return _call_key(node)
    if t in _NEWS:
        return _new_key(node)
    if t == "composite_literal":
        return type_key(node.child_by_field_name("type"))
    if t in ("as_expression", "type_assertion_expression"):
        return type_key(node.named_children[-1]) if node.named_child_count > 1 else UNKNOWN
    if t == "unary_expression" and _text(node.child_by_field_name("operator")) == "&":
        operand = node.child_by_field_name("operand")
        return value_key(operand) if operand is not None else UNKNOWN
    literal = _LITERALS.get(t)
    if literal is not None:
        return literal
    if t in _UNWRAP and node.named_child_count:
        return value_key(node.named_children[-1])
    return UNKNOWN


def _call_key(node: ts.Node) -> str:
    fn = node.child_by_field_name("function")
    if fn is None:  # a Java call without a receiver: `make(...)`
        fn = node.child_by_field_name("name")
        return _text(fn) + "()" if fn is not None else UNKNOWN
    base = value_key(fn) if fn.type in ("identifier", *_MEMBER) else UNKNOWN
    return base + "()" if is_name(base) else UNKNOWN


def _new_key(node: ts.Node) -> str:
    cls = node.child_by_field_name("constructor") or node.child_by_field_name("type")
    if cls is not None and cls.type == "generic_type":
        cls = cls.named_children[0] if cls.named_child_count else None
    if cls is None:
        return UNKNOWN
    name = (
        value_key(cls)
        if cls.type not in ("type_identifier", "scoped_type_identifier")
        else (_text(cls))
    )
    return name + "()" if is_name(name) else UNKNOWN


# --------------------------------------------------------------------------- receivers
def receivers(
    members: list[ts.Node], skip: set[int], source: bytes | None = None
) -> tuple[dict[str, bytes], list[str]]:
    """member name -> packed (line, key index) of each ``obj.member`` use; the keys (as
    evidence.receivers, for the member nodes of these languages; names sliced from
    `source`, the text the tree was parsed from, when given)."""
    pairs = (
        (n.child_by_field_name(f[0]), n.child_by_field_name(f[1]))
        for n in members
        if (f := _MEMBER.get(n.type)) is not None
    )
    return pack_receivers(pairs, skip, value_key, source)


# --------------------------------------------------------------------------- evidence
def _ev(name: str, node: ts.Node, value: str, end: int = -1, start: int | None = None) -> Evidence:
    row = node.start_point.row
    return Evidence(name, row if start is None else start, end, value, row)


def _names(node: ts.Node | None) -> list[str]:
    """The names a declaration's left side binds (patterns spread: each unknown)."""
    if node is None:
        return []
    if node.type == "identifier":
        return [_text(node)]
    if node.type in ("expression_list", "array_pattern", "object_pattern"):
        return [n for c in node.named_children for n in _names(c)]
    if node.type == "shorthand_property_identifier_pattern":
        return [_text(node)]
    return []


def _declaration(node: ts.Node, wanted: set[str]) -> list[Evidence]:
    """``const x: T = v`` / ``T x = v`` / ``var x T = v`` / ``x := v``: each name of
    `wanted` bound, from the line after the declaration (its value is computed first)."""
    t = node.type
    after = node.end_point.row + 1
    if t == "local_variable_declaration":
        declared = None  # read once a name is wanted
        out = []
        for d in node.children_by_field_name("declarator"):
            name = _text(d.child_by_field_name("name"))
            if name not in wanted:
                continue
            if declared is None:
                declared = type_key(node.child_by_field_name("type"))
            value = d.child_by_field_name("value")
            key = declared if declared != UNKNOWN or value is None else value_key(value)
            out.append(_ev(name, d, key, start=after))
        return out
    left = node.child_by_field_name("name") or node.child_by_field_name("left")
    names = node.children_by_field_name("name") if t == "var_spec" else []
    targets = [_text(n) for n in names] if names else _names(left)
    if not any(name in wanted for name in targets):
        return []
    declared = type_key(node.child_by_field_name("type"))
    right = node.child_by_field_name("value") or node.child_by_field_name("right")
    values = (
        right.named_children
        if right is not None and right.type == "expression_list"
        else ([right] if right is not None else [])
    )
    alone = left is None or left.type in ("identifier", "expression_list")
    out = []
    for i, name in enumerate(targets):
        if name not in wanted:
            continue
        key = declared
        if key == UNKNOWN and alone and len(values) == len(targets):
            key = value_key(values[i])
        out.append(_ev(name, node, key, start=after))
    return out


def _assignment(node: ts.Node, language: str, wanted: set[str]) -> list[Evidence]:
    """``this.x = v`` (an attribute of the class, from its line); ``x = v`` of a `wanted`
    name where `v` says what it is (JavaScript's names have no declared type)."""
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    if left is None or right is None:
        return []
    if left.type in ("member_expression", "field_access"):
        key = value_key(left)
        if key.startswith("self.") and key.count(".") == 1 and not key.endswith(")"):
            return [_ev(key, node, value_key(right))]
        return []
    if left.type == "identifier" and language in JS_FAMILY:
        name = _text(left)
        value = value_key(right) if name in wanted else UNKNOWN
        if value != UNKNOWN:
            return [_ev(name, node, value, start=node.end_point.row + 1)]
    return []


def _field(node: ts.Node) -> list[Evidence]:
    """A class field (``private c: Client``, ``Client c;``) or a Go struct field: an
    attribute of the class (``self.c``) from its line."""
    declared = type_key(node.child_by_field_name("type"))
    if node.type == "field_declaration" and node.child_by_field_name("declarator") is not None:
        out = []
        for d in node.children_by_field_name("declarator"):  # Java
            value = d.child_by_field_name("value")
            key = declared if declared != UNKNOWN or value is None else value_key(value)
            out.append(_ev("self." + _text(d.child_by_field_name("name")), d, key))
        return out
    names = node.children_by_field_name("name")  # Go: `a, b *T`
    if not names:
        names = [n for n in (node.child_by_field_name("property"),) if n is not None]
    value = node.child_by_field_name("value")
    if declared == UNKNOWN and value is not None:
        declared = value_key(value)
    return [_ev("self." + _text(n), node, declared) for n in names]


def _parameters(node: ts.Node, wanted: set[str]) -> list[Evidence]:
    """Each parameter of `wanted` name with its declared type; a TypeScript parameter
    property (``constructor(private c: Client)``) is an attribute of the class too. The
    types of the others are never asked about: they are not read."""
    out = []
    for p in node.named_children:
        prop = False
        if p.type == "identifier":  # JavaScript
            names = [p]
        elif p.type in ("required_parameter", "optional_parameter"):
            pattern = p.child_by_field_name("pattern")
            names = [pattern] if pattern is not None and pattern.type == "identifier" else []
            # a modifier precedes the name: a parameter that starts at its name has none
            prop = bool(names) and p.start_byte < names[0].start_byte and _modified(p)
        elif p.type in ("formal_parameter", "spread_parameter"):
            names = [n for n in (p.child_by_field_name("name"),) if n is not None]
        elif p.type in ("parameter_declaration", "variadic_parameter_declaration"):
            names = p.children_by_field_name("name")
        else:
            continue
        texts = [_text(n) for n in names]
        kept = [t for t in texts if t in wanted]
        if not kept and not prop:
            continue
        if p.type == "variadic_parameter_declaration":
            declared = "#list"
        else:
            declared = type_key(p.child_by_field_name("type"))
        if prop:
            out.append(_ev("self." + texts[0], p, declared))
        out += [_ev(t, p, declared) for t in kept]
    return out


def _modified(parameter: ts.Node) -> bool:
    """Whether a TypeScript parameter is a parameter property (``private c: Client``)."""
    return any(c.type == "accessibility_modifier" for c in parameter.children)


def _instanceof(node: ts.Node) -> list[Evidence]:
    """``x instanceof T``: x is a T where the check holds (an if's body, the rest of an
    ``&&``); Java's ``x instanceof T t`` binds `t` to a T from there on."""
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    if left is None or right is None:
        return []
    if right.type in ("identifier", "member_expression"):  # JavaScript: the class's value
        key = value_key(right)
        value = ":" + key if is_name(key) else UNKNOWN
    else:
        value = type_key(right)
    if value == UNKNOWN:
        return []
    out = []
    bound = node.child_by_field_name("name")
    if bound is not None:
        out.append(_ev(_text(bound), node, value))
    name = value_key(left)
    if not is_name(name) or name.count(".") > 1:
        return out
    cur, parent = node, node.parent
    while parent is not None and parent.type in ("parenthesized_expression", "binary_expression"):
        if (
            parent.type == "binary_expression"
            and _text(parent.child_by_field_name("operator")) != "&&"
        ):
            return out
        cur, parent = parent, parent.parent
    end = cur.end_point.row
    if parent is not None and parent.type in ("if_statement", "while_statement"):
        body = parent.child_by_field_name("consequence") or parent.child_by_field_name("body")
        end = body.end_point.row if body is not None else end
    out.append(_ev(name, node, value, end=end))
    return out


def _loop(node: ts.Node, wanted: set[str]) -> list[Evidence]:
    """``for (Foo x : xs)`` (Java: a declared type); ``for (const v of vs)`` binds `v` to
    something unknown (of the `wanted` names)."""
    name = node.child_by_field_name("name") or node.child_by_field_name("left")
    names = [n for n in _names(name) if n in wanted]
    if not names:
        return []
    declared = type_key(node.child_by_field_name("type"))
    return [_ev(n, node, declared) for n in names]


def _returns(nodes: list[ts.Node], def_at: dict[int, int]) -> tuple[dict[int, str], dict[int, str]]:
    """The declared return type of each function and method (by definition index), and the
    receiver type of each Go method."""
    returns: dict[int, str] = {}
    owners: dict[int, str] = {}
    for fn in nodes:
        name = fn.child_by_field_name("name")
        i = def_at.get(name.start_byte) if name is not None else None
        if i is None:
            continue
        ret = fn.child_by_field_name("return_type") or fn.child_by_field_name("result")
        if ret is None and fn.type == "method_declaration":
            ret = fn.child_by_field_name("type")  # Java
        if ret is not None and ret.type == "parameter_list":  # Go: (T, error)
            first = ret.named_children[0] if ret.named_child_count else None
            ret = first.child_by_field_name("type") if first is not None else None
        key = type_key(ret)
        if key != UNKNOWN:
            returns[i] = key
        recv = fn.child_by_field_name("receiver")
        if recv is not None and recv.named_child_count:
            owner = type_names(recv.named_children[0].child_by_field_name("type"))
            if owner and "." not in owner[0]:
                owners[i] = owner[0]
    return returns, owners


def collect(
    language: str, caps: dict[str, list[ts.Node]], def_at: dict[int, int], wanted: set[str]
) -> tuple[list[Evidence], dict[int, str], dict[int, str]]:
    """The file's evidence in source order (only on names in `wanted` and on attributes),
    the return types by definition, and Go methods' receiver types by definition."""
    found: list[Evidence] = []
    for node in caps.get("evidence.declare", ()):
        found += _declaration(node, wanted)
    for node in caps.get("evidence.assign", ()):
        found += _assignment(node, language, wanted)
    for node in caps.get("evidence.field", ()):
        found += _field(node)
    for node in caps.get("evidence.params", ()):
        found += _parameters(node, wanted)
    for node in caps.get("evidence.isinstance", ()):
        found += _instanceof(node)
    for node in caps.get("evidence.for", ()):
        found += _loop(node, wanted)
    found = [e for e in found if e.name in wanted or e.name.startswith("self.")]
    found.sort(key=lambda e: e.start)
    returns, owners = _returns(caps.get("evidence.returns", []), def_at)
    return found, returns, owners
