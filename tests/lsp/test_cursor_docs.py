"""A cursor on a doc comment: the menu is for the definition the comment documents, not the
module or class around it (analysis/cursor.py: `expand_cursor`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scopewise.analysis.cursor import expand_cursor
from scopewise.analysis.engine import Engine

RUBY = """\
module Query
  # Checks whether the relation is compatible.
  #
  #   Post.where(x).compatible?(y)
  def compatible?(other)
    other.model == model
  end

  # -- the rest --

  def other
    # about the next line
    x = 1
    x
  end
end
"""
PYTHON = """\
class Box:
    # the size, in cm
    def size(self):
        return 1

    # the depth documents it too
    depth = 2

    # not about a definition
    assert depth
"""


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    (tmp_path / ".scopewise.toml").write_text("", encoding="utf-8")
    (tmp_path / "query.rb").write_text(RUBY, encoding="utf-8")
    (tmp_path / "box.py").write_text(PYTHON, encoding="utf-8")
    engine = Engine(tmp_path, use_cache=False)
    engine.index(workers=1)
    return engine


def test_a_cursor_on_a_doc_comment_means_the_definition_below(engine: Engine) -> None:
    for line in (2, 3, 4):  # each line of the comment block above `compatible?`
        assert expand_cursor(engine, "query.rb", line) == (5, 7)
    assert expand_cursor(engine, "box.py", 2) == (3, 4)
    assert expand_cursor(engine, "box.py", 6) == (7, 7)  # a class attribute is one too


def test_other_comments_keep_the_definition_around_them(engine: Engine) -> None:
    assert expand_cursor(engine, "query.rb", 9) == (1, 16)  # a blank line below: the module
    assert expand_cursor(engine, "query.rb", 12) == (11, 15)  # in a body: its method
    assert expand_cursor(engine, "query.rb", 6) == (5, 7)  # code: as before
    assert expand_cursor(engine, "box.py", 9) == (1, 10)  # above a statement: the class
