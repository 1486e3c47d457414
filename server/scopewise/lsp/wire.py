"""The client contract, typed: what travels in a code action's `data` (and as the argument of
`scopewise.run`), and what the commands answer. One cattrs converter turns these dataclasses
into the JSON the clients read (camelCase keys, in field order) and back, checking types.

The clients read these fields (clients/vscode/src/extension.ts `RunResult`, `UsageTotals`;
clients/neovim/lua/scopewise/init.lua): keep the names and the order, or change them there too.
This module knows nothing of the server, the documents or the index."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from scopewise.actions.api import Totals
from scopewise.actions.model import ActionRequest
from scopewise.vocab import Action, DiagnosticInfo, Intent, Tier

T = TypeVar("T")


@dataclass(frozen=True)
class ActionData:
    """Everything needed to run an action later: the plan's inputs and the versions of the
    documents it was planned on. Travels as the code action's `data` and command argument."""

    action: Action
    uri: str
    path: str
    start_line: int  # 1-based inclusive
    end_line: int
    versions: dict[str, int] = field(default_factory=dict)  # uri -> version at plan time
    intent: Intent | None = None
    instruction: str | None = None
    diagnostics: tuple[DiagnosticInfo, ...] = ()
    tier: Tier | None = None  # None: the sliding scale decides (a client may send "auto")
    override_cap: bool = False
    title: str = ""
    reason: str = ""
    plan_id: str = ""
    project_action: str | None = None  # a project action's name (`[[actions]]`)

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
            project_action=self.project_action,
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = converter.unstructure(self)
        return out

    @classmethod
    def from_json(cls, raw: Any) -> ActionData:
        """Parse a command argument; ValueError says what is wrong with it. A null counts as
        absent (the default), "auto" as no tier; keys the server does not know are ignored."""
        if not isinstance(raw, dict):
            raise ValueError("scopewise.run takes one object argument (a code action's data)")
        given = {k: v for k, v in raw.items() if v is not None}
        if given.get("tier") == "auto":
            del given["tier"]
        try:
            data = converter.structure(given, cls)
        except cattrs.BaseValidationError as exc:
            why = "; ".join(cattrs.transform_error(exc, path="scopewise.run")[:5])
            raise ValueError(f"scopewise.run: {why}") from None
        if data.start_line < 1 or data.end_line < data.start_line:
            raise ValueError(f"scopewise.run: bad line range {data.start_line}-{data.end_line}")
        return data


# ---------------------------------------------------------------------------- command answers
@dataclass(frozen=True, kw_only=True)
class Refused:
    """Nothing happened; the reason was shown to the user too. Absent fields are left out."""

    applied: bool = False
    reason: str
    error: str | None = None  # the kind of a Claude error
    usd: float | None = None  # what the run cost, when it got that far
    tier: str | None = None
    model: str | None = None


@dataclass(frozen=True, kw_only=True)
class Cancelled:
    """The user cancelled the run's progress; what it spent so far."""

    applied: bool = False
    cancelled: bool = True
    usd: float
    document: str | None = None  # a cut explanation's URI (it keeps what arrived)


@dataclass(frozen=True, kw_only=True)
class ReviseCost:
    """What "Revise…" would cost: the follow-up's tier and estimate, and whether its prefix
    is expected from the prompt cache (e.g. "Revise… (standard, ~$0.004, cached)"); when it
    is, until when (epoch seconds) and what it costs after (a revise asked later)."""

    tier: str
    usd: float
    cached: bool = False
    cached_until: float | None = None
    uncached_usd: float | None = None


@dataclass(frozen=True, kw_only=True)
class Shown:
    """An explanation, written to a document (and shown when the editor can)."""

    document: str  # its URI
    shown: bool
    usd: float
    tier: str
    run: str | None = None  # its run id (`scopewise.revise` {"explanation": run})
    revise: ReviseCost | None = None  # None: it cannot be revised


@dataclass(frozen=True, kw_only=True)
class Applied:
    """The edit the editor applied."""

    applied: bool = True
    files: list[str]
    summary: str
    usd: float
    tier: str
    model: str
    tests: list[str] = field(default_factory=list)  # test files that use what changed


