"""Code actions from the index alone: Explain, Refactor per intent and Fix, each with a sibling
forced to the other end of the scale, planned offline (no network, no blocking I/O) in a few
milliseconds; and the edits of a finished run as one versioned WorkspaceEdit."""

from __future__ import annotations

import contextlib
import itertools
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lsprotocol import types

from scopewise.actions import prompts
from scopewise.actions.edits import FileChange
from scopewise.actions.plan import ActionRequest, Actions, Plan
from scopewise.actions.prompts import DiagnosticInfo
from scopewise.analysis.engine import Engine, EngineError
from scopewise.analysis.scope import Analysis
from scopewise.index.buffer import Document
from scopewise.index.extract import digest

from .documents import LineIndex, OpenDocuments
from .settings import ClientSupport

RUN_COMMAND = "scopewise.run"
EXPLAIN_KIND = "source.scopewise.explain"
REFACTOR_KIND = types.CodeActionKind.RefactorRewrite.value
FIX_KIND = types.CodeActionKind.QuickFix.value
KINDS = (EXPLAIN_KIND, REFACTOR_KIND, FIX_KIND)
_SEVERITY = {1: "error", 2: "warning", 3: "info", 4: "hint"}


# ---------------------------------------------------------------------------- memoised planning
class ServerEngine(Engine):
    """The engine, with analyses and contexts shared between the plans of one request (a
    listing plans a dozen actions over the same range)."""

    _memo: dict[tuple[Any, ...], Any] | None = None

    @contextlib.contextmanager
    def memo(self) -> Iterator[None]:
        self._memo = {}
        try:
            yield
        finally:
            self._memo = None

    def analyze(
        self, file: str | Path, start_line: int, end_line: int, diagnostics: int = 0
    ) -> Analysis:
        if self._memo is None:
            return super().analyze(file, start_line, end_line, diagnostics)
        key = ("analyze", str(file), start_line, end_line, diagnostics)
        hit: Analysis | None = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = super().analyze(file, start_line, end_line, diagnostics)
        return hit

    def context_for(self, analysis: Analysis, budget: int) -> Any:
        if self._memo is None:
            return super().context_for(analysis, budget)
        key = ("context", id(analysis), budget)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = super().context_for(analysis, budget)
        return hit


