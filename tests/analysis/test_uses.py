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


# -- receivers typed by evidence (trimmed from flask 3.0.3: ctx.py RequestContext.push,
# app.py Flask.make_response reading the `request` global)
FLASK = {
    "wrappers.py": '''
class Request:
    @property
    def endpoint(self) -> str | None:
        """The endpoint that matched the request URL."""
        return None


class Stack:
    def push(self, item: object) -> None:
        self.items.append(item)
''',
    "globals.py": """
from .wrappers import Request


def _proxy() -> object: ...


request: Request = _proxy()  # type: ignore[assignment]
""",
    "sessions.py": '''
class SessionInterface:
    def open_session(self, app: object) -> dict | None:
        """Load the session for this request, or None."""
        raise NotImplementedError()


class SecureCookieSessionInterface(SessionInterface):
    def open_session(self, app: object) -> dict | None:
        return self.signer(app).loads()
''',
    "ctx.py": '''
from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from .app import Flask


class AppContext:
    def push(self) -> None:
        """Binds the app context to the current context."""
        self.token = 1


class RequestContext:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.url_adapter = app.create_url_adapter()
        self.session = None

    def push(self) -> None:
        app_ctx = self.app.app_context()
        app_ctx.push()
        session_interface = self.app.session_interface
        self.session = session_interface.open_session(self.app)
        self.session = self.session or {}
''',
    "app.py": """
from .ctx import AppContext
from .globals import request
from .sessions import SecureCookieSessionInterface, SessionInterface


class Flask:
    session_interface: SessionInterface = SecureCookieSessionInterface()

    def app_context(self) -> AppContext:
        return AppContext()

    def create_url_adapter(self) -> object:
        return None

    def make_response(self, rv: object) -> object:
        if rv is None:
            raise TypeError(f"The view function for {request.endpoint!r} returned None")
        return rv

    def join_path(self, parts: list[str]) -> str:
        sep = "/"
        if not parts:
            return ""
        return sep.join(parts)
""",
    "urls.py": '''
class URL:
    def join(self, url: str) -> URL:
        """Return an absolute URL, using this URL as the base."""
        return self
''',
}


@pytest.fixture
def flask(tmp_path: Path) -> Engine:
    pkg = tmp_path / "flask"
    pkg.mkdir()
    (tmp_path / ".scopewise.toml").write_text("", encoding="utf-8")
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    for name, text in FLASK.items():
        (pkg / name).write_text(text.lstrip(), encoding="utf-8")
    engine = Engine(tmp_path, use_cache=False)
    engine.index(workers=1)
    return engine


def _method_span(file: str, method: str) -> tuple[int, int]:
    """1-based lines of the last method named `method` in `file` (the one under test)."""
    lines = FLASK[file].lstrip().splitlines()
    start = max(i for i, ln in enumerate(lines, 1) if ln.strip().startswith(f"def {method}("))
    end = start
    for i in range(start + 1, len(lines) + 1):
        text = lines[i - 1]
        if text and len(text) - len(text.lstrip()) <= 4 and not text.startswith(" " * 8):
            break
        end = i if text else end
    return start, end


def _method_context(engine: Engine, file: str, method: str) -> Context:
    return engine.context(f"flask/{file}", *_method_span(file, method), 4000)


def test_a_method_on_a_local_bound_to_a_call_with_a_return_annotation(flask: Engine) -> None:
    """`app_ctx = self.app.app_context(); app_ctx.push()`: `self.app` is a `Flask` (the
    annotated `__init__` parameter), `app_context() -> AppContext`: `AppContext.push`, not
    every `push` by name."""
    text = _method_context(flask, "ctx.py", "push").render()
    assert "Binds the app context to the current context." in text
    assert "self.items.append(item)" not in text


def test_a_method_on_a_class_attribute_annotated_with_its_interface(flask: Engine) -> None:
    """`session_interface = self.app.session_interface` (annotated `SessionInterface` in
    the class body): its `open_session`, surely; not a subclass's by name."""
    analysis = flask.analyze("flask/ctx.py", *_method_span("ctx.py", "push"))
    by_symbol = {
        f"{r.path}:{flask.workspace.get(r.path).qualified_name(r.index)}": r.confidence  # type: ignore[union-attr]
        for r in analysis.uses
    }
    assert by_symbol.get("flask/sessions.py:SessionInterface.open_session", 0) >= 0.9
    assert "flask/sessions.py:SecureCookieSessionInterface.open_session" not in by_symbol


def test_a_property_of_an_imported_annotated_global_is_sent(flask: Engine) -> None:
    """`request.endpoint` with `request: Request = ...` in globals.py: `Request.endpoint`;
    it used to resolve to nothing (an import that names no module or class)."""
    text = _method_context(flask, "app.py", "make_response").render()
    assert "The endpoint that matched the request URL." in text


def test_a_method_on_a_string_is_not_a_namesake_method(flask: Engine) -> None:
    """`sep = "/"; sep.join(parts)`: `str.join`, not a URL class's `join`."""
    text = _method_context(flask, "app.py", "join_path").render()
    assert "Return an absolute URL" not in text


def test_a_builtin_is_not_a_compat_module_s_namesake(tmp_path: Path) -> None:
    """requests' adapters.py calls the builtin `str(...)`; compat.py's `str = str` (which
    the file does not import) is not what it reads."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (tmp_path / ".scopewise.toml").write_text("", encoding="utf-8")
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "compat.py").write_text("builtin_str = str\nstr = str  # py2 leftover\n")
    (pkg / "adapters.py").write_text(
        "def proxy_headers(proxy: object) -> dict:\n"
        "    username = str(proxy)\n"
        "    return {'Proxy-Authorization': username}\n"
    )
    engine = Engine(tmp_path, use_cache=False)
    engine.index(workers=1)
    text = engine.context("pkg/adapters.py", 1, 3, 4000).render()
    assert "py2 leftover" not in text
