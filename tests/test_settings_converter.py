"""The settings converter (`settings.build`, `settings.merge`): either spelling of a key, each
bad value named by its key and replaced by the default, unknown keys named as written and
ignored, and the defaults when nothing is set. (The layers and trust: tests/trust; the editor's
sources: tests/lsp/test_settings.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scopewise import settings as config
from scopewise.settings import Settings, build, merge

BAD = {"not": "a value"}  # a table where a value belongs: wrong for every key


def nested(dotted: str, value: Any) -> dict[str, Any]:
    """`{"a": {"b": value}}` from "a.b"."""
    *outer, last = dotted.split(".")
    raw: dict[str, Any] = {last: value}
    for part in reversed(outer):
        raw = {part: raw}
    return raw


def test_nothing_set_is_the_defaults() -> None:
    assert build({}) == (Settings(), [])


def test_camel_case_and_snake_case_are_the_same_key() -> None:
    camel, warnings = build(
        {
            "contextBudget": 3000,
            "maxFileBytes": 10,
            "dailyCapUsd": 2,
            "tiers": {"deep": {"effortRange": ["high", "max"], "maxTokens": 4096}},
            "thresholds": {"deepReach": 12},
        }
    )
    snake, more = build(
        {
            "context_budget": 3000,
            "max_file_bytes": 10,
            "daily_cap_usd": 2,
            "tiers": {"deep": {"effort_range": ["high", "max"], "max_tokens": 4096}},
            "thresholds": {"deep_reach": 12},
        }
    )
    assert warnings == more == [] and camel == snake
    assert camel.context_budget == 3000 and camel.index.max_file_bytes == 10
    assert camel.daily_cap_usd == 2.0 and isinstance(camel.daily_cap_usd, float)
    assert camel.routing.deep.effort_range == ("high", "max")
    assert camel.routing.deep.model == Settings().routing.deep.model  # the rest of the tier stays
    assert camel.routing.thresholds.deep_reach == 12


def test_merge_matches_keys_in_either_spelling_and_the_top_wins() -> None:
    base = {"context_budget": 3000, "tiers": {"deep": {"max_tokens": 4096, "model": "m"}}}
    top = {"contextBudget": 1000, "tiers": {"deep": {"maxTokens": 2048}}, "exclude": None}
    merged = merge(base, top)
    assert merged == {"contextBudget": 1000, "tiers": {"deep": {"model": "m", "maxTokens": 2048}}}
    settings, warnings = build(merged)
    assert warnings == [] and settings.context_budget == 1000
    assert settings.routing.deep.max_tokens == 2048 and settings.routing.deep.model == "m"


@pytest.mark.parametrize(
    "key", [k for k in config.defaults() if k not in ("force", "prices")]
)  # fmt: skip
def test_each_bad_value_is_named_and_defaulted(key: str) -> None:
    default = config.defaults()[key]
    settings, warnings = build(nested(key, BAD))
    shown = list(default) if isinstance(default, tuple) else default
    assert warnings == [f"scopewise.{key}: {BAD!r} is not valid; using {shown!r}"]
    assert settings == Settings()


@pytest.mark.parametrize(
    ("raw", "warning"),
    [
        ({"context_budget": 100}, "scopewise.context_budget: 100 is not valid; using 6000"),
        ({"max_retries": 11}, "scopewise.max_retries: 11 is not valid; using 2"),
        ({"timeout": True}, "scopewise.timeout: True is not valid; using 180.0"),
        ({"max_files": 1.5}, "scopewise.max_files: 1.5 is not valid; using 50000"),
        ({"provider": "azure"}, "scopewise.provider: 'azure' is not valid; using 'anthropic'"),
        ({"base_url": "ftp://x"}, "scopewise.base_url: 'ftp://x' is not valid; using None"),
        ({"api_key": " "}, "scopewise.api_key: ' ' is not valid; using None"),
        ({"exclude": ["a", 1]}, "scopewise.exclude: ['a', 1] is not valid; using []"),
        ({"exclude": "a"}, "scopewise.exclude: 'a' is not valid; using []"),
        (
            {"tiers": {"deep": {"effort_range": ["low"]}}},
            "scopewise.tiers.deep.effort_range: ['low'] is not valid; using ['low', 'max']",
        ),
        (
            {"tiers": {"quick": {"budget_range": [512, 4096]}}},
            "scopewise.tiers.quick.budget_range: [512, 4096] is not valid; using [2048, 32000]",
        ),
        (
            {"tiers": {"quick": {"thinking": "enabled"}}},
            "scopewise.tiers.quick.thinking: 'enabled' is not valid; using 'off'",
        ),
        ({"thresholds": {"deep_size": -1}}, "scopewise.thresholds.deep_size: -1 is not valid; "
         "using 45.0"),
        ({"force": {"fix": "sometimes"}}, "scopewise.force.fix: 'sometimes' is not valid; "
         "using 'auto'"),
        ({"prices": {"m": {"input": "3"}}}, "scopewise.prices.m: expected numbers per price; "
         "ignored"),
        ({"prices": 3}, "scopewise.prices: 3 is not valid; using {}"),
    ],
)  # fmt: skip
def test_values_out_of_range_or_of_another_kind(raw: dict[str, Any], warning: str) -> None:
    settings, warnings = build(raw)
    assert warnings == [warning]
    assert settings == Settings()


def test_thresholds_take_any_number_and_force_drops_auto() -> None:
    settings, warnings = build(
        {
            "thresholds": {"deep_reach": 7.9, "deep_size": 3},
            "force": {"explain": "deep", "fix": "auto"},
            "prices": {"m": {"input": 3, "output": 15}, "n": {"input": -1}},
        }
    )
    assert warnings == ["scopewise.prices.n: expected numbers per price; ignored"]
    t = settings.routing.thresholds
    assert t.deep_reach == 7 and isinstance(t.deep_reach, int)
    assert t.deep_size == 3.0 and isinstance(t.deep_size, float)
    assert settings.routing.forced == {"explain": "deep"}
    assert settings.prices == {"m": {"input": 3.0, "output": 15.0}}


def test_unknown_keys_are_named_as_written_and_ignored() -> None:
    settings, warnings = build(
        {
            "contextBudjet": 3,
            "tiers": {"ultra": {}, "deep": {"modle": "x"}},
            "thresholds": {"deepSizes": 1},
            "force": {"explian": "deep"},
            "prices": {"any-model": {"input": 1}},  # model names are free keys
        }
    )
    assert sorted(warnings) == [
        "scopewise.contextBudjet: unknown setting; ignored",
        "scopewise.force.explian: unknown setting; ignored",
        "scopewise.thresholds.deepSizes: unknown setting; ignored",
        "scopewise.tiers.deep.modle: unknown setting; ignored",
        "scopewise.tiers.ultra: unknown setting; ignored",
    ]
    assert settings == Settings(prices={"any-model": {"input": 1.0}})


def test_a_table_where_a_value_belongs_and_the_reverse() -> None:
    _, warnings = build({"tiers": 5, "thresholds": [1], "force": "deep"})
    assert sorted(warnings) == [
        "scopewise.force: 'deep' is not a table; ignored",
        "scopewise.thresholds: [1] is not a table; ignored",
        "scopewise.tiers: 5 is not a table; ignored",
    ]


def test_keys_read_elsewhere_are_not_unknown(tmp_path: Path) -> None:
    """trusted_workspaces is the user config's (read_user_config takes it out): the converter
    does not call it unknown, and an editor that sends it is told where it belongs."""
    assert build({"trusted_workspaces": ["/x"]}) == (Settings(), [])
    user = config.UserConfig(tmp_path / "config.toml")
    settings, warnings = config.load(tmp_path, {"trustedWorkspaces": ["/x"]}, user)
    assert warnings == [
        f"scopewise.trustedWorkspaces: read only from the user config file "
        f"({config.shown(user.path)}); ignored"
    ]
    assert settings == Settings()


def test_a_project_files_unknown_key_is_reported(tmp_path: Path) -> None:
    (tmp_path / ".scopewise.toml").write_text("context_budjet = 3\n", encoding="utf-8")
    settings, warnings = config.load(tmp_path, None, config.UserConfig(tmp_path / "none.toml"))
    assert warnings == ["scopewise.context_budjet: unknown setting; ignored"]
    assert settings == Settings()
