"""The constants both editor clients carry, checked against the server's: the code-action
kinds, commands, languages, settings keys and their defaults, sensitive keys, root markers and
refactor intents. The clients cannot import the server, so they copy these; this test is what
ties the copies to `scopewise.vocab`, `scopewise.settings` and what the server advertises. A
change on either side alone fails here."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from scopewise import settings as config
from scopewise import vocab
from scopewise.index.languages import LANGUAGES
from scopewise.lsp.server import create_server
from scopewise.paths import ROOT_MARKERS

CLIENTS = Path(__file__).resolve().parents[2] / "clients"
EXTENSION = CLIENTS / "vscode" / "src" / "extension.ts"
REVIEW = CLIENTS / "vscode" / "src" / "review.ts"
CHOOSE = CLIENTS / "vscode" / "src" / "choose.ts"
PANEL = CLIENTS / "vscode" / "src" / "explanationPanel.ts"
PACKAGE = CLIENTS / "vscode" / "package.json"
TRUST = CLIENTS / "vscode" / "src" / "trust.ts"
SETTINGS_TS = CLIENTS / "vscode" / "src" / "settings.ts"
NVIM_CONFIG = CLIENTS / "neovim" / "lsp" / "scopewise.lua"
NVIM_HELPER = CLIENTS / "neovim" / "lua" / "scopewise" / "init.lua"

# Editor language ids whose files the server parses with another grammar of its own; every
# other id is the name of a language in index/languages.py.
EDITOR_LANGUAGE = {"javascriptreact": "javascript", "typescriptreact": "tsx"}
# Commands and settings the VS Code extension keeps to itself (never sent to the server).
# (the review of a proposal: src/review.ts)
REVIEW_COMMANDS = ("open", "accept", "reject", "acceptAll", "rejectAll", "apply", "showDiff")
CLIENT_COMMANDS = (
    {
        "scopewise.showUsage",
        "scopewise.restartServer",
        "scopewise.openSettings",
        "scopewise.runProjectAction",
    }
    | {f"scopewise.review.{c}" for c in (*REVIEW_COMMANDS, "acceptHunk", "rejectHunk", "revise")}
    | {"scopewise.explanation.revise"}
)
CLIENT_SETTINGS = {"server.path", "python"}


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def block(text: str, opening: str) -> str:
    """The bracketed text that follows the first match of `opening` (brackets balanced)."""
    m = re.search(opening, text)
    assert m, f"{opening!r} not found"
    start = m.end() - 1
    pairs = {"[": "]", "{": "}", "(": ")"}
    close, depth = pairs[text[start]], 0
    for i in range(start, len(text)):
        depth += text[i] == text[start]
        depth -= text[i] == close
        if depth == 0:
            return text[start + 1 : i]
    raise AssertionError(f"{opening!r}: unbalanced")


def strings(text: str) -> list[str]:
    """Every quoted string in a piece of TypeScript or Lua, in order."""
    return [a or b for a, b in re.findall(r'"([^"]*)"|\'([^\']*)\'', text)]


def pairs(text: str) -> dict[str, str]:
    """`key: "value"` (TypeScript) or `key = 'value'` (Lua) entries of an object/table."""
    found = re.findall(r"(\w+)\s*[:=]\s*[\"']([^\"']*)[\"']", text)
    return dict(found)


def const(text: str, name: str) -> str:
    m = re.search(rf"(?:const|local)\s+{name}\s*=\s*[\"']([^\"']+)[\"']", text)
    assert m, f"{name} not found"
    return m.group(1)


@pytest.fixture(scope="module")
def advertised() -> dict[str, Any]:
    """What the server says it offers: its commands and its code-action kinds."""
    fm = create_server().protocol.fm
    options = fm.feature_options[types.TEXT_DOCUMENT_CODE_ACTION]
    return {"commands": set(fm.commands), "kinds": list(options.code_action_kinds)}


@pytest.fixture(scope="module")
def package() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(read(PACKAGE))
    return data


def test_the_server_advertises_the_vocabulary(advertised: dict[str, Any]) -> None:
    assert advertised["kinds"] == [
        *(vocab.CODE_ACTION_KINDS[a] for a in vocab.Action),
        vocab.PROJECT_KIND_PREFIX["explain"],  # a project's explain-like actions
    ]
    assert advertised["commands"] == {
        vocab.RUN_COMMAND,
        vocab.CHOOSE_INTENT_COMMAND,
        vocab.USAGE_COMMAND,
        vocab.REINDEX_COMMAND,
        vocab.RUN_TESTS_COMMAND,
        vocab.APPLY_PROPOSAL_COMMAND,
        vocab.DISCARD_PROPOSAL_COMMAND,
        vocab.PROPOSAL_DIFF_COMMAND,
        vocab.REVISE_COMMAND,
        vocab.CHOOSE_PROJECT_ACTION_COMMAND,
        vocab.CHOICES_COMMAND,
        vocab.PROJECT_ACTIONS_COMMAND,
    }


def test_code_action_kinds() -> None:
    expected = {a.value: kind for a, kind in vocab.CODE_ACTION_KINDS.items()}
    assert pairs(block(read(EXTENSION), r"const KINDS = \{")) == expected
    assert pairs(block(read(NVIM_HELPER), r"local KIND = \{")) == expected


def test_server_commands() -> None:
    ts = read(EXTENSION)
    assert const(ts, "RUN_COMMAND") == vocab.RUN_COMMAND
    assert const(ts, "CHOOSE_INTENT_COMMAND") == vocab.CHOOSE_INTENT_COMMAND
    assert const(ts, "USAGE_COMMAND") == vocab.USAGE_COMMAND
    assert const(ts, "CHOOSE_PROJECT_ACTION_COMMAND") == vocab.CHOOSE_PROJECT_ACTION_COMMAND
    assert const(read(CHOOSE), "CHOICES_COMMAND") == vocab.CHOICES_COMMAND
    assert const(ts, "PROJECT_ACTIONS_COMMAND") == vocab.PROJECT_ACTIONS_COMMAND
    assert const(ts, "PROJECT_EXPLAIN_KIND") == vocab.PROJECT_KIND_PREFIX["explain"]
    review = read(REVIEW)
    assert const(review, "APPLY_PROPOSAL_COMMAND") == vocab.APPLY_PROPOSAL_COMMAND
    assert const(review, "DISCARD_PROPOSAL_COMMAND") == vocab.DISCARD_PROPOSAL_COMMAND
    assert const(review, "PROPOSAL_DIFF_COMMAND") == vocab.PROPOSAL_DIFF_COMMAND
    assert const(review, "PROPOSAL_NOTIFICATION") == vocab.PROPOSAL_NOTIFICATION
    assert const(review, "REVISE_COMMAND") == vocab.REVISE_COMMAND
    lua = read(NVIM_HELPER)
    assert const(lua, "RUN") == vocab.RUN_COMMAND
    assert const(lua, "PROJECT_ACTIONS") == vocab.PROJECT_ACTIONS_COMMAND
    called = set(re.findall(r"server_command\(\s*'([^']+)'", lua))
    assert called == {vocab.USAGE_COMMAND, vocab.REINDEX_COMMAND, vocab.RUN_TESTS_COMMAND}


def test_extension_commands(package: dict[str, Any]) -> None:
    """One command per action (`scopewise.<action>`), plus the extension's own; each one
    contributed in package.json is registered in extension.ts or review.ts, and no more."""
    contributed = {c["command"] for c in package["contributes"]["commands"]}
    ts = read(EXTENSION) + read(REVIEW) + read(PANEL)
    registered = set(re.findall(r'registerCommand\(\s*"([^"]+)"', ts))
    assert contributed == registered
    assert contributed == {f"scopewise.{a}" for a in vocab.Action} | CLIENT_COMMANDS
    server = {
        vocab.RUN_COMMAND,
        vocab.CHOOSE_INTENT_COMMAND,
        vocab.USAGE_COMMAND,
        vocab.REINDEX_COMMAND,
        vocab.RUN_TESTS_COMMAND,
        vocab.APPLY_PROPOSAL_COMMAND,
        vocab.DISCARD_PROPOSAL_COMMAND,
        vocab.PROPOSAL_DIFF_COMMAND,
        vocab.REVISE_COMMAND,
        vocab.CHOOSE_PROJECT_ACTION_COMMAND,
        vocab.CHOICES_COMMAND,
        vocab.PROJECT_ACTIONS_COMMAND,
    }
    assert not contributed & server  # a client command never shadows the server's


def test_languages(package: dict[str, Any]) -> None:
    """The same editor languages in extension.ts, package.json's activation events and the
    Neovim filetypes, and together exactly the languages the server indexes."""
    ts = strings(block(read(EXTENSION), r"const LANGUAGES = \["))
    activation = [e.removeprefix("onLanguage:") for e in package["activationEvents"]]
    assert all(e.startswith("onLanguage:") for e in package["activationEvents"])
    filetypes = strings(block(read(NVIM_CONFIG), r"filetypes = \{"))
    assert ts == activation == filetypes
    assert {EDITOR_LANGUAGE.get(x, x) for x in ts} == {spec.name for spec in LANGUAGES}


def test_root_markers() -> None:
    lua = strings(block(read(NVIM_CONFIG), r"local root_markers = \{"))
    assert tuple(lua) == ROOT_MARKERS


def test_intents() -> None:
    lua = strings(block(read(NVIM_HELPER), r"M\.intents = \{"))
    assert lua == [i.value for i in vocab.Intent]


def test_settings_keys_and_defaults(package: dict[str, Any]) -> None:
    """package.json contributes every key the server reads (camelCase) and no other, with the
    server's defaults and allowed values."""
    defaults = config.defaults()
    tops = {key.split(".")[0] for key in defaults}
    props: dict[str, Any] = package["contributes"]["configuration"]["properties"]
    keys = {k.removeprefix("scopewise."): v for k, v in props.items()}
    assert all(k.startswith("scopewise.") for k in props)
    server_keys = {k: v for k, v in keys.items() if k not in CLIENT_SETTINGS}
    assert {config.snake(k.split(".")[0]) for k in server_keys} == tops
    tier_choice = ["auto", *vocab.TIERS]
    for key, prop in server_keys.items():
        snake = config.snake(key)
        if snake.startswith("force."):
            assert snake.removeprefix("force.") in set(vocab.Action), key
            assert prop["enum"] == tier_choice and prop["default"] == config.AUTO, key
        elif snake in defaults:
            default = defaults[snake]
            expected = list(default) if isinstance(default, tuple) else default
            if prop["default"] != "":  # "" stands for unset in VS Code's settings UI
                assert prop["default"] == expected, key
        else:  # a table of keys (tiers, thresholds): each documented default is the server's
            assert prop["type"] == "object" and any(k.startswith(snake + ".") for k in defaults)
    forced = {config.snake(k).removeprefix("force.") for k in server_keys if k.startswith("force.")}
    assert forced == set(vocab.Action)
    assert keys["provider"]["enum"] == list(vocab.PROVIDERS)
    client_only = strings(block(read(SETTINGS_TS), r"const CLIENT_ONLY = new Set\(\["))
    assert set(client_only) == CLIENT_SETTINGS


