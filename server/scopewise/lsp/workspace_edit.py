"""A finished run's changes as one versioned WorkspaceEdit (with its change annotation), each
file checked against the text the edit was resolved against; character offsets become LSP
positions in the negotiated encoding. Pure: it reads the documents and the disk it is given."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence

from lsprotocol import types

from scopewise.actions.edits import FileChange
from scopewise.index.lines import line_starts, units

from .capabilities import ClientSupport
from .documents import OpenDocuments


class StaleEdit(Exception):
    """A document changed since the run started; the message names it."""


def workspace_edit(
    changes: Sequence[FileChange],
    docs: OpenDocuments,
    read_disk: Callable[[str], str | None],
    start_versions: dict[str, int],
    support: ClientSupport,
    annotation: types.ChangeAnnotation | None,
) -> types.WorkspaceEdit:
    """One WorkspaceEdit for all changes, each file checked against the text the edit was
    resolved against (StaleEdit when any moved). Positions are in the negotiated encoding."""
    encoding = docs.encoding
    ann_id = "scopewise" if annotation is not None else None
    doc_changes: list[types.TextDocumentEdit | types.CreateFile] = []
    plain: dict[str, list[types.TextEdit]] = {}
    for change in changes:
        uri = docs.uri(change.path)
        version = _current_version(change, uri, docs, read_disk, start_versions)
        edits = _text_edits(change, encoding, ann_id)
        if change.created:
            if not (support.document_changes and support.create_files):
                raise StaleEdit(f"the editor cannot create files ({change.path})")
            doc_changes.append(
                types.CreateFile(
                    uri=uri,
                    options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False),
                    annotation_id=ann_id,
                )
            )
        if support.document_changes:
            doc_changes.append(
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=None if change.created else version
                    ),
                    edits=list(edits),
                )
            )
        else:
            plain[uri] = [types.TextEdit(range=e.range, new_text=e.new_text) for e in edits]
    if not support.document_changes:
        return types.WorkspaceEdit(changes=plain)
    return types.WorkspaceEdit(
        document_changes=doc_changes,
        change_annotations={ann_id: annotation} if ann_id and annotation else None,
    )


def _current_version(
    change: FileChange,
    uri: str,
    docs: OpenDocuments,
    read_disk: Callable[[str], str | None],
    start_versions: dict[str, int],
) -> int | None:
    """The open document's version (None for a file on disk), after checking that the text
    is still what the edit was resolved against (StaleEdit names what moved)."""
    doc = docs.by_rel(change.path)
    if doc is not None:
        before = start_versions.get(uri)
        if before is not None and doc.version != before:
            raise StaleEdit(f"{change.path} changed while the action ran")
        if doc.text != change.before:
            raise StaleEdit(f"{change.path} no longer matches what the edit was made for")
        return doc.version
    current = read_disk(change.path)
    if change.created:
        if current is not None:
            raise StaleEdit(f"{change.path} appeared while the action ran")
    elif current != change.before:
        raise StaleEdit(f"{change.path} changed on disk while the action ran")
    return None


def _text_edits(
    change: FileChange, encoding: str, ann_id: str | None
) -> list[types.TextEdit | types.AnnotatedTextEdit]:
    index = LineIndex(change.before, encoding)
    edits: list[types.TextEdit | types.AnnotatedTextEdit] = []
    for r in sorted(change.replacements, key=lambda r: r.start):
        rng = index.range(r.start, r.end)
        if ann_id is not None:
            edits.append(types.AnnotatedTextEdit(annotation_id=ann_id, range=rng, new_text=r.text))
        else:
            edits.append(types.TextEdit(range=rng, new_text=r.text))
    return edits


class LineIndex:
    """Character offsets of a text → LSP positions in an encoding."""

    def __init__(self, text: str, encoding: str) -> None:
        self.text = text
        self.encoding = encoding
        self._starts = line_starts(text)

    def position(self, offset: int) -> types.Position:
        line = bisect.bisect_right(self._starts, offset) - 1
        start = self._starts[line]
        return types.Position(line=line, character=units(self.text[start:offset], self.encoding))

    def range(self, start: int, end: int) -> types.Range:
        return types.Range(start=self.position(start), end=self.position(end))
