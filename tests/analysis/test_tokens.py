"""The local token estimate: never (much) under a real tokenizer, on any kind of text.

The floors below are tiktoken cl100k counts of these very texts, measured once with
`tiktoken.get_encoding("cl100k_base")` and written here as data (tiktoken is a benchmark
dependency, not a test one). tests/benchmarks/token_estimates.py measures the same over real
files.
"""

from __future__ import annotations

import random
from pathlib import Path

from scopewise.analysis import tokens
from scopewise.analysis.sources import Source

POLY = Path(__file__).resolve().parents[1] / "fixtures" / "poly"

MINIFIED = (
    "function a(t,e){for(var n=0,r=t.length;n<r;n++)if(t[n]===e)return n;return-1}"
    'var b={x:1,y:[2,3],z:"w"},c=a([1,2,3],2);module.exports={a:a,b:b,c:c};'
)
CJK = (
    "日本語のテキストは、一文字がおよそ一つか二つのトークンになります。"
    "中文文本也是如此，每个汉字大约占用一到两个标记。"
    "한국어 문장은 음절마다 토큰이 더 많이 필요합니다."
)
EMOJI = "Ship it 🚀 — tests pass ✅, coverage 📈 and the café's crème brûlée 🍮 is naïve 🙂"


def _table() -> str:
    """100 rows of 8 numbers with 4 decimals: the shape of the data that broke the budget."""
    rng = random.Random(7)
    rows = (" ".join(f"{rng.uniform(-1000, 1000):.4f}" for _ in range(8)) for _ in range(100))
    return "\n".join(rows)


def test_a_table_of_numbers_is_not_undercounted() -> None:
    assert tokens.estimate(_table()) >= 4062  # cl100k: 4062 (chars/3.2 said 2353)


def test_minified_code_is_not_undercounted() -> None:
    assert tokens.estimate(MINIFIED * 10) >= 670  # cl100k: 670 (chars/3.2 said 460)


def test_cjk_and_emoji_are_not_undercounted() -> None:
    assert tokens.estimate(CJK) >= 86  # cl100k: 86 (chars/3.2 said 27)
    assert tokens.estimate(EMOJI) >= 32  # cl100k: 32 (chars/3.2 said 25)


def test_code_is_not_overcounted_much() -> None:
    """The budget is the user's money and recall: ordinary code costs about what it did."""
    text = (POLY / "shop" / "pricing.py").read_text(encoding="utf-8")
    assert 204 <= tokens.estimate(text) <= 1.5 * 204  # cl100k: 204


def test_a_texts_lines_cost_what_the_text_costs() -> None:
    """Packing adds up line costs; the packed text is checked with `estimate`: the two
    agree up to the rounding of the sum."""
    text = (POLY / "shop" / "cart.py").read_text(encoding="utf-8") + _table() + "\n" + CJK
    data = text.encode("utf-8")
    src = Source("x.py", data, text.splitlines(), None, None)
    total = sum(src.line_costs())
    assert tokens.estimate("\n".join(src.lines)) == -(-total // 1)  # ceil, as floats sum
    assert tokens.estimate("") == 0
