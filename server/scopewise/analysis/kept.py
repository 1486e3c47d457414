"""What the resolver remembers across requests (analysis/resolve.py): each definition's
sites, and the definitions of a name.

A name's definitions (by-name resolution) hold until which definitions there are changes
(`WorkspaceIndex.defs_version`): a keystroke inside a body keeps them.

A definition's sites (by path, file version and index, with the definition's name) are what
`SiteFinder` put together from the workspace: the verdicts of each file using the name
(each reads that file's text and, elsewhere, only the workspace's shape:
analysis/verdicts.py), the override sites and the other declarations of its symbol (the
definitions of the name), the symbol itself and the namesakes' count (the definitions,
imports, class headers: the shape again). So once the index moved without the definitions
version or the shape moving (`Verdicts.moves`), an answer for name N can differ only where
the text changed, in a file E edited since:

- a definition of E is asked under E's digest: an answer under the old one is dead, unless
  E was spliced keeping its definitions (`model.Spliced`: same index), when it is re-keyed;
- E's uses of N are sites: one typed or removed changes the answer, and so may one whose
  line moved, or whose verdict reads evidence the edit moved (a site's `via` names the
  evidence's line, `Foo(...) at 18`);
- E's definitions of N are sites (an override, another declaration).

After a splice of E that kept its definitions and evidence, an answer is dropped when N is
used or defined in the lines re-extracted (before or after), or when it has sites in E and
a line moved (a line added or removed) or the evidence said on the lines re-extracted
changed (line for line: a site's `via` names an evidence's line); every other
one holds (a keystroke inside a body keeps the answers for the names not written there). After
any other edit of E, the answers for the names E uses or defines (before or after) are
dropped and the definitions of E's, the others kept. The edited files are the pinned ones
whose index is not the one seen at the last look (`FileTable.pinned`: a file not pinned
cannot change without the definitions version moving); a file pinned since (a stored file's
first edit) or no longer pinned, a definitions version or a shape moved: every answer is
dropped.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

from scopewise.analysis.hierarchy import Hierarchy
from scopewise.analysis.sites import FAMILY as _FAMILY
from scopewise.analysis.sites import CallerSite
from scopewise.analysis.verdicts import RegionNames, Verdicts, evidence_in
from scopewise.index.model import FileIndex
from scopewise.index.workspace import WorkspaceIndex
from scopewise.vocab import Kind

BY_NAME_MAX = 12  # a name defined more often than this is not resolved by name alone
CALLERS_KEPT = 4096  # definitions whose sites are remembered (Resolver.callers)
NAMED_KEPT = 50_000  # names whose definitions are remembered (Resolver._named)

CallersKey = tuple[str, str, int]  # the definition's path, its file's digest, its index
Answer = tuple[str, tuple[CallerSite, ...]]  # the definition's name, its sites


class Kept:
    """Each definition's sites, kept while they hold (see the module's docstring), and the
    definitions of a name until which definitions there are changes."""

    def __init__(self, workspace: WorkspaceIndex, verdicts: Verdicts, hierarchy: Hierarchy) -> None:
        self.ws = workspace
        self.verdicts = verdicts  # its `moves`: the shape moved
        self.hierarchy = hierarchy  # its subclasses are carried with the sites
        hierarchy.fresh = self.fresh
        self._callers: OrderedDict[CallersKey, Answer] = OrderedDict()
        self._named: dict[tuple[str, str, bool, bool], tuple[tuple[str, int], ...]] = {}
        self._at = workspace.version
        self._defs_at = workspace.defs_version  # ... of the sites kept
        self._moves = verdicts.moves
        self._pinned = dict(workspace.files.pinned())  # the pinned files at the last look
        self._named_at = workspace.defs_version
        self._lock = threading.Lock()

    def fresh(self) -> None:
        """Brought to the index's version now (`Hierarchy.subclasses` too: `fresh` is its)."""
        with self._lock:
            if self._at != self.ws.version:
                self._carry()
            if self._named_at != self.ws.defs_version:  # a name's definitions: those alone
                self._named.clear()
                self._named_at = self.ws.defs_version

    def _carry(self) -> None:
        """The sites kept that still hold at the index's version now; the others dropped."""
        at, defs = self.ws.version, self.ws.defs_version
        pinned = dict(self.ws.files.pinned())
        self.verdicts.fresh()  # the shape judged as far as `pinned` at least
        moves = self.verdicts.moves
        was = self._pinned
        edits = [(was.get(p), fi) for p, fi in pinned.items() if was.get(p) is not fi]
        whole = defs != self._defs_at or moves != self._moves or not was.keys() <= pinned.keys()
        if whole or any(old is None for old, _ in edits):
            self._callers.clear()
            self.hierarchy.carry_subclasses(None, at)
        else:
            self.hierarchy.carry_subclasses([(o, n) for o, n in edits if o is not None], at)
        for old, new in edits if self._callers else ():
            assert old is not None
            if not _carried(self._callers, old, new):
                for key in _stale(self._callers.items(), old, new):
                    del self._callers[key]
        self._at, self._defs_at, self._moves, self._pinned = at, defs, moves, pinned

    def callers(
        self,
        fi: FileIndex,
        index: int,
        find: Callable[[FileIndex, int], list[CallerSite]],
        keep: Callable[[], bool] = lambda: True,
    ) -> list[CallerSite]:
        """`find`'s answer, kept unless `keep` says no once it is found (a lower bound)."""
        self.fresh()
        key = (fi.path, fi.digest, index)
        hit = self._callers.get(key)
        if hit is None:
            at = self.ws.version  # an answer worked out while the index moved is not kept
            sites = tuple(find(fi, index))
            with self._lock:  # a run's look-ups may ask from another thread
                if at == self._at == self.ws.version and keep():
                    self._callers[key] = (fi.definitions[index].name, sites)
                while len(self._callers) > CALLERS_KEPT:
                    self._callers.popitem(last=False)
            return list(sites)
        with self._lock, contextlib.suppress(KeyError):
            self._callers.move_to_end(key)
        return list(hit[1])

    def named(
        self, name: str, family: str, members_only: bool, top_level_only: bool
    ) -> tuple[tuple[str, int], ...]:
        """The definitions called `name` in a language family, attributes left out; none
        when there are more than BY_NAME_MAX (judged from the stored rows: no file loaded)."""
        self.fresh()
        key = (name, family, members_only, top_level_only)
        hit = self._named.get(key)
        if hit is None:
            at = self.ws.defs_version
            hit = _named(self.ws, *key)
            with self._lock:
                if len(self._named) >= NAMED_KEPT:
                    self._named.clear()
                if at == self._named_at == self.ws.defs_version:
                    self._named[key] = hit
        return hit


