"""The site verdicts one `scopewise` command leaves for the next on the same workspace.

A definition's sites are each using file's verdicts (analysis/verdicts.py), worked out from
that file and the workspace's shape. A command that answers on a warm cache works them out
again in every process: at 50k files, the 2,064 uses of a common method in 68 files cost
about as much as the rest of the answer. A context then needs, of each using file, the
definition around each site and the costs of some lines (its body, its sites' lines): a
name used in 470 files (three.js's `add` at 50k files) loaded 470 indexes and read 470
texts for a context that shows 25 of them (~0.2 s and 100 MB); and a method's symbol (its
overrides: `Object3D.add` looks at 106 subclass files for them). So the verdicts and
symbols a command worked out, and those facts (analysis/sources.py `Known`), are written
beside the index cache, under the fingerprint of the stored listing they were worked out on
(`WorkspaceIndex.listed`: the same files with the same contents, hence the same shape), and
the next command on that listing starts with them. Any change to any file, its content or
its stat, makes a new listing: verdicts kept under another fingerprint are never read (the
next write replaces them); nor are verdicts worked out by other code (another version of
scopewise, or an edited analysis or index module). Nothing is read or written while a file
is held in memory (its text is not the listing's)."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import marshal
import os
from pathlib import Path

from scopewise import __version__, analysis, index
from scopewise.analysis.engine import Engine
from scopewise.analysis.sites import CallerSite, Key, Sym
from scopewise.analysis.sources import CallerFacts, Known
from scopewise.analysis.verdicts import Found, Over

VERSION = 2
# sites written at most (a command reads them all: ~1 ms per 1,000); past it, only the
# verdicts this command worked out are written (the newest question is the likeliest next)
SITES_MAX = 20_000
# line costs and sites' definitions written at most (every command reads them all: ~30 ms at
# both caps); past them, only those of the files this command asked about (three.js's `add`
# at 50k files: 3,990 lines of 469 files, 982 definitions)
LINES_MAX = 50_000
CALLERS_MAX = 10_000

_Site = tuple[str, int, int | None, float, bool, str]  # a CallerSite, its facts aside
_Def = tuple[str, int]  # a definition: its path and index


class Kept:
    """The verdicts file of one workspace's cache and what was read from it."""

    def __init__(self, path: Path, listed: str) -> None:
        self.path, self.listed = path, listed
        self._read: set[object] = set()  # the keys of the verdicts and override lists read
        self._facts = 0  # how many line costs and sites' definitions were read
        self.known = Known()

    @classmethod
    def start(cls, engine: Engine, cache_path: str | None) -> Kept | None:
        """The verdicts kept for the workspace as its build found it, given to its resolver
        (None when there is no cache, or the build changed or holds anything)."""
        listed = engine.workspace.listed
        if cache_path is None or listed is None or _holds_any(engine):
            return None
        kept = cls(Path(cache_path + ".verdicts"), f"{listed}:{_code()}")
        found = kept._load()
        if found is not None:
            engine.resolver.verdicts.take(found[0], found[1], found[3])
            kept._read = {*found[0], *found[1], *found[3]}
            kept.known = found[2]
            kept._facts = _facts_in(found[2])
        engine.sources.known = kept.known
        return kept

    @property
    def read(self) -> int:
        """How many verdicts and override lists were read."""
        return len(self._read)

    def _load(
        self,
    ) -> tuple[dict[tuple[Key, str], Found], dict[Key, Over], Known, dict[_Def, Sym]] | None:
        try:
            data = marshal.loads(self.path.read_bytes())
            version, listed, sites, over, costs, callers, syms = data
        except (OSError, EOFError, ValueError, TypeError):
            return None
        if version != VERSION or listed != self.listed:
            return None
        try:
            return (
                {(k, p): (d, _sites(s)) for k, p, d, s in sites},
                {k: (dict(digests), _sites(s)) for k, digests, s in over},
                Known(
                    {p: (int(n), dict(lines)) for p, n, lines in costs},
                    {(p, int(i)): _facts(f) for p, i, f in callers},
                ),
                {(p, i): (tuple(map(tuple, d)), n, bare, mod) for p, i, d, n, bare, mod in syms},
            )
        except (ValueError, TypeError):  # a damaged file: as if there were none
            return None

    def save(self, engine: Engine) -> None:
        """Write what the resolver keeps now, when it holds more than was read (in one step:
        a reader sees the old file or the new one)."""
        kept, over = engine.resolver.verdicts.kept()
        syms = engine.resolver.verdicts.symbols()
        known = _known_now(self.known)
        more = len(kept) + len(over) + len(syms) > self.read or _facts_in(known) > self._facts
        if not more or _holds_any(engine):
            return
        if _sites_in(kept, over) > SITES_MAX:  # this command's alone
            kept = {k: v for k, v in kept.items() if k not in self._read}
            over = {k: v for k, v in over.items() if k not in self._read}
            if _sites_in(kept, over) > SITES_MAX:
                return
        data = marshal.dumps(
            (
                VERSION,
                self.listed,
                [(k, p, d, _plain(s)) for (k, p), (d, s) in kept.items()],
                [(k, list(digests.items()), _plain(s)) for k, (digests, s) in over.items()],
                [(p, n, lines) for p, (n, lines) in known.costs.items()],
                [(p, i, f) for (p, i), f in known.callers.items()],
                [(p, i, list(d), n, bare, mod) for (p, i), (d, n, bare, mod) in syms.items()],
            )
        )
        temp = self.path.with_name(f"{self.path.name}.{os.getpid()}")
        try:
            temp.write_bytes(data)
            os.replace(temp, self.path)
        except OSError:  # a full disk, a read-only cache: the next command works them out
            with contextlib.suppress(OSError):
                temp.unlink()


