"""Settings: one typed model, in layers — defaults, the user config file
(`~/.config/scopewise/config.toml`), the workspace's `.scopewise.toml` or `[tool.scopewise]`
in pyproject.toml, then the editor's settings (section `scopewise`) on top. Keys may be written
camelCase (editors) or snake_case (TOML): `snake` is the one spelling rule. Strict hooks (plain
values) and one cattrs converter (the other kinds, imported on first use) read the merged
values into the dataclasses below, each field's key, check and default in
its definition; a bad value is reported by its key and replaced by the default, an unknown key
is reported as written and ignored; neither ever stops scopewise.

Trust: a workspace file is written by whoever wrote the repository, so the settings that decide
where the key and the code go or how much may be spent (`SENSITIVE`) are taken only from the
user — environment, user config, editor settings — unless the user config lists the workspace
in `trusted_workspaces`. A workspace file that sets one gets a warning naming the key, and its
`exclude` patterns add to the user's, never replace them.

Pure data: this module knows the vocabulary and the user's folders, nothing of the index, the
analysis, Claude or the editor (they import their settings from here)."""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import tomllib
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from scopewise import paths
from scopewise.vocab import EFFORT_LEVELS, TIERS, Action, Provider, Thinking

if TYPE_CHECKING:
    import cattrs

Check = Callable[[Any], bool]
# the advisor rung (Anthropic API only): a deep edit as one call by its writer tier, the deep
# model as its advisor — never ("off"), for a body behind its interface ("body"), for every
# deep edit ("all"); else the deep tier plans and the writer tier writes
Advisor = Literal["off", "body", "all"]


