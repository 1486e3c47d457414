"""The language server: `scopewise serve`."""

from scopewise.lsp.server import ScopewiseServer, create_server, serve

__all__ = ["ScopewiseServer", "create_server", "serve"]
