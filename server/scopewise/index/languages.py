"""The languages scopewise indexes: grammar wheels, their shipped tags queries and our additions.

Each grammar comes from its official per-language wheel (``tree-sitter-python``, ...). The
wheel's own ``queries/tags.scm`` is used as it ships; ``scopewise/index/queries/<lang>.scm`` adds
what it misses (every identifier use, constants, imports).
"""

from __future__ import annotations

import importlib
import re
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import tree_sitter as ts

# our query files: beside this module (not importlib.resources: importing it and its readers
# costs a one-shot command ~10 ms, zipfile among them; scopewise is installed as files)
_QUERIES = Path(__file__).parent / "queries"


@dataclass(frozen=True)
class LanguageSpec:
    """What scopewise knows about one language."""

    name: str
    module: str  # the grammar wheel's import name
    factory: str  # the function in it that returns the language pointer
    extensions: tuple[str, ...]
    tags_from: tuple[str, ...]  # wheels whose tags.scm applies (TypeScript reuses JavaScript's)
    extras: tuple[str, ...]  # our query files, in order
    body_fields: tuple[str, ...] = ("body",)
    # node types that wrap a definition and belong to its extent (decorators, export, ...)
    wrappers: tuple[str, ...] = ()
    # node types a definition's node climbs through to reach its full statement
    declarator_chain: tuple[str, ...] = ()
    # member access: node type -> (object field, property field)
    member_access: tuple[tuple[str, str, str], ...] = ()


_JS_TAGS = ("tree_sitter_javascript",)
_TS_TAGS = ("tree_sitter_javascript", "tree_sitter_typescript")


def _js_family(name: str, module: str, factory: str, exts: tuple[str, ...], tags: tuple[str, ...],
               extras: tuple[str, ...]) -> LanguageSpec:  # fmt: skip
    return LanguageSpec(
        name,
        module,
        factory,
        exts,
        tags,
        extras,
        wrappers=("export_statement", "expression_statement"),
        declarator_chain=("variable_declarator", "lexical_declaration", "variable_declaration"),
        member_access=(("member_expression", "object", "property"),),
    )


_C_CHAIN = ("function_declarator", "pointer_declarator", "function_definition", "declaration",
            "type_definition")  # fmt: skip
_C_MEMBER = (("field_expression", "argument", "field"),)

LANGUAGES: tuple[LanguageSpec, ...] = (
    LanguageSpec(
        "python",
        "tree_sitter_python",
        "language",
        (".py", ".pyi"),
        ("tree_sitter_python",),
        ("python",),
        wrappers=("decorated_definition",),
        member_access=(("attribute", "object", "attribute"),),
    ),
    _js_family(
        "javascript",
        "tree_sitter_javascript",
        "language",
        (".js", ".mjs", ".cjs", ".jsx"),
        _JS_TAGS,
        ("javascript", "javascript-only"),
    ),
    _js_family(
        "typescript",
        "tree_sitter_typescript",
        "language_typescript",
        (".ts", ".mts", ".cts"),
        _TS_TAGS,
        ("javascript", "typescript"),
    ),
    _js_family(
        "tsx",
        "tree_sitter_typescript",
        "language_tsx",
        (".tsx",),
        _TS_TAGS,
        ("javascript", "typescript"),
    ),
    LanguageSpec(
        "go",
        "tree_sitter_go",
        "language",
        (".go",),
        ("tree_sitter_go",),
        ("go",),
        declarator_chain=("type_spec", "type_declaration"),
        member_access=(("selector_expression", "operand", "field"),),
    ),
    LanguageSpec(
        "rust",
        "tree_sitter_rust",
        "language",
        (".rs",),
        ("tree_sitter_rust",),
        ("rust",),
        member_access=(("field_expression", "value", "field"),),
    ),
    LanguageSpec(
        "java",
        "tree_sitter_java",
        "language",
        (".java",),
        ("tree_sitter_java",),
        ("java",),
        member_access=(
            ("method_invocation", "object", "name"),
            ("field_access", "object", "field"),
        ),
    ),
    LanguageSpec(
        "c",
        "tree_sitter_c",
        "language",
        (".c", ".h"),
        ("tree_sitter_c",),
        ("c",),
        declarator_chain=_C_CHAIN,
        member_access=_C_MEMBER,
    ),
    LanguageSpec(
        "cpp",
        "tree_sitter_cpp",
        "language",
        (".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx"),
        ("tree_sitter_cpp",),
        ("cpp",),
        declarator_chain=(
            *_C_CHAIN,
            "reference_declarator",
            "field_declaration",
            "template_declaration",
        ),
        member_access=_C_MEMBER,
    ),
    LanguageSpec(
        "ruby",
        "tree_sitter_ruby",
        "language",
        (".rb",),
        ("tree_sitter_ruby",),
        ("ruby",),
        member_access=(("call", "receiver", "method"),),
    ),
)

_BY_NAME = {spec.name: spec for spec in LANGUAGES}
_BY_EXT = {ext: spec for spec in LANGUAGES for ext in spec.extensions}


class UnsupportedLanguage(ValueError):
    """The file's language has no grammar here."""


def language_for_path(path: str | Path) -> LanguageSpec | None:
    """The language of a file by its name, or None when scopewise does not index it."""
    # PurePosixPath(path).suffix without making a path (called for every file of a listing)
    name = str(path).rpartition("/")[2]
    i = name.rfind(".")
    return _BY_EXT.get(name[i:].lower()) if 0 < i < len(name) - 1 else None


def spec(name: str) -> LanguageSpec:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnsupportedLanguage(f"unsupported language: {name}") from None


