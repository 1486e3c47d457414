"""What fits: the candidates packed under a token budget, as runs of lines per file, with
the manifest of what went in (and in which form), what was left out and why.

Packing runs in two passes: first the cheapest form of every relevant candidate
(signatures), then upgrades in rank order (bodies, class skeletons) while the budget allows,
so a tight budget still shows every definition. The range itself goes in first, cut only
when it alone passes the budget. What may go in, and its value, is candidates.py's question.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scopewise.analysis import redact, tokens
from scopewise.analysis.candidates import MIN_VALUE, Candidate, Site
from scopewise.analysis.sources import Derived, LineCosts, Sources

RUN_TOKENS = 8  # the "@@ 120-135 body" line above each run of lines (and "@@ sites" once a file)
LIST_TOKENS = 2.5  # the "1234: " before each line of a site list
LISTED_FORMS = frozenset({"caller", "test", "sibling"})  # forms sent as a site list, a line each
SITES_SHARE = 0.6  # the site list may take this share of what the selection leaves
SITES_MARKER = "@@ sites"
SITES_SYMBOL = "(sites)"  # the manifest's line for the sites left out
LINE_BONUS = 0.15  # a sibling's line ranks with bodies this much more valuable than its body
UNSURE = 0.5  # a site found with less confidence than this is marked as a guess


@dataclass(frozen=True)
class Lines:
    """Lines of a file: 1-based, inclusive."""

    path: str
    start_line: int
    end_line: int


@dataclass(frozen=True)
class Snippet(Lines):
    """One item of the manifest: a definition, caller, ... and the form it was sent in."""

    tokens: int
    kind: str  # target, enclosing, body, skeleton, signature, caller, test, import
    symbol: str
    reason: str


@dataclass(frozen=True)
class Dropped(Lines):
    """A candidate (or a part of the range) left out, and why."""

    symbol: str
    tokens: int
    reason: str


@dataclass(frozen=True)
class Redaction:
    """A secret replaced in the text sent."""

    path: str
    line: int  # 1-based
    what: str


@dataclass(frozen=True)
class Block(Lines):
    """A contiguous run of lines as sent, or (listed) one line of a site list."""

    text: str
    label: str
    listed: bool = False
    note: str = ""  # a listed line's note: how sure, how found

    @property
    def marker(self) -> str:
        lines = (
            str(self.start_line)
            if self.start_line == self.end_line
            else f"{self.start_line}-{self.end_line}"
        )
        return f"@@ {lines} {self.label}"


@dataclass
class Packed:
    """The outcome of packing: the runs as sent and the manifest."""

    blocks: list[Block]
    snippets: list[Snippet]
    dropped: list[Dropped]
    redactions: list[Redaction]
    tokens: int


def file_header(path: str) -> str:
    return f"### {path}"


def file_tokens(path: str) -> int:
    return tokens.estimate(file_header(path) + "\n")


def render(blocks: list[Block]) -> str:
    """The blocks as sent: a header per file, then each run of lines under its marker, then
    the file's site list under one marker, a line each as "line: text"."""
    out: list[str] = []
    last, listing = None, False
    for b in blocks:
        if b.path != last:
            out.append(file_header(b.path))
            last, listing = b.path, False
        if b.listed:
            if not listing:
                out.append(SITES_MARKER)
                listing = True
            out.append(listed_line(b.start_line, b.text, b.note))
        else:
            out.append(b.marker)
            out.append(b.text)
    return "\n".join(out)


def listed_line(line: int, text: str, note: str) -> str:
    """One line of a site list as sent (1-based line)."""
    return f"{line}: {text}  <- {note}" if note else f"{line}: {text}"


# certain sites whose `via` is worth its tokens: the definitions of the ripple, not its uses
_SAID = ("overrides", "overridden", "another declaration")


def site_note(site: Site) -> str:
    """What a site list says of a site beside its line: nothing for a use evidence is sure
    of (most of them: a note a line would double the list), what it is for a definition in
    the ripple (an override), and "unsure" with how it was found for a candidate."""
    if site.certain:
        return site.note if site.note.startswith(_SAID) else ""
    how = f" ({site.note})" if site.note else ""
    return f"unsure{how}" if site.confidence < UNSURE or site.note else ""


