"""A null pygls language server: the floor a real server's latency is compared with.

    python tests/benchmarks/null_server.py      (stdio)

It keeps documents in sync the way pygls does for every server (open, incremental changes)
and answers every code action with none: what is left of a round trip is JSON-RPC, pygls
and the document update alone.
"""

from __future__ import annotations

from lsprotocol import types
from pygls.lsp.server import LanguageServer

server = LanguageServer("null-server", "1")


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION)
def code_action(ls: LanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    ls.workspace.get_text_document(params.text_document.uri).source  # noqa: B018 - the text
    return []


if __name__ == "__main__":
    server.start_io()
