"""A file whose index asks no node's text (C, C++, Rust) is parsed once: the tree from the
time-limited parse is not parsed again from the bytes (which costs a fifth to a third of a
C file's parse where the tree has errors), and its index is the one a tree with its text
gives."""

from __future__ import annotations

from typing import Any

import pytest
import tree_sitter as ts

from scopewise.index import extract, languages
from scopewise.index.model import FileIndex

C_SOURCE = b"""#include <stdio.h>
#include "local/thing.h"

static int helper(int x) { return x + 1; }

int shared(int y) {
    return helper(y) * 2
}

struct point { int x; int y; };

#define BROKEN(a) (a +
int after_error(struct point *p) { return p->x + shared(p->y); }
"""

RUST_SOURCE = b"""use std::collections::{HashMap, HashSet as Set};

pub struct Store { items: HashMap<String, u32> }

impl Store {
    pub fn get(&self, k: &str) -> Option<&u32> { self.items.get(k) }
    fn hidden(&self) -> usize { self.items.len( }
}
"""

RUBY_SOURCE = b"""require "json"

class Store
  def get(key)
    @items.fetch(key)
  end
end
"""


class _Counting:
    """A parser that counts its parses (the binding's Parser cannot be patched)."""

    def __init__(self, inner: ts.Parser) -> None:
        self.inner, self.parses = inner, 0

    def parse(self, *args: Any, **kwargs: Any) -> ts.Tree:
        self.parses += 1
        return self.inner.parse(*args, **kwargs)

    def reset(self) -> None:
        self.inner.reset()


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, _Counting]:
    made: dict[str, _Counting] = {}
    real = languages.parser

    def parser(name: str) -> Any:
        if name not in made:
            made[name] = _Counting(real(name))
        return made[name]

    monkeypatch.setattr(languages, "parser", parser)
    return made


@pytest.mark.parametrize(
    ("language", "source", "parses"), [("c", C_SOURCE, 1), ("rust", RUST_SOURCE, 1)]
)
def test_a_file_whose_text_is_not_asked_is_parsed_once(
    counted: dict[str, _Counting], language: str, source: bytes, parses: int
) -> None:
    fi = extract.extract("f", language, source)
    assert counted[language].parses == parses
    assert fi.errors  # a tree with errors: the one a second parse would have cost most
    # the same index as from a tree that has its text (parsed from the bytes)
    whole = extract.extract("f", language, source, languages.parser(language).parse(source))
    assert _facts(fi) == _facts(whole)


def _facts(fi: FileIndex) -> tuple[object, ...]:
    """What an index holds (its dump's bytes vary with marshal's object sharing)."""
    return fi.definitions, fi.refs, fi.imports, fi.errors, fi.line_count


def test_the_names_imports_and_visibility_come_from_the_text(
    counted: dict[str, _Counting],
) -> None:
    fi = extract.extract("f.c", "c", C_SOURCE)
    by_name = {d.name: d for d in fi.definitions}
    assert not by_name["helper"].exported and by_name["shared"].exported  # `static` read
    assert [i.module for i in fi.imports] == ["stdio.h", "local/thing.h"]
    assert "helper" in fi.refs and "shared" in fi.refs
    rs = extract.extract("f.rs", "rust", RUST_SOURCE)
    assert [(i.module, i.names, i.aliases) for i in rs.imports] == [
        ("std::collections", ("HashMap", "HashSet"), ("HashMap", "Set"))
    ]
    assert {d.name: d.exported for d in rs.definitions}["get"]


def test_a_query_with_text_predicates_gets_a_tree_with_its_text(
    counted: dict[str, _Counting],
) -> None:
    """Ruby's query has text predicates (and Python's evidence reads nodes' text): asked of
    a tree without its text they would read freed memory, so such a tree is parsed again."""
    assert languages.query_reads_text("ruby") and languages.query_reads_text("python")
    assert not languages.query_reads_text("c") and not languages.query_reads_text("rust")
    fi = extract.extract("f.rb", "ruby", RUBY_SOURCE)
    assert counted["ruby"].parses == 2
    assert {d.name for d in fi.definitions} >= {"Store", "get"}
