"""The part of claude/ the layers above (cli, lsp) may use, re-exported so they import it from
actions/ and claude/ stays this layer's own: building the client, the progress events and
errors a run reports, the ledger (totals, its one-line failures) and the model catalogue, and
the money format. Nothing here calls Claude; `Actions.run` does."""

from scopewise.claude.call import (
    OnEvent,
    Retrying,
    StreamEvent,
    TextProgress,
    ThinkingProgress,
    Usage,
)
from scopewise.claude.client import ClaudeClient, from_settings, importing
from scopewise.claude.costs import cost_usd, usage_line, usd
from scopewise.claude.errors import CallCancelled, ClaudeError
from scopewise.claude.ledger import Ledger, LedgerError, Totals
from scopewise.claude.models import ModelCatalog

__all__ = [
    "CallCancelled",
    "ClaudeClient",
    "ClaudeError",
    "Ledger",
    "LedgerError",
    "ModelCatalog",
    "OnEvent",
    "Retrying",
    "StreamEvent",
    "TextProgress",
    "ThinkingProgress",
    "Totals",
    "Usage",
    "cost_usd",
    "from_settings",
    "importing",
    "usage_line",
    "usd",
]
