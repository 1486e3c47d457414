"""What a cursor (an empty selection) stands for: the innermost definition around it; on a
comment that documents the definition right below it, that one; and inside a definition
too long for any context (its text past the largest budget: a run would see its first
lines only, not the cursor's), the outermost statement around the cursor that fits — or
the cursor's line. So a menu inside a 40,000-line function neither reads the function
whole (a second of the event loop) nor offers to explain a text no run could send.

Reads the index and the file's tree through the engine; knows nothing of editors."""

from __future__ import annotations

import bisect
import itertools

import tree_sitter as ts

from scopewise.analysis.engine import Engine
from scopewise.analysis.packing import lines_within
from scopewise.analysis.sources import LineCosts
from scopewise.index.model import Definition, FileIndex
from scopewise.vocab import EngineError

DOC_LINES = 40  # a comment block at most this far above a definition documents it
# a definition this long or shorter is the cursor's target whatever its text costs (it
# would take over 40 tokens a line, a minified file's, to pass a 24,000-token budget)
SHORT_LINES = 600


def expand_cursor(
    engine: Engine, path: str, line: int, max_tokens: int | None = None
) -> tuple[int, int]:
    """The 1-based lines an empty selection on `line` (1-based) stands for: the innermost
    definition around it (`documented`: typing a method's doc comment in a 2,300-line Ruby
    module made every menu the module's), narrowed (`fitting`) when its text costs more
    than `max_tokens`; the line alone outside any definition."""
    fi = engine.workspace.get(path)  # brought up to the buffer by engine.sync first
    if fi is None:
        try:
            engine.sync(path)
            fi = engine.analyze(path, line, line).file
        except EngineError:
            return line, line
    i = fi.enclosing(line - 1, line - 1)
    below = documented(engine, fi, line - 1, i)
    if below is not None:
        i = below
    if i is None:
        return line, line
    d = fi.definitions[i]
    if max_tokens is not None and not fits(engine, path, d.start_line, d.end_line, max_tokens):
        return fitting(engine, fi, d, line - 1, max_tokens)
    return d.start_line + 1, d.end_line + 1


def fits(engine: Engine, path: str, first: int, last: int, max_tokens: int) -> bool:
    """Whether lines [first, last] (0-based) cost no more than `max_tokens` (a range of
    SHORT_LINES or fewer always does): a menu never asks of one that does not, so the work
    ahead (lsp/ahead.py) does not analyse it either."""
    if last - first + 1 <= SHORT_LINES:
        return True
    try:
        lines, costs = engine.sources.get(path).lines, engine.sources.line_costs(path)
    except OSError:
        return True
    return not _over(lines, costs, first, last, max_tokens)


# no piece of text analysis/tokens.py counts as one token holds more than this many
# characters other than blanks and underscores (a word's 5 lowercase letters after a
# capital; a run of underscores is one piece), and each line costs one more (its newline)
WIDEST_PIECE = 6


def _surely_over(lines: list[str], first: int, last: int, max_tokens: int) -> bool:
    """Whether lines [first, last] cost more than `max_tokens` by a lower bound of their
    cost that is quick to count (`WIDEST_PIECE`), stopping as soon as it is past."""
    least = 0.0
    for line in itertools.islice(lines, first, last + 1):
        solid = len(line) - line.count(" ") - line.count("\t") - line.count("_")
        least += 1.0 + solid / WIDEST_PIECE
        if least > max_tokens:
            return True
    return False


def cut_to_fit(engine: Engine, path: str, first: int, last: int, max_tokens: int) -> int:
    """The last line (0-based) of lines [first, last] up to which they cost no more than
    `max_tokens` (`last` when all of them fit; `first` at least): where a run's context
    cuts a selection too long for it (`packing.lines_within`, as `pack_target` does)."""
    if fits(engine, path, first, last, max_tokens):
        return last
    costs = engine.sources.line_costs(path)
    return max(first, lines_within(costs, first, last, max_tokens))


def _over(lines: list[str], costs: LineCosts, first: int, last: int, cap: int) -> bool:
    """Whether lines [first, last] cost more than `cap`: the quick bound first, then
    priced (the 42,846-line function: 0.8 ms, where pricing its lines took 25 ms)."""
    return _surely_over(lines, first, last, cap) or _cost(costs, first, last, cap) > cap


def _cost(costs: LineCosts, first: int, last: int, cap: int) -> float:
    """Lines [first, last]'s estimated tokens, counted no further than past `cap`."""
    return costs.total(range(first, last + 1), cap=cap)


def fitting(
    engine: Engine, fi: FileIndex, d: Definition, row: int, max_tokens: int
) -> tuple[int, int]:
    """Inside definition `d`, too long for `max_tokens`: the 1-based lines of the outermost
    syntax node around `row` (0-based; from its first non-blank character) that starts and
    ends inside `d` and costs no more; `row`'s line alone when none does (a blank line
    between statements, a line of a statement that is itself too long)."""
    alone = (row + 1, row + 1)
    try:
        src = engine.sources.get(fi.path, with_tree=True)
        costs = engine.sources.line_costs(fi.path)
    except OSError:
        return alone
    if src.tree is None or fi.digest != src.digest or row >= len(src.lines):
        return alone
    text = src.lines[row]
    if not text.strip():
        return alone
    at = (row, _indent(text))
    node: ts.Node | None = src.tree.root_node.descendant_for_point_range(at, at)
    best = alone
    while node is not None:
        first, last = _rows(node)
        if first <= d.start_line and last >= d.end_line:
            break  # the definition itself, or what holds it
        if (first + 1, last + 1) != best:
            if _over(src.lines, costs, first, last, max_tokens):
                break
            best = (first + 1, last + 1)
        node = node.parent
    return best


def _rows(node: ts.Node) -> tuple[int, int]:
    """A node's first and last line (0-based): one that ends at a line's start ends above."""
    end = node.end_point
    last = end.row - 1 if end.column == 0 and end.row > node.start_point.row else end.row
    return node.start_point.row, last


def documented(engine: Engine, fi: FileIndex, row: int, parent: int | None) -> int | None:
    """The definition a comment on `row` (0-based) documents: the next one in the same body
    (`parent`'s), below it within DOC_LINES, with nothing but comment lines between (read
    from the file's tree); else None."""
    defs = fi.definitions
    j = bisect.bisect_right(defs, row, key=_start_line)  # the first one below: a child of
    # `parent`, or past its end
    if j == len(defs) or defs[j].parent != parent or defs[j].start_line - row > DOC_LINES:
        return None
    try:
        src = engine.sources.get(fi.path, with_tree=True)
    except OSError:
        return None
    if src.tree is None or fi.digest != src.digest:
        return None
    lines, root = src.lines, src.tree.root_node
    for r in range(row, defs[j].start_line):
        text = lines[r] if r < len(lines) else ""
        if not text.strip():
            return None  # a blank line parts a section's comment from what follows
        at = (r, _indent(text))
        node = root.descendant_for_point_range(at, at)
        if node is None or "comment" not in node.type:
            return None
    return j


def _indent(text: str) -> int:
    """The byte column of a line's first non-blank character (tree-sitter counts bytes)."""
    return len(text[: len(text) - len(text.lstrip())].encode("utf-8", "surrogatepass"))


def _start_line(d: Definition) -> int:
    return d.start_line