def test_sensitive_keys(package: dict[str, Any]) -> None:
    """trust.ts leaves out of a workspace's VS Code settings the keys the server takes from
    the user only, for the same reasons; VS Code's Restricted Mode covers them too."""
    ts = read(TRUST)
    sensitive = pairs(block(ts, r"SENSITIVE: Readonly<Record<string, string>> = \{"))
    assert {config.snake(k): why for k, why in sensitive.items()} == config.SENSITIVE
    assert const(ts, "MODEL_REASON") == config.MODEL_REASON
    restricted = package["capabilities"]["untrustedWorkspaces"]["restrictedConfigurations"]
    assert {f"scopewise.{k}" for k in sensitive} | {"scopewise.tiers"} <= set(restricted)


def test_neovim_review_protocol() -> None:
    """The Neovim review UI's copies of the proposal protocol's names."""
    review = read(CLIENTS / "neovim" / "lua" / "scopewise" / "review.lua")
    assert const(review, "APPLY") == vocab.APPLY_PROPOSAL_COMMAND
    assert const(review, "DISCARD") == vocab.DISCARD_PROPOSAL_COMMAND
    revise = read(CLIENTS / "neovim" / "lua" / "scopewise" / "revise.lua")
    assert const(revise, "COMMAND") == vocab.REVISE_COMMAND
    config = read(NVIM_CONFIG)
    assert f"['{vocab.PROPOSAL_NOTIFICATION}'] = on_proposal" in config