# ---------------------------------------------------------------------------- action data
@dataclass(frozen=True)
class ActionData:
    """Everything needed to run an action later: the plan's inputs and the versions of the
    documents it was planned on. Travels as the code action's `data` and command argument."""

    action: str
    uri: str
    path: str
    start_line: int  # 1-based inclusive
    end_line: int
    versions: dict[str, int] = field(default_factory=dict)  # uri -> version at plan time
    intent: str | None = None
    instruction: str | None = None
    diagnostics: tuple[DiagnosticInfo, ...] = ()
    tier: str | None = None
    override_cap: bool = False
    title: str = ""
    reason: str = ""
    plan_id: str = ""

    def request(self) -> ActionRequest:
        return ActionRequest(
            self.action,
            self.path,
            self.start_line,
            self.end_line,
            instruction=self.instruction,
            intent=self.intent,
            diagnostics=self.diagnostics,
            tier=self.tier,
            override_cap=self.override_cap,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "uri": self.uri,
            "path": self.path,
            "startLine": self.start_line,
            "endLine": self.end_line,
            "versions": dict(self.versions),
            "intent": self.intent,
            "instruction": self.instruction,
            "diagnostics": [
                {"line": d.line, "message": d.message, "severity": d.severity, "source": d.source}
                for d in self.diagnostics
            ],
            "tier": self.tier,
            "overrideCap": self.override_cap,
            "title": self.title,
            "reason": self.reason,
            "planId": self.plan_id,
        }

    @classmethod
    def from_json(cls, raw: Any) -> ActionData:
        """Parse a command argument; ValueError says what is wrong with it."""
        if not isinstance(raw, dict):
            raise ValueError("scopewise.run takes one object argument (a code action's data)")

        def get(key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
            value = raw.get(key, default)
            if value is ... or (value is not None and not isinstance(value, kind)):
                raise ValueError(f"scopewise.run: {key!r} is missing or not {_name(kind)}")
            if isinstance(value, bool) and kind is int:
                raise ValueError(f"scopewise.run: {key!r} is not an integer")
            return value

        action = get("action", str)
        if action not in ("explain", "refactor", "fix"):
            raise ValueError(f"scopewise.run: unknown action {action!r}")
        start, end = get("startLine", int), get("endLine", int)
        if start < 1 or end < start:
            raise ValueError(f"scopewise.run: bad line range {start}-{end}")
        intent = get("intent", str, None)
        if intent is not None and intent not in prompts.INTENTS:
            raise ValueError(f"scopewise.run: unknown intent {intent!r}")
        tier = get("tier", str, None)
        if tier not in (None, "auto", "quick", "standard", "deep"):
            raise ValueError(f"scopewise.run: unknown tier {tier!r}")
        versions = get("versions", dict, {}) or {}
        if not all(isinstance(k, str) and type(v) is int for k, v in versions.items()):
            raise ValueError("scopewise.run: 'versions' maps URIs to integer versions")
        diags = []
        for d in get("diagnostics", list, []) or []:
            if not (
                isinstance(d, dict)
                and type(d.get("line")) is int
                and isinstance(d.get("message"), str)
            ):
                raise ValueError("scopewise.run: a diagnostic needs an integer line and a message")
            source = d.get("source")
            diags.append(
                DiagnosticInfo(
                    d["line"],
                    d["message"],
                    str(d.get("severity") or "error"),
                    source if isinstance(source, str) else None,
                )
            )
        return cls(
            action=action,
            uri=get("uri", str),
            path=get("path", str),
            start_line=start,
            end_line=end,
            versions=dict(versions),
            intent=intent,
            instruction=get("instruction", str, None),
            diagnostics=tuple(diags),
            tier=None if tier == "auto" else tier,
            override_cap=bool(get("overrideCap", bool, False)),
            title=get("title", str, "") or "",
            reason=get("reason", str, "") or "",
            plan_id=get("planId", str, "") or "",
        )


def _name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def diagnostic_info(d: types.Diagnostic) -> DiagnosticInfo:
    severity = _SEVERITY.get(int(d.severity), "error") if d.severity is not None else "error"
    return DiagnosticInfo(d.range.start.line + 1, d.message, severity, d.source)


def kind_wanted(kind: str, only: Sequence[str] | None) -> bool:
    """LSP kinds are hierarchical: `refactor` asks for `refactor.rewrite` too."""
    if not only:
        return True
    return any(kind == f or kind.startswith(f + ".") for f in only)


# ---------------------------------------------------------------------------- listing
@dataclass(frozen=True)
class Target:
    """The range a listing is for, in 1-based lines, with the document's version."""

    uri: str
    path: str
    start_line: int
    end_line: int
    version: int | None
    diagnostics: tuple[types.Diagnostic, ...] = ()


class Lister:
    """Builds the code-action list for a range and resolves its entries later."""

    def __init__(self, support: ClientSupport, cache_size: int = 256) -> None:
        self.support = support
        self._plans: OrderedDict[str, Plan] = OrderedDict()
        self._ids = itertools.count(1)
        self._cache_size = cache_size

    def remember(self, plan: Plan) -> str:
        pid = str(next(self._ids))
        self._plans[pid] = plan
        while len(self._plans) > self._cache_size:
            self._plans.popitem(last=False)
        return pid

    def recall(self, pid: str) -> Plan | None:
        return self._plans.get(pid)

    def actions_for(
        self, actions: Actions, target: Target, only: Sequence[str] | None
    ) -> list[types.CodeAction]:
        """Every action for the target the client asked for (`only`). Raises ActionError
        when the range cannot be planned at all (unsupported file, bad range...)."""
        out: list[types.CodeAction] = []
        versions = {target.uri: target.version} if target.version is not None else {}
        base = ActionData("explain", target.uri, target.path, target.start_line, target.end_line)
        base = replace(base, versions=versions)
        if kind_wanted(FIX_KIND, only):
            diags = tuple(diagnostic_info(d) for d in target.diagnostics)
            if not diags:
                diags = self._syntax_errors(actions.engine, target)
            if diags:
                lines = [d.line for d in diags]
                fix = replace(
                    base,
                    action="fix",
                    start_line=min(target.start_line, *lines),
                    end_line=max(target.end_line, *lines),
                    diagnostics=diags,
                )
                out += self._menu(actions, [(fix, FIX_KIND)], target.diagnostics)
        menu: list[tuple[ActionData, str]] = []
        if kind_wanted(EXPLAIN_KIND, only):
            menu.append((base, EXPLAIN_KIND))
        if kind_wanted(REFACTOR_KIND, only):
            menu += [
                (replace(base, action="refactor", intent=intent), REFACTOR_KIND)
                for intent in prompts.INTENTS
            ]
        return out + self._menu(actions, menu)

    @staticmethod
    def _syntax_errors(engine: Engine, target: Target) -> tuple[DiagnosticInfo, ...]:
        try:
            engine.sync(target.path)
            analysis = engine.analyze(target.path, target.start_line, target.end_line)
        except EngineError:
            return ()
        lo, hi = target.start_line - 1, target.end_line - 1
        return tuple(
            DiagnosticInfo(line + 1, "syntax error", "error", "tree-sitter")
            for line in analysis.file.errors
            if lo <= line <= hi
        )

    def _menu(
        self,
        actions: Actions,
        menu: list[tuple[ActionData, str]],
        diagnostics: Sequence[types.Diagnostic] = (),
    ) -> list[types.CodeAction]:
        """Each action on the sliding scale, its sibling forced to the other end, and for
        each one over the spending cap a sibling that overrides the cap. One range: one
        analysis and one packed context for the whole menu."""
        if not menu:
            return []
        variants = [replace(d, tier=t) for d, _ in menu for t in (None, "quick", "deep")]
        plans = actions.plan_all([v.request() for v in variants])
        chosen: list[tuple[Plan, ActionData, str, str]] = []
        for i, (data, kind) in enumerate(menu):
            auto, quick, deep = plans[3 * i : 3 * i + 3]
            other, forced = ("quick", quick) if auto.route.tier == "deep" else ("deep", deep)
            chosen.append((auto, data, kind, ""))
            chosen.append((forced, replace(data, tier=other), kind, f" ({other})"))
        blocked = [(p, d, k, s) for p, d, k, s in chosen if p.blocked]
        overrides: dict[int, Plan] = {}
        if blocked:
            over = actions.plan_all(
                [replace(d, override_cap=True).request() for _, d, _, _ in blocked]
            )
            overrides = {id(b[0]): o for b, o in zip(blocked, over, strict=True)}
        out: list[types.CodeAction] = []
        for plan, data, kind, suffix in chosen:
            out += self._entry(plan, data, kind, suffix, diagnostics)
            if plan.blocked:
                out += self._entry(
                    overrides[id(plan)],
                    replace(data, override_cap=True),
                    kind,
                    suffix + " (over the daily cap)",
                    diagnostics,
                )
        return out

    def _entry(
        self,
        plan: Plan,
        data: ActionData,
        kind: str,
        suffix: str,
        diagnostics: Sequence[types.Diagnostic],
    ) -> list[types.CodeAction]:
        if plan.blocked and not self.support.disabled:
            return []  # a client that cannot grey it out gets only the override
        title = plan.title + suffix
        data = replace(data, title=title, reason=plan.route.summary, plan_id=self.remember(plan))
        action = types.CodeAction(
            title=title,
            kind=kind,
            diagnostics=list(diagnostics) or None,
            disabled=types.CodeActionDisabled(reason=plan.blocked) if plan.blocked else None,
            data=data.to_json(),
            tags=[types.CodeActionTag.LlmGenerated] if self.support.llm_tag else None,
        )
        if "command" not in self.support.resolve:
            action.command = command(plan, data)
        return [action]

    def resolve(self, actions: Actions, action: types.CodeAction) -> types.CodeAction:
        """Fill in what was left for later: the command, with the plan in its tooltip."""
        data = ActionData.from_json(action.data)
        plan = self.recall(data.plan_id)
        if plan is None or plan.request != data.request():
            plan = actions.plan(data.request())
        action.command = command(plan, data)
        return action


def command(plan: Plan, data: ActionData) -> types.Command:
    return types.Command(
        title=data.title or plan.title,
        command=RUN_COMMAND,
        arguments=[data.to_json()],
        tooltip=tooltip(plan),
    )


def tooltip(plan: Plan) -> str:
    e = plan.estimate
    ctx = plan.context
    lines = [
        plan.route.summary,
        f"{plan.route.model} ({plan.route.reasoning.describe()})",
        f"~{e.input_tokens:,} tokens in ({e.cached_tokens:,} from cache), ~{e.output_tokens:,} "
        f"out, ~${e.usd:.4f}",
        f"context: {len(ctx.snippets)} snippets, {ctx.tokens:,} of {ctx.budget:,} tokens"
        + (f"; {len(ctx.dropped)} left out" if ctx.dropped else ""),
    ]
    if plan.blocked:
        lines.append(plan.blocked)
    return "\n".join(lines)


def target_lines(rng: types.Range, line_count: int | None) -> tuple[int, int]:
    """1-based inclusive lines of an LSP range (a range ending at column 0 stops the line
    before)."""
    start = rng.start.line
    end = rng.end.line
    if end > start and rng.end.character == 0:
        end -= 1
    if line_count is not None:
        end = min(end, max(line_count - 1, 0))
        start = min(start, end)
    return start + 1, end + 1


def expand_cursor(engine: Engine, doc: Document | None, path: str, line: int) -> tuple[int, int]:
    """An empty selection means the innermost definition around the cursor (1-based)."""
    fi = engine.workspace.get(path)
    if doc is not None and doc.tree is not None and (fi is None or fi.digest != digest(doc.source)):
        fi = engine.workspace.update(path, doc.source, doc.tree)  # as engine.sync would
    if fi is None:
        try:
            engine.sync(path)
            fi = engine.analyze(path, line, line).file
        except EngineError:
            return line, line
    i = fi.enclosing(line - 1, line - 1)
    if i is None:
        return line, line
    d = fi.definitions[i]
    return d.start_line + 1, d.end_line + 1


# ---------------------------------------------------------------------------- edits
class StaleEdit(Exception):
    """A document changed since the run started; the message names it."""


def workspace_edit(
    changes: Sequence[FileChange],
    docs: OpenDocuments,
    read_disk: Any,
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
        doc = docs.by_rel(change.path)
        if doc is not None:
            before = start_versions.get(uri)
            if before is not None and doc.version != before:
                raise StaleEdit(f"{change.path} changed while the action ran")
            if doc.text != change.before:
                raise StaleEdit(f"{change.path} no longer matches what the edit was made for")
            version: int | None = doc.version
        else:
            current = read_disk(change.path)
            if change.created:
                if current is not None:
                    raise StaleEdit(f"{change.path} appeared while the action ran")
            elif current != change.before:
                raise StaleEdit(f"{change.path} changed on disk while the action ran")
            version = None
        index = LineIndex(change.before, encoding)
        edits: list[types.TextEdit | types.AnnotatedTextEdit] = []
        for r in sorted(change.replacements, key=lambda r: r.start):
            rng = index.range(r.start, r.end)
            if ann_id is not None:
                edits.append(
                    types.AnnotatedTextEdit(annotation_id=ann_id, range=rng, new_text=r.text)
                )
            else:
                edits.append(types.TextEdit(range=rng, new_text=r.text))
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
