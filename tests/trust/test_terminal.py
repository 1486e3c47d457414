"""What the model writes is text, not terminal control: the CLI prints explanations, diffs,
summaries and notes with control characters escaped, so an answer cannot set the clipboard
(OSC 52), clear the screen, recolour the terminal or hide a line with a carriage return."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fakeapi import FakeAPI, Reply
from scopewise.cli.terminal import safe

HOSTILE = (
    "Looks fine.\x1b]52;c;ZWNobyBwd25lZA==\x07 Then\x1b[2J\x1b[H cleared,\x9b31m red,"
    " innocent\rEVIL overwrite, a bell\x07, DEL\x7f, NUL\x00, title\x1b]0;owned\x1b\\,"
    " bidi\u202eesrever\u202c."
)
# what must never reach a terminal raw: ESC, BEL, C1 (incl. one-byte CSI), DEL, NUL, a lone
# carriage return, bidi overrides
RAW = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]|\r(?!\n)")


def run(args: list[str], cwd: Path, api: FakeAPI) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": "sk-test"}
    return subprocess.run(
        [sys.executable, "-m", "scopewise.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


def assert_no_control(out: subprocess.CompletedProcess[str]) -> None:
    for name, stream in (("stdout", out.stdout), ("stderr", out.stderr)):
        raw = RAW.findall(stream)
        assert not raw, f"{name} holds raw control characters {raw!r}"


def test_an_explanation_with_terminal_escapes_is_printed_as_visible_text(
    poly: Path, fake_api: FakeAPI
) -> None:
    fake_api.push(Reply(text=HOSTILE))
    out = run(["explain", "shop/pricing.py:29-32"], poly, fake_api)
    assert out.returncode == 0, out.stderr
    assert_no_control(out)
    assert "\\x1b]52;c;ZWNobyBwd25lZA==\\x07" in out.stdout  # shown, not obeyed
    assert "\\x1b[2J" in out.stdout and "\\x9b31m" in out.stdout
    assert "innocent\\x0dEVIL" in out.stdout  # the overwritten text stays visible


def test_a_diff_and_summary_with_terminal_escapes_are_printed_as_visible_text(
    poly: Path, fake_api: FakeAPI
) -> None:
    edit = {
        "path": "shop/pricing.py",
        "old_text": "def _helper() -> None:",
        "new_text": "def _helper() -> None:  # \x1b]52;c;cGF5bG9hZA==\x07\x1b[8m",
    }
    answer = json.dumps({"summary": "tidy\x1b[2J\rall good", "edits": [edit]})
    fake_api.push(Reply(text=answer))
    out = run(["refactor", "shop/pricing.py:35-36"], poly, fake_api)
    assert out.returncode == 0, out.stderr
    assert_no_control(out)
    assert "\\x1b]52;c;cGF5bG9hZA==\\x07\\x1b[8m" in out.stdout
    assert "tidy\\x1b[2J\\x0dall good" in out.stderr


def test_no_change_proposed_quotes_the_summary_as_text(poly: Path, fake_api: FakeAPI) -> None:
    fake_api.push(Reply(text=json.dumps({"summary": "\x1b]52;c;eHh4\x07nothing", "edits": []})))
    out = run(["fix", "shop/pricing.py:26", "--diagnostic", "26:bad"], poly, fake_api)
    assert out.returncode == 0, out.stderr
    assert_no_control(out)
    assert "no change proposed. \\x1b]52;c;eHh4\\x07nothing" in out.stderr


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("\x1b]52;c;QQ==\x07", "\\x1b]52;c;QQ==\\x07"),
        ("\x9b31m", "\\x9b31m"),
        ("x\ry", "x\\x0dy"),
        ("del\x7f", "del\\x7f"),
        ("\u202egnp.exe", "\\u202egnp.exe"),
        ("keep\ttabs\nand lines\r\nand CRLF", "keep\ttabs\nand lines\r\nand CRLF"),
        ("ünïcödé → ok", "ünïcödé → ok"),
    ],
)
def test_safe_escapes_controls_and_keeps_text(text: str, shown: str) -> None:
    assert safe(text) == shown
