"""The uses side of a context: what a range reads, resolved to the definitions it needs.

Each test writes a small package shaped like the code it comes from (requests' `_types.py`
aliases under `if TYPE_CHECKING:`, `@overload`ed helpers, `try`/`except` compat bindings).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from scopewise.analysis.context import Context
from scopewise.analysis.engine import Engine

TYPES = """
from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    VerifyType: TypeAlias = bool | str
    CertType: TypeAlias = str | tuple[str, str] | None
"""

COMPAT = """
try:
    is_new = int(version.split(".")[0]) >= 2
except (TypeError, AttributeError):
    is_new = False
"""

HELPERS = '''
from typing import overload


@overload
def to_pairs(value: None) -> None: ...
@overload
def to_pairs(value: dict[str, str]) -> list[tuple[str, str]]: ...
def to_pairs(value):
    """The implementation: what a caller needs to read."""
    if value is None:
        return None
    return list(value.items())
'''

MODELS = """
class Response:
    def close(self) -> None:
        \"\"\"Release the connection back to the pool.\"\"\"
        self.raw = None


class Pool:
    def close(self) -> None:
        self.conns = []
"""

ADAPTER = """
from __future__ import annotations

import typing

from .compat import is_new
from .helpers import to_pairs
from .models import Response

if typing.TYPE_CHECKING:
    from . import _types as _t


def verify(url: str, verify: _t.VerifyType, cert: _t.CertType) -> list:
    if is_new and cert:
        return to_pairs({"url": url})
    return []


def finish(resp: Response | None) -> None:
    resp.close()
"""


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """A small package, indexed."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (tmp_path / ".scopewise.toml").write_text("", encoding="utf-8")
    files = {
        "__init__.py": "",
        "_types.py": TYPES,
        "compat.py": COMPAT,
        "helpers.py": HELPERS,
        "models.py": MODELS,
        "adapter.py": ADAPTER,
    }
    for name, text in files.items():
        (pkg / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    engine = Engine(tmp_path, use_cache=False)
    engine.index(workers=1)
    return engine


def _context_of(engine: Engine, function: str) -> Context:
    """The context of a function of adapter.py (its first 4 lines), with room to spare."""
    lines = ADAPTER.lstrip().splitlines()
    start = next(i for i, ln in enumerate(lines, 1) if ln.startswith(f"def {function}("))
    return engine.context("pkg/adapter.py", start, min(start + 3, len(lines)), 4000)


@pytest.fixture
def context(engine: Engine) -> Context:
    """The context of `verify`."""
    return _context_of(engine, "verify")


def _sent(ctx: Context, path: str) -> set[int]:
    """1-based lines of `path` the context sends."""
    return {ln for b in ctx.blocks if b.path == path for ln in range(b.start_line, b.end_line + 1)}


def test_type_aliases_under_type_checking_are_sent(context: Context) -> None:
    """`_t.VerifyType` through `from . import _types as _t`: the alias is defined under
    `if TYPE_CHECKING:`, which used to leave it out of the index and so out of the context."""
    text = context.render()
    assert "VerifyType: TypeAlias = bool | str" in text
    assert "CertType: TypeAlias = str | tuple[str, str] | None" in text


def test_an_overloaded_function_sends_its_implementation(context: Context) -> None:
    """A call to an `@overload`ed function: its implementation (the last definition), not
    its first stub."""
    text = context.render()
    assert "The implementation: what a caller needs to read." in text
    assert "return list(value.items())" in text


def test_both_bindings_of_a_try_except_name_are_sent(context: Context) -> None:
    """`is_new` bound in `try` and again in `except`: the reader needs both."""
    lines = _sent(context, "pkg/compat.py")
    assert {2, 4} <= lines, lines


def test_a_method_on_an_annotated_parameter_is_sent(engine: Engine) -> None:
    """`resp.close()` with `resp: Response | None`: `Response.close`, not any `close`."""
    text = _context_of(engine, "finish").render()
    assert "Release the connection back to the pool." in text
    assert "self.conns = []" not in text
