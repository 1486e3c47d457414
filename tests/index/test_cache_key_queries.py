"""The cache's version key follows every query the index runs, the root's patterns
(queries/*-top.scm) too: an entry extracted with other patterns is never served (a review
finding: an edit to a top query alone kept the key)."""

from __future__ import annotations

import pytest

from scopewise.index import cache, languages


def test_an_edit_to_a_top_query_moves_the_version_key(monkeypatch: pytest.MonkeyPatch) -> None:
    before = cache._made_key()
    real = languages.top_source

    def edited(name: str) -> str:
        src = real(name)
        return src + "\n(global_statement (identifier) @name) @definition.constant" if src else src

    monkeypatch.setattr(languages, "top_source", edited)
    assert cache._made_key() != before
