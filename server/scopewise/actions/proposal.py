"""A change as hunks a user reviews, and accepted hunks placed again on the text as it is now.

`hunks` cuts a file's change into unified-diff hunks (the changed lines with a few lines of
context, changes close together in one hunk). `rebase` places accepted hunks on the current
text: where they were, else where their old lines are found unambiguously nearby; a hunk
whose old lines are gone is refused with the reason. Pure: text in, text out."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

CONTEXT = 3  # lines of context around a change; changes closer than twice this share a hunk


@dataclass(frozen=True)
class Hunk:
    """Replace `old` (lines with their endings) at 1-based line `start` of the text the
    proposal was made against with `new`."""

    id: int
    start: int
    old: tuple[str, ...]
    new: tuple[str, ...]


@dataclass(frozen=True)
class Refusal:
    hunk: int
    reason: str


def lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def hunks(before: str, after: str, first_id: int = 1) -> list[Hunk]:
    """The hunks that turn `before` into `after`, numbered from `first_id`."""
    a, b = lines(before), lines(after)
    out: list[Hunk] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for group in matcher.get_grouped_opcodes(CONTEXT):
        i1, i2 = group[0][1], group[-1][2]
        j1, j2 = group[0][3], group[-1][4]
        if a[i1:i2] == b[j1:j2]:
            continue
        out.append(Hunk(first_id + len(out), i1 + 1, tuple(a[i1:i2]), tuple(b[j1:j2])))
    return out


def _context(h: Hunk) -> tuple[int, int]:
    """How many lines the hunk's old and new lines share at its start and at its end."""
    lead = 0
    while lead < min(len(h.old), len(h.new)) and h.old[lead] == h.new[lead]:
        lead += 1
    trail = 0
    room = min(len(h.old), len(h.new)) - lead
    while trail < room and h.old[-1 - trail] == h.new[-1 - trail]:
        trail += 1
    return lead, trail


def _place(current: list[str], hunk: Hunk, shift: int) -> int | str:
    """Where `hunk`'s changed lines go in `current` (0-based), or why they do not: the whole
    hunk, context included, at its line (moved by `shift`, what the hunks placed before it
    showed) or the one place it is found; else its changed lines alone, exactly at its line
    (the context was edited, the lines it changes were not)."""
    n = len(hunk.old)
    lead, trail = _context(hunk)
    if n == 0:
        return 0 if not current else f"line {hunk.start}: the file is no longer empty"
    for at in (hunk.start - 1 + shift, hunk.start - 1):
        if at >= 0 and tuple(current[at : at + n]) == hunk.old:
            return at + lead
    found = [i for i in range(len(current) - n + 1) if tuple(current[i : i + n]) == hunk.old]
    if len(found) == 1:
        return found[0] + lead
    core = hunk.old[lead : n - trail]
    at = hunk.start - 1 + shift + lead
    if core and tuple(current[at : at + len(core)]) == core:
        return at
    if found:
        return f"line {hunk.start}: its lines occur {len(found)} times now; which one is unclear"
    return f"line {hunk.start + lead} changed since the proposal was made"


def place(
    current: str, accepted: list[Hunk]
) -> tuple[list[tuple[int, int, str]], list[int], list[Refusal]]:
    """Where the accepted hunks go in `current`: character spans to replace (start, end, new
    text; in order, apart, only what changes), the ids placed, and the refused ones with
    their reasons (a hunk overlapping one already placed is refused too)."""
    text = lines(current)
    placed: list[tuple[int, int, tuple[str, ...]]] = []  # first line, end line, new lines
    applied: list[int] = []
    refused: list[Refusal] = []
    shift = 0
    for hunk in sorted(accepted, key=lambda h: h.start):
        at = _place(text, hunk, shift)
        if isinstance(at, str):
            refused.append(Refusal(hunk.id, at))
            continue
        lead, trail = _context(hunk)
        end = at + len(hunk.old) - lead - trail
        if any((at < e and a < end) or (a == e == at == end) for a, e, _ in placed):
            refused.append(Refusal(hunk.id, f"line {hunk.start}: overlaps another hunk now"))
            continue
        placed.append((at, end, hunk.new[lead : len(hunk.new) - trail]))
        applied.append(hunk.id)
        shift = at - lead - (hunk.start - 1)
    starts = [0]
    for line in text:
        starts.append(starts[-1] + len(line))
    spans = [_trim(current, starts[a], starts[e], "".join(new)) for a, e, new in sorted(placed)]
    return spans, sorted(applied), sorted(refused, key=lambda r: r.hunk)


def _trim(text: str, start: int, end: int, new: str) -> tuple[int, int, str]:
    """The span [start, end) of `text` to become `new`, less what both begin and end with."""
    old = text[start:end]
    p = 0
    while p < min(len(old), len(new)) and old[p] == new[p]:
        p += 1
    q = 0
    while q < min(len(old), len(new)) - p and old[-1 - q] == new[-1 - q]:
        q += 1
    return start + p, end - q, new[p : len(new) - q]


def rebase(current: str, accepted: list[Hunk]) -> tuple[str, list[int], list[Refusal]]:
    """`current` with the accepted hunks applied where they still fit: the new text, the ids
    applied, the refusals."""
    spans, applied, refused = place(current, accepted)
    out = current
    for start, end, new in reversed(spans):
        out = out[:start] + new + out[end:]
    return out, applied, refused


def unified(path: str, hunk_list: list[Hunk], created: bool = False) -> str:
    """The hunks of one file as a unified diff (for reading: the proposal's diff document)."""
    a = "/dev/null" if created else f"a/{path}"
    out = [f"--- {a}\n", f"+++ b/{path}\n"]
    delta = 0
    for h in hunk_list:
        new_start = h.start + delta
        delta += len(h.new) - len(h.old)
        out.append(f"@@ -{h.start},{len(h.old)} +{new_start},{len(h.new)} @@ hunk {h.id}\n")
        for kind, body in _rows(h):
            out.append(
                kind + body + ("" if body.endswith("\n") else "\n\\ No newline at end of file\n")
            )
    return "".join(out)


def _rows(h: Hunk) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(
        None, h.old, h.new, autojunk=False
    ).get_opcodes():
        if op == "equal":
            rows += [(" ", x) for x in h.old[i1:i2]]
            continue
        rows += [("-", x) for x in h.old[i1:i2]]
        rows += [("+", x) for x in h.new[j1:j2]]
    return rows