@functools.cache
def _code() -> str:
    """What verdicts are worked out by: scopewise's version and the stat of every module of
    the analysis and the index (a development tree's edits move them)."""
    parts = [__version__]
    for package in (analysis, index):
        with os.scandir(Path(str(package.__file__)).parent) as found:
            stats = [(e.name, e.stat()) for e in found if e.name.endswith(".py")]
        parts += sorted(f"{name}={st.st_mtime_ns}:{st.st_size}" for name, st in stats)
    return hashlib.sha1("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _holds_any(engine: Engine) -> bool:
    """Whether a file is held in memory (its text, not the listing's, is the index's)."""
    return bool(engine.workspace.files.pinned())


def _known_now(known: Known) -> Known:
    """What `known` holds now, the line costs this command asked added; past the caps,
    only those of the files it asked about."""
    costs = {**known.costs, **{p: (len(c), c.known()) for p, c in known.asked.items()}}
    callers = known.callers
    if sum(len(lines) for _, lines in costs.values()) > LINES_MAX:
        costs = {p: costs[p] for p in known.asked}
        if sum(len(lines) for _, lines in costs.values()) > LINES_MAX:
            costs = {}
    if len(callers) > CALLERS_MAX:
        callers = {k: f for k, f in callers.items() if k[0] in known.asked}
        if len(callers) > CALLERS_MAX:
            callers = {}
    return Known(costs, callers)


def _facts_in(known: Known) -> int:
    return sum(len(lines) for _, lines in known.costs.values()) + len(known.callers)


def _sites_in(kept: dict[tuple[Key, str], Found], over: dict[Key, Over]) -> int:
    return sum(len(s) for _, s in kept.values()) + sum(len(s) for _, s in over.values())


def _facts(f: object) -> CallerFacts:
    """A definition's facts as `candidates` reads them (ValueError: not that shape)."""
    if not isinstance(f, (tuple, list)) or len(f) != 5:
        raise ValueError("not the facts of a definition")
    header, symbol, kind, start, end = f
    return int(header), str(symbol), str(kind), int(start), int(end)


def _plain(sites: tuple[CallerSite, ...]) -> list[_Site]:
    return [(s.path, s.line, s.caller, s.confidence, s.certain, s.via) for s in sites]


def _sites(rows: list[_Site]) -> tuple[CallerSite, ...]:
    return tuple(CallerSite(*row) for row in rows)
