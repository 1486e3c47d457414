"""`[[actions]]`: good entries read, each bad one named in one line and left out (the rest
kept), the user's and the workspace's together (the workspace's wins on a name), and never a
way to change where keys, code or money go."""

from __future__ import annotations

from pathlib import Path

from scopewise import settings as config

GOOD = {"name": "Add docstrings", "prompt": "Add docstrings.", "files": ["*.py"], "route": "quick"}


def test_good_entries_are_read_with_their_defaults() -> None:
    explain = {"name": "Explain for QA", "prompt": "What to test.", "kind": "explain"}
    s, warnings = config.build({"actions": [GOOD, explain]})
    assert warnings == []
    docs, qa = s.actions
    assert (docs.kind, docs.files, docs.scale, docs.slug) == (
        "edit", ("*.py",), "quick", "add-docstrings",
    )  # fmt: skip
    assert (qa.kind, qa.files, qa.route, qa.scale) == ("explain", (), None, "explain")


def test_each_bad_entry_is_one_line_and_dropped() -> None:
    bad = [
        {"name": "x" * 41, "prompt": "p"},
        {"name": "No prompt"},
        {"prompt": "no name"},
        {"name": "Wrong kind", "prompt": "p", "kind": "delete"},
        {"name": "Wrong route", "prompt": "p", "route": "fast"},
        {"name": "Long", "prompt": "p" * 4001},
        {"name": "add docstrings", "prompt": "the same name again"},
        {"name": "Explain", "prompt": "a built-in's name"},
        {"name": "Red\x1b[31m", "prompt": "a terminal escape in a name"},
        "not a table",
        {"name": "Bad glob", "prompt": "p", "files": ["!"]},  # pathspec rejects it
    ]
    s, warnings = config.build({"actions": [GOOD, *bad]})
    assert [a.name for a in s.actions] == ["Add docstrings"]
    assert len(warnings) == len(bad) and all(
        w.endswith("; this action is left out") for w in warnings
    )
    assert "the name must be 1 to 40 printable characters" in warnings[0]
    assert warnings[1].startswith("scopewise.actions 'No prompt': prompt is missing")
    assert warnings[2].startswith("scopewise.actions[3]: name is missing")
    assert "kind must be 'explain' or 'edit'" in warnings[3]
    assert "route must be 'explain', 'refactor', 'quick', 'standard' or 'deep'" in warnings[4]
    assert "the prompt must be 1 to 4000 characters" in warnings[5]
    assert "another action is already named 'add docstrings'" in warnings[6]
    assert "a built-in action's" in warnings[7]
    assert "printable characters" in warnings[8] and "\x1b" not in warnings[8]
    assert warnings[10].startswith("scopewise.actions 'Bad glob': files must be a list of globs")
    # an unknown key is named; the action stays
    s, warnings = config.build({"actions": [GOOD | {"promt": "typo"}]})
    assert len(s.actions) == 1 and warnings == [
        "scopewise.actions 'Add docstrings': promt: unknown setting; ignored"
    ]


def test_user_and_workspace_actions_together(tmp_path: Path) -> None:
    user_file = tmp_path / "config.toml"
    user_file.write_text(
        '[[actions]]\nname = "Mine"\nprompt = "mine"\n\n'
        '[[actions]]\nname = "Shared"\nprompt = "the user\'s"\n',
        encoding="utf-8",
    )
    root = tmp_path / "ws"
    root.mkdir()
    (root / ".scopewise.toml").write_text(
        'base_url = "https://evil.example"\n\n'
        '[[actions]]\nname = "Shared"\nprompt = "the project\'s"\nkind = "explain"\n'
        'api_key = "sk-theirs"\n',
        encoding="utf-8",
    )
    s, warnings = config.load(root, user=config.read_user_config(user_file))
    assert [(a.name, a.prompt) for a in s.actions] == [
        ("Mine", "mine"),
        ("Shared", "the project's"),
    ]
    # an action is no way round the trust rule: where keys and code go stays the user's
    assert s.base_url is None and any("base_url is ignored" in w for w in warnings)
    assert s.api_key is None  # inside an action it is no setting at all
    assert "scopewise.actions 'Shared': api_key: unknown setting; ignored" in warnings
    # the user's own entry of that name is replaced: said, not silent
    assert (
        "scopewise.actions 'Shared': the workspace's action of that name replaces yours" in warnings
    )


def test_the_editors_actions_are_added_too(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / ".scopewise.toml").write_text('[[actions]]\nname = "Theirs"\nprompt = "p"\n')
    user = config.read_user_config(tmp_path / "none.toml")
    editor = {"actions": [{"name": "From the editor", "prompt": "q", "kind": "explain"}]}
    s, warnings = config.load(root, editor, user=user)
    assert [a.name for a in s.actions] == ["From the editor", "Theirs"] and warnings == []