# ---------------------------------------------------------------------------- proposals
# The proposal's own keys are sent as named (snake_case: `old_lines`), the protocol of #15.
@dataclass(frozen=True, kw_only=True)
class WireHunk:
    id: int
    start: int  # 1-based first line in the text the proposal was made against
    old_lines: list[str]
    new_lines: list[str]


@dataclass(frozen=True, kw_only=True)
class ProposalFile:
    path: str
    uri: str
    version: int | None  # the open document's version the hunks were made against
    hunks: list[WireHunk]
    created: bool = False


@dataclass(frozen=True, kw_only=True)
class Proposal:
    """A change nothing has applied yet: `scopewise/proposal`, and the run's result."""

    id: str
    title: str
    label: str
    summary: str
    files: list[ProposalFile]
    leftovers: list[str]
    tests: list[str]
    applied: bool = False
    usd: float = 0.0
    tier: str = ""
    model: str = ""
    revise: ReviseCost | None = None  # None: it cannot be revised
    supersedes: str | None = None  # the proposal this one revised (now discarded)


@dataclass(frozen=True, kw_only=True)
class HunkRefused:
    hunk: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class ProposalApplied:
    """`scopewise.applyProposal`: the hunks applied (one edit), those refused and why."""

    applied: list[int]
    refused: list[HunkRefused]
    files: list[str]


@dataclass(frozen=True, kw_only=True)
class ApplyProposalArgs:
    id: str
    hunks: list[int] | None = None  # None: all


@dataclass(frozen=True, kw_only=True)
class ProposalArgs:
    id: str


@dataclass(frozen=True, kw_only=True)
class ReviseArgs:
    """`scopewise.revise`: a proposal's id or an explanation's run id, and the instruction."""

    instruction: str
    proposal: str | None = None
    explanation: str | None = None


@dataclass(frozen=True, kw_only=True)
class Discarded:
    discarded: bool
    id: str


@dataclass(frozen=True, kw_only=True)
class DiffDocument:
    uri: str


RunOutcome = Refused | Cancelled | Shown | Applied | Proposal


@dataclass(frozen=True, kw_only=True)
class ProjectActionInfo:
    """One project action (`[[actions]]`), as `scopewise.projectActions` lists it."""

    name: str
    kind: str  # "explain" | "edit"
    route: str  # "explain" | "refactor" | a tier
    files: list[str]  # globs; empty: every file
    code_action_kind: str  # refactor.rewrite.scopewise.<slug> | source.scopewise.<slug>
    applies: bool  # to the file asked about (true when none was)


@dataclass(frozen=True, kw_only=True)
class ProjectActions:
    """`scopewise.projectActions`: the project's actions, in the settings' order."""

    actions: list[ProjectActionInfo]


@dataclass(frozen=True, kw_only=True)
class ChoicesArgs:
    """`scopewise.choices`: which question (a choose command) and its entry's data."""

    of: str
    data: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class Choice:
    """One answer: its title as the menu would show it, why that tier, the data to run."""

    title: str
    reason: str
    data: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class Choices:
    """`scopewise.choices`: the question a choose command asks, and its answers in order."""

    question: str
    choices: list[Choice]


@dataclass(frozen=True, kw_only=True)
class ProjectActionsArgs:
    uri: str | None = None


@dataclass(frozen=True, kw_only=True)
class TestsRan:
    """`scopewise.runTests`: the test command's verdict, and where its output is."""

    __test__ = False  # not a pytest test class

    passed: bool
    exit_code: int | None  # None: it never started, or was stopped at the timeout
    timed_out: bool
    command: str
    tests: list[str]
    duration_s: float
    document: str | None  # the output's URI, when it was written to one


@dataclass(frozen=True)
class UsageTotals:
    """`scopewise.usage`: the ledger's totals (each one's keys as the ledger names them)."""

    session: Totals
    today: Totals
    all_time: Totals


@dataclass(frozen=True)
class Reindexed:
    """`scopewise.reindex`: what the new index holds."""

    files: int
    symbols: int
    references: int
    seconds: float
    skipped: int


Answer = (
    RunOutcome
    | UsageTotals
    | Reindexed
    | ActionData
    | TestsRan
    | ProposalApplied
    | Discarded
    | DiffDocument
    | ReviseCost
    | ProjectActions
    | Choices
)


def to_json(value: Answer) -> dict[str, Any]:
    out: dict[str, Any] = converter.unstructure(value)
    return out


