"""The editor's open documents, by URI and by workspace-relative path: each one's text,
version and parse tree (index/buffer.py), current after every didChange."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from scopewise.index import languages
from scopewise.index.buffer import Document, TextChange


def relpath_of(uri: str, root: Path) -> str | None:
    """The workspace-relative POSIX path of a file URI, or None (not a file, or outside)."""
    path = to_fs_path(uri) if uri.startswith("file:") else None
    if not path:
        return None
    p = Path(path)
    try:
        return p.relative_to(root).as_posix()
    except ValueError:
        pass
    try:
        return p.resolve().relative_to(root).as_posix()
    except (ValueError, OSError):
        return None


class OpenDocuments:
    """Open documents: each one's text, version and parse tree, current after every change."""

    def __init__(self, root: Path | None, encoding: str = "utf-16") -> None:
        self.root = root
        self.encoding = encoding
        self._docs: dict[str, Document] = {}  # uri -> document
        self._rel: dict[str, str] = {}  # uri -> relative path (inside the root)
        self._uri: dict[str, str] = {}  # relative path -> uri

    max_bytes = 1_000_000  # larger buffers are followed (versions) but never parsed or indexed
    # CPU seconds a parse may take here, on the server's event loop (a normal 1 MB file takes
    # ~0.2 s); a buffer past it is parsed again off the loop (`Document.needs_parse`)
    loop_parse_s = 0.25
    # ... of which a keystroke's handler spends at most this much; the rest goes on in steps
    # between messages (lsp/sync.py), or at once when a request needs the tree
    loop_step_s = 0.001

    def open(self, uri: str, text: str, version: int) -> Document:
        rel = relpath_of(uri, self.root) if self.root else None
        spec = languages.language_for_path(rel or uri)
        if (
            spec is not None
            and len(text) > self.max_bytes // 4
            and (len(text.encode("utf-8", "surrogatepass")) > self.max_bytes)
        ):
            spec = None  # a 50 MB buffer must not stall the server in a parse
        doc = Document(
            rel or uri,
            text,
            version,
            spec.name if spec else None,
            self.encoding,
            parse_limit=self.loop_parse_s,
            step_s=self.loop_step_s,
        )
        self._docs[uri] = doc
        if rel is not None:
            self._rel[uri] = rel
            self._uri[rel] = uri
        return doc

    def change(
        self, uri: str, changes: list[types.TextDocumentContentChangeEvent], version: int
    ) -> Document | None:
        """Apply one didChange (all or nothing; PositionError when a range is bad)."""
        doc = self._docs.get(uri)
        if doc is None:
            return None
        edits = []
        for c in changes:
            if isinstance(c, types.TextDocumentContentChangePartial):
                r = c.range
                edits.append(
                    TextChange(
                        c.text, (r.start.line, r.start.character), (r.end.line, r.end.character)
                    )
                )
            else:
                edits.append(TextChange(c.text))
        doc.apply(edits, version)
        return doc

    def close(self, uri: str) -> str | None:
        """Forget a document; its relative path (when in the workspace)."""
        self._docs.pop(uri, None)
        rel = self._rel.pop(uri, None)
        if rel is not None and self._uri.get(rel) == uri:
            del self._uri[rel]
        return rel

    def get(self, uri: str) -> Document | None:
        return self._docs.get(uri)

    def by_rel(self, rel: str) -> Document | None:
        """The open document of a workspace file (the engine reads buffers through this)."""
        uri = self._uri.get(rel)
        return self._docs.get(uri) if uri is not None else None

    def rel(self, uri: str) -> str | None:
        if uri in self._rel:
            return self._rel[uri]
        return relpath_of(uri, self.root) if self.root else None

    def uri(self, rel: str) -> str:
        """The URI the editor uses for a workspace file (its own spelling when open)."""
        known = self._uri.get(rel)
        if known is not None:
            return known
        assert self.root is not None
        return (self.root / rel).as_uri()

    def versions(self) -> dict[str, int]:
        return {uri: doc.version for uri, doc in self._docs.items()}

    def relpaths(self) -> list[str]:
        return list(self._uri)