def snake(key: str) -> str:
    """A key as snake_case (`contextBudget` → `context_budget`); the one camelCase rule."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def setting(
    default: Any = dataclasses.MISSING,
    *,
    factory: Any = dataclasses.MISSING,
    check: Check | None = None,
    key: str | None = None,
    group: str | None = None,
    read_as: Any = None,
    reader: Any = None,
    flat: bool = False,
    internal: bool = False,
) -> Any:
    """A settings field: its default, and how it is read. `key`: as written, when it differs
    from the field's name; `group`: the table it sits in (`tiers`); `check`: what a valid value
    satisfies beyond its type (a Literal type is checked by the converter); `read_as`: the type
    read, then converted to the field's; `reader`: a function for a table of free keys; `flat`:
    a dataclass whose keys sit at this level; `internal`: a field no one sets."""
    meta = {"check": check, "key": key, "group": group, "read_as": read_as, "reader": reader}
    meta |= {"flat": flat, "internal": internal}
    return field(
        default=default,
        default_factory=factory,
        metadata={k: v for k, v in meta.items() if v},
    )


def _positive(v: Any) -> bool:
    return bool(v > 0)


def _non_negative(v: Any) -> bool:
    return bool(v >= 0)


def _between(low: float, high: float) -> Check:
    return lambda v: low <= v <= high


def _non_blank(v: str) -> bool:
    return v.strip() != ""


def _globs(v: tuple[str, ...]) -> bool:
    """Gitignore-style globs pathspec compiles (a pattern it rejects, such as "!", would
    fail every listing of the menu, not just this setting)."""
    if not all(_non_blank(g) for g in v):
        return False
    import pathspec  # only where a project names globs (the CLI's start need not pay it)

    try:
        pathspec.GitIgnoreSpec.from_lines(list(v))
    except (ValueError, TypeError):
        return False
    return True


def _effort_range(v: tuple[str, str]) -> bool:
    return all(x in EFFORT_LEVELS for x in v)


def _budget_range(v: tuple[int, int]) -> bool:
    return all(x >= 1024 for x in v)


# A threshold is any number >= 0, kept as its field's type (a whole count truncates).
_THRESHOLD: dict[str, Any] = {"check": _non_negative, "read_as": float}


@dataclass(frozen=True)
class FileSettings:
    """Which files to index. Excludes use gitignore syntax, relative to the root."""

    max_file_bytes: int = setting(1_000_000, check=_positive)
    exclude: tuple[str, ...] = ()
    max_files: int = setting(50_000, check=_positive)
    # a line longer than this in the head marks generated code
    minified_line_chars: int = setting(1000, internal=True)


@dataclass(frozen=True)
class TierConfig:
    """One tier: a model and how it reasons."""

    model: str = setting(check=_non_blank)
    thinking: Thinking = "adaptive"
    # a fixed effort; None with effort_range: scaled by the scope
    effort: str | None = setting(None, check=lambda v: v in EFFORT_LEVELS)
    effort_range: tuple[str, str] | None = setting(None, check=_effort_range)
    # thinking budget for budget-only models
    budget_range: tuple[int, int] = setting((2048, 32000), check=_budget_range)
    # the answer's room (a thinking budget comes on top)
    max_tokens: int = setting(8192, check=_between(256, 128_000))


@dataclass(frozen=True)
class Thresholds:
    """Where the tiers change. `size` is code lines + 3 x decision points of the range;
    `reach` is the expected number of uses of its symbols elsewhere (Scope.fan_in)."""

    # explain: a long or branchy range needs standard ...
    explain_standard_size: float = setting(40.0, **_THRESHOLD)
    explain_standard_fan_out: int = setting(7, **_THRESHOLD)  # ... or one using many definitions
    explain_deep_size: float = setting(200.0, **_THRESHOLD)
    deep_size: float = setting(45.0, **_THRESHOLD)  # refactor/fix: this much code goes deep
    deep_reach: int = setting(30, **_THRESHOLD)  # ... or this many uses elsewhere
    # an interface that moves (an interface intent, an instruction): used in this many files
    # goes deep too, however few its uses
    deep_files: int = setting(10, **_THRESHOLD)
    # ... or a mid-sized range that uses this many definitions
    coupled_size: float = setting(25.0, **_THRESHOLD)
    coupled_fan_out: int = setting(8, **_THRESHOLD)
    # a refactor of less code, used nowhere, private, stays quick
    quick_size: float = setting(10.0, **_THRESHOLD)
    # a fix of this many lines with <= 2 diagnostics stays quick
    small_fix_lines: int = setting(5, **_THRESHOLD)
    # within deep: effort grows with the larger of size / full_size and reach / full_reach
    full_size: float = setting(200.0, **_THRESHOLD)
    full_reach: int = setting(150, **_THRESHOLD)


AUTO = "auto"  # a forced tier that is none: the sliding scale decides
_ACTIONS = frozenset(Action)


def _read_force(node: Any, key: str, current: dict[str, str], warnings: list[str]) -> Any:
    """`force.<action>`: a tier, or `auto` (left out of the result)."""
    if not isinstance(node, Mapping):
        warnings.append(f"scopewise.{key}: {node!r} is not a table; ignored")
        return current
    for written in node:
        if snake(str(written)) not in _ACTIONS:
            warnings.append(f"scopewise.{key}.{written}: unknown setting; ignored")
    forced: dict[str, str] = {}
    for action in Action:
        value = _lookup(node, action.value)
        if value is None or value == AUTO:
            continue
        if isinstance(value, str) and value in TIERS:
            forced[action.value] = value
        else:
            warnings.append(f"scopewise.{key}.{action}: {value!r} is not valid; using 'auto'")
    return forced


@dataclass(frozen=True)
class RoutingSettings:
    """The sliding scale's settings: the tiers (`tiers.<tier>`), where they change, and the
    actions forced to a tier."""

    quick: TierConfig = setting(
        TierConfig("claude-haiku-5-5", thinking="off", effort="low", max_tokens=4096),
        group="tiers",
    )
    standard: TierConfig = setting(
        TierConfig("claude-sonnet-5-5", effort="low", max_tokens=8192), group="tiers"
    )
    deep: TierConfig = setting(
        TierConfig("claude-opus-5-5", effort_range=("low", "max"), max_tokens=16384),
        group="tiers",
    )
    thresholds: Thresholds = setting(factory=Thresholds)
    # action -> tier; "auto" or absent: the scale decides
    forced: dict[str, str] = setting(factory=dict, key="force", reader=_read_force)
    # a deep edit is planned by the deep tier and written by these: an interface's site edits
    # are mechanical (quick), a body's rewrite is code to get right (standard)
    write_tier_interface: str = setting("quick", check=lambda v: v in TIERS)
    write_tier_body: str = setting("standard", check=lambda v: v in TIERS)
    # instead of plan/write: one call by the writer tier with the deep model as its advisor
    # (see `Advisor`; README: measured against plan/write)
    advisor: Advisor = "body"

    def tier(self, name: str) -> TierConfig:
        cfg: TierConfig = getattr(self, name)
        return cfg


def _read_prices(
    node: Any, key: str, current: dict[str, dict[str, float]], warnings: list[str]
) -> Any:
    """`prices.<model>.<price>`: numbers >= 0; a model with another value is left out."""
    if not isinstance(node, Mapping):
        warnings.append(f"scopewise.{key}: {node!r} is not valid; using {current!r}")
        return current
    prices: dict[str, dict[str, float]] = {}
    for model, table in _normalise(node).items():
        try:
            numbers = structure(table, dict[str, float])
        except Invalid:
            numbers = None
        if (
            isinstance(table, Mapping)
            and numbers is not None
            and all(v >= 0 for v in numbers.values())
        ):
            prices[str(model)] = numbers
        else:
            warnings.append(f"scopewise.{key}.{model}: expected numbers per price; ignored")
    return prices


# ---------------------------------------------------------------------------- project actions
ActionKind = Literal["explain", "edit"]
ActionRoute = Literal["explain", "refactor", "quick", "standard", "deep"]
ACTION_NAME_MAX = 40
ACTION_PROMPT_MAX = 4000
# a name whose slug is a built-in action's would share its code-action kind
_RESERVED_SLUGS = frozenset(a.value for a in Action)


def action_slug(name: str) -> str:
    """A project action's name as a code-action kind's last part: "Add docstrings" →
    "add-docstrings"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _action_name(v: str) -> bool:
    fits = 0 < len(v.strip()) <= ACTION_NAME_MAX and v == v.strip()
    return fits and v.isprintable() and "·" not in v


