"""Text that is printed to a terminal stays text: the CLI passes what the model wrote (and
error messages that quote it) through `safe` before printing, so an answer cannot move the
cursor, clear the screen, set the clipboard (OSC 52), retitle the window or hide a line.

Escaped visibly as `\\xNN` (or `\\uNNNN`): every C0 control except newline and tab (so ESC,
which starts CSI and OSC sequences, and BEL, which ends OSC), a carriage return unless it is
part of `\\r\\n`, DEL, every C1 control (`\\x9b` is a one-byte CSI on some terminals) and the
Unicode bidirectional overrides and isolates, which reorder what a line shows."""

from __future__ import annotations

import re

_CONTROL = re.compile("\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: str) -> str:
    """text with terminal control characters replaced by visible escapes (newlines, tabs
    and CRLF line ends are kept)."""
    return _CONTROL.sub(_visible, text)
