"""Small workspaces written for an analysis test, and the engine on them: indexed in memory
(no cache), or warm (every file stored, loaded when asked, as a 50k workspace's are)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from scopewise.analysis.engine import Engine
from scopewise.index.buffer import Document


def write(root: Path, files: Mapping[str, str]) -> None:
    """The files under `root`, with an empty `.scopewise.toml` unless one is given."""
    for rel, text in {".scopewise.toml": "", **files}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


def indexed(root: Path, files: Mapping[str, str]) -> Engine:
    """An engine on the files, indexed in memory (every file held, no cache)."""
    write(root, files)
    engine = Engine(root, use_cache=False)
    engine.index(workers=1)
    return engine


def editing(
    root: Path, files: Mapping[str, str], rel: str, language: str
) -> tuple[Engine, Document]:
    """An engine on the files indexed in memory, with `rel` open in an editor's buffer (the
    document its keystrokes go to)."""
    write(root, files)
    doc = Document(rel, files[rel], 1, language)
    engine = Engine(root, use_cache=False, documents={rel: doc}.get)
    engine.index(workers=1)
    return engine, doc


def warm(root: Path, files: Mapping[str, str]) -> Engine:
    """An engine on a warm cache of the files: every file stored, loaded when asked (the
    loads counted by analysis/work.py)."""
    write(root, files)
    Engine(root).index(workers=1)
    engine = Engine(root)
    engine.index(workers=1)
    return engine
