"""Settings: one typed model, in layers — defaults, the user config file
(`~/.config/scopewise/config.toml`), the workspace's `.scopewise.toml` or `[tool.scopewise]`
in pyproject.toml, then the editor's settings (section `scopewise`) on top. Keys may be written
camelCase (editors) or snake_case (TOML). A bad value is reported by its key and replaced by
the default; it never stops scopewise.

Trust: a workspace file is written by whoever wrote the repository, so the settings that decide
where the key and the code go or how much may be spent (`SENSITIVE`) are taken only from the
user — environment, user config, editor settings — unless the user config lists the workspace
in `trusted_workspaces`. A workspace file that sets one gets a warning naming the key, and its
`exclude` patterns add to the user's, never replace them."""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from scopewise import paths
from scopewise.actions.routing import ACTIONS, TIERS, RoutingSettings, Thresholds, TierConfig
from scopewise.claude.client import Provider
from scopewise.claude.models import EFFORT_LEVELS
from scopewise.index.files import FileSettings


@dataclass(frozen=True)
class Settings:
    index: FileSettings = field(default_factory=FileSettings)
    routing: RoutingSettings = field(default_factory=RoutingSettings)
    context_budget: int = 6000  # tokens of codebase context per action
    api_key: str | None = None  # else ANTHROPIC_API_KEY; never logged
    base_url: str | None = None  # else ANTHROPIC_BASE_URL or the API
    provider: Provider = "anthropic"
    timeout_s: float = 180.0
    max_retries: int = 2
    daily_cap_usd: float | None = None
    prices: dict[str, dict[str, float]] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        if d.get("api_key"):
            d["api_key"] = "(set)"
        return d


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _normalise(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {_snake(str(k)): _normalise(v) for k, v in value.items()}
    return value


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


def merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in top.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = merge(out[k], v)
        elif v is not None:
            out[k] = v
    return out


class _Reader:
    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.warnings: list[str] = []

    def get(self, key: str, kind: type | tuple[type, ...], default: Any, check: Any = None) -> Any:
        node: Any = self.raw
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        if node is None:
            return default
        ok = isinstance(node, kind) and not (isinstance(node, bool) and kind in (int, float))
        if ok and check is not None:
            ok = bool(check(node))
        if not ok:
            self.warnings.append(f"scopewise.{key}: {node!r} is not valid; using {default!r}")
            return default
        return node


def build(raw: Mapping[str, Any]) -> tuple[Settings, list[str]]:
    """Settings from raw (merged) values, and a warning per bad key."""
    r = _Reader(_normalise(raw))
    d = Settings()
    excl = r.get("exclude", list, [], lambda v: all(isinstance(x, str) for x in v))
    index = FileSettings(
        max_file_bytes=r.get("max_file_bytes", int, d.index.max_file_bytes, lambda v: v > 0),
        exclude=tuple(excl),
        max_files=r.get("max_files", int, d.index.max_files, lambda v: v > 0),
    )
    tiers: dict[str, TierConfig] = {}
    for name in TIERS:
        base: TierConfig = getattr(d.routing, name)
        pre = f"tiers.{name}"
        effort_range = r.get(
            f"{pre}.effort_range",
            list,
            list(base.effort_range) if base.effort_range else None,
            lambda v: len(v) == 2 and all(x in EFFORT_LEVELS for x in v),
        )
        budget_range = r.get(
            f"{pre}.budget_range",
            list,
            list(base.budget_range),
            lambda v: len(v) == 2 and all(isinstance(x, int) and x >= 1024 for x in v),
        )
        tiers[name] = TierConfig(
            model=r.get(f"{pre}.model", str, base.model, lambda v: v.strip() != ""),
            thinking=r.get(
                f"{pre}.thinking", str, base.thinking, lambda v: v in ("off", "adaptive")
            ),
            effort=r.get(f"{pre}.effort", str, base.effort, lambda v: v in EFFORT_LEVELS),
            effort_range=(effort_range[0], effort_range[1]) if effort_range else None,
            budget_range=(int(budget_range[0]), int(budget_range[1])),
            max_tokens=r.get(
                f"{pre}.max_tokens", int, base.max_tokens, lambda v: 256 <= v <= 128000
            ),
        )
    forced: dict[str, str] = {}
    for action in ACTIONS:
        value = r.get(f"force.{action}", str, "auto", lambda v: v in (*TIERS, "auto"))
        if value != "auto":
            forced[action] = value
    limits: dict[str, Any] = {}
    for f in dataclasses.fields(Thresholds):
        default = getattr(d.routing.thresholds, f.name)
        value = r.get(f"thresholds.{f.name}", (int, float), default, lambda v: v >= 0)
        limits[f.name] = type(default)(value)
    routing = replace(
        d.routing,
        quick=tiers["quick"],
        standard=tiers["standard"],
        deep=tiers["deep"],
        thresholds=Thresholds(**limits),
        forced=forced,
    )
    prices_raw = r.get("prices", dict, {})
    prices: dict[str, dict[str, float]] = {}
    for model, table in prices_raw.items():
        if isinstance(table, Mapping) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
            for v in table.values()
        ):
            prices[str(model)] = {str(k): float(v) for k, v in table.items()}
        else:
            r.warnings.append(f"scopewise.prices.{model}: expected numbers per price; ignored")
    cap = r.get("daily_cap_usd", (int, float), None, lambda v: v > 0)
    settings = Settings(
        index=index,
        routing=routing,
        context_budget=r.get(
            "context_budget", int, d.context_budget, lambda v: 256 <= v <= 200_000
        ),
        api_key=r.get("api_key", str, None, lambda v: v.strip() != "") or None,
        base_url=r.get("base_url", str, None, lambda v: v.startswith(("http://", "https://"))),
        provider=r.get(
            "provider", str, d.provider, lambda v: v in ("anthropic", "bedrock", "vertex")
        ),
        timeout_s=float(r.get("timeout", (int, float), d.timeout_s, lambda v: v > 0)),
        max_retries=r.get("max_retries", int, d.max_retries, lambda v: 0 <= v <= 10),
        daily_cap_usd=float(cap) if cap is not None else None,
        prices=prices,
    )
    return settings, r.warnings