class Packer:
    """Line sets per file under a token budget: lines in runs (a block header paid per
    contiguous run) and listed lines (a site list: a line number paid per line, one marker
    per file); a run that takes in a listed line gets back what listing it cost."""

    def __init__(self, sources: Sources, budget: int) -> None:
        self.sources = sources
        self.budget = budget
        self.full: dict[str, set[int]] = {}
        self.listed: dict[str, set[int]] = {}
        self.notes: dict[tuple[str, int], str] = {}
        self.order: list[str] = []
        self.cost = 0.0
        self._line_cost: dict[str, LineCosts] = {}

    def line_costs(self, path: str) -> LineCosts:
        costs = self._line_cost.get(path)
        if costs is None:
            costs = self._line_cost[path] = self.sources.line_costs(path)
        return costs

    def has(self, path: str, line: int) -> bool:
        return line in self.full.get(path, ()) or line in self.listed.get(path, ())

    def delta(self, path: str, add: frozenset[int], listed: bool = False) -> float:
        full, lst = self.full.get(path, set()), self.listed.get(path, set())
        first = file_tokens(path) if not full and not lst else 0
        costs = self.line_costs(path)
        if listed:
            new = costs.within(ln for ln in add if ln not in full and ln not in lst)
            if not new:
                return 0.0
            marker = RUN_TOKENS if not lst else 0
            return first + marker + costs.total(new, LIST_TOKENS)
        fresh = add - full
        if not fresh:
            return 0.0
        extra = costs.total(fresh)
        refund = costs.total(fresh & lst, LIST_TOKENS) if lst else 0.0
        return extra - refund + first + RUN_TOKENS * max(self.new_runs(full, fresh), 0)

    @staticmethod
    def new_runs(have: set[int], new: set[int] | frozenset[int]) -> int:
        """runs(have | new) - runs(have) for disjoint sets, in O(len(new)): each run of
        `new` is a run of its own (+1), unless it touches `have` at either end (-1 each:
        extending one run, or joining two). Packing asks this hundreds of times a request;
        recounting every run of `have` each time was half its cost."""
        runs = 0
        for ln in new:
            if ln - 1 not in new:
                runs += 1 - (ln - 1 in have)
            if ln + 1 not in new:
                runs -= ln + 1 in have
        return runs

    def fits(self, path: str, add: frozenset[int], listed: bool = False) -> bool:
        return math.ceil(self.cost + self.delta(path, add, listed)) <= self.budget

    def add(self, path: str, add: frozenset[int], listed: bool = False) -> float:
        d = self.delta(path, add, listed)
        if path not in self.full:
            self.full[path], self.listed[path] = set(), set()
            self.order.append(path)
        if listed:
            self.listed[path] |= add - self.full[path]
        else:
            self.full[path] |= add
            self.listed[path] -= add
        self.cost += d
        return d


def lines_within(
    costs: Sequence[float], start: int, end: int, budget: int, spent: float = 0.0
) -> int:
    """The last of lines [start, end] up to which they cost, on top of `spent`, no more than
    `budget` (start - 1: not even the first): where a selection too long is cut."""
    last = start - 1
    for ln in range(start, end + 1):
        if math.ceil(spent + costs[ln]) > budget:
            break
        spent += costs[ln]
        last = ln
    return last


def pack_target(packer: Packer, path: str, start: int, end: int) -> tuple[Snippet, list[Dropped]]:
    """The range (0-based lines [start, end]) itself: always, truncated only when it alone
    passes the budget."""
    dropped: list[Dropped] = []
    target = frozenset(range(start, end + 1))
    if not packer.fits(path, target):
        spent = float(file_tokens(path) + RUN_TOKENS)
        last = lines_within(packer.line_costs(path), start, end, packer.budget, spent)
        if last >= start:
            packer.add(path, frozenset(range(start, last + 1)))
        dropped.append(
            Dropped(path, last + 2, end + 1, "(selection)", 0, "selection cut to fit the budget")
        )
    else:
        packer.add(path, target)
    kept = Snippet(path, start + 1, end + 1, math.ceil(packer.cost), "target", "", "the selection")
    return kept, dropped


Listing = tuple[str, frozenset[int], str, int]  # path, lines listed, a note, the line it is on
# a Listing, whether it is listed (else a body), whether it is a sibling's
Step = tuple[str, frozenset[int], str, int, bool, bool]


