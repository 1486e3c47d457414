"""Talking to Claude: the SDK client, the model catalogue and the cost ledger.

Importing this package does not import ``anthropic``; the client loads it on first use.
"""

from .client import (
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
    Usage,
)
from .ledger import Ledger, LedgerEntry, Totals, cost_usd
from .models import ModelCatalog, ModelInfo, Price, price_for

__all__ = [
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
    "Totals",
    "Usage",
    "cost_usd",
    "price_for",
]
