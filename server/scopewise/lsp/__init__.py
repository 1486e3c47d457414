"""The language server (`scopewise serve`): the editor's side of scopewise.

server (holds the services, registers the handlers) · protocol (pygls patches) · capabilities
(what is announced, what the client can do) · settings (where settings come from) · documents
(open buffers) · sync (buffers → index, background index, watched files) · listing (the
code-action menu and its cache) · runs (running an action: registry, cancel, progress) ·
proposals (a run's change held until the user accepts it: the review flow) ·
workspace_edit (changes → a versioned WorkspaceEdit) · wire (the JSON the clients read) ·
timing (handler timings). Only server.py knows the server; the services see a small Protocol."""

from scopewise.lsp.server import ScopewiseServer, create_server, serve

__all__ = ["ScopewiseServer", "create_server", "serve"]