def ripple(candidates: list[Candidate], packer: Packer) -> list[Step]:
    """What the ripple adds after the site list, in the order it takes them: the bodies of
    the sites' definitions and of the siblings, and the siblings' lines (the line naming
    each, with why it is there: a line ranks as a body LINE_BONUS more valuable), by value
    (callers before tests), the cheaper first among equals; an order that does not depend
    on the budget."""
    steps: list[tuple[float, float, str, int, Step]] = []
    for c in candidates:
        kind, lines = c.forms[-1]
        if kind not in LISTED_FORMS:
            continue
        if kind == "sibling":
            value = round(c.value + LINE_BONUS, 2)
            steps.append(
                (-value, 0.0, c.path, min(lines), (c.path, lines, c.reason, max(lines), True, True))
            )
        if len(c.forms) > 1:
            body = c.forms[0][1]
            costs = packer.line_costs(c.path)
            size = costs.total(body)
            steps.append(
                (
                    -round(c.value, 2),
                    size,
                    c.path,
                    min(body),
                    (c.path, body, "", 0, False, kind == "sibling"),
                )
            )
    steps.sort(key=lambda s: s[:4])
    return [s[4] for s in steps]


def pack_sites(
    packer: Packer,
    sites: list[Site],
    steps: Sequence[Step] = (),
    reserve: float = 0.0,
    change: bool = True,
) -> int:
    """The ripple: the site list, in rank order, a line each with the line naming its
    definition, then `ripple`'s steps (bodies, siblings' lines), while it leaves `reserve`
    tokens (what the range's own context may take), or at least while it takes at most
    SITES_SHARE of what the packer has left. A prefix, stopped at the first item that does
    not fit, under a cap that grows with the budget (`reserve` does not depend on it): a
    bigger budget shows a superset. Siblings, less sure than sites, leave `reserve` whole;
    so does every body for an explanation (not a `change`): what the range uses comes first.
    Returns how many sites went in."""
    left = packer.budget - packer.cost
    cap = packer.cost + max(left - reserve, SITES_SHARE * left)
    sibling_cap = min(cap, packer.cost + left - reserve)
    for n, s in enumerate(sites):
        if not _list(packer, (s.path, s.lines, site_note(s), s.line), cap):
            return n
    for path, lines, note, line, listed, sibling in steps:
        most = sibling_cap if sibling or not change else cap
        if listed:
            if not _list(packer, (path, lines, note, line), most):
                break
        elif packer.cost + packer.delta(path, lines) > most:
            break
        else:
            packer.add(path, lines)
    return len(sites)


def listing_cost(
    packer: Packer,
    sites: Sequence[Site],
    cap: float | None = None,
    sample: int | None = None,
    derived: Derived | None = None,
) -> float:
    """What listing every site would take, a line each (and the line naming its definition)
    under its file's header — whatever the budget lets in; with `cap`, counted only until
    past it (no more files read); with `sample`, the files past the first `sample` read are
    estimated at the read ones' mean per line (an estimate: a name used in 600 files is not
    read 600 files deep to price a menu); with `derived`, the sites' lines by file made
    once per list (`candidates.derived_from`)."""
    by_file = _site_lines(sites, derived)
    cost = 0.0
    read = lines_read = 0
    listed_read = 0.0  # what the read files' listed lines cost
    for path, lines in by_file.items():
        if sample is not None and read >= sample:
            per_line = listed_read / lines_read if lines_read else LIST_TOKENS
            cost += file_tokens(path) + RUN_TOKENS + len(lines) * per_line
        else:
            try:
                costs = packer.line_costs(path)
            except OSError:  # gone since it was indexed: it will not be listed either
                continue
            inside = costs.within(lines)
            listed = costs.total(inside, LIST_TOKENS)
            cost += file_tokens(path) + RUN_TOKENS + listed
            read, lines_read, listed_read = read + 1, lines_read + len(inside), listed_read + listed
        if cap is not None and cost > cap:
            break
    return cost


def _site_lines(sites: Sequence[Site], derived: Derived | None) -> dict[str, set[int]]:
    """The lines each file's sites take (`Site.lines`), in the sites' order of files (read
    only); with `derived`, made once per site list (a menu prices its list twice; a wide
    name's 1,800 sites took 1.8 ms each time)."""
    key = ("site lines", id(sites))
    hit = derived.get(key) if derived is not None else None
    if isinstance(hit, tuple) and hit[0] is sites:  # (an id is reused once it is freed)
        made: dict[str, set[int]] = hit[1]
        return made
    made = {}
    for s in sites:
        lines = made.get(s.path)
        if lines is None:
            lines = made[s.path] = set()
        lines.add(s.line)
        if s.header is not None:
            lines.add(s.header)
    if derived is not None:
        derived.put(key, (sites, made))
    return made


