"""Receivers and type evidence, read off the syntax tree (Python): what stands before the dot
of each member use, and what the file says a name is bound to — assignments, annotations,
``with ... as``, ``except ... as``, ``isinstance`` checks, return annotations. Text only: the
analysis layer turns these keys into definitions (analysis/receivers.py). The keys are
described in index/model.py."""

from __future__ import annotations

import re
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable

import tree_sitter as ts

from scopewise.index.model import RECV_BITS, REF_MEMBER, UNKNOWN, Evidence

_LITERALS = {
    "string": "#str", "concatenated_string": "#str", "list": "#list",
    "list_comprehension": "#list", "dictionary": "#dict", "dictionary_comprehension": "#dict",
    "set": "#set", "set_comprehension": "#set", "tuple": "#tuple", "integer": "#int",
    "float": "#float", "true": "#bool", "false": "#bool",
}  # fmt: skip
_UNWRAP = frozenset({"parenthesized_expression", "await"})
_PATTERNS = frozenset({"pattern_list", "tuple_pattern", "list_pattern", "expression_list"})
# typing's spellings of builtin containers, and wrappers that say nothing of the type itself
_TYPING_BUILTINS = {"List": "list", "Dict": "dict", "Set": "set", "FrozenSet": "frozenset",
                    "Tuple": "tuple", "Text": "str", "AnyStr": "str"}  # fmt: skip
_TRANSPARENT = frozenset(
    {"Optional", "Final", "ClassVar", "Annotated", "Required", "NotRequired", "ReadOnly"}
)
_GENERIC = re.compile(r"([\w.]+)\s*\[(.*)\]", re.S)
_DOTTED = re.compile(r"[A-Za-z_][\w.]*")
_MAX_KEY = 100


def _text(node: ts.Node | None) -> str:
    raw = node.text if node is not None else None
    return raw.decode("utf-8", "replace") if raw else ""


def is_name(key: str) -> bool:
    """Whether a key is a plain or dotted name (not a call, literal, type or unknown)."""
    return bool(key) and key[0] not in "#:?" and "(" not in key


def value_key(node: ts.Node) -> str:
    """The key of an expression: ``x``, ``a.b``, ``f()``, ``#str``, or ``?``."""
    t = node.type
    if t == "identifier":
        return _text(node)
    if t == "attribute":
        obj, attr = node.child_by_field_name("object"), node.child_by_field_name("attribute")
        base = value_key(obj) if obj is not None else UNKNOWN
        key = f"{base}.{_text(attr)}"
        return key if is_name(base) and len(key) < _MAX_KEY else UNKNOWN
    if t == "call":
        fn = node.child_by_field_name("function")
        base = value_key(fn) if fn is not None and fn.type in ("identifier", "attribute") else "?"
        return base + "()" if is_name(base) else UNKNOWN
    if t in ("string", "concatenated_string"):
        head = (node.text or b"")[:3].split(b'"')[0].split(b"'")[0].lower()
        return "#bytes" if b"b" in head else "#str"
    literal = _LITERALS.get(t)
    if literal is not None:
        return literal
    if t in _UNWRAP and node.named_child_count:
        inner = node.named_children[0]
        return value_key(inner)
    return UNKNOWN


# --------------------------------------------------------------------------- annotations
def _split_top(text: str, sep: str) -> list[str]:
    """`text` split at `sep` outside brackets."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def _type_names(text: str, depth: int = 0) -> list[str] | None:
    """The type names an annotation allows (None left out), or None when it says nothing
    usable (``Callable[...]`` is kept as ``Callable``: another type)."""
    t = text.strip().strip("\"'").strip()
    if depth > 4 or not t:
        return None
    parts = _split_top(t, "|")
    if len(parts) > 1:
        return _union(parts, depth)
    m = _GENERIC.fullmatch(t)
    if m:
        head, args = m.group(1), _split_top(m.group(2), ",")
        last = head.rsplit(".", 1)[-1]
        if last in _TRANSPARENT and args:
            return _type_names(args[0], depth + 1)
        if last == "Union":
            return _union(args, depth)
        return [_TYPING_BUILTINS.get(last, head)]
    if _DOTTED.fullmatch(t):
        return [] if t == "None" else [_TYPING_BUILTINS.get(t.rsplit(".", 1)[-1], t)]
    return None


def _union(parts: list[str], depth: int) -> list[str] | None:
    out: list[str] = []
    for p in parts:
        names = _type_names(p, depth + 1)
        if names is None:
            return None
        out += names
    return out


def type_key(text: str) -> str:
    """The key of an annotation: ``:T`` (``:A|B``) for an instance, ``T`` for ``type[T]``."""
    t = text.strip().strip("\"'").strip()
    m = _GENERIC.fullmatch(t)
    if m and m.group(1).rsplit(".", 1)[-1] in ("type", "Type"):
        inner = _type_names(m.group(2))
        return inner[0] if inner and len(inner) == 1 else UNKNOWN
    names = _type_names(t)
    return ":" + "|".join(dict.fromkeys(names)) if names else UNKNOWN


# --------------------------------------------------------------------------- receivers
def receivers(
    attributes: list[ts.Node],
    skip: set[int],
    source: bytes | None = None,
    uses: defaultdict[bytes, list[int]] | None = None,
) -> tuple[dict[str, bytes], list[str]]:
    """member name -> packed (line, key index) of each ``obj.member`` use (from the
    ``attribute`` nodes; `skip`: start bytes of names that are definitions); the keys.
    `source`: the text the tree was parsed from (names are sliced from it). `uses`: each
    member's use is also put there, as `extract._refs` takes them (see `pack_receivers`):
    Python's query captures no member use of its own."""
    pairs = (
        (n.child_by_field_name("object"), n.child_by_field_name("attribute")) for n in attributes
    )
    return pack_receivers(pairs, skip, value_key, source, uses)


