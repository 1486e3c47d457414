"""Redaction of obvious credentials from text before it leaves the machine."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Anthropic API key", re.compile(r"sk-ant-[A-Za-z0-9_\-]{16,}")),
    ("OpenAI-style API key", re.compile(r"\bsk-[A-Za-z0-9]{32,}\b")),
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b")),
    ("Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    # a line of nothing but base64, e.g. the body of a key whose BEGIN line is not shown
    ("key material", re.compile(r"^\s*['\"]?[A-Za-z0-9+/]{48,}={0,2}['\"]?,?\s*$")),
    ("JWT", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")),
    (
        "AWS secret key",
        re.compile(r"(?i)aws.{0,20}?(?:secret|key).{0,5}?[:=]\s*[\"']?([A-Za-z0-9/+]{40})\b"),
    ),
    (
        "password or secret",
        re.compile(
            r"(?i)\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token"
            r"|client[_-]?secret|private[_-]?key)\w*\s*[:=]\s*[\"']([^\"'\s]{6,})[\"']"
        ),
    ),
    ("credentials in URL", re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:([^/\s@]{3,})@")),
)

MARK = "[REDACTED]"


@dataclass(frozen=True)
class Finding:
    line: int  # 0-based within the text given
    what: str


@functools.lru_cache(maxsize=65536)
def redact_line(line: str) -> tuple[str, tuple[str, ...]]:
    """The line with credentials replaced by [REDACTED], and what was found (memoised: the
    same lines are sent again and again)."""
    found: list[str] = []
    for what, pattern in _PATTERNS:
        if not pattern.search(line):
            continue

        def _sub(m: re.Match[str]) -> str:
            if m.groups() and m.group(1):
                start, end = m.span(1)
                whole = m.group(0)
                return whole[: start - m.start()] + MARK + whole[end - m.start() :]
            return MARK

        line = pattern.sub(_sub, line)
        found.append(what)
    return line, tuple(found)


def redact_lines(lines: list[str]) -> tuple[list[str], list[Finding]]:
    out: list[str] = []
    findings: list[Finding] = []
    in_key = False
    for i, line in enumerate(lines):
        if in_key:
            if "-----END" in line:
                in_key = False
            out.append(MARK)
            continue
        new, found = redact_line(line)
        if "private key" in found and "-----END" not in line:
            in_key = True
        out.append(new)
        findings.extend(Finding(i, w) for w in found)
    return out, findings
