"""Edits proposed by the model, resolved against the current text: exact first, then
whitespace-tolerant, else a clear reason. A resolved edit is a set of replacements per file
that the CLI writes or the server sends as a versioned WorkspaceEdit.

It also owns what a model answer may touch (`EditPolicy`): only the files the action showed
the model, a new file only where the action asked for one, never a file tools execute or
scopewise's own settings, never a hard-linked file, a file with NUL bytes or a symlink to a
secrets file. A file's newline style (CRLF) is kept."""

from __future__ import annotations

import bisect
import difflib
import json
import logging
import os
import posixpath
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scopewise.analysis.redact import MARK
from scopewise.index import extract as _extract
from scopewise.index import languages
from scopewise.index.files import (
    ALWAYS_PRUNED,
    inside,
    is_secret_file,
    is_secret_path,
    read_regular,
)
from scopewise.index.lines import line_starts
from scopewise.vocab import Action, Intent

log = logging.getLogger(__name__)

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
    """The text on disk of a file an edit targets, exactly as on disk (CRLF kept), or None
    when it does not exist yet. Refused with EditError: secrets files, tool folders (.git,
    node_modules, ...), a path whose symlinks lead outside the workspace or to a secrets
    file, a hard-linked file, anything but a regular UTF-8 file without NUL bytes (a FIFO
    is never opened for a blocking read)."""
    if is_secret_path(rel):
        raise EditError(f"{rel} is a secrets file; scopewise never edits it")
    disk_refusal(root, rel)  # a symlink to a secrets or tool file: named with its target
    if is_secret_file(root, rel):
        raise EditError(f"{rel} is a secrets file; scopewise never edits it")
    folder = next((p for p in rel.split("/")[:-1] if p in ALWAYS_PRUNED), None)
    if folder is not None:
        raise EditError(f"{rel} is inside {folder}/, which scopewise never edits")
    if not inside(root, rel):
        raise EditError(f"{rel} leads outside the workspace (a symlink); not edited")
    full = os.path.join(root, rel)
    try:
        data, st = read_regular(full)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise EditError(f"{rel} cannot be read: {exc.strerror or exc}") from None
    if st.st_nlink > 1:  # checked again on the open file: it may have changed since
        raise EditError(_hard_link(rel, st.st_nlink))
    if b"\0" in data:
        raise EditError(f"{rel}: contains NUL bytes (binary); not edited")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise EditError(f"{rel} is not UTF-8 text; not edited") from None


def _hard_link(rel: str, links: int) -> str:
    return (
        f"{rel}: has {links} hard links (a write would change the other names too, or "
        "split them); not edited"
    )


def disk_refusal(root: Path, rel: str) -> None:
    """EditError when what stands at root/rel on disk must not be edited whatever its name:
    a symlink (anywhere on the way) whose target is a secrets file or a file never edited by
    its name (git, CI, scopewise's settings), or a hard-linked file.
    Nothing there yet is fine."""
    base = os.path.realpath(root)
    full = os.path.join(base, rel)
    real = os.path.realpath(full)
    if real != os.path.normpath(full):
        target = os.path.relpath(real, base)
        if is_secret_path(target) or is_secret_path(os.path.basename(real)):
            raise EditError(
                f"{rel}: a symlink to the secrets file {target}; scopewise never edits it"
            )
        why = _tool_refusal(target)
        if why is not None:
            raise EditError(f"{rel}: a symlink to {target}: {why}")
    try:
        st = os.stat(full)
    except OSError:
        return
    if st.st_nlink > 1 and not os.path.isdir(full):
        raise EditError(_hard_link(rel, st.st_nlink))


# ---------------------------------------------------------------------------- what may change
SCOPEWISE_CONFIG = frozenset({".scopewise.toml", ".scopewiseignore"})
# never edited or created, shown or not: tools run them (git hooks and config, CI, editors)
TOOL_FOLDERS = frozenset({".github", ".vscode", ".idea", ".circleci", ".husky"})
TOOL_FILES = frozenset({".pre-commit-config.yaml", ".gitlab-ci.yml", ".travis.yml"})
# run by tools too, but part of a project's code: edited only when the action showed them
RUN_UNLESS_SHOWN = frozenset(
    {"makefile", "gnumakefile", "setup.py", "conftest.py", "noxfile.py", "tasks.py"}
)
SCRIPT_SUFFIXES = (".sh", ".bash", ".zsh", ".ksh", ".fish", ".ps1", ".bat", ".cmd")
CREATING_INTENTS = frozenset({Intent.EXTRACT_FUNCTION})