def pack_receivers(
    pairs: Iterable[tuple[ts.Node | None, ts.Node | None]],
    skip: set[int],
    key_of: Callable[[ts.Node], str],
    source: bytes | None = None,
    uses: defaultdict[bytes, list[int]] | None = None,
) -> tuple[dict[str, bytes], list[str]]:
    """member name -> packed (line, key index) of each (receiver, member) pair whose member
    is not a definition (`skip`: start bytes of those), the receiver's key by `key_of` (a
    plain name's is its text, sliced from `source` when given); and the keys, by index
    (every language's receivers are stored so). Runs once per member use of a file.
    `uses` (name -> packed ``line * 4 + REF_MEMBER``): each member's use put there too and
    its start byte into `skip` (a member is not also a plain name's use), read once for
    both (a member use is a capture and a node less: the query captures no other)."""
    keys: dict[str, int] = {}
    by_name: defaultdict[bytes, list[int]] = defaultdict(list)
    for obj, member in pairs:
        if member is None:
            continue
        sb = member.start_byte
        if sb in skip:
            continue
        name = (member.text if source is None else source[sb : member.end_byte]) or b""
        row = member.start_point.row
        if uses is not None:
            skip.add(sb)
            if name:
                uses[name].append(row * 4 + REF_MEMBER)
        if obj is None:
            continue
        if source is not None and obj.type == "identifier":
            key = source[obj.start_byte : obj.end_byte].decode("utf-8", "replace")
        else:
            key = key_of(obj)
        k = keys.get(key)
        if k is None:
            k = keys[key] = len(keys)
        by_name[name].append(row << RECV_BITS | k)
    packed = {n.decode("utf-8", "replace"): array("q", v).tobytes() for n, v in by_name.items()}
    return packed, list(keys)


# --------------------------------------------------------------------------- evidence
def _targets(left: ts.Node) -> list[tuple[str, bool]]:
    """(name, alone) bound by an assignment's left side; `alone`: the value is its own."""
    if left.type == "identifier":
        return [(_text(left), True)]
    if left.type == "attribute":
        obj = left.child_by_field_name("object")
        if obj is not None and obj.type == "identifier" and obj.text == b"self":
            return [("self." + _text(left.child_by_field_name("attribute")), True)]
        return []
    if left.type in _PATTERNS:
        return [(n, False) for c in left.named_children for n, _ in _targets(c)]
    return []


def _assignment(node: ts.Node, cls_attr: bool, wanted: set[str]) -> list[Evidence]:
    """A binding by ``name = value`` / ``name: T`` (`cls_attr`: in a class body, where it is
    an attribute of the class); only of the names in `wanted` and of attributes."""
    left = node.child_by_field_name("left")
    targets = _targets(left) if left is not None else []
    targets = [(n, a) for n, a in targets if cls_attr or "." in n or n in wanted]
    if not targets:
        return []
    ann, right = node.child_by_field_name("type"), node.child_by_field_name("right")
    while right is not None and right.type == "assignment":  # a = b = C()
        right = right.child_by_field_name("right")
    value = type_key(_text(ann)) if ann is not None else UNKNOWN
    if value == UNKNOWN and right is not None:
        value = value_key(right)
    out = []
    row = node.start_point.row
    for name, alone in targets:
        if cls_attr and "." not in name:
            name = "self." + name
        # a name is bound once its value is computed: from the next line (``r = f(r.x)``);
        # an attribute is looked up by its class, from the line it is set on
        line = row if "." in name else node.end_point.row + 1
        out.append(Evidence(name, line, -1, value if alone else UNKNOWN, row))
    return out