def _stale(
    kept: Iterable[tuple[CallersKey, Answer]],
    old: FileIndex,
    new: FileIndex,
) -> list[CallersKey]:
    """The kept answers an edit may have changed: of a definition in the edited file, or of
    a name the file uses (before or after the edit) or defines."""
    touched: dict[str, bool] = {}  # name -> whether the edit touches it
    out = []
    for key, (name, _) in kept:
        hit = touched.get(name)
        if hit is None:
            hit = touched[name] = _touches(name, old, new)
        if hit or key[0] == new.path:
            out.append(key)
    return out


def _carried(kept: OrderedDict[CallersKey, Answer], old: FileIndex, new: FileIndex) -> bool:
    """Carry the kept answers over a splice of `old` that kept its definitions and its
    evidence (`model.Spliced`): an answer for a name neither used nor defined in the lines
    re-extracted holds, a definition of the file re-keyed under the new digest (same
    definitions: same index); one with sites in the file only when no line moved and the
    lines re-extracted say the evidence they said, line for line (a site's `via` may name
    an evidence's line); the others dropped. False (nothing done) for any other edit."""
    how = new.spliced
    if how is None or how.source != old.digest or not (how.same_definitions and how.same_evidence):
        return False
    path, first = new.path, how.first
    still = how.last == how.old_last and evidence_in(old, first, how.old_last) == evidence_in(
        new, first, how.last
    )
    lines = RegionNames(old, new, how.first, how.old_last, how.last)
    gone: list[CallersKey] = []
    moved: list[CallersKey] = []
    for key, (name, sites) in kept.items():
        hit = lines.hold(name)
        ours = key[0] == path
        if hit or (ours and key[1] != old.digest):  # or an earlier version's: asked no more
            gone.append(key)
        elif not still and any(s.path == path for s in sites):
            gone.append(key)  # its sites in the file may have moved
        elif ours:
            moved.append(key)
    for key in gone:
        del kept[key]
    for key in moved:
        kept[(path, new.digest, key[2])] = kept.pop(key)
    return True


def _touches(name: str, old: FileIndex, new: FileIndex) -> bool:
    return name in old.refs or name in new.refs or bool(old.named(name) or new.named(name))


def _named(
    ws: WorkspaceIndex, name: str, family: str, members_only: bool, top_level_only: bool
) -> tuple[tuple[str, int], ...]:
    """Kept.named, worked out: judged on the stored rows (language, kind, level), no file
    loaded."""

    def keep(language: str, kind: str, top: bool) -> bool:
        return (
            _FAMILY.get(language, language) == family
            and (not members_only or not top)
            and (not top_level_only or top)
            and kind != Kind.ATTRIBUTE
        )

    top = True if top_level_only else False if members_only else None  # asked of the rows
    return tuple(ws.definitions_where(name, keep, BY_NAME_MAX, top) or ())