def _tool_refusal(path: str) -> str | None:
    """Why a path is one scopewise never edits by its name alone (or None). Names compare
    without case: on a case-insensitive disk `.GitHub/` is `.github/`."""
    parts = path.lower().split("/")
    name = parts[-1]
    if name in SCOPEWISE_CONFIG:
        return "scopewise's own settings; a model edit never changes them"
    folder = next((p for p in parts if p in TOOL_FOLDERS), None)
    if folder is not None:
        return f"inside {folder}/, which tools run; never edited"
    git = next((p for p in parts if p.startswith(".git")), None)
    if git is not None:
        return f"a git file ({git}), which git runs or obeys; never edited"
    if name in TOOL_FILES:
        return "a CI or hook configuration that tools run; never edited"
    return None


def _runs_unless_shown(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return name in RUN_UNLESS_SHOWN or name.endswith(SCRIPT_SUFFIXES)


@dataclass(frozen=True)
class EditPolicy:
    """What one action's answer may change, computed from its plan: the files it showed the
    model (`shown`: the selection's file, every file of the packed context, the files using
    the selection), and new files only below `create_in` (the selection's folder) when the
    action may create files (None: it may not). `root` is the workspace, for the checks of
    what stands on disk."""

    root: Path
    shown: frozenset[str]
    create_in: str | None = None

    @classmethod
    def for_action(
        cls,
        root: Path,
        selection: str,
        shown: Iterable[str],
        *,
        action: str,
        intent: str | None,
        instruction: str | None,
    ) -> EditPolicy:
        """A refactor with a free instruction or a file-creating intent ("extract
        function") may add files next to the selection; every other action may not."""
        creates = action == Action.REFACTOR and (bool(instruction) or intent in CREATING_INTENTS)
        folder = posixpath.dirname(selection)
        return cls(
            root,
            frozenset(_norm(p) for p in (selection, *shown)),
            folder if creates else None,
        )

    def check_name(self, path: str) -> None:
        """Before anything is read: the names never edited, whatever was shown."""
        why = _tool_refusal(path)
        if why is not None:
            raise EditError(f"{path}: {why}")

    def check(self, path: str, exists: bool) -> None:
        """After the file was read (`exists`: it has text): on-disk rules, then whether
        this action may change or create it."""
        disk_refusal(self.root, path)
        if path in self.shown:
            return
        if _runs_unless_shown(path):
            raise EditError(
                f"{path}: a file tools run (Makefile, shell script, setup.py, conftest.py, ...); "
                "changed only when the action showed it"
            )
        if exists:
            raise EditError(
                f"{path}: the action did not show this file; only the selection's file, "
                "its context and the files using it may change"
            )
        if self.create_in is None:
            raise EditError(
                f"{path}: does not exist, and this action does not create files (a refactor "
                "with an instruction or 'extract function' may, next to the selection)"
            )
        folder, name = posixpath.split(path)
        if any(p.startswith(".") for p in path.split("/")):
            raise EditError(f"{path}: a new hidden file or a file in a hidden folder; not created")
        base = self.create_in
        if base and folder != base and not folder.startswith(base + "/"):
            raise EditError(
                f"{path}: new files go only next to the selection, in {base}/ or a subfolder"
            )
        if any(p in ALWAYS_PRUNED for p in folder.split("/")):
            raise EditError(f"{path}: inside a tool folder; not created")
        if languages.language_for_path(name) is None:
            raise EditError(f"{path}: a new file must be source code in a language scopewise knows")

    def check_change(self, change: FileChange) -> None:
        """After the edits were placed: a pyproject.toml may change, but never its
        [tool.scopewise] table (scopewise's own settings)."""
        if posixpath.basename(change.path) != "pyproject.toml":
            return
        before = None if change.created else _scopewise_table(change.before)
        after = _scopewise_table(change.after)
        if after is _UNREADABLE:
            raise EditError(
                f"{change.path}: the edit would leave invalid TOML, where scopewise's settings "
                "live; not edited"
            )
        if before is _UNREADABLE or before != after:
            raise EditError(
                f"{change.path}: the edit changes [tool.scopewise], scopewise's own "
                "settings; a model edit never does"
            )


_UNREADABLE: Any = object()


def _scopewise_table(text: str) -> Any:
    """pyproject's [tool.scopewise] table (None when absent), or _UNREADABLE."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return _UNREADABLE
    tool = data.get("tool")
    return tool.get("scopewise") if isinstance(tool, dict) else None


def _norm(path: str) -> str:
    return posixpath.normpath(path.strip().removeprefix("./"))


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
    starts = line_starts(text)
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


class _Newlines:
    """A CRLF file seen with LF newlines: edits are placed on the LF view (the model's text
    and the index's lines use "\\n") and mapped back, their new text written with the
    file's own newline style."""

    def __init__(self, text: str) -> None:
        crlf = text.count("\r\n")
        self.crlf = crlf > 0 and crlf * 2 >= text.count("\n")  # the file's main style
        # positions, in the view, of each "\n" that was "\r\n" on disk
        self.dropped: list[int] = []
        if crlf:
            for k, m in enumerate(re.finditer("\r\n", text)):
                self.dropped.append(m.start() - k)
        self.view = text.replace("\r\n", "\n") if crlf else text

    def to_text(self, offset: int) -> int:
        """A view offset as an offset into the text on disk."""
        return offset + bisect.bisect_left(self.dropped, offset)

    def to_view(self, offset: int) -> int:
        lo, hi = 0, len(self.view)
        while lo < hi:  # the largest view offset that maps at or before `offset`
            mid = (lo + hi + 1) // 2
            if self.to_text(mid) <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def styled(self, text: str) -> str:
        """New text in the file's newline style."""
        text = text.replace("\r\n", "\n")
        return text.replace("\n", "\r\n") if self.crlf else text


def _edit_path(raw: str, n: int) -> str:
    """An edit's path, normalised; it must be relative to the workspace and stay inside it."""
    path = raw.strip().removeprefix("./")
    if not path or path.startswith("/") or ".." in path.split("/"):
        raise EditError(f"edit {n}: path {raw!r} must be relative to the workspace")
    return posixpath.normpath(path)


def resolve(
    proposed: list[ProposedEdit],
    read: Callable[[str], str | None],
    prefer: dict[str, tuple[int, int]] | None = None,
    policy: EditPolicy | None = None,
) -> list[FileChange]:
    """Resolve each edit against the current text of its file (`read` gives it, None when the
    file does not exist). All or nothing: the first edit that cannot be placed, or that
    `policy` does not allow, raises. Offsets are into the text as read (CRLF kept); the
    edit is matched with LF newlines and its new text takes the file's style."""
    changes: dict[str, FileChange] = {}
    views: dict[str, _Newlines] = {}
    placed_in: dict[str, list[Replacement]] = {}
    for n, edit in enumerate(proposed, 1):
        path = _edit_path(edit.path, n)
        change = changes.get(path)
        if change is None:
            if policy is not None:
                policy.check_name(path)
            text = read(path)
            if text is not None and "\0" in text:
                raise EditError(f"{path}: contains NUL bytes (binary); not edited")
            if policy is not None:
                policy.check(path, text is not None)
            if text is None:
                if edit.old_text.strip():
                    raise EditError(f"edit {n}: {path} does not exist")
                changes[path] = FileChange(path, "", [Replacement(0, 0, edit.new_text)], True)
                continue
            change = changes[path] = FileChange(path, text)
            views[path] = _Newlines(text)
            placed_in[path] = []
        if change.created:
            raise EditError(f"edit {n}: {path} is created by an earlier edit; write it in one")
        if not edit.old_text:
            raise EditError(f"edit {n}: old_text is empty; {path} exists")
        nl = views[path]
        edit = ProposedEdit(path, edit.old_text.replace("\r\n", "\n"), edit.new_text)
        if MARK in edit.old_text:  # the model saw a redacted secret: put the real one back
            edit = _unredact(edit, nl.view, n)
        span = (prefer or {}).get(path)
        if span is not None:
            span = (nl.to_view(span[0]), nl.to_view(span[1]))
        where = _find(nl.view, edit.old_text, span)
        if isinstance(where, str):
            raise EditError(f"edit {n} ({path}): {where}")
        text = edit.new_text.replace("\r\n", "\n")
        if where.fuzzy:
            text = _reindent(text, nl.view[where.start : where.end], edit.old_text)
        placed = Replacement(where.start, where.end, text, where.fuzzy)
        for other in placed_in[path]:
            if placed.start < other.end and other.start < placed.end:
                raise EditError(f"edit {n} ({path}): overlaps another edit")
        placed_in[path].append(placed)
        start, end = nl.to_text(placed.start), nl.to_text(placed.end)
        change.replacements.append(Replacement(start, end, nl.styled(text), placed.fuzzy))
    if policy is not None:
        for change in changes.values():
            policy.check_change(change)
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
    """How many syntax errors the edit adds to the file (0 when its language is unknown, or
    when the file is too slow to parse within the time limit: the check is skipped, logged,
    and the edit still goes through version checks and review)."""
    spec = languages.language_for_path(change.path)
    if spec is None:
        return 0
    try:
        before = 0
        if not change.created:
            tree = _extract.parse(spec.name, change.before.encode("utf-8", "surrogatepass"))
            before = len(_extract.error_lines(tree.root_node)) if tree.root_node.has_error else 0
        tree = _extract.parse(spec.name, change.after.encode("utf-8", "surrogatepass"))
        after = len(_extract.error_lines(tree.root_node)) if tree.root_node.has_error else 0
    except _extract.ParseTimeout as exc:
        log.warning("%s: syntax check skipped: %s", change.path, exc)
        return 0
    return max(0, after - before)
