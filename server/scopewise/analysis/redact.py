"""Redaction of credentials from text before it leaves the machine.

This module owns what counts as a secret inside code that *is* sent: known key shapes
(Anthropic, OpenAI incl. `sk-proj-`, AWS, GitHub, GitLab, Slack, Stripe, Google, Hugging
Face, npm, PyPI, JWTs), private key blocks (multi-line, or on one line with `\\n` escapes),
URL userinfo, `Bearer`/`Basic` credentials, string or bytes literals given to a name with a
secret word in it (assignments, annotated assignments, keyword arguments, dict and object
keys, getenv-style defaults), high-entropy base64 literals, and a key split across string
concatenation when one part starts with a known prefix.

Only values are replaced, by `MARK`, and the rest of the line is kept byte for byte, so an
edit the model writes against redacted text can be matched to the file again (see
`edits._unredact`). Identifiers and code are never redacted: a secret name only marks the
string literal it is given.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import functools
import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass

MARK = "[REDACTED]"

# ---------------------------------------------------------------- known key shapes
# what, pattern: group 1 (when present) is the secret, otherwise the whole match is
_KEYS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Anthropic API key", re.compile(r"sk-ant-[A-Za-z0-9_\-]{16,}")),
    (
        "OpenAI-style API key",
        re.compile(
            r"\bsk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_\-]{20,}"
            r"|\bsk-(?=[A-Za-z_\-]*[0-9])[A-Za-z0-9_\-]{32,}"
        ),
    ),
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b|\bgithub_pat_[A-Za-z0-9_]{40,}")),
    ("GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}")),
    ("Slack token", re.compile(r"\bxox[abprse]-[A-Za-z0-9-]{10,}|\bxapp-[0-9]-[A-Za-z0-9-]{10,}")),
    ("Stripe key", re.compile(r"\b(?:[rs]k_(?:live|test)|whsec)_[A-Za-z0-9]{16,}")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("Hugging Face token", re.compile(r"\bhf_[A-Za-z]{30,}\b")),
    ("npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("PyPI token", re.compile(r"\bpypi-AgE[A-Za-z0-9_\-]{50,}")),
    ("JWT", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")),
    (
        "AWS secret key",
        re.compile(r"(?i)aws.{0,20}?(?:secret|key).{0,5}?[:=]\s*[\"']?([A-Za-z0-9/+]{40})\b"),
    ),
)
# one pass to rule out most lines before the patterns above run one by one
_ANY_KEY = re.compile(
    r"sk-|AKIA|ASIA|gh[pousr]_|github_pat_|glpat-|xox|xapp-|[rs]k_live|[rs]k_test|whsec_|AIza"
    r"|hf_|npm_|pypi-|eyJ|(?i:aws)"
)
# a string literal that starts like a key (for keys split across concatenation)
_PREFIX = (
    r"(?:sk-|AKIA|ASIA|gh[pousr]_|github_pat_|glpat-|xox[abprse]-|xapp-|AIza"
    r"|[rs]k_(?:live|test)_|whsec_|hf_|npm_|pypi-|eyJ)"
)

# ---------------------------------------------------------------- string literals
_Q = r"(?P<q>[\"'`])(?P<val>(?:\\.|(?!(?P=q))[^\\\n])*)(?P=q)"  # one quoted literal, one line
_LIT = re.compile(r"(?<![\w$])[rRbBuUfF]{0,2}" + _Q)

# name = "value", name: "value" (objects, kwargs, hashes), name: str = "value",
# "name": "value", 'name' => 'value', var name string = "value", name := "value",
# name == "value", process.env.NAME || "value"
_NAME = r"[A-Za-z_$@][\w$]*(?:[.\-][A-Za-z_$][\w$]*)*"
_NAMED = re.compile(
    r"(?<![\w$.\-])(?P<name>" + _NAME + r")[\"'`]?\s*"
    r"(?P<op>(?::\s*[A-Za-z_][\w.\[\], |]{0,40}?\s*|\s+[A-Za-z_][\w.\[\]]{0,30}\s*)?(?:=|:=)"
    r"|==|!=|=>|:|\|\||\?\?)"
    r"\s*[rRbBuU]{0,2}" + _Q
)
# os.getenv("DB_PASSWORD", "value"), environ.get(...), settings.get(...), ENV.fetch(...)
_GETENV = re.compile(
    r"\b(?:getenv|Getenv|get|setdefault|fetch|env)\s*\(\s*[\"'](?P<name>[\w.\-]+)[\"']\s*,\s*"
    r"[rRbBuU]{0,2}" + _Q
)
# a secret word somewhere in the name (compared lower-case, separators removed) ...
_SECRET_WORD = re.compile(
    r"pass(?:word|wd|phrase)|secret|credential|pwd"
    r"|(?:api|access|private|signing|encryption|master|auth|license)key"
    r"|(?:auth|access|refresh|bearer|session|api|csrf|id)token"
)
# ... or one of these as the name's last part (GITHUB_TOKEN, slackToken, DB_PASS)
_SECRET_TAIL = frozenset({"token", "pass", "pw"})
_PARTS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
# quick test before the name rules run: some secret-ish word is on the line
_MAYBE_NAMED = re.compile(r"(?i)pass|secret|credential|pwd|key|token|pw\b")
# values that are code, not secrets: interpolation, placeholders, an env var's name
_PLACEHOLDER = re.compile(r"\{[^}]*\}|\$\{|#\{|%[sdr(]|^<[^>]*>$|^([*.xX])\1*$|\[REDACTED\]")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*_[A-Z0-9_]+$")  # "DB_PASSWORD": where the value is
# a message about a password rather than one: three words or more, with the words of a
# sentence or its punctuation ("Enter your password:"); a passphrase has neither
_PROSE = re.compile(
    r"(?i)^(?=\S+\s+\S+\s+\S)(?:.*[.:?!]\s*$|.*\b(?:the|your|a|an|is|are|to|of|for|please|"
    r"enter|must|not|no|invalid|incorrect|wrong|with|and|or|if)\b)"
)

# ---------------------------------------------------------------- other shapes
_BEARER = re.compile(r"(?i:\b(bearer|basic))\s+(?P<val>[A-Za-z0-9\-._~+/]{8,}=*)")
_URL_USERINFO = re.compile(
    r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://(?P<user>[^/\s:@\"'`<>]*)(?::(?P<pw>[^/\s@\"'`<>]+))?@"
)
_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
# what can follow a BEGIN marker when the key's body is on the next lines
_PEM_OPEN_TAIL = re.compile(r"^(?:\\n|\\r|[\s\"'`+\\])*$")
# a line inside a key block: base64 (maybe as a quoted "...\n" literal) or a PEM header
_PEM_BODY = re.compile(
    r"^\s*\+?\s*(?:[rbuRBU]{0,2}[\"'`])?(?P<val>[A-Za-z0-9+/=]*|[A-Za-z-]+: [^\"'`\\]*)"
    r"(?:\\r)?(?:\\n)?(?:[\"'`])?\s*[+,\\]?\s*$"
)
_PEM_HEAD = re.compile(r"\s*\+?\s*(?:[rbuRBU]{0,2}[\"'`])?")  # before a body line's base64
# a line of nothing but base64, e.g. a key's body whose BEGIN line is not shown
_KEY_LINE = re.compile(r"^\s*[rbuRBU]{0,2}[\"']?(?P<val>[A-Za-z0-9+/]{48,}={0,2})[\"']?,?\s*$")
_B64_RUN = re.compile(r"[A-Za-z0-9+/_\-]{32}")
_B64_LIT = re.compile(
    r"(?<![\w$])[rRbBuU]{0,2}(?P<q>[\"'`])(?P<val>[A-Za-z0-9+/_\-]{32,}={0,3})(?P=q)"
)
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_WORDY = re.compile(r"[A-Z][a-z]{3,}|[a-z]{4,}|[A-Z]{4,}")


@dataclass(frozen=True)
class Finding:
    line: int  # 0-based within the text given
    what: str


def _secret_name(name: str) -> bool:
    """Whether an identifier, dotted name or quoted key names a secret: a secret word
    anywhere (`db_password`, `STRIPE_SECRET_KEY`, `password2`) or a token-ish last part."""
    flat = re.sub(r"[\W_]", "", name).lower()
    if _SECRET_WORD.search(flat):
        return True
    parts = _PARTS.findall(name.rsplit(".", 1)[-1])
    return bool(parts) and parts[-1].lower().rstrip("0123456789") in _SECRET_TAIL


def _is_value(val: str) -> bool:
    """A literal that may be a secret, not code: long enough, no interpolation or
    placeholder, not an env var's name, not a sentence."""
    if len(val) < 4 or _PLACEHOLDER.search(val) or _ENV_NAME.match(val):
        return False
    return not _PROSE.match(val)


