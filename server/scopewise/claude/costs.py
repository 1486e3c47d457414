"""What a call costs, and the one way scopewise writes money and usage: `cost_usd` (tokens at a
price), `advised_cost_usd` (a call with the advisor tool: each model's tokens at its own
price), `usd` (a dollar amount) and `usage_line` (a call's tokens and dollars in one line).
Every cost line the CLI, the server and the explanation document show goes through here."""

from __future__ import annotations

from .call import Usage
from .models import Price


def cost_usd(usage: Usage, price: Price) -> float:
    """Dollars for ``usage`` at ``price`` (USD per million tokens; 5-minute cache writes)."""
    band = price.for_input(usage.total_input_tokens)
    return (
        usage.input_tokens * band.input
        + usage.output_tokens * band.output
        + usage.cache_write_tokens * band.cache_write_5m
        + usage.cache_read_tokens * band.cache_read
    ) / 1_000_000


def advised_cost_usd(
    usage: Usage,
    price: Price,
    advisor_usage: Usage | None = None,
    advisor_price: Price | None = None,
) -> float:
    """Dollars for a call that may have consulted the advisor: the executor's ``usage`` at
    ``price``, the advisor's own tokens (``CallResult.advisor_usage``) at ``advisor_price``.
    Advisor tokens without the advisor's price are a ValueError, never priced as the
    executor's."""
    dollars = cost_usd(usage, price)
    if advisor_usage is None:
        return dollars
    if advisor_price is None:
        raise ValueError("the advisor was consulted but its model has no price")
    return dollars + cost_usd(advisor_usage, advisor_price)


def usd(value: float, places: int | None = None) -> str:
    """Dollars as text: to ``places`` decimals, or by default to the cent ("$1.25") and to
    the hundredth of a cent below one cent ("$0.0004")."""
    if places is None:
        places = 4 if 0 < value < 0.01 else 2
    return f"${value:.{places}f}"


def usage_line(usage: Usage, dollars: float, *, sep: str = " + ", detail: bool = False) -> str:
    """e.g. "in 644 + cache read 0 / write 0 · out 616 · $0.0004". ``sep`` joins the input
    and cache counts; ``detail`` adds the thinking tokens and whether output was estimated."""
    extra = ""
    if detail:
        extra += f" (thinking {usage.thinking_tokens:,})" if usage.thinking_tokens else ""
        extra += " (estimated)" if usage.estimated else ""
    return (
        f"in {usage.input_tokens:,}{sep}cache read {usage.cache_read_tokens:,} / write "
        f"{usage.cache_write_tokens:,} · out {usage.output_tokens:,}{extra} · {usd(dollars, 4)}"
    )
