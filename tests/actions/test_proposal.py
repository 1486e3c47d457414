"""A change as hunks, and accepted hunks placed again on a text that may have moved: round
trips, partial acceptance, an unrelated edit above (re-based), an edit inside (refused, with
the line), an edit in the context only, ambiguity, created files, the unified diff."""

from __future__ import annotations

from scopewise.actions.proposal import hunks, rebase, unified

BEFORE = "".join(f"line {i}\n" for i in range(1, 41))


def changed(text: str, **lines: str) -> str:
    out = text
    for old, new in lines.items():
        n = old.removeprefix("l")
        out = out.replace(f"line {n}\n", new, 1)
    return out


AFTER = changed(BEFORE, l5="line five\n", l6="", l30="line 30\nline 30b\n")


def test_two_distant_changes_are_two_hunks_with_context() -> None:
    cut = hunks(BEFORE, AFTER)
    assert [h.id for h in cut] == [1, 2]
    first, second = cut
    assert first.start == 2  # three lines of context before line 5
    assert first.old[:3] == ("line 2\n", "line 3\n", "line 4\n")
    assert "line five\n" in first.new and "line 6\n" not in first.new
    assert second.start == 28 and "line 30b\n" in second.new


def test_numbering_starts_where_asked() -> None:
    assert [h.id for h in hunks(BEFORE, AFTER, first_id=7)] == [7, 8]


def test_all_hunks_round_trip() -> None:
    text, applied, refused = rebase(BEFORE, hunks(BEFORE, AFTER))
    assert text == AFTER and applied == [1, 2] and refused == []


def test_no_newline_at_the_end_and_crlf_round_trip() -> None:
    before = "a\r\nb\r\nc"
    after = "a\r\nB\r\nc\r\nd"
    text, applied, _ = rebase(before, hunks(before, after))
    assert text == after and applied == [1]


def test_partial_acceptance_applies_exactly_those_hunks() -> None:
    cut = hunks(BEFORE, AFTER)
    text, applied, refused = rebase(BEFORE, [cut[1]])
    assert applied == [2] and refused == []
    assert "line 30b\n" in text and "line five" not in text and "line 6\n" in text


def test_an_unrelated_edit_above_is_rebased() -> None:
    cut = hunks(BEFORE, AFTER)
    moved = "# a header\n# two lines\n" + BEFORE.replace("line 20\n", "line twenty\n")
    text, applied, refused = rebase(moved, cut)
    assert applied == [1, 2] and refused == []
    assert text == "# a header\n# two lines\n" + AFTER.replace("line 20\n", "line twenty\n")


def test_an_edit_inside_a_hunk_is_refused_with_its_line() -> None:
    cut = hunks(BEFORE, AFTER)
    edited = BEFORE.replace("line 5\n", "line 5 edited\n")
    text, applied, refused = rebase(edited, cut)
    assert applied == [2]
    assert [(r.hunk, r.reason) for r in refused] == [
        (1, "line 5 changed since the proposal was made")
    ]
    assert "line 5 edited\n" in text and "line 30b\n" in text


def test_an_edit_in_the_context_only_still_applies_the_change() -> None:
    cut = hunks(BEFORE, AFTER)
    edited = BEFORE.replace("line 4\n", "line 4 typed meanwhile\n")
    text, applied, _ = rebase(edited, cut[:1])
    assert applied == [1]
    assert "line 4 typed meanwhile\nline five\nline 7\n" in text


def test_moved_far_away_the_hunk_is_found_where_it_is_unique() -> None:
    cut = hunks(BEFORE, AFTER)
    moved = "".join(f"new {i}\n" for i in range(50)) + BEFORE
    text, applied, _ = rebase(moved, cut)
    assert applied == [1, 2] and text.endswith(AFTER)


def test_lines_found_twice_elsewhere_are_refused_as_ambiguous() -> None:
    before = "x\n" * 3 + "a\nb\nc\nd\ne\nf\ng\n" + "y\n" * 10
    after = before.replace("d\n", "D\n")
    cut = hunks(before, after)
    block = "a\nb\nc\nd\ne\nf\ng\n"
    moved = "z\n" + block + "w\n" * 20 + block  # the old lines, twice, neither at line 4
    _, applied, refused = rebase(moved, cut)
    assert applied == [] and "2 times" in refused[0].reason


def test_a_created_file_is_one_hunk_and_refused_once_the_file_exists() -> None:
    (h,) = hunks("", "print('hi')\n")
    assert h.start == 1 and h.old == ()
    assert rebase("", [h])[0] == "print('hi')\n"
    _, applied, refused = rebase("already here\n", [h])
    assert applied == [] and "no longer empty" in refused[0].reason


def test_the_unified_diff_reads_like_one() -> None:
    cut = hunks(BEFORE, AFTER)
    text = unified("src/a.py", cut)
    assert text.startswith("--- a/src/a.py\n+++ b/src/a.py\n@@ -2,8 +2,7 @@ hunk 1\n")
    assert "-line 5\n-line 6\n+line five\n" in text and "+line 30b\n" in text
