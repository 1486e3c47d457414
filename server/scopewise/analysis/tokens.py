"""Local token estimates: no tokenizer for Claude ships offline, so estimate conservatively.

A count of the pieces a byte-pair tokenizer cannot merge across, line by line: words (a
space or `_` before them joins them; a long word counts once per 5 lowercase or 3 capital
letters, so `getHTTPResponse` is several), numbers in groups of 3 digits, runs of up to 3
punctuation marks, runs of spaces or tabs, and each non-ASCII character plus 3/4 of a piece
per extra UTF-8 byte (a CJK character is ~2 cl100k tokens, an emoji ~3). A run of 32+
letters and digits with no separator (base64, keys) costs a piece per 2 characters.

Measured against tiktoken's cl100k (the stand-in for Claude's tokenizers, which produce
~30% more tokens than cl100k on code) by tests/benchmarks/token_estimates.py: at or above
it on code in 8 languages, digit tables, minified JS/CSS/JSON, CJK, emoji and accents, long
identifiers and whitespace; ~1.35x on code, as the old chars/3.2 rule. Random letters (rot13,
gibberish words) stay under it: nothing short of a vocabulary tells them from words.

Written by hand: tiktoken is a benchmark dependency, not Claude's tokenizer, and the token
counting API needs the network. One regex pass per line, cached per file version and
for the lines seen last.
"""

from __future__ import annotations

import functools
import math
import re

_PIECE = re.compile(
    r"'(?:[sdmt]|ll|ve|re)"  # English contractions
    r"|[ _]?(?:[A-Z]?[a-z]{1,5}|[A-Z]{1,3})"  # a word, or each 5 (3 capital) letters of it
    r"|\d{1,3}"  # numbers: 3 digits at most per token
    r"| ?[^\s\w]{1,3}"  # punctuation runs
    r"|_+"
    r"|[^\x00-\x7f]"  # non-ASCII: a piece each, plus their extra bytes below
    r"| +|\t+|\s"
)
_DENSE = re.compile(r"[A-Za-z0-9+/]{32,}")
_EXTRA_BYTE = 0.75  # pieces per UTF-8 byte past the first of a non-ASCII character
_DENSE_EXTRA = 0.2  # more pieces per character of a dense run (base64: ~1.35 chars a token)


@functools.lru_cache(maxsize=1 << 16)
def line_cost(line: str) -> float:
    """Estimated tokens of one line and its newline. Kept for the lines seen last: a packed
    context's text is estimated again as a whole, and it is made of the same lines."""
    cost = len(_PIECE.findall(line)) + 1.0
    if not line.isascii():
        cost += _EXTRA_BYTE * (len(line.encode("utf-8", "surrogatepass")) - len(line))
    if len(line) >= 32:
        cost += _DENSE_EXTRA * sum(map(len, _DENSE.findall(line)))
    return cost


def estimate(text: str) -> int:
    """Estimated tokens of a text: the sum of its lines' costs (a line's cost counts its
    newline, the last line's too), so a text costs what its lines cost apart."""
    return math.ceil(sum(map(line_cost, text.split("\n")))) if text else 0