@dataclass(frozen=True)
class ProjectAction:
    """One `[[actions]]` entry: a project's own action. `kind`: answered like Explain (text)
    or like Refactor (edits, a proposal); `files`: the globs (gitignore style, relative to
    the root) it applies to, all files when empty; `route`: the sliding scale of explain or
    refactor, or a fixed tier (default: its kind's scale). Its prompt is the repository's
    text: it goes to the model as the task, never as the system prompt."""

    name: str = setting(check=_action_name)
    prompt: str = setting(check=lambda v: len(v.strip()) > 0 and len(v) <= ACTION_PROMPT_MAX)
    kind: ActionKind = "edit"
    files: tuple[str, ...] = setting((), check=_globs)
    route: ActionRoute | None = None

    @property
    def slug(self) -> str:
        return action_slug(self.name)

    @property
    def scale(self) -> str:
        """Its route as written, else its kind's: explain's scale or refactor's."""
        return self.route or ("explain" if self.kind == "explain" else "refactor")


def _read_actions(node: Any, key: str, current: Any, warnings: list[str]) -> Any:
    """`[[actions]]`: each entry read on its own; a bad one (a missing or bad field, a name
    already taken) is named in one line and dropped, the rest kept; an unknown key in one is
    named and ignored."""
    if not isinstance(node, (list, tuple)):
        warnings.append(f"scopewise.{key}: {node!r} is not valid; using {_shown(current)}")
        return current
    out: list[ProjectAction] = []
    for i, entry in enumerate(node):
        raw = _normalise(entry) if isinstance(entry, Mapping) else None
        name = raw.get("name") if raw is not None else None
        shown_name = (name if len(name) <= 48 else name[:47] + "…") if isinstance(name, str) else ""
        label = f"scopewise.{key} {shown_name!r}" if shown_name else f"scopewise.{key}[{i}]"
        found = Found()
        action = _read(ProjectAction, raw, _ACTION_BASE, "", found) if raw is not None else None
        why = _action_problem(raw, action, found, out)
        if why is not None or action is None:
            warnings.append(f"{label}: {why}; this action is left out")
            continue
        warnings += [f"{label}: {w.removeprefix('scopewise.')}" for w in found]
        out.append(action)
    return tuple(out)


