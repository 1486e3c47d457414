"""Local token estimates: no tokenizer for Claude ships offline, so estimate conservatively.

Claude 4.7+ tokenizers produce about 30% more tokens than cl100k; code averages ~4.2 chars
per cl100k token, so ~3.2 characters per token keeps estimates at or above the real count.
"""

from __future__ import annotations

import math

CHARS_PER_TOKEN = 3.2


def estimate(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0
