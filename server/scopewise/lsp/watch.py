"""The workspace watched by the server itself, for a client that offers no file watching
(Neovim on Linux): `watchfiles` (the OS's notifications, through a Rust library) when it is
installed, else polling the files' modification times. Either way the changes arrive as the
client's `workspace/didChangeWatchedFiles` would, on the event loop.

Knows the file system and the rules for which files matter; not the server, not the index."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lsprotocol import types

from scopewise.index import languages

from .capabilities import IGNORE_FILES, PROJECT_FILES

log = logging.getLogger("scopewise.lsp")
POLL_S = 2.0  # the polling fallback's period
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv"})
OnChanges = Callable[[list[types.FileEvent]], None]


def matters(path: str) -> bool:
    """A source the index reads, a project file or an ignore file."""
    name = os.path.basename(path)
    return (
        name in PROJECT_FILES
        or name in IGNORE_FILES
        or languages.language_for_path(path) is not None
    )


def _skipped(part: str) -> bool:
    return part in SKIPPED_DIRS or (part.startswith(".") and part not in (".", ".."))


def snapshot(root: Path) -> dict[str, int]:
    """Modification times (ns) of the files that matter under root."""
    out: dict[str, int] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not _skipped(d)]
        for name in files:
            path = os.path.join(folder, name)
            if matters(path):
                try:
                    out[path] = os.stat(path).st_mtime_ns
                except OSError:
                    continue
    return out


def differences(before: dict[str, int], after: dict[str, int]) -> list[types.FileEvent]:
    events = [
        types.FileEvent(uri=Path(p).as_uri(), type=types.FileChangeType.Created)
        for p in after.keys() - before.keys()
    ]
    events += [
        types.FileEvent(uri=Path(p).as_uri(), type=types.FileChangeType.Changed)
        for p in after.keys() & before.keys()
        if after[p] != before[p]
    ]
    events += [
        types.FileEvent(uri=Path(p).as_uri(), type=types.FileChangeType.Deleted)
        for p in before.keys() - after.keys()
    ]
    return events


class Watcher:
    """One thread that watches root and hands each batch of changes to `on_changes` on the
    loop. `how`: "watchfiles" or "polling" (the library is absent, or `polling` was asked)."""

    def __init__(
        self,
        root: Path,
        on_changes: OnChanges,
        loop: asyncio.AbstractEventLoop,
        *,
        polling: bool = False,
        poll_s: float = POLL_S,
    ) -> None:
        self.root, self.on_changes, self.loop, self.poll_s = root, on_changes, loop, poll_s
        self._stop = threading.Event()
        self._library: Any = None if polling else _watchfiles()
        self.how = "watchfiles" if self._library is not None else "polling"
        self._thread = threading.Thread(target=self._run, name="scopewise-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        try:
            for events in self._batches():
                if events and not self.loop.is_closed():
                    self.loop.call_soon_threadsafe(self.on_changes, events)
        except Exception:  # the editor still works without it: say so in the log
            log.exception("watching %s stopped", self.root)

    def _batches(self) -> Iterator[list[types.FileEvent]]:
        if self._library is None:
            seen = snapshot(self.root)
            while not self._stop.wait(self.poll_s):
                now = snapshot(self.root)
                yield differences(seen, now)
                seen = now
            return
        kinds = {
            self._library.Change.added: types.FileChangeType.Created,
            self._library.Change.modified: types.FileChangeType.Changed,
            self._library.Change.deleted: types.FileChangeType.Deleted,
        }
        for changes in self._library.watch(
            self.root,
            stop_event=self._stop,
            watch_filter=lambda _change, path: (
                matters(path)
                and not any(_skipped(p) for p in Path(path).relative_to(self.root).parts[:-1])
            ),
            debounce=200,
            raise_interrupt=False,
        ):
            yield [types.FileEvent(uri=Path(p).as_uri(), type=kinds[c]) for c, p in changes]


def _watchfiles() -> Any:
    try:
        import watchfiles
    except ImportError:
        return None
    return watchfiles