_ACTION_HINTS = {
    "name": f"the name must be 1 to {ACTION_NAME_MAX} printable characters (no '·')",
    "prompt": f"the prompt must be 1 to {ACTION_PROMPT_MAX} characters",
    "kind": "kind must be 'explain' or 'edit'",
    "files": "files must be a list of globs",
    "route": "route must be 'explain', 'refactor', 'quick', 'standard' or 'deep'",
}


def _action_problem(
    raw: Mapping[str, Any] | None,
    action: ProjectAction | None,
    found: Found,
    taken: list[ProjectAction],
) -> str | None:
    """Why an `[[actions]]` entry cannot be used (its first problem), or None."""
    if raw is None or action is None:
        return "not a table"
    for need in ("name", "prompt"):
        if raw.get(need) is None:
            return f"{need} is missing"
    for key in found.bad:
        if key in _ACTION_HINTS:
            return _ACTION_HINTS[key]
    if not action.slug or action.slug in _RESERVED_SLUGS:
        return f"the name {action.name!r} is a built-in action's (explain, refactor, fix)"
    if any(a.slug == action.slug for a in taken):
        return f"another action is already named {action.name!r}"
    return None


_ACTION_BASE = ProjectAction(name="", prompt="")


@dataclass(frozen=True)
class Settings:
    """Everything scopewise can be told; the index's and the scale's keys sit at the top."""

    index: FileSettings = setting(factory=FileSettings, flat=True)
    routing: RoutingSettings = setting(factory=RoutingSettings, flat=True)
    # tokens of codebase context per action: the floor, what a local change gets
    context_budget: int = setting(6000, check=_between(256, 200_000))
    # the most a wide change's context may grow to (its site list and their bodies)
    context_budget_max: int = setting(24_000, check=_between(256, 200_000))
    # else ANTHROPIC_API_KEY; never logged
    api_key: str | None = setting(None, check=_non_blank)
    # else ANTHROPIC_BASE_URL or the API
    base_url: str | None = setting(None, check=lambda v: v.startswith(("http://", "https://")))
    provider: Provider = "anthropic"
    timeout_s: float = setting(180.0, key="timeout", check=_positive)
    max_retries: int = setting(2, check=_between(0, 10))
    daily_cap_usd: float | None = setting(None, check=_positive)
    prices: dict[str, dict[str, float]] = setting(factory=dict, reader=_read_prices)
    # a wide change: writer calls in flight at once
    write_parallel: int = setting(4, check=_between(1, 16))
    # the plan step's look-ups (find references, read a definition, ...): calls and tokens
    lookup_max_steps: int = setting(8, check=_between(0, 50))
    lookup_max_tokens: int = setting(12_000, check=_between(0, 200_000))
    # run on request only, e.g. "pytest {tests}"; {tests}: the affected test files
    test_command: str | None = setting(None, check=_non_blank)
    # the code-action menu lists every refactor intent (and each one's other tier) instead of
    # one "Refactor…" entry that asks which
    menu_intents: bool = False
    # the menu's analysis of the open files' definitions done while the server is idle, so
    # a first code action on a wide target finds its uses counted (lsp/ahead.py)
    work_ahead: bool = True
    # the project's own actions (`[[actions]]`; see ProjectAction)
    actions: tuple[ProjectAction, ...] = setting(factory=tuple, reader=_read_actions)

    @property
    def largest_context(self) -> int:
        """The most tokens any action's context may hold: past it a range is cut to fit."""
        return max(self.context_budget, self.context_budget_max)