# Keys a workspace file may not set (unless trusted), and why; `tiers.<tier>.model` too.
# Not sensitive, decided: timeout and max_retries (a failed call is not billed), context_budget,
# force.*, thresholds.*, tiers.*.{thinking,effort,effort_range,budget_range,max_tokens} — they
# change what one action costs, but every action shows its tier and estimate before it runs and
# the daily cap (the user's) bounds the day; exclude/max_files/max_file_bytes only narrow what
# is read.
SENSITIVE: dict[str, str] = {
    "api_key": "it decides whose account your code is sent to",
    "base_url": "it decides where your key and code go",
    "provider": "it decides where your key and code go",
    "daily_cap_usd": "it decides how much may be spent",
    "prices": "they decide what your spend and the daily cap count",
}
MODEL_REASON = "it decides which model you pay for"
TRUST_KEY = "trusted_workspaces"


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
    return raw, warnings


def load(
    root: Path, editor: Mapping[str, Any] | None = None, user: UserConfig | None = None
) -> tuple[Settings, list[str]]:
    """Defaults < the user config < the workspace file (only what it may set, see
    `workspace_layer`) < the editor's settings; warnings name each bad or ignored key."""
    user = user or read_user_config()
    project, warnings = workspace_layer(root, user)
    raw = merge(user.raw, project)
    if editor:
        raw = merge(raw, _normalise(editor))
    settings, more = build(raw)
    return settings, [*user.warnings, *warnings, *more]


def api_key(settings: Settings) -> str | None:
    return settings.api_key or os.environ.get("ANTHROPIC_API_KEY") or None
