"""Settings from each source — project file, initializationOptions, workspace/configuration,
didChangeConfiguration — bad values named and replaced, and the daily cap in the menu."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lspclient import Editor, capabilities, start_editor, stop_editor
from lsprotocol import types

PRICING = "shop/pricing.py"


async def menu(ed: Editor, only: list[str] | None = None) -> list[types.CodeAction]:
    return await ed.actions(PRICING, 29, 32, only=only)


def tier_of(action: types.CodeAction) -> str:
    return action.title.split(" · ")[1].split(":")[0]


def budget_of(action: types.CodeAction) -> str:
    assert action.command is not None and action.command.tooltip
    line = next(x for x in action.command.tooltip.splitlines() if x.startswith("context "))
    return line.split(" of ")[1].split(" ")[0].rstrip(":")  # "context 462 of 2k (up to 24k)"


async def reconfigure(ed: Editor, value: Any) -> None:
    """Change the client's settings and tell the server (it pulls them)."""
    ed.client.set_configuration({"scopewise": value})
    ed.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))


async def test_every_source_in_order(tmp_path: Path, poly: Path) -> None:
    root = poly
    (root / ".scopewise.toml").write_text(
        'context_budget = 3000\n[force]\nrefactor = "quick"\n', encoding="utf-8"
    )
    ed = await start_editor(
        root,
        tmp_path / "home",
        init_options={"scopewise": {"force": {"explain": "deep"}, "contextBudget": 1000}},
        configuration={"scopewise": {"contextBudget": 2000}},
    )
    try:
        listed = await menu(ed)
        explain, refactor = listed[0], listed[2]
        assert tier_of(explain) == "deep"  # initializationOptions
        assert tier_of(refactor) == "quick"  # the project file
        assert budget_of(explain) == "2k"  # workspace/configuration wins over both
        assert ed.shown_messages() == []

        await reconfigure(ed, {"contextBudget": 1500, "force": {"explain": "standard"}})
        listed = await ed.wait_for_menu(lambda m: tier_of(m[0]) == "standard", menu)
        assert budget_of(listed[0]) == "1.5k"

        await reconfigure(
            ed, {"contextBudget": "lots", "force": {"fix": "sometimes"}, "contextBudjet": 3}
        )
        (warning,) = await ed.wait_for(lambda: ed.shown_messages(types.MessageType.Warning))
        assert "scopewise.context_budget: 'lots' is not valid; using 6000" in warning
        assert "scopewise.force.fix" in warning
        assert "scopewise.contextBudjet: unknown setting" in warning
        listed = await menu(ed)
        assert budget_of(listed[0]) == "6k"  # the default, not a crash

        # scale thresholds: now auto picks deep, and the sibling is the quick end
        await reconfigure(ed, {"force": {"explain": "auto"}, "thresholds": {"explainDeepSize": 1}})
        listed = await ed.wait_for_menu(lambda m: tier_of(m[0]) == "deep", menu)
        assert listed[1].title.startswith("Explain · quick instead of deep · ")
    finally:
        await stop_editor(ed)


async def test_daily_cap_disables_and_offers_an_override(tmp_path: Path, poly: Path) -> None:
    root = poly
    ed = await start_editor(root, tmp_path / "home", init_options={"dailyCapUsd": 0.000001})
    try:
        listed = await menu(ed, only=["source"])
        titles = [a.title for a in listed]
        assert len(listed) == 4, titles
        auto, over = listed[0], listed[1]
        assert auto.disabled is not None and "daily cap" in auto.disabled.reason
        assert over.disabled is None and over.title == auto.title + " (over the daily cap)"
        assert over.data["overrideCap"] is True
        result = await ed.run(auto)  # a client that runs it anyway is refused, politely
        assert result["applied"] is False and "daily cap" in result["reason"]
    finally:
        await stop_editor(ed)


async def test_push_only_client_and_project_file_changes(tmp_path: Path, poly: Path) -> None:
    """An editor without workspace/configuration pushes its settings; a client that cannot
    grey actions out gets only the overrides; the project file is watched."""
    root = poly
    # the user trusts this workspace with its daily_cap_usd (a sensitive key)
    (tmp_path / "home" / "config").mkdir(parents=True)
    (tmp_path / "home" / "config" / "config.toml").write_text(
        f'trusted_workspaces = ["{root}"]\n', encoding="utf-8"
    )
    ed = await start_editor(
        root, tmp_path / "home", caps=capabilities(configuration=False, disabled=False)
    )
    try:
        assert tier_of((await menu(ed))[0]) == "quick"
        ed.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(
                settings={"scopewise": {"force": {"explain": "deep"}}}
            )
        )
        await ed.wait_for_menu(lambda m: tier_of(m[0]) == "deep", menu)
        ed.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"python": {"x": 1}})
        )
        await ed.wait_for_menu(lambda m: tier_of(m[0]) == "quick", menu)

        (root / ".scopewise.toml").write_text("daily_cap_usd = 0.000001\n", encoding="utf-8")
        ed.client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[
                    types.FileEvent(
                        uri=(root / ".scopewise.toml").as_uri(), type=types.FileChangeType.Created
                    )
                ]
            )
        )
        listed = await ed.wait_for_menu(lambda m: "over the daily cap" in m[0].title, menu)
        assert all(a.disabled is None and "over the daily cap" in a.title for a in listed)
    finally:
        await stop_editor(ed)


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [((), "utf-16"), (("utf-32",), "utf-32"), (("utf-32", "utf-16", "utf-8"), "utf-8")],
)
async def test_position_encoding(
    tmp_path: Path, poly: Path, offered: tuple[str, ...], chosen: str
) -> None:
    root = poly
    ed = await start_editor(
        root, tmp_path / "home", caps=capabilities(encodings=offered), wait_index=False
    )
    try:
        assert ed.encoding == chosen  # start_editor checked the server's answer
    finally:
        await stop_editor(ed)
