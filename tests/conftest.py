"""Shared pytest fixtures."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fakeapi import FakeAPI
from scopewise.analysis.engine import Engine
from workers import VSCODE_FOLDER

FIXTURES = Path(__file__).parent / "fixtures"
TESTS = Path(__file__).parent
LONGEST = {VSCODE_FOLDER.args[0], "neovim/test_neovim.py"}  # ~2 min each, in real editors


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test without a pytest-xdist group of its own (tests/workers.py) is in its file's;
    the longest groups go first, so the two workers end together."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.path.relative_to(TESTS).as_posix()))
    items.sort(key=lambda item: group_of(item) not in LONGEST)  # stable: the rest keep order


def group_of(item: pytest.Item) -> str:
    mark = item.get_closest_marker("xdist_group")
    return str(mark.args[0]) if mark is not None else ""


@pytest.fixture
def fake_api() -> Iterator[FakeAPI]:
    """A fake Anthropic API on 127.0.0.1 (see tests/fakeapi.py); point clients at .base_url."""
    with FakeAPI() as api:
        yield api


@pytest.fixture(autouse=True)
def _isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test gets its own cache, state and user-config folders and no credentials from
    the environment: nothing touches (or reads) the user's files or a real API."""
    base = tmp_path_factory.mktemp("scopewise-home")
    monkeypatch.setenv("SCOPEWISE_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("SCOPEWISE_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("SCOPEWISE_STATE_DIR", str(base / "state"))
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def poly(tmp_path: Path) -> Path:
    """A writable copy of the multi-language fixture workspace, with a project marker (an
    empty `.scopewise.toml`): without one the CLI would take a file's own folder as the root."""
    dest = tmp_path / "poly"
    shutil.copytree(FIXTURES / "poly", dest)
    (dest / ".scopewise.toml").write_text("# the workspace root\n", encoding="utf-8")
    return dest


@pytest.fixture
def engine(poly: Path) -> Engine:
    """An engine over the fixture workspace, indexed (no cache, one process)."""
    e = Engine(poly, use_cache=False)
    e.index(workers=1)
    return e


@pytest.fixture
def user_config() -> Callable[[str], Path]:
    """Write the user's own config file (`SCOPEWISE_CONFIG_DIR/config.toml`, isolated per
    test): where the settings a workspace may not set (the daily cap, the endpoint) live."""

    def write(text: str) -> Path:
        folder = Path(os.environ["SCOPEWISE_CONFIG_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "config.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


WIDE_FILES, WIDE_FUNCTIONS = 12, 5  # app/modN.py, each with handlerN functions


@pytest.fixture
def wide(tmp_path: Path) -> Path:
    """A workspace where one function has a wide ripple: `lib/textutil.py:norm` is imported
    by 12 modules and called twice in each of their 5 handlers (120 call sites), and by a
    test; `lib/textutil.py:local` is used once."""
    root = tmp_path / "wide"
    (root / "lib").mkdir(parents=True)
    (root / "app").mkdir()
    (root / "tests").mkdir()
    (root / ".scopewise.toml").write_text("# the workspace root\n", encoding="utf-8")
    (root / "lib" / "__init__.py").write_text("", encoding="utf-8")
    (root / "app" / "__init__.py").write_text("", encoding="utf-8")
    (root / "lib" / "textutil.py").write_text(
        "def norm(name: str, value: str) -> str:\n"
        '    """A header line, normalised."""\n'
        '    return f"{name.strip().lower()}: {value.strip()}"\n'
        "\n\n"
        "def local(x: int) -> int:\n"
        "    return x + 1\n"
        "\n\n"
        "def once() -> int:\n"
        "    return local(1)\n",
        encoding="utf-8",
    )
    for i in range(WIDE_FILES):
        body = ["from lib.textutil import norm", ""]
        for j in range(WIDE_FUNCTIONS):
            body += [
                "",
                f"def handler{j}(req, h):",
                f'    a = norm("a{j}", h["a"])',
                f"    b = norm('b', req.id{i})",
                "    return [a, b]",
                "",
            ]
        (root / "app" / f"mod{i}.py").write_text("\n".join(body), encoding="utf-8")
    (root / "tests" / "test_textutil.py").write_text(
        "from lib.textutil import norm\n\n\ndef test_norm():\n"
        "    # both sides are stripped, the name is lower-cased\n"
        '    assert norm(" A ", " b ") == "a: b"\n'
        '    assert norm("A", "") == "a: "\n'
        '    assert norm("", "") == ": "\n',
        encoding="utf-8",
    )
    return root
