"""Talking to Claude: the SDK client (client, with the call's data in call, its streaming in
stream and its errors in errors), the model catalogue and prices (models), what calls cost
(costs) and the cost ledger with its daily cap (ledger). Used by actions/ alone; the CLI and
the server only build a client (`client.from_settings`).

Importing this package imports none of its modules until a name is asked for, and the
client does not import ``anthropic`` until first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# a name's module, imported when the name is first asked for (PEP 562): a plan, which needs
# the prices and the ledger, does not import the client's transport (asyncio, the SDK's
# helpers) with them
_WHERE = {
    "AdvisorProgress": "client",
    "CallCancelled": "client",
    "CallRequest": "client",
    "CallResult": "client",
    "ClaudeClient": "client",
    "ClaudeError": "client",
    "Done": "client",
    "ErrorKind": "client",
    "Ledger": "ledger",
    "LedgerEntry": "ledger",
    "ModelCatalog": "models",
    "ModelInfo": "models",
    "OnEvent": "client",
    "Price": "models",
    "Provider": "client",
    "Retrying": "client",
    "StreamEvent": "client",
    "TextProgress": "client",
    "ThinkingProgress": "client",
    "ToolProgress": "client",
    "ToolUse": "client",
    "Totals": "ledger",
    "Usage": "client",
    "advised_cost_usd": "costs",
    "cost_usd": "costs",
    "price_for": "models",
    "usage_line": "costs",
    "usd": "costs",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


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