def _list(packer: Packer, item: Listing, cap: float) -> bool:
    """List lines of a file with their note, if it fits under `cap`: False when it does not
    (a file gone since it was indexed is skipped, whatever the budget)."""
    path, lines, note, line = item
    extra = tokens.estimate(listed_line(0, "", note)) - 1 if note else 0
    try:
        cost = packer.delta(path, lines, listed=True)
    except OSError:
        return True
    if packer.cost + cost + extra > cap:
        return False
    packer.add(path, lines, listed=True)
    if note and line in packer.listed.get(path, ()):
        packer.notes[(path, line)] = note
        packer.cost += extra
    return True


def unlisted(packer: Packer, sites: list[Site]) -> list[Dropped]:
    """The sites that are not in the context (listed or in a body), as one line of the
    manifest, "38 more sites in 9 files, dropped: budget", with what listing them would cost."""
    missing = [s for s in sites if not packer.has(s.path, s.line)]
    if not missing:
        return []
    by_file: dict[str, frozenset[int]] = {}
    for s in missing:
        by_file[s.path] = by_file.get(s.path, frozenset()) | s.lines
    cost = 0.0
    for path, lines in by_file.items():
        try:
            cost += packer.delta(path, lines, listed=True)
        except OSError:
            continue
    files = len(by_file)
    first = missing[0]
    what = f"{len(missing)} more site{'s' if len(missing) != 1 else ''}"
    where = f"in {files} file{'s' if files != 1 else ''}"
    line, why = first.line + 1, f"{what} {where}, dropped: budget"
    return [Dropped(first.path, line, line, SITES_SYMBOL, math.ceil(cost), why)]


@dataclass(frozen=True)
class Missing:
    """Estimated tokens of what did not fit: the range's uses, site list and the like
    (core), and the bodies of the sites' definitions (ripple)."""

    core: int = 0
    ripple: int = 0


def pack(
    candidates: list[Candidate], packer: Packer
) -> tuple[list[Snippet], list[Dropped], Missing]:
    """The two passes over the candidates, best first; what went in and what did not. A
    site-list form (LISTED_FORMS) is never added here: it is in when pack_sites listed all
    of it, and may then grow into its body."""
    items = sorted(candidates, key=lambda c: -c.value)
    chosen: dict[int, int] = {}  # item -> index of the form it went in as
    chosen_cost: dict[int, float] = {}
    # pass 1: the cheapest form of every relevant item
    for i, it in enumerate(items):
        kind, lines = it.forms[-1]
        if kind in LISTED_FORMS:  # the ripple's: in when pack_sites put it in
            for f, (_, form_lines) in enumerate(it.forms):
                if all(packer.has(it.path, ln) for ln in form_lines):
                    chosen[i] = f
                    break
            continue
        if it.value < MIN_VALUE:
            continue
        if packer.fits(it.path, lines):
            chosen_cost[i] = packer.add(it.path, lines)
            chosen[i] = len(it.forms) - 1
    # pass 2: upgrade to richer forms in rank order, the cheaper first among equals
    upgrade_order = sorted(
        (i for i in chosen if chosen[i] > 0 and items[i].forms[-1][0] not in LISTED_FORMS),
        key=lambda i: (
            -round(items[i].value, 2),
            packer.delta(items[i].path, items[i].forms[0][1]),
        ),
    )
    for i in upgrade_order:
        it = items[i]
        for f in range(chosen[i]):
            _, lines = it.forms[f]
            if packer.fits(it.path, lines):
                chosen_cost[i] = chosen_cost.get(i, 0.0) + packer.add(it.path, lines)
                chosen[i] = f
                break
    delta = _Deltas(packer)  # what is in no longer changes: each cost worked out once
    return (*_manifest(items, chosen, chosen_cost, delta), _missing(items, chosen, delta))


class _Deltas:
    """`Packer.delta` once the packing is done, each answer kept: the manifest and the
    estimate of what is missing ask the same forms (a thousand at a wide range)."""

    def __init__(self, packer: Packer) -> None:
        self.packer = packer
        self._said: dict[tuple[str, frozenset[int], bool], float] = {}

    def __call__(self, path: str, add: frozenset[int], listed: bool = False) -> float:
        key = (path, add, listed)
        cost = self._said.get(key)
        if cost is None:
            cost = self._said[key] = self.packer.delta(path, add, listed)
        return cost


def _missing(items: list[Candidate], chosen: dict[int, int], delta: _Deltas) -> Missing:
    """What the richest form of every item left out would still cost (overlaps counted
    twice: an estimate from above)."""
    core = ripple = 0.0
    for i, it in enumerate(items):
        listed = it.forms[-1][0] in LISTED_FORMS
        if chosen.get(i) == 0 or (it.value < MIN_VALUE and not listed):
            continue
        cost = delta(it.path, it.forms[0][1])
        if it.forms[-1][0] == "sibling":  # not a site: its listing is counted here
            ripple += cost
        elif listed:  # its listing is counted with the sites left out (`unlisted`)
            ripple += max(0.0, cost - delta(it.path, it.forms[-1][1], listed=True))
        else:
            core += cost
    return Missing(math.ceil(core), math.ceil(ripple))