def entropy(text: str) -> float:
    """Shannon entropy of the characters of text, in bits per character."""
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def looks_random(val: str) -> bool:
    """Whether a base64-ish literal of 32+ characters looks like key material rather than
    a digest, an identifier or an alphabet: upper and lower case and digits, entropy near
    that of random text of its length, few dictionary-like runs, no counting sequences.
    Pure hex is never random here (digests, ids and test vectors, far more often than
    secrets; a hex secret given to a secret name is still caught by the name rule)."""
    body = val.rstrip("=")
    if len(body) < 32 or _HEX.match(body):
        return False
    if not (any(c.isupper() for c in body) and any(c.islower() for c in body)):
        return False
    if not any(c.isdigit() for c in body):
        return False
    if entropy(body) < min(4.5, 0.8 * math.log2(len(body))):
        return False
    if sum(len(w) for w in _WORDY.findall(body)) * 5 > len(body) * 3:
        return False  # words: camelCase, snake_case, CONSTANTS
    if sum(body.count(c) for c in "_-+/") * 8 > len(body):
        return False  # an identifier or a path: separators every few characters
    steps = sum(1 for a, b in itertools.pairwise(body) if ord(b) - ord(a) == 1)
    return steps < len(body) // 4  # "ABCDEFG...", "0123456789..."


