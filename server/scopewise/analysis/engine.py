"""The engine the CLI and the language server share: a workspace index, its sources and a
resolver, with the two questions scopewise asks of a range: its scope and its context.

Queries (`analyze`, `scope`, `context`, `context_for`) only read the index. Its writers are
`index` (the whole workspace) and `sync` (one file, before a request on it). The checks on
a requested path (`relpath`) live here too; workspace roots (`find_root`) in paths.py, which
the CLI reads before it imports the engine."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from scopewise.analysis import context as _context
from scopewise.analysis import measure as _measure
from scopewise.analysis.resolve import CallerSite, Resolver
from scopewise.analysis.scope import Analysis, Scope, analyze
from scopewise.analysis.sources import Source, Sources
from scopewise.analysis.work import Work
from scopewise.index import extract as _extract
from scopewise.index import incremental, languages
from scopewise.index.buffer import Document
from scopewise.index.files import is_secret_file, is_too_large, no_context_note
from scopewise.index.model import FileIndex
from scopewise.index.workspace import IndexStats, NotAWorkspace, Progress, WorkspaceIndex
from scopewise.settings import FileSettings
from scopewise.vocab import EngineError

MIN_BUDGET = 64  # tokens: less leaves no room for the range and a file header


def _check_budget(budget: int) -> None:
    if budget < MIN_BUDGET:
        raise EngineError(f"budget {budget} is too small (at least {MIN_BUDGET} tokens)")


class PrivateIndexes:
    """The indexes of files analysed on their own: a file the workspace index leaves out
    (ignored, excluded, too slow to parse) or an open buffer it has not caught up with.
    Extracted once per text and kept for the last few files; never part of the workspace
    index, so no other file's resolution sees them."""

    def __init__(self, capacity: int = 16) -> None:
        self.capacity = capacity
        self._by_path: dict[str, FileIndex] = {}

    def get(self, rel: str, src: Source, text_only: bool = False) -> FileIndex:
        """The index of a file's current text (EngineError for a file never indexed). With
        `text_only` (a file over `max_file_bytes`), or without a tree (too slow to parse):
        the range's own text, nothing resolved."""
        if src.language is None:
            raise EngineError(f"{rel}: not indexed")
        if src.tree is None or text_only:
            return FileIndex(rel, src.language, src.digest, src.data.count(b"\n") + 1)
        hit = self._by_path.get(rel)
        if hit is not None and hit.digest == src.digest:
            return hit
        fi = self._by_path[rel] = _extract.extract(rel, src.language, src.data, src.tree)
        while len(self._by_path) > self.capacity:
            self._by_path.pop(next(iter(self._by_path)))
        return fi