def _manifest(
    items: list[Candidate], chosen: dict[int, int], chosen_cost: dict[int, float], delta: _Deltas
) -> tuple[list[Snippet], list[Dropped]]:
    """What went in (and in which form) and what did not, and why."""
    kept: list[Snippet] = []
    dropped: list[Dropped] = []
    for i, it in enumerate(items):
        if i in chosen:
            kind, lines = it.forms[chosen[i]]
            cost = math.ceil(chosen_cost.get(i, 0.0))
            kept.append(
                Snippet(it.path, min(lines) + 1, max(lines) + 1, cost, kind, it.symbol, it.reason)
            )
        else:
            kind, lines = it.forms[-1]
            why = (
                f"low relevance ({it.value:.2f})"
                if it.value < MIN_VALUE and kind not in LISTED_FORMS
                else "over the budget"
            )
            cost = math.ceil(delta(it.path, lines, kind in LISTED_FORMS))
            dropped.append(Dropped(it.path, min(lines) + 1, max(lines) + 1, it.symbol, cost, why))
    return kept, dropped


def _label(snippets: Sequence[Snippet], line: int) -> str:
    """The kind of the first manifest item (of a file's) that covers a line (0-based)."""
    for s in snippets:
        if s.start_line - 1 <= line <= s.end_line - 1:
            return s.kind
    return "context"


def _runs(lines: list[int], line_count: int) -> list[list[int]]:
    """Sorted 0-based lines (those past the end left out) as runs of consecutive lines."""
    runs: list[list[int]] = []
    for ln in lines:
        if ln >= line_count:
            continue
        if runs and runs[-1][-1] == ln - 1:
            runs[-1].append(ln)
        else:
            runs.append([ln])
    return runs


def assemble(packer: Packer, first: str, snippets: list[Snippet], dropped: list[Dropped]) -> Packed:
    """The packed lines as blocks of redacted text, the range's file first, each file's runs
    then its site list; cut to the budget when per-line estimates rounded under the whole
    text's."""
    out = Packed([], snippets, dropped, [], 0)
    by_path: dict[str, list[Snippet]] = {}  # each file's manifest items, in manifest order
    for sn in snippets:
        by_path.setdefault(sn.path, []).append(sn)
    for path in [first] + [p for p in packer.order if p != first]:
        full = sorted(packer.full.get(path, ()))
        listed = sorted(packer.listed.get(path, ()))
        if not full and not listed:
            continue
        try:
            text_lines = packer.sources.get(path).lines
        except OSError as exc:  # vanished between packing and now: leave it out, say so
            every = full + listed
            out.snippets = [sn for sn in out.snippets if sn.path != path]
            out.dropped.append(
                Dropped(path, min(every) + 1, max(every) + 1, "", 0, f"unreadable: {exc.strerror}")
            )
            continue
        items = by_path.get(path, [])
        for run in _runs(full, len(text_lines)):
            out.blocks.append(_block(out, items, path, run, [text_lines[ln] for ln in run]))
        for ln in listed:
            if ln < len(text_lines):
                note = packer.notes.get((path, ln), "")
                out.blocks.append(_block(out, items, path, [ln], [text_lines[ln]], note))
    out.tokens = tokens.estimate(render(out.blocks))
    # a safety net: estimates per line round differently from the whole text
    while out.tokens > packer.budget and len(out.blocks) > 1:
        b = out.blocks.pop()
        out.dropped.append(Dropped(b.path, b.start_line, b.end_line, b.label, 0, "over the budget"))
        out.tokens = tokens.estimate(render(out.blocks))
    return out


def _block(
    out: Packed,
    items: Sequence[Snippet],
    path: str,
    run: list[int],
    text: list[str],
    note: str | None = None,
) -> Block:
    """One block of redacted text (its findings noted in `out`), labelled by the file's
    manifest item that covers it; with a `note`, one listed line of a site list."""
    clean, findings = redact.redact_lines(text)
    for f in findings:
        out.redactions.append(Redaction(path, run[0] + f.line + 1, f.what))
    label = _label(items, run[0])
    listed = note is not None
    return Block(path, run[0] + 1, run[-1] + 1, "\n".join(clean), label, listed, note or "")