def _as_pattern(node: ts.Node) -> list[Evidence]:
    alias = node.child_by_field_name("alias")
    target = alias.named_children[0] if alias is not None and alias.named_child_count else None
    if target is None or target.type != "identifier" or not node.named_child_count:
        return []
    value_node = node.named_children[0]
    parent = node.parent.type if node.parent is not None else ""
    if parent == "with_item":
        value = value_key(value_node)
    elif parent == "except_clause":
        names = [_text(c) for c in value_node.named_children] if value_node.type == "tuple" else []
        value = ":" + "|".join(names) if names else type_key(_text(value_node))
    else:
        return []
    row = node.start_point.row
    return [Evidence(_text(target), row, -1, value, row)]


def _parameters(node: ts.Node, wanted: set[str]) -> list[Evidence]:
    """Each parameter of `wanted` name, with its annotation (the others are never asked
    about: their annotations are not read)."""
    out = []
    for p in node.named_children:
        name, ann = "", None
        if p.type == "identifier":
            name = _text(p)
        elif p.type == "typed_parameter":
            first = p.named_children[0] if p.named_child_count else None
            if first is not None and first.type == "identifier":
                name, ann = _text(first), p.child_by_field_name("type")
        elif p.type in ("default_parameter", "typed_default_parameter"):
            name = _text(p.child_by_field_name("name"))
            ann = p.child_by_field_name("type")
        if name and name in wanted and name not in ("self", "cls"):
            value = type_key(_text(ann)) if ann is not None else UNKNOWN
            out.append(Evidence(name, p.start_point.row, -1, value, p.start_point.row))
    return out


def _isinstance(call: ts.Node) -> list[Evidence]:
    """`isinstance(x, T)`: x is a T where the check holds (an if's body, after an assert,
    after ``if not isinstance(...): <leave>``, the rest of an ``and``)."""
    args = call.child_by_field_name("arguments")
    if args is None or args.named_child_count != 2:
        return []
    obj, types = args.named_children
    name = _targets(obj)
    elems = types.named_children if types.type == "tuple" else [types]
    if not name or not all(is_name(value_key(e)) for e in elems):
        return []
    value = ":" + "|".join(_text(e) for e in elems)
    cur, negated = call, False
    parent = cur.parent
    while parent is not None and parent.type in ("parenthesized_expression", "not_operator",
                                                 "boolean_operator"):  # fmt: skip
        if parent.type == "not_operator":
            negated = not negated
        elif parent.type == "boolean_operator" and (
            negated or _text(parent.child_by_field_name("operator")) != "and"
        ):
            return []
        cur, parent = parent, parent.parent
    start, end = call.start_point.row, cur.end_point.row
    if parent is not None and parent.type == "assert_statement" and not negated:
        end = -1
    elif parent is not None and parent.type in ("if_statement", "elif_clause", "while_statement"):
        body = parent.child_by_field_name("consequence") or parent.child_by_field_name("body")
        if negated:
            stmt = parent if parent.type != "elif_clause" else parent.parent
            start, end = (stmt.end_point.row + 1 if stmt is not None else start), -1
        elif body is not None:
            end = body.end_point.row
    elif negated:
        return []
    return [Evidence(name[0][0], start, end, value, call.start_point.row)]


def collect(
    caps: dict[str, list[ts.Node]], def_at: dict[int, int], wanted: set[str]
) -> tuple[list[Evidence], dict[int, str]]:
    """The file's evidence in source order, and its return annotations by definition
    (`def_at`: a definition's name start byte -> its index). Only names in `wanted` (those
    read as receivers, the module's own names) and attributes get evidence: the others are
    never asked about."""
    found: list[Evidence] = []
    in_class = {n.start_byte for n in caps.get("evidence.class_assign", ())}
    for node in caps.get("evidence.assign", ()):
        found += _assignment(node, node.start_byte in in_class, wanted)
    for node in caps.get("evidence.as", ()):
        found += _as_pattern(node)
    for node in caps.get("evidence.params", ()):
        found += _parameters(node, wanted)
    for node in caps.get("evidence.for", ()):
        row = node.start_point.row
        found += [Evidence(n, row, -1, UNKNOWN, row) for n, _ in _targets(node) if n in wanted]
    for node in caps.get("evidence.isinstance", ()):
        found += _isinstance(node)
    found = [e for e in found if e.name in wanted or "." in e.name]
    returns: dict[int, str] = {}
    for fn in caps.get("evidence.returns", ()):
        name = fn.child_by_field_name("name")
        i = def_at.get(name.start_byte) if name is not None else None
        key = type_key(_text(fn.child_by_field_name("return_type")))
        if i is not None and key != UNKNOWN:
            returns[i] = key
    found.sort(key=lambda e: e.start)
    return found, returns