class Engine:
    """The workspace index, its sources and resolver; `index` and `sync` write to the index,
    every other method only reads it."""

    def __init__(
        self,
        root: Path | str,
        settings: FileSettings | None = None,
        *,
        use_cache: bool = True,
        documents: Callable[[str], Document | None] | None = None,
    ) -> None:
        try:
            self.workspace = WorkspaceIndex(root, settings, use_cache=use_cache)
        except NotAWorkspace as exc:
            raise EngineError(str(exc)) from None
        self.sources = Sources(self.workspace, documents)
        self.private = PrivateIndexes()
        self.resolver = Resolver(self.workspace)

    @property
    def root(self) -> Path:
        return self.workspace.root

    def index(
        self, progress: Progress | None = None, workers: int | None = None, keep: Iterable[str] = ()
    ) -> IndexStats:
        """Build the index; past `max_files` the folders of the files in `keep` go last."""
        return self.workspace.build(progress, workers, keep)

    def relpath(self, file: str | Path) -> str:
        """The workspace-relative path of a file, or EngineError saying what is wrong with it."""
        p = Path(file)
        if not p.is_absolute():
            in_cwd = Path.cwd() / p
            p = in_cwd if (in_cwd.exists() and not (self.root / p).exists()) else self.root / p
        try:
            rel = p.resolve().relative_to(self.root).as_posix()
        except ValueError:
            raise EngineError(f"{file}: outside the workspace {self.root}") from None
        if not (self.root / rel).is_file() and not self.sources.is_open(rel):
            if (self.root / rel).exists():
                raise EngineError(f"{file}: not a regular file")
            raise EngineError(f"{file}: no such file")
        if is_secret_file(self.root, rel):
            raise EngineError(f"{rel}: a secrets file; scopewise never reads it")
        if languages.language_for_path(rel) is None:
            known = ", ".join(languages.supported_extensions())
            raise EngineError(f"{rel}: unsupported language (indexed: {known})")
        return rel

    def sync(self, file: str | Path) -> str:
        """The index's one writer for a request (`index` is the other, for the whole
        workspace): bring the index in line with one file's current text, an open buffer's
        or the disk's. A file the index has not heard of yet but admits is read from disk; a
        buffer edited since it was indexed is indexed again. Returns the file's workspace
        path; EngineError when the path itself is wrong (what `relpath` checks)."""
        rel = self.relpath(file)
        fi = self.workspace.get(rel)
        if fi is None and not self.workspace.skipped.get(rel) and self.workspace.admits(rel):
            fi = self.workspace.refresh_from_disk(rel)
        if fi is None:
            return rel
        try:
            src = self.sources.get(rel, with_tree=True)
        except OSError:
            return rel  # the query that follows says why
        if src.tree is None:
            return rel
        doc = self.sources.document(rel)
        if doc is not None:  # a buffer: only the statements edited since are extracted again
            incremental.refresh(self.workspace, rel, doc, now=src.digest)
        elif fi.digest != src.digest:
            self.workspace.update(rel, src.data, src.tree)
        return rel

    def analyze(
        self,
        file: str | Path,
        start_line: int,
        end_line: int,
        diagnostics: int = 0,
        budget: int | None = None,
        work: Work | None = None,
        notes: tuple[str, ...] = (),
    ) -> Analysis:
        """Analyse 1-based inclusive lines of a file (`notes`: reasons its scope gives too).
        A query: it never writes to the index (`sync` first to bring the index in line with
        the file). A file the index leaves out, or whose indexed version is not the text
        read now, is analysed on its own, from its private index (`PrivateIndexes`); a file
        over `max_file_bytes` has its own text alone, and its scope's reasons say so. With
        `budget`, the uses are counted within that many using files and the request's
        `work` (Scope.capped: a lower bound)."""
        rel = self.relpath(file)
        fi = self.workspace.get(rel)
        if fi is None:
            reason = self.workspace.skipped.get(rel)
            if reason and not _extract.is_time_limit(reason) and not is_too_large(reason):
                raise EngineError(f"{rel}: not indexed ({reason})")
        try:
            src = self.sources.get(rel, with_tree=True)
        except OSError as exc:
            raise EngineError(f"{rel}: cannot read ({exc.strerror or exc})") from None
        limit = self.workspace.settings.max_file_bytes
        oversize = len(src.data) > limit
        if fi is None or oversize or (src.tree is not None and fi.digest != src.digest):
            fi = self.private.get(rel, src, text_only=oversize)
        n = len(src.lines)
        if start_line < 1 or end_line < start_line:
            raise EngineError(f"{rel}: bad range {start_line}-{end_line} (lines are 1-based)")
        if start_line > n:
            raise EngineError(f"{rel}: line {start_line} is past the end ({n} lines)")
        end_line = min(end_line, n)
        notes = (no_context_note(limit), *notes) if oversize else notes
        return analyze(
            self.resolver, fi, src, start_line - 1, end_line - 1, diagnostics, budget, work, notes
        )

    def scope(
        self, file: str | Path, start_line: int, end_line: int, diagnostics: int = 0
    ) -> Scope:
        """A one-shot request (the CLI's): `sync` the file, then its scope."""
        self.sync(file)
        return self.analyze(file, start_line, end_line, diagnostics).scope

    def context(
        self, file: str | Path, start_line: int, end_line: int, budget: int, diagnostics: int = 0
    ) -> _context.Context:
        """A one-shot request (the CLI's): `sync` the file, then its context."""
        _check_budget(budget)
        self.sync(file)
        analysis = self.analyze(file, start_line, end_line, diagnostics)
        return self.context_for(analysis, budget)

    def context_for(
        self, analysis: Analysis, budget: int, siblings: bool = False, work: Work | None = None
    ) -> _context.Context:
        """The context of an analysed range under `budget` tokens (a query); with
        `siblings`, the other users of what the range uses too (a change's wider ripple),
        searched within a menu request's `work` when one is given (a lower bound past it)."""
        _check_budget(budget)
        if not siblings:
            return _context.build(analysis, self.sources, budget)
        return _context.build(analysis, self.sources, budget, self._callers_of(work), work)

    def needs_for(
        self, analysis: Analysis, cap: int, siblings: bool = False, work: Work | None = None
    ) -> _measure.Needs:
        """What the context of an analysed range would need, measured (not packed) up to
        `cap` tokens, with its siblings' (a change's) or not: the menu's estimate (a query);
        the siblings searched within the request's `work` (then a lower bound past it), as
        are the files what the range uses is read from."""
        if not siblings:
            return _measure.measure(analysis, self.sources, cap, work=work)
        return _measure.measure(analysis, self.sources, cap, self._callers_of(work), work)

    def _callers_of(self, work: Work | None) -> Callable[[FileIndex, int], list[CallerSite]]:
        """The callers of a definition, every one (`work` None: a run) or those found
        within a menu request's `work` (a lower bound past it)."""
        if work is None:
            return self.resolver.callers

        def callers_of(fi: FileIndex, index: int) -> list[CallerSite]:
            return self.resolver.callers_within(fi, index, None, work)[0]

        return callers_of

    def close(self) -> None:
        self.workspace.close()
