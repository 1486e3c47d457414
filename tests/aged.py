"""Workspaces dated back: a stored listing trusts no stat within 2 s of a change
(index/listing.py), so the tests that use one date every file and folder an hour back."""

from __future__ import annotations

import os
import time
from pathlib import Path

HOUR_NS = 3600 * 1_000_000_000


def age(root: Path, back_ns: int = HOUR_NS) -> None:
    """Date every file and folder under `root` (and `root`) `back_ns` back."""
    then = time.time_ns() - back_ns
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            os.utime(os.path.join(folder, name), ns=(then, then), follow_symlinks=False)
    os.utime(root, ns=(then, then))