def command_args(kind: type[T], command: str, args: tuple[Any, ...]) -> T:
    """The one object argument of a command, typed; ValueError says what is wrong."""
    if len(args) != 1 or not isinstance(args[0], dict):
        raise ValueError(f"{command} takes one object argument")
    try:
        return converter.structure(args[0], kind)
    except cattrs.BaseValidationError as exc:
        why = "; ".join(cattrs.transform_error(exc, path=command)[:5])
        raise ValueError(f"{command}: {why}") from None


# ---------------------------------------------------------------------------- the converter
def camel(name: str) -> str:
    """snake_case → camelCase (`start_line` → `startLine`)."""
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


def _exactly(kind: type) -> Any:
    """A structure hook that takes a value of exactly this type (cattrs would convert "3" to
    3 and 1 to True; a client that sends those has a bug worth naming)."""

    def hook(value: Any, _: Any) -> Any:
        if type(value) is not kind:
            raise TypeError(f"not {'an integer' if kind is int else kind.__name__}")
        return value

    return hook


def _member_of(names: type[StrEnum]) -> Any:
    def hook(value: Any, _: Any) -> StrEnum:
        if type(value) is not str or value not in names._value2member_map_:
            raise ValueError(f"unknown {names.__name__.lower()} {value!r}")
        return names(value)

    return hook


def _diagnostic(value: Any, _: Any) -> DiagnosticInfo:
    """Lenient where the old clients were loose: any severity (default error), a source only
    when it is a string."""
    if not (
        isinstance(value, dict)
        and type(value.get("line")) is int
        and isinstance(value.get("message"), str)
    ):
        raise TypeError("a diagnostic needs an integer line and a message")
    source = value.get("source")
    return DiagnosticInfo(
        value["line"],
        value["message"],
        str(value.get("severity") or "error"),
        source if isinstance(source, str) else None,
    )


_CLASSES = (  # ReviseCost first: the answers that hold one are built on its hook
    ReviseCost,
    ActionData,
    Refused,
    Cancelled,
    Shown,
    Applied,
    UsageTotals,
    Reindexed,
    TestsRan,
    ProjectActionInfo,
    ProjectActions,
    ProjectActionsArgs,
)
_AS_NAMED = (
    WireHunk,
    ProposalFile,
    Proposal,
    HunkRefused,
    ProposalApplied,
    ApplyProposalArgs,
    ProposalArgs,
    Discarded,
    DiffDocument,
    ReviseArgs,
    ChoicesArgs,
    Choice,
    Choices,
)
# optional facts are left out rather than sent as null
_OMIT_NONE = (Refused, Cancelled, ReviseCost)


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter()
    for kind in (int, str, bool):
        conv.register_structure_hook(kind, _exactly(kind))
    conv.register_structure_hook(DiagnosticInfo, _diagnostic)
    for enum in (Action, Intent, Tier):
        conv.register_structure_hook(enum, _member_of(enum))
        conv.register_unstructure_hook(enum, lambda member: str(member.value))
    as_list = override(unstruct_hook=lambda ds: [dataclasses.asdict(d) for d in ds])
    conv.register_unstructure_hook(Totals, dataclasses.asdict)
    for cls in _CLASSES:
        names = {
            f.name: override(rename=camel(f.name), omit_if_default=cls in _OMIT_NONE)
            for f in dataclasses.fields(cls)
            if f.default is None or f.name != camel(f.name)
        }
        # Refused.applied is False by default but always sent
        if cls in _OMIT_NONE and any(f.name == "applied" for f in dataclasses.fields(cls)):
            names["applied"] = override(omit_if_default=False)
        if cls is ActionData:
            names["diagnostics"] = as_list  # a list, as the clients send it back
        unstructure = make_dict_unstructure_fn(cls, conv, **names)  # type: ignore[arg-type]
        conv.register_unstructure_hook(cls, unstructure)
        names.pop("diagnostics", None)
        structure = make_dict_structure_fn(cls, conv, **names)  # type: ignore[arg-type]
        conv.register_structure_hook(cls, structure)
    for named in _AS_NAMED:
        conv.register_unstructure_hook(named, make_dict_unstructure_fn(named, conv))
        conv.register_structure_hook(named, make_dict_structure_fn(named, conv))
    return conv


converter = _make_converter()
