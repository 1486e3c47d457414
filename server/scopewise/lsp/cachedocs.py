"""The documents the server writes for the editor to show (explanations, proposal diffs, test
output): a file in a folder of scopewise's cache, the folder kept to its newest few, each
write all or nothing. Pure file handling; never sees the server."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from scopewise import paths

log = logging.getLogger(__name__)


def slot(folder: str, name: str, keep: int) -> Path:
    """Where a new document called ``name`` goes in the cache's ``folder``, after removing all
    but the newest ``keep - 1`` documents of the same suffix there (the cache must not grow
    without bound over months of use)."""
    where = paths.cache_dir() / folder
    where.mkdir(parents=True, exist_ok=True)
    suffix = Path(name).suffix
    try:
        docs = sorted(where.glob(f"*{suffix}"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    except OSError:
        docs = []
    for old in docs[max(0, keep - 1) :]:
        old.unlink(missing_ok=True)
    return where / name


def write_atomic(path: Path, text: str) -> bool:
    """Replace the file in one step: a reader sees the old document or the new one, never a
    part; False (logged) when it cannot be written."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        log.info("could not write %s: %s", path, exc)
        return False
    return True
