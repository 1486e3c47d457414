"""The one vocabulary: the names every layer and both editor clients share — actions, tiers,
refactor intents, effort levels, providers, definition kinds, the LSP kinds of the code
actions, a diagnostic as an action sees it, and the error of a request the engine cannot
answer. Defined here once; spelled nowhere else.

This module imports nothing of scopewise's: it is the bottom of the house."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class Action(StrEnum):
    """What the user asks for."""

    EXPLAIN = "explain"
    REFACTOR = "refactor"
    FIX = "fix"


EDIT_ACTIONS = frozenset({Action.REFACTOR, Action.FIX})  # answered with edits, not prose


class Tier(StrEnum):
    """A rung of the sliding scale, cheapest first (the order matters: escalation climbs)."""

    QUICK = "quick"
    STANDARD = "standard"
    DEEP = "deep"


TIERS: tuple[Tier, ...] = tuple(Tier)


def next_tier(tier: str) -> Tier | None:
    """The next rung up the scale, or None at the top."""
    i = TIERS.index(Tier(tier))
    return TIERS[i + 1] if i + 1 < len(TIERS) else None


class Intent(StrEnum):
    """The named refactorings (a free instruction is the other way to ask)."""

    SIMPLIFY = "simplify"
    EXTRACT_FUNCTION = "extract function"
    IMPROVE_NAMES = "improve names"
    ADD_TYPES = "add types"
    MAKE_IDIOMATIC = "make idiomatic"


# Intents that may change the public interface (names, signatures) and so every site that
# uses it; a free instruction may too. The others change a body only, behind its interface.
INTERFACE_INTENTS = frozenset({Intent.IMPROVE_NAMES})


class Role(StrEnum):
    """The steps of a wide change: deep plans it, a cheaper tier writes it file by file, and
    verification (no model) checks every site."""

    PLAN = "plan"
    WRITE = "write"
    VERIFY = "verify"


Effort = Literal["low", "medium", "high", "xhigh", "max"]
EFFORT_LEVELS: tuple[Effort, ...] = ("low", "medium", "high", "xhigh", "max")
Thinking = Literal["off", "adaptive"]
Provider = Literal["anthropic", "bedrock", "vertex"]
PROVIDERS: tuple[Provider, ...] = ("anthropic", "bedrock", "vertex")


# Definition kinds the index extracts (index/extract.py and the queries name them), and the
# groups the analysis asks about.
class Kind(StrEnum):
    FUNCTION = "function"
    METHOD = "method"
    CLASS = "class"
    INTERFACE = "interface"
    ENUM = "enum"
    TYPE = "type"
    MODULE = "module"
    CONSTANT = "constant"
    VARIABLE = "variable"
    FIELD = "field"
    MACRO = "macro"
    ATTRIBUTE = "attribute"  # `self.x = ...` in a method: a member found where it is set


TYPE_KINDS = frozenset({Kind.CLASS, Kind.INTERFACE, Kind.ENUM})  # a name that makes instances
CLASS_LIKE = frozenset({Kind.CLASS, Kind.INTERFACE})  # has members and bases
CONTAINER_KINDS = frozenset({Kind.CLASS, Kind.INTERFACE, Kind.MODULE})  # encloses members
DATA_KINDS = frozenset({Kind.CONSTANT, Kind.VARIABLE, Kind.FIELD})  # names a value, not code


# The LSP code-action kinds of the three actions (the clients filter and bind keys on them).
CODE_ACTION_KINDS: dict[Action, str] = {
    Action.EXPLAIN: "source.scopewise.explain",
    Action.REFACTOR: "refactor.rewrite",
    Action.FIX: "quickfix",
}
RUN_COMMAND = "scopewise.run"
# A project action's code-action kind (`[[actions]]`): this prefix by its kind, then its slug
PROJECT_KIND_PREFIX: dict[str, str] = {
    "edit": "refactor.rewrite.scopewise",
    "explain": "source.scopewise",
}
# "Project actions…": asks which project action (window/showMessageRequest), then runs it
CHOOSE_PROJECT_ACTION_COMMAND = "scopewise.chooseProjectAction"
PROJECT_ACTIONS_COMMAND = "scopewise.projectActions"  # {"uri"?} -> the project's actions
# "Refactor…": asks which intent (window/showMessageRequest), then runs it as RUN_COMMAND
CHOOSE_INTENT_COMMAND = "scopewise.chooseIntent"
# {"of": a choose command, "data"} -> its question and choices, asked by a client that picks
# in its own UI (VS Code's quick pick), then runs the one picked as RUN_COMMAND
CHOICES_COMMAND = "scopewise.choices"
USAGE_COMMAND = "scopewise.usage"
REINDEX_COMMAND = "scopewise.reindex"
RUN_TESTS_COMMAND = "scopewise.runTests"  # the affected tests of the last applied edit
APPLY_PROPOSAL_COMMAND = "scopewise.applyProposal"  # {"id", "hunks": [int] | null}
DISCARD_PROPOSAL_COMMAND = "scopewise.discardProposal"  # {"id"}
PROPOSAL_DIFF_COMMAND = "scopewise.proposalDiff"  # {"id"} -> {"uri"} of the unified diff
PROPOSAL_NOTIFICATION = "scopewise/proposal"  # a proposal, to a client with `review`
# a follow-up on the cached prefix: {"proposal": id} or {"explanation": run id}, "instruction"
REVISE_COMMAND = "scopewise.revise"


@dataclass(frozen=True)
class DiagnosticInfo:
    """A problem the user wants fixed, as the action sees it (from the editor or the CLI)."""

    line: int  # 1-based
    message: str
    severity: str = "error"
    source: str | None = None


class EngineError(Exception):
    """A request the engine cannot answer; the message says why, in one line."""


def plural(n: int, word: str, more: str = "") -> str:
    """`n word(s)` as messages say it; with `more` ("+"), a lower bound: `300+ references`."""
    return f"{n}{more} {word}" if n == 1 and not more else f"{n}{more} {word}s"
