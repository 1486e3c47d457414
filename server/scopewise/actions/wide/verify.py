"""The verify step of a wide change (no model): the edits applied to an in-memory overlay, the
changed files re-extracted with the index's own extraction, and every site checked — no new
syntax errors; every site of the plan changed; no reference left to a renamed or removed
name, at the target's sites and, when the target alone defines the name, anywhere in the
index (the overlay first); call arity at the sites against a changed signature where the
language lets it be counted. Each failure is a `Leftover` by site, in the line numbers of
the text after the edits."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from scopewise.actions.wide.spec import WidePlan
from scopewise.analysis.context import SiteEntry
from scopewise.index import calls, extract, languages
from scopewise.index.model import FileIndex


@dataclass(frozen=True)
class Leftover:
    path: str
    line: int  # 1-based, in the text after the edits
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass
class Verdict:
    leftovers: list[Leftover] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, path: str, line: int, reason: str) -> None:
        if not any(x.path == path and x.line == line for x in self.leftovers):
            self.leftovers.append(Leftover(path, line, reason))

    def by_file(self) -> dict[str, list[str]]:
        """Each file's leftovers as "line: reason" (what a repair call is told)."""
        out: dict[str, list[str]] = {}
        for x in self.leftovers:
            out.setdefault(x.path, []).append(f"{x.line}: {x.reason}")
        return out


class LineMap:
    """Lines of a file before its edits -> lines after, and which lines an edit touched."""

    def __init__(self, before: str, after: str) -> None:
        a, b = before.split("\n"), after.split("\n")
        self._ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()

    def touched(self, line: int) -> bool:
        i = line - 1
        return any(tag != "equal" and i1 <= i < max(i2, i1 + 1) for tag, i1, i2, _, _ in self._ops)

    def after(self, line: int) -> range:
        """The lines (1-based) ``line`` became: one line, several, or none (deleted)."""
        i = line - 1
        for tag, i1, i2, j1, j2 in self._ops:
            if i1 <= i < i2 or (tag == "insert" and i == i1):
                if tag == "equal":
                    return range(j1 + i - i1 + 1, j1 + i - i1 + 2)
                return range(j1 + 1, j2 + 1)
        return range(0)


@dataclass
class Overlay:
    """The files as the edits leave them: text before and after, re-extracted on demand."""

    before: Mapping[str, str]
    after: Mapping[str, str]
    language_of: Callable[[str], str | None]
    _index: dict[str, FileIndex | None] = field(default_factory=dict)

    def text(self, path: str) -> str | None:
        """The text of a file after the edits (as before them when untouched)."""
        return self.after.get(path, self.before.get(path))

    def changed(self) -> list[str]:
        return sorted(p for p, t in self.after.items() if t != self.before.get(p))

    def index(self, path: str) -> FileIndex | None:
        """The re-extracted index of the file after its edits (None: not parseable in time
        or a language the index does not know)."""
        if path not in self._index:
            lang = self.language_of(path)
            fi = None
            if lang is not None:
                try:
                    fi = extract.extract(
                        path, lang, self.after[path].encode("utf-8", "surrogatepass")
                    )
                except extract.ParseTimeout:
                    fi = None
            self._index[path] = fi
        return self._index[path]

    def uses(self, path: str, name: str, lines: Iterable[int]) -> bool:
        fi = self.index(path)
        if fi is None:  # unparsed: the text decides
            text = self.after[path].split("\n")
            return any(0 < n <= len(text) and name in text[n - 1] for n in lines)
        wanted = {n - 1 for n in lines}
        return any(line in wanted for line, _ in fi.ref_lines(name))


def syntax(ov: Overlay, v: Verdict) -> None:
    """No file gains syntax errors."""
    for path in ov.changed():
        lang = ov.language_of(path)
        if lang is None:
            continue
        try:
            before = _errors(lang, ov.before.get(path, ""))
            after = _errors(lang, ov.after[path])
        except extract.ParseTimeout:
            v.notes.append(f"{path}: too slow to parse; syntax not checked")
            continue
        if len(after) > len(before):
            for line in sorted(set(after) - set(before)) or after:
                v.add(path, line + 1, "syntax error after the edit")


def _errors(language: str, text: str) -> list[int]:
    tree = extract.parse(language, text.encode("utf-8", "surrogatepass"))
    return extract.error_lines(tree.root_node) if tree.root_node.has_error else []


