"""Talking to Claude: the SDK client (client, with the call's data in call, its streaming in
stream and its errors in errors), the model catalogue and prices (models), what calls cost
(costs) and the cost ledger with its daily cap (ledger). Used by actions/ alone; the CLI and
the server only build a client (`client.from_settings`).

Importing this package does not import ``anthropic``; the client loads it on first use.
"""

from .client import (
    AdvisorProgress,
    CallCancelled,
    CallRequest,
    CallResult,
    ClaudeClient,
    ClaudeError,
    Done,
    ErrorKind,
    OnEvent,
    Provider,
    Retrying,
    StreamEvent,
    TextProgress,
    ThinkingProgress,
    ToolProgress,
    ToolUse,
    Usage,
)
from .costs import advised_cost_usd, cost_usd, usage_line, usd
from .ledger import Ledger, LedgerEntry, Totals
from .models import ModelCatalog, ModelInfo, Price, price_for

__all__ = [
    "AdvisorProgress",
    "CallCancelled",
    "CallRequest",
    "CallResult",
    "ClaudeClient",
    "ClaudeError",
    "Done",
    "ErrorKind",
    "Ledger",
    "LedgerEntry",
    "ModelCatalog",
    "ModelInfo",
    "OnEvent",
    "Price",
    "Provider",
    "Retrying",
    "StreamEvent",
    "TextProgress",
    "ThinkingProgress",
    "ToolProgress",
    "ToolUse",
    "Totals",
    "Usage",
    "advised_cost_usd",
    "cost_usd",
    "price_for",
    "usage_line",
    "usd",
]