# ---------------------------------------------------------------------------- the converter
def _exactly(*kinds: type) -> Callable[[Any, Any], Any]:
    """A strict structure hook: a value of these types only (a bool is not a number)."""

    def structure(value: Any, kind: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise TypeError(f"{value!r} is not a {kind.__name__}")
        return kind(value)

    return structure


def _boolean(value: Any, kind: Any) -> bool:
    """true or false only (not 1, not "yes")."""
    if not isinstance(value, bool):
        raise TypeError(f"{value!r} is not true or false")
    return value


def _tuple(value: Any, kind: Any) -> tuple[Any, ...]:
    """A tuple from a TOML/JSON list: `tuple[X, ...]` any length, `tuple[X, Y]` exactly two."""
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{value!r} is not a list")
    args = typing.get_args(kind)
    if len(args) == 2 and args[1] is Ellipsis:
        args = (args[0],) * len(value)
    if len(args) != len(value):
        raise ValueError(f"{value!r} does not have {len(args)} items")
    return tuple(structure(v, a) for v, a in zip(value, args, strict=True))


def _is_tuple(kind: Any) -> bool:
    return typing.get_origin(kind) is tuple


class Invalid(ValueError):
    """A value that is not of the kind a setting reads."""


_HOOKS: dict[Any, Callable[[Any, Any], Any]] = {
    str: _exactly(str),
    int: _exactly(int),
    float: _exactly(int, float),
    bool: _boolean,
}


@functools.cache
def converter() -> cattrs.Converter:
    """The cattrs converter for the other kinds (tuples, unions, literals, tables), made and
    imported on first use: a settings file of plain values never loads cattrs."""
    import cattrs

    made = cattrs.Converter()
    for kind, hook in _HOOKS.items():
        made.register_structure_hook(kind, hook)
    made.register_structure_hook_func(_is_tuple, _tuple)
    return made


def structure(value: Any, kind: Any) -> Any:
    """`value` read as `kind` (strictly: see the hooks), or Invalid."""
    hook = _HOOKS.get(kind)
    if hook is not None:
        try:
            return hook(value, kind)
        except (TypeError, ValueError) as exc:
            raise Invalid(str(exc)) from exc
    from cattrs.errors import CattrsError

    try:
        return converter().structure(value, kind)
    except (CattrsError, TypeError, ValueError, AttributeError) as exc:
        raise Invalid(str(exc)) from exc


def _shown(value: Any) -> str:
    """A default as the user would write it (a list, not a tuple)."""
    return repr(list(value) if isinstance(value, tuple) else value)


def _lookup(raw: Mapping[str, Any], key: str) -> Any:
    """The value written under `key` in either spelling (the last one if both are)."""
    found = None
    for written, value in raw.items():
        if snake(str(written)) == key:
            found = value
    return found


def _value(
    f: dataclasses.Field[Any], kind: Any, node: Any, current: Any, key: str, w: list[str]
) -> Any:
    """One field's value from what was written under `key`, or `current` with a warning."""
    meta = f.metadata
    if meta.get("reader"):
        return meta["reader"](node, key, current, w)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if not isinstance(node, Mapping):
            w.append(f"scopewise.{key}: {node!r} is not a table; ignored")
            return current
        return _read(kind, node, current, key + ".", w)
    check = meta.get("check")
    try:
        value = structure(node, meta.get("read_as", kind))
        ok = check is None or check(value)
    except (TypeError, ValueError, AttributeError):  # Invalid, or a check's own
        ok = False
    if not ok:
        w.append(f"scopewise.{key}: {node!r} is not valid; using {_shown(current)}")
        return current
    return kind(value) if meta.get("read_as") else value


class Found(list[str]):
    """The warnings of a read, and the keys whose values were bad (in the order found), so
    a caller asks which field failed without reading the warnings' text."""

    def __init__(self) -> None:
        super().__init__()
        self.bad: list[str] = []


def _read(cls: type[Any], raw: Mapping[str, Any], base: Any, path: str, w: list[str]) -> Any:
    """`base` with what `raw` sets of its fields (keys under `path`); a warning per bad value
    and per key no field reads."""
    instance, used = _fields(cls, raw, base, path, w)
    _unknown(raw, used, path, w)
    return instance


def _written(f: dataclasses.Field[Any]) -> str:
    """A field's key as written, dotted: `timeout`, `tiers.quick`."""
    key: str = f.metadata.get("key", f.name)
    return f"{f.metadata['group']}.{key}" if "group" in f.metadata else key


def _fields(
    cls: type[Any], raw: Mapping[str, Any], base: Any, path: str, w: list[str]
) -> tuple[Any, set[str]]:
    """`base` with the fields `raw` sets, and the keys read (dotted: `tiers.quick`)."""
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    used: set[str] = set()
    for f in dataclasses.fields(cls):
        current = getattr(base, f.name)
        if f.metadata.get("internal"):
            continue
        if f.metadata.get("flat"):
            values[f.name], more = _fields(hints[f.name], raw, current, path, w)
            used |= more
            continue
        key = _written(f)
        used.add(key)
        table = _lookup(raw, f.metadata["group"]) if "group" in f.metadata else raw
        node = _lookup(table, key.rsplit(".", 1)[-1]) if isinstance(table, Mapping) else None
        if node is not None:
            said = len(w)
            values[f.name] = _value(f, hints[f.name], node, current, path + key, w)
            if len(w) > said and isinstance(w, Found):
                w.bad.append(path + key)
    return dataclasses.replace(base, **values), used


def _unknown(raw: Mapping[str, Any], used: set[str], path: str, w: list[str]) -> None:
    """A warning per key of `raw` that no field read, named as written."""
    for written, node in raw.items():
        key = snake(str(written))
        inner = {u.split(".", 1)[1] for u in used if u.startswith(key + ".")}
        if key in used or (not path and key in _ELSEWHERE):
            continue
        if not inner:
            w.append(f"scopewise.{path}{written}: unknown setting; ignored")
        elif not isinstance(node, Mapping):
            w.append(f"scopewise.{path}{key}: {node!r} is not a table; ignored")
        else:
            _unknown(node, inner, f"{path}{key}.", w)


def defaults(cls: type[Any] = Settings, base: Any = None) -> dict[str, Any]:
    """Every key a user may write (dotted, snake_case) and its default, e.g.
    `tiers.deep.effort_range`: ('low', 'max'); a table of free keys (`force`, `prices`) is one
    key. The clients' settings are checked against these (tests/clients)."""
    base = cls() if base is None else base
    hints = typing.get_type_hints(cls)
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        kind, current = hints[f.name], getattr(base, f.name)
        if f.metadata.get("internal"):
            continue
        if f.metadata.get("flat"):
            out |= defaults(kind, current)
        elif isinstance(kind, type) and dataclasses.is_dataclass(kind):
            out |= {f"{_written(f)}.{k}": v for k, v in defaults(kind, current).items()}
        else:
            out[_written(f)] = current
    return out


def _normalise(value: Any) -> Any:
    """Every key of a mapping, nested ones too, in snake_case."""
    if isinstance(value, Mapping):
        return {snake(str(k)): _normalise(v) for k, v in value.items()}
    return value


def build(raw: Mapping[str, Any]) -> tuple[Settings, list[str]]:
    """Settings from raw (merged) values, and a warning per bad or unknown key."""
    warnings: list[str] = []
    settings: Settings = _read(Settings, raw, Settings(), "", warnings)
    return settings, warnings


def merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """`top` over `base`, table by table; a key matches in either spelling and keeps top's."""
    out = dict(base)
    for k, v in top.items():
        same = [b for b in out if snake(str(b)) == snake(str(k))]
        below = out[same[-1]] if same else None
        if v is None:
            continue
        for b in same:
            del out[b]
        out[k] = merge(below, v) if isinstance(v, Mapping) and isinstance(below, Mapping) else v
    return out


def read_project_file(root: Path) -> tuple[dict[str, Any], str | None, list[str]]:
    """The raw settings of `.scopewise.toml` (preferred) or pyproject's [tool.scopewise]."""
    for name in (".scopewise.toml", "pyproject.toml"):
        path = root / name
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            return {}, str(path), [f"{name}: cannot read ({exc}); using defaults"]
        if name == "pyproject.toml":
            data = data.get("tool", {}).get("scopewise", {})
            if not data:
                continue
        return _normalise(data), str(path), []
    return {}, None, []


# Keys a workspace file may not set (unless trusted), and why; `tiers.<tier>.model` too.
# Not sensitive, decided: timeout and max_retries (a failed call is not billed), context_budget
# and context_budget_max, write_parallel and lookup_max_* (bounded, and shown in the estimate),
# force.*, thresholds.*, write_tier_* and advisor (tiers the user configured),
# tiers.*.{thinking,effort,effort_range,budget_range,max_tokens} — they
# change what one action costs, but every action shows its tier and estimate before it runs and
# the daily cap (the user's) bounds the day; exclude/max_files/max_file_bytes only narrow what
# is read.
SENSITIVE: dict[str, str] = {
    "api_key": "it decides whose account your code is sent to",
    "base_url": "it decides where your key and code go",
    "provider": "it decides where your key and code go",
    "daily_cap_usd": "it decides how much may be spent",
    "prices": "they decide what your spend and the daily cap count",
    "test_command": "it runs a command on your machine",
}
MODEL_REASON = "it decides which model you pay for"
TRUST_KEY = "trusted_workspaces"
_ELSEWHERE = frozenset({TRUST_KEY})  # read by `read_user_config`, not by a field


def shown(path: Path) -> str:
    """A path as the user would type it: under the home folder as ~/..."""
    try:
        return "~/" + path.relative_to(Path.home()).as_posix()
    except (ValueError, RuntimeError):
        return str(path)


@dataclass(frozen=True)
class UserConfig:
    """The user's own config file: settings like the project file's, and the workspaces the
    user trusts with the sensitive ones."""

    path: Path
    raw: dict[str, Any] = field(default_factory=dict)
    trusted: tuple[Path, ...] = ()
    warnings: tuple[str, ...] = ()

    def trusts(self, root: Path) -> bool:
        """Whether a workspace root is, or is inside, a folder listed in trusted_workspaces."""
        try:
            here = root.resolve()
        except (OSError, ValueError):
            return False
        return any(here == t or here.is_relative_to(t) for t in self.trusted)


def read_user_config(path: Path | None = None) -> UserConfig:
    """The user config file (`paths.user_config_file()`); missing is fine, unreadable or
    invalid is a warning naming the file, and its settings are then not used."""
    path = path or paths.user_config_file()
    name = shown(path)
    if not path.exists():
        return UserConfig(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return UserConfig(path, warnings=(f"{name}: cannot read ({exc}); not used",))
    raw = _normalise(data)
    listed = raw.pop(TRUST_KEY, [])
    warnings: list[str] = []
    trusted: list[Path] = []
    if not isinstance(listed, list):
        warnings.append(f"{name}: {TRUST_KEY} must be a list of folders; ignored")
        listed = []
    for entry in listed:
        folder = Path(os.path.expanduser(entry)) if isinstance(entry, str) else None
        if folder is None or "\x00" in str(folder) or not folder.is_absolute():
            warnings.append(f"{name}: {TRUST_KEY}: {entry!r} is not an absolute path; ignored")
            continue
        trusted.append(folder.resolve())
    return UserConfig(path, raw, tuple(trusted), tuple(warnings))


def sensitive_keys(raw: Mapping[str, Any]) -> list[str]:
    """The dotted keys of (normalised) raw settings that only the user may set."""
    found = [k for k in SENSITIVE if raw.get(k) is not None]
    tiers = raw.get("tiers")
    if isinstance(tiers, Mapping):
        for name, tier in tiers.items():
            if isinstance(tier, Mapping) and tier.get("model") is not None:
                found.append(f"tiers.{name}.model")
    return found


def _without(raw: Mapping[str, Any], keys: list[str]) -> dict[str, Any]:
    out = dict(raw)
    for key in keys:
        if key.startswith("tiers."):
            name = key.split(".")[1]
            tiers = dict(out["tiers"])
            tiers[name] = {k: v for k, v in tiers[name].items() if k != "model"}
            out["tiers"] = tiers
        else:
            out.pop(key, None)
    return out


def workspace_layer(root: Path, user: UserConfig) -> tuple[dict[str, Any], list[str]]:
    """The workspace file's settings as they may apply: without the sensitive keys unless the
    user trusts this workspace (a warning line for each key left out), without a
    `trusted_workspaces` of its own, and with its `exclude` added to the user's."""
    raw, where, warnings = read_project_file(root)
    if not raw or where is None:
        return raw, warnings
    config_file = shown(user.path)
    if TRUST_KEY in raw:
        raw = {k: v for k, v in raw.items() if k != TRUST_KEY}
        warnings.append(
            f"{where}: {TRUST_KEY} is ignored in a workspace file (a workspace cannot trust "
            f"itself); list it in {config_file}"
        )
    if not user.trusts(root):
        dropped = sensitive_keys(raw)
        for key in dropped:
            why = MODEL_REASON if key.startswith("tiers.") else SENSITIVE[key]
            warnings.append(
                f"{where}: {key} is ignored in a workspace file ({why}); set it in "
                f"{config_file}, or add this workspace to {TRUST_KEY} there"
            )
        raw = _without(raw, dropped)
    mine, theirs = user.raw.get("exclude"), raw.get("exclude")
    if isinstance(mine, list) and isinstance(theirs, list):
        raw["exclude"] = mine + [p for p in theirs if p not in mine]
    raw = _with_user_actions(raw, user.raw.get("actions"), warnings)
    return raw, warnings


def _with_user_actions(
    raw: dict[str, Any], mine: Any, warnings: list[str], theirs_are: str = "the workspace's"
) -> dict[str, Any]:
    """The user's `[[actions]]` (config file or editor) and the workspace's together (not
    sensitive: an action cannot change where keys, code or money go); the workspace's wins
    on a name, and says so: the user's own menu entry now runs the workspace's prompt."""
    theirs = raw.get("actions")
    if not isinstance(mine, list):
        return raw
    if not isinstance(theirs, list):
        return raw | {"actions": mine}

    def name_of(entry: Any) -> str | None:
        name = entry.get("name") if isinstance(entry, Mapping) else None
        return name if isinstance(name, str) else None

    named = {action_slug(n) for n in map(name_of, theirs) if n is not None}
    kept = []
    for entry in mine:
        name = name_of(entry)
        if name is not None and action_slug(name) in named:
            warnings.append(
                f"scopewise.actions {name!r}: {theirs_are} action of that name replaces yours"
            )
        else:
            kept.append(entry)
    return raw | {"actions": kept + theirs}


def load(
    root: Path, editor: Mapping[str, Any] | None = None, user: UserConfig | None = None
) -> tuple[Settings, list[str]]:
    """Defaults < the user config < the workspace file (only what it may set, see
    `workspace_layer`) < the editor's settings; warnings name each bad or ignored key."""
    user = user or read_user_config()
    project, warnings = workspace_layer(root, user)
    raw = merge(user.raw, project)
    for key in [k for k in editor or {} if snake(str(k)) == TRUST_KEY]:
        warnings.append(
            f"scopewise.{key}: read only from the user config file ({shown(user.path)}); ignored"
        )
    theirs = {k: v for k, v in (editor or {}).items() if snake(str(k)) != TRUST_KEY}
    raw = merge(raw, {k: v for k, v in theirs.items() if snake(str(k)) != "actions"})
    raw = _with_user_actions(  # added as the user file's are
        raw, _lookup(theirs, "actions"), warnings, "the workspace's (or your config file's)"
    )
    settings, more = build(raw)
    return settings, [*user.warnings, *warnings, *more]


def api_key(settings: Settings) -> str | None:
    """The API key: the settings' own, else ANTHROPIC_API_KEY."""
    return settings.api_key or os.environ.get("ANTHROPIC_API_KEY") or None