def planned_sites(plan: WidePlan, ov: Overlay, v: Verdict) -> None:
    """Every site of the plan changed: an edit touches its line and, where a name goes, the
    name is gone from it."""
    gone = plan.gone
    for fp in plan.files:
        lines = LineMap(ov.before.get(fp.path, ""), ov.after.get(fp.path, ""))
        for site in fp.sites:
            now = lines.after(site)
            where = now.start if now else site
            still = [
                f"still uses `{n}` ({fate})"
                for n, fate in gone.items()
                if now and ov.uses(fp.path, n, now)
            ]
            if still:
                v.add(fp.path, where, still[0])
            elif not lines.touched(site):
                v.add(fp.path, where, f"not changed (the plan: {fp.how})")


def target_sites(
    plan: WidePlan, sites: Sequence[SiteEntry], ov: Overlay, v: Verdict, unique: bool
) -> None:
    """No site of the target still uses a renamed or removed name: a certain site must
    change; a name-only candidate left alone is reported as unsure (a leftover when the
    target alone defines the name: then it is a use)."""
    gone = plan.gone
    if not gone:
        return
    for s in sites:
        after = ov.after.get(s.path, ov.before.get(s.path))
        if after is None:
            continue
        lines = LineMap(ov.before.get(s.path, after), after)
        now = lines.after(s.line)
        for name, fate in gone.items():
            if not now or not ov.uses(s.path, name, now):
                continue
            if s.certain or unique:
                v.add(s.path, now.start, f"still uses `{name}` ({fate})")
            else:
                v.notes.append(f"{s.path}:{now.start}: unsure: left as is")


def whole_index(
    plan: WidePlan, ov: Overlay, files: Mapping[str, FileIndex], names: Collection[str], v: Verdict
) -> None:
    """For the names the target alone defines: no reference or definition of them left in
    any file of the index (the overlay's text for the files the change edits)."""
    changed = set(ov.changed())
    for path in sorted(set(files) | changed):
        fi = ov.index(path) if path in changed else files.get(path)
        if fi is None:
            continue
        for name in names:
            if name not in fi.refs and not fi.named(name):
                continue
            fate = plan.gone.get(name, "removed")
            lines = {line for line, _ in fi.ref_lines(name)}
            lines.update(fi.definitions[i].name_line for i in fi.named(name))
            for line in sorted(lines):
                v.add(path, line + 1, f"still references `{name}` ({fate})")


def arity(
    plan: WidePlan, sites: Sequence[SiteEntry], ov: Overlay, method: bool, v: Verdict
) -> None:
    """Calls at the sites pass what the new signature takes, where the language lets it be
    counted (index/calls.py); a note names the languages where it does not. ``method``: the
    target is a method (a call through an instance does not pass ``self``)."""
    sig = plan.signature
    if sig is None:
        return
    name = sig.name.rsplit(".", 1)[-1]
    by_file: dict[str, set[int]] = {}
    for s in sites:
        text = ov.text(s.path)
        if text is not None:
            after = LineMap(ov.before.get(s.path, text), text).after(s.line)
            by_file.setdefault(s.path, set()).update(after)
    unchecked: set[str] = set()
    for path, lines in sorted(by_file.items()):
        lang = ov.language_of(path) or path
        parsed = calls.parse_params(lang, sig.params)
        if parsed is None:
            unchecked.add(lang)
            continue
        source = (ov.text(path) or "").encode("utf-8", "surrogatepass")
        for call in calls.calls_at(lang, source, lines, {name}):
            problem = calls.arity_problem(parsed, call, method)
            if problem is not None:
                v.add(path, call.line, problem)
    if unchecked:
        v.notes.append(f"call arity not checkable in {', '.join(sorted(unchecked))}")


def verify(
    plan: WidePlan,
    ov: Overlay,
    sites: Sequence[SiteEntry],
    files: Mapping[str, FileIndex],
    target_only: Collection[str],
    method: bool = False,
) -> Verdict:
    """Every check, in order. ``target_only``: the gone names no other definition in the
    workspace has (checked across the whole index); ``method``: the target is a method."""
    v = Verdict()
    syntax(ov, v)
    planned_sites(plan, ov, v)
    target_sites(plan, sites, ov, v, unique=bool(target_only))
    if target_only:
        whole_index(plan, ov, files, target_only, v)
    arity(plan, sites, ov, method, v)
    return v


def language_for(files: Mapping[str, FileIndex]) -> Callable[[str], str | None]:
    """A file's language: the index's, else by its name."""

    def of(path: str) -> str | None:
        fi = files.get(path)
        if fi is not None:
            return fi.language
        spec = languages.language_for_path(path)
        return spec.name if spec is not None else None

    return of