def supported_extensions() -> tuple[str, ...]:
    return tuple(sorted(_BY_EXT))


@cache
def grammar(name: str) -> ts.Language:
    s = spec(name)
    module = importlib.import_module(s.module)
    return ts.Language(getattr(module, s.factory)())


def _wheel_tags(module_name: str) -> str:
    module = importlib.import_module(module_name)
    text = getattr(module, "TAGS_QUERY", None)
    if isinstance(text, str):
        return text
    path = Path(str(module.__file__)).parent / "queries" / "tags.scm"
    return path.read_text(encoding="utf-8")


def query_source(name: str) -> str:
    """The full tags query for a language: the wheels' tags.scm, then our additions."""
    s = spec(name)
    parts = [_wheel_tags(m) for m in s.tags_from]
    parts += [(_QUERIES / f"{extra}.scm").read_text(encoding="utf-8") for extra in s.extras]
    return "\n".join(parts)


@cache
def index_query(name: str) -> ts.Query:
    """Definitions, their names, imports and every use, for one pass over a tree.

    The wheels' own ``@reference.*`` patterns are switched off: our refs patterns capture
    every identifier use already (a query costs mostly its walk over the tree, so one
    query with everything beats several), and their doc comments are not asked for (see
    `without_docs`).
    """
    return query_over(name, without_docs(query_source(name)))


def query_over(name: str, wheel: str) -> ts.Query:
    """The index query made of a wheel's tags (`wheel`) and our refs, the wheel's own
    ``@reference.*`` patterns off (`index_query`; a benchmark compares the wheel as shipped)."""
    source = wheel + "\n" + refs_source(name)
    query = ts.Query(grammar(name), source)
    raw = source.encode("utf-8")
    wheel_end = len(wheel.encode("utf-8"))
    restated = _restated(name)
    for i in range(query.pattern_count):
        start = query.start_byte_for_pattern(i)
        text = raw[start : query.end_byte_for_pattern(i)]
        if start < wheel_end and (
            (b"@reference." in text and b"@definition." not in text) or _squeezed(text) in restated
        ):
            query.disable_pattern(i)
    return query


def _restated(name: str) -> set[bytes]:
    """The top query's patterns (`top_query`) as written under the root node, whitespace
    squeezed: a wheel's pattern among them is switched off in the index query."""
    top = top_query(name)
    if top is None:
        return set()
    root = parser(name).parse(b"").root_node.type.encode()
    raw = top_source(name).encode("utf-8")
    return {
        _squeezed(
            b"("
            + root
            + b" "
            + raw[top.start_byte_for_pattern(i) : top.end_byte_for_pattern(i)]
            + b")"
        )
        for i in range(top.pattern_count)
    }


def _squeezed(text: bytes) -> bytes:
    """A pattern's text without its comments, its whitespace one space (none inside
    parentheses)."""
    text = re.sub(rb";[^\n]*", b"", text)
    return b" ".join(text.split()).replace(b"( ", b"(").replace(b" )", b")")


@cache
def top_query(name: str) -> ts.Query | None:
    """The patterns matched only at the root's children (``queries/<extra>-top.scm``, each
    written without the root node it sits under), or None: run with a start depth of 1
    beside `index_query` (`extract.index_captures`). Rooted at the root inside the index
    query, each kept a match open for the whole walk over the tree: Python's five were a
    third of its query's CPU (ws2k, the same captures)."""
    source = top_source(name)
    return ts.Query(grammar(name), source) if source else None


def top_source(name: str) -> str:
    files = [_QUERIES / f"{extra}-top.scm" for extra in spec(name).extras]
    return "\n".join(f.read_text(encoding="utf-8") for f in files if f.is_file())


@cache
def query_reads_text(name: str) -> bool:
    """Whether running the index query reads nodes' text: it holds a predicate (``#eq?``,
    ``#match?``, ...; a match is kept or not by what its captures say). A tree that may not
    be asked its text (`extract.parse_slice`'s ``reread=False``) is only queried otherwise.
    Judged from the query's source: a stray ``(#`` only costs that tree its text."""
    return "(#" in without_docs(query_source(name)) + refs_source(name) + top_source(name)


# a wheel's `(comment)* @doc .` before a definition, and the directives naming @doc
_DOCS = re.compile(
    r"\(comment\)\*\s*@doc\s*\.|\(#(?:strip|select-adjacent|set-adjacent)!\s+@doc\b[^)]*\)"
)


def without_docs(source: str) -> str:
    """A tags query without its doc-comment captures (scopewise reads no @doc). A quantified
    capture ahead of a definition makes the query hold every match that could still grow
    until the tree walk passes it, to hand captures back in order: JavaScript's five such
    patterns cost as much as the rest of its query (ws10k's JavaScript: 1.38x the parse,
    0.72x without). The captures are the same, @doc aside (every JavaScript, TypeScript,
    Go and Ruby file of ws10k: tests/benchmarks/query_captures.py)."""
    return _DOCS.sub("", source)


def refs_source(name: str) -> str:
    files = [_QUERIES / f"{extra}-refs.scm" for extra in spec(name).extras]
    return "\n".join(f.read_text(encoding="utf-8") for f in files if f.is_file())


@cache
def refs_query(name: str) -> ts.Query:
    """Every identifier use, one capture per node (run with captures: cheap)."""
    return ts.Query(grammar(name), refs_source(name))


_local = threading.local()


def parser(name: str) -> ts.Parser:
    """A parser for the language, one per thread (parsers are not thread-safe)."""
    parsers: dict[str, ts.Parser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = {}
        _local.parsers = parsers
    p = parsers.get(name)
    if p is None:
        p = ts.Parser(grammar(name))
        parsers[name] = p
    return p