def _basic_credentials(val: str) -> bool:
    """Whether val is base64 of `user:password` (an HTTP Basic credential)."""
    try:
        raw = base64.b64decode(val + "=" * (-len(val) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in raw and raw.isascii()


def _replace(line: str, spans: list[tuple[int, int]]) -> str:
    """line with each span replaced by MARK (spans may arrive in any order)."""
    for start, end in sorted(set(spans), reverse=True):
        line = line[:start] + MARK + line[end:]
    return line


def _named_values(line: str) -> str | None:
    """line with the literals given to secret names redacted, or None if there are none."""
    if not _MAYBE_NAMED.search(line):
        return None
    spans: list[tuple[int, int]] = []
    for rx in (_NAMED, _GETENV):
        for m in rx.finditer(line):
            name = m.group("name")
            if rx is _NAMED and m.group("op") in ("==", "!="):
                # a comparison: `password == "..."` is a hard-coded secret, while
                # `token == "login"` is a parser
                named = _SECRET_WORD.search(re.sub(r"[\W_]", "", name).lower()) is not None
            else:
                named = _secret_name(name)
            if named and _is_value(m.group("val")):
                spans.append(m.span("val"))
    return _replace(line, spans) if spans else None


def _bearer(line: str) -> str | None:
    spans = []
    for m in _BEARER.finditer(line):
        val = m.group("val")
        if m.group(1).lower() == "basic":
            ok = _basic_credentials(val)
        else:
            has_digit = any(c.isdigit() for c in val)
            ok = len(val) >= 12 and (has_digit or (len(val) >= 20 and not val.islower()))
        if ok and MARK not in val:
            spans.append(m.span("val"))
    return _replace(line, spans) if spans else None


def _userinfo(line: str) -> str | None:
    """Any URL's userinfo: the password when there is one (`redis://:pw@host`), else the
    whole userinfo (`https://TOKEN@host`). Template placeholders are code, kept."""
    if "://" not in line or "@" not in line:
        return None
    spans = []
    for m in _URL_USERINFO.finditer(line):
        group = "pw" if m.group("pw") is not None else "user"
        val = m.group(group)
        if val and not _PLACEHOLDER.search(val):
            spans.append(m.span(group))
    return _replace(line, spans) if spans else None


def _blobs(line: str) -> str | None:
    """String literals that are high-entropy base64 of 32+ characters, whatever their name."""
    if not _B64_RUN.search(line):
        return None
    spans = [m.span("val") for m in _B64_LIT.finditer(line) if looks_random(m.group("val"))]
    return _replace(line, spans) if spans else None


_JOIN = re.compile(r"\s*\+?\s*")  # between two joined literals: nothing, or a plus
_OPEN_END = re.compile(r"\s*\+?\s*\\?\s*")  # after a literal that a next line may continue
_PREFIX_RX = re.compile(_PREFIX)


@dataclass
class _Split:
    """Literals of one line that belong to a split key."""

    spans: list[tuple[int, int]]  # redact these now
    pending: tuple[int, int] | None  # a prefix literal ending the line: redact if the next joins
    open_end: bool  # the line ends inside a chain (the next line's first literal joins it)
    continues: bool  # the line's first literal joined the previous line's chain


def _split_key(line: str, carried: bool) -> _Split:
    """A key split across concatenation: from a literal that starts with a known key prefix
    (or that an earlier rule redacted whole), every literal joined to it by `+` or by
    adjacency is redacted, also on the next lines when a line ends inside the chain.
    `carried`: the previous line ended inside a chain."""
    out = _Split([], None, False, False)
    lits = list(_LIT.finditer(line))
    if not lits:
        return out
    chain = out.continues = carried and _JOIN.fullmatch(line, 0, lits[0].start()) is not None
    for i, m in enumerate(lits):
        val = m.group("val")
        if chain:
            if val != MARK and val:
                out.spans.append(m.span("val"))
        elif _PREFIX_RX.match(val) or val == MARK:
            nxt = lits[i + 1].start() if i + 1 < len(lits) else -1
            if nxt >= 0 and _JOIN.fullmatch(line, m.end(), nxt):
                if val != MARK:
                    out.spans.append(m.span("val"))
                chain = True
            elif nxt < 0 and _OPEN_END.fullmatch(line, m.end()):
                out.pending = None if val == MARK else m.span("val")
                chain = True
        if i + 1 < len(lits) and not _JOIN.fullmatch(line, m.end(), lits[i + 1].start()):
            chain = False
    out.open_end = chain and _OPEN_END.fullmatch(line, lits[-1].end()) is not None
    if not out.open_end:
        out.pending = None
    return out


def _pem(line: str) -> tuple[str | None, bool]:
    """A private key's BEGIN line: the body on the same line (`\\n` escapes) is redacted up to
    its END marker. Returns the new line and whether the body continues on the next lines."""
    begin = _PEM_BEGIN.search(line)
    if begin is None:
        return None, False
    end = _PEM_END.search(line, begin.end())
    if end is not None:
        if end.start() == begin.end():
            return None, False
        return _replace(line, [(begin.end(), end.start())]), False
    rest = line[begin.end() :]
    if _PEM_OPEN_TAIL.match(rest):
        return line, True  # the marker alone: the body follows
    # the body starts on this line: redact to the closing quote (or the line's end)
    close = re.search(r"[\"'`]", rest)
    stop = begin.end() + (close.start() if close else len(rest))
    if re.fullmatch(r"(?:\\n|\\r|\s)*", line[begin.end() : stop]):
        return None, False  # a marker in code, e.g. startswith("-----BEGIN ... KEY-----")
    return _replace(line, [(begin.end(), stop)]), close is None or bool(
        re.fullmatch(r"[\"'`]\s*\+?\s*\\?\s*", rest[close.start() :])
    )


def _split_on_line(line: str) -> str | None:
    if not _PREFIX_RX.search(line):
        return None
    spans = _split_key(line, False).spans
    return _replace(line, spans) if spans else None


@functools.lru_cache(maxsize=65536)
def redact_line(line: str) -> tuple[str, tuple[str, ...]]:
    """The line with credentials replaced by MARK, and what was found (memoised: the same
    lines are sent again and again). Rules that need the lines around (key blocks, keys
    split over lines) are in `redact_lines`."""
    found: list[str] = []
    if _ANY_KEY.search(line):
        for what, pattern in _KEYS:
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
    for what, rule in (
        ("private key", lambda s: _pem(s)[0]),
        ("credentials in URL", _userinfo),
        ("bearer credential", _bearer),
        ("password or secret", _named_values),
        ("split key", _split_on_line),
        ("high-entropy string", _blobs),
    ):
        new = rule(line)
        if new is not None and new != line:
            line = new
            found.append(what)
    m = _KEY_LINE.match(line)
    if m and looks_random(m.group("val")):
        line = _replace(line, [m.span("val")])
        found.append("key material")
    return line, tuple(found)


# Every rule of `redact_line` needs one of these on the line: literal text, found with fast
# substring scans over the whole text instead of running each rule on each line.
_GATES = (
    "sk-", "AKIA", "ASIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-",
    "xox", "xapp-", "k_live_", "k_test_", "whsec_", "AIza", "hf_", "npm_", "pypi-", "eyJ",
    "-----BEGIN", "://",
)  # fmt: skip
_GATES_LOWER = ("aws", "bearer", "basic", "pass", "secret", "credential", "key", "token", "pw")
_GATE_RUNS = re.compile(
    r"[\"'`][A-Za-z0-9+/_\-]{32}|(?m:^[^\S\n]*[rbuRBU]{0,2}[\"']?[A-Za-z0-9+/]{48})"
)


def _find_all(text: str, gate: str, hits: list[int]) -> None:
    i = text.find(gate)
    while i >= 0:
        hits.append(i)
        i = text.find(gate, i + 1)


def _any_gate(text: str, lower: str) -> bool:
    return any(g in text for g in _GATES) or any(g in lower for g in _GATES_LOWER)


def _candidates(lines: list[str]) -> set[int]:
    """The indexes of the lines some rule of `redact_line` may change (the others cannot
    hold anything it redacts). Plain substring scans (C speed; this runs for every snippet
    of every context), then one regex for runs of key-like characters."""
    text = "\n".join(lines)
    hits: list[int] = []
    lower = text.lower()
    if len(lower) != len(text):  # a character whose lower case is longer: line by line
        lower = "\n".join(line.lower()[: len(line)].ljust(len(line)) for line in lines)
    if _any_gate(text, lower):  # most snippets hold none: one C-speed scan each
        for gate in _GATES:
            _find_all(text, gate, hits)
        for gate in _GATES_LOWER:
            _find_all(lower, gate, hits)
    hits.extend(m.start() for m in _GATE_RUNS.finditer(text))
    if not hits:
        return set()
    starts = list(itertools.accumulate((len(line) + 1 for line in lines[:-1]), initial=0))
    return {bisect.bisect_right(starts, h) - 1 for h in hits}


def redact_lines(lines: list[str]) -> tuple[list[str], list[Finding]]:
    """See `_redact_block` (cached: a context packs the same runs of lines again and again,
    and the code-action menu asks for the same range at every cursor move)."""
    clean, findings = _redact_block(tuple(lines))
    return list(clean), list(findings)


@functools.lru_cache(maxsize=4096)
def _redact_block(block: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[Finding, ...]]:
    clean, findings = _redact_lines(list(block))
    return tuple(clean), tuple(findings)


def _redact_lines(lines: list[str]) -> tuple[list[str], list[Finding]]:
    """Each line redacted, plus what spans lines: the body of a private key block (until its
    END marker, or a line that cannot be part of it) and keys split across concatenated
    literals, on one line or several."""
    out: list[str] = []
    findings: list[Finding] = []
    in_key = False
    key_found = False  # the block's body was redacted and noted
    carried = False  # the previous line ended inside a split key's chain
    pending: tuple[int, int] | None = None  # its prefix literal, not yet redacted
    candidates = _candidates(lines)
    for i, line in enumerate(lines):
        if in_key:
            end = _PEM_END.search(line)
            body = _PEM_BODY.match(line)
            if end is not None:
                in_key = False
                head = _PEM_HEAD.match(line, 0, end.start())
                assert head is not None
                if re.fullmatch(r"(?:\\[nr]|\s)*", line[head.end() : end.start()]) is None:
                    line = _replace(line, [(head.end(), end.start())])
                    if not key_found:
                        findings.append(Finding(i, "private key"))
                out.append(line)
                carried, pending = False, None
                continue
            if body is not None:
                if body.group("val"):
                    line = _replace(line, [body.span("val")])
                    if not key_found:
                        findings.append(Finding(i, "private key"))
                        key_found = True
                out.append(line)
                continue
            in_key = False
        if i not in candidates and not carried:
            out.append(line)
            continue
        new, found = redact_line(line)
        if carried or _PREFIX_RX.search(new) or MARK in new:
            split = _split_key(new, carried)
            if pending is not None and split.continues:
                out[-1] = _replace(out[-1], [pending])
                findings.append(Finding(i - 1, "split key"))
            if split.spans:
                new = _replace(new, split.spans)
                found = (*found, "split key")
            carried, pending = split.open_end, split.pending
        else:
            carried, pending = False, None
        if "-----BEGIN" in line:
            in_key, key_found = _pem(line)[1], "private key" in found
        out.append(new)
        findings.extend(Finding(i, w) for w in found)
    return out, findings
