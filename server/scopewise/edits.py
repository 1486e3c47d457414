"""Edits proposed by the model, resolved against the current text: exact first, then
whitespace-tolerant, else a clear reason. A resolved edit is a set of replacements per file
that the CLI writes or the server sends as a versioned WorkspaceEdit."""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scopewise import languages
from scopewise.index import extract as _extract
from scopewise.index.files import ALWAYS_PRUNED, inside, is_secret_file, read_regular
from scopewise.redact import MARK

EDIT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string"},
        "edits": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "path": {"type": "string"},
                    "old_text": {"type": "string"},
                    "new_text": {"type": "string"},
                },
                "required": ["path", "old_text", "new_text"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["summary", "edits"],
    "additionalProperties": False,
}


class EditError(ValueError):
    """The model's answer cannot be applied; the message says why (it goes back to the model)."""


def read_for_edit(root: Path, rel: str) -> str | None:
    """The text on disk of a file an edit targets, or None when it does not exist yet.
    Refused with EditError: secrets files, tool folders (.git, node_modules, ...), a path
    whose symlinks lead outside the workspace, anything but a regular UTF-8 file (a FIFO
    is never opened for a blocking read)."""
    if is_secret_file(root, rel):
        raise EditError(f"{rel} is a secrets file; scopewise never edits it")
    folder = next((p for p in rel.split("/")[:-1] if p in ALWAYS_PRUNED), None)
    if folder is not None:
        raise EditError(f"{rel} is inside {folder}/, which scopewise never edits")
    if not inside(root, rel):
        raise EditError(f"{rel} leads outside the workspace (a symlink); not edited")
    full = os.path.join(root, rel)
    try:
        data, _ = read_regular(full)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise EditError(f"{rel} cannot be read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise EditError(f"{rel} is not UTF-8 text; not edited") from None


@dataclass(frozen=True)
class ProposedEdit:
    path: str
    old_text: str
    new_text: str


@dataclass(frozen=True)
class Replacement:
    """Replace [start, end) of the file's text (character offsets) with `text`."""

    start: int
    end: int
    text: str
    fuzzy: bool = False  # matched only when whitespace was ignored


@dataclass
class FileChange:
    path: str
    before: str  # the text the edit was resolved against
    replacements: list[Replacement] = field(default_factory=list)
    created: bool = False

    @property
    def after(self) -> str:
        out = self.before
        for r in sorted(self.replacements, key=lambda r: r.start, reverse=True):
            out = out[: r.start] + r.text + out[r.end :]
        return out

    def diff(self) -> str:
        a = "/dev/null" if self.created else f"a/{self.path}"
        return "".join(
            difflib.unified_diff(
                self.before.splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                a,
                f"b/{self.path}",
            )
        )


def parse_answer(text: str) -> tuple[str, list[ProposedEdit]]:
    """The summary and edits of a model answer: JSON (structured output), or the first JSON
    object in the text for models without it. Garbage raises EditError."""
    raw = text.strip()
    data: Any = None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        fence = re.search(r"```(?:json)?\s*(\{.*?\})\s*```", raw, re.S)
        candidate = fence.group(1) if fence else _outer_object(raw)
        if candidate is not None:
            try:
                data = json.loads(candidate)
            except json.JSONDecodeError:
                data = None
    if not isinstance(data, dict):
        raise EditError("the answer is not a JSON object with 'summary' and 'edits'")
    edits = data.get("edits")
    if not isinstance(edits, list):
        raise EditError("the answer has no 'edits' list")
    out: list[ProposedEdit] = []
    for i, e in enumerate(edits, 1):
        if not isinstance(e, dict) or not all(
            isinstance(e.get(k), str) for k in ("path", "old_text", "new_text")
        ):
            raise EditError(f"edit {i} needs string fields path, old_text and new_text")
        out.append(ProposedEdit(e["path"], e["old_text"], e["new_text"]))
    summary = data.get("summary")
    return (summary if isinstance(summary, str) else ""), out


def _outer_object(text: str) -> str | None:
    start = text.find("{")
    end = text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else None


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for m in re.finditer("\n", text):
        starts.append(m.end())
    return starts


def _find(text: str, old: str, prefer: tuple[int, int] | None) -> Replacement | str:
    """Where `old` stands in `text`: a Replacement (text filled in later), or why not."""
    hits = [m.start() for m in re.finditer(re.escape(old), text)]
    if len(hits) == 1:
        return Replacement(hits[0], hits[0] + len(old), "")
    if len(hits) > 1:
        if prefer is not None:
            inside = [h for h in hits if prefer[0] <= h <= prefer[1]]
            if len(inside) == 1:
                return Replacement(inside[0], inside[0] + len(old), "")
        return f"old_text occurs {len(hits)} times; include more surrounding lines"
    # whitespace-tolerant: the same lines once indentation and trailing blanks are ignored
    want = [ln.strip() for ln in old.strip("\n").split("\n")]
    if not any(want):
        return "old_text is blank"
    lines = text.split("\n")
    starts = _line_starts(text)
    found: list[int] = []
    for i in range(len(lines) - len(want) + 1):
        if all(lines[i + k].strip() == want[k] for k in range(len(want))):
            found.append(i)
    if len(found) > 1 and prefer is not None:
        found = [i for i in found if prefer[0] <= starts[i] <= prefer[1]] or found
    if len(found) == 1:
        i = found[0]
        end_line = i + len(want) - 1
        end = starts[end_line] + len(lines[end_line])
        return Replacement(starts[i], end, "", fuzzy=True)
    if len(found) > 1:
        return f"old_text matches {len(found)} places (ignoring whitespace)"
    return "old_text was not found in the file"


def _reindent(new: str, old_in_file: str, old_given: str) -> str:
    """Shift new_text's indentation by the difference between the file and old_text."""

    def indent(s: str) -> str:
        for line in s.split("\n"):
            if line.strip():
                return line[: len(line) - len(line.lstrip())]
        return ""

    have, gave = indent(old_in_file), indent(old_given)
    if have == gave:
        return new.strip("\n") if old_given.strip("\n") != old_given else new
    out = []
    for line in new.strip("\n").split("\n"):
        if line.startswith(gave):
            line = have + line[len(gave) :]
        elif line.strip():
            line = have + line.lstrip()
        out.append(line)
    return "\n".join(out)


def resolve(
    proposed: list[ProposedEdit],
    read: Callable[[str], str | None],
    prefer: dict[str, tuple[int, int]] | None = None,
) -> list[FileChange]:
    """Resolve each edit against the current text of its file (`read` gives it, None when the
    file does not exist). All or nothing: the first edit that cannot be placed raises."""
    changes: dict[str, FileChange] = {}
    for n, edit in enumerate(proposed, 1):
        path = edit.path.strip().removeprefix("./")
        if not path or path.startswith("/") or ".." in path.split("/"):
            raise EditError(f"edit {n}: path {edit.path!r} must be relative to the workspace")
        change = changes.get(path)
        if change is None:
            text = read(path)
            if text is None:
                if edit.old_text.strip():
                    raise EditError(f"edit {n}: {path} does not exist")
                changes[path] = FileChange(path, "", [Replacement(0, 0, edit.new_text)], True)
                continue
            change = changes[path] = FileChange(path, text)
        if not edit.old_text:
            raise EditError(f"edit {n}: old_text is empty; {path} exists")
        if MARK in edit.old_text:  # the model saw a redacted secret: put the real one back
            edit = _unredact(edit, change.before, n)
        where = _find(change.before, edit.old_text, (prefer or {}).get(path))
        if isinstance(where, str):
            raise EditError(f"edit {n} ({path}): {where}")
        text = edit.new_text
        if where.fuzzy:
            text = _reindent(text, change.before[where.start : where.end], edit.old_text)
        placed = Replacement(where.start, where.end, text, where.fuzzy)
        for other in change.replacements:
            if placed.start < other.end and other.start < placed.end:
                raise EditError(f"edit {n} ({path}): overlaps another edit")
        change.replacements.append(placed)
    return list(changes.values())


def _unredact(edit: ProposedEdit, text: str, n: int) -> ProposedEdit:
    """An edit written against redacted context: find the secrets its old_text hides in the
    file (the marker matches any run of characters on its line) and restore them in both
    texts, in order, so the secret never left and the edit still applies."""
    pattern = "([^\n]+?)".join(re.escape(p) for p in edit.old_text.split(MARK))
    hits = list(re.finditer(pattern, text))
    if len(hits) != 1:
        raise EditError(f"edit {n}: old_text with a redacted value matches {len(hits)} places")
    old, new = edit.old_text, edit.new_text
    for secret in hits[0].groups():
        old = old.replace(MARK, secret, 1)
        new = new.replace(MARK, secret, 1)
    return ProposedEdit(edit.path, old, new)


def new_syntax_errors(change: FileChange) -> int:
    """How many syntax errors the edit adds to the file (0 when its language is unknown)."""
    spec = languages.language_for_path(change.path)
    if spec is None:
        return 0
    before = 0
    if not change.created:
        tree = _extract.parse(spec.name, change.before.encode("utf-8", "surrogatepass"))
        before = len(_extract.error_lines(tree.root_node)) if tree.root_node.has_error else 0
    tree = _extract.parse(spec.name, change.after.encode("utf-8", "surrogatepass"))
    after = len(_extract.error_lines(tree.root_node)) if tree.root_node.has_error else 0
    return max(0, after - before)


def offset_to_position(text: str, offset: int) -> tuple[int, int]:
    """(line, character in code points) of an offset into text."""
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start
