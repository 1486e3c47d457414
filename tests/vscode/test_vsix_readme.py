"""The README packed into the .vsix (clients/vscode/README.md) names every setting the
extension contributes, and says how to install the server for real (it is not on PyPI)."""

from __future__ import annotations

import json
import re
from pathlib import Path

VSCODE = Path(__file__).parents[2] / "clients" / "vscode"


def test_the_readme_lists_every_setting() -> None:
    package = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    keys = set(package["contributes"]["configuration"]["properties"])
    readme = (VSCODE / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `(scopewise\.[\w.]+)` \|", readme, flags=re.MULTILINE))
    assert sorted(keys - listed) == [], "settings missing from the README's table"
    assert sorted(listed - keys) == [], "the README lists settings package.json does not have"


def test_the_install_command_is_one_that_works() -> None:
    for text in (
        (VSCODE / "README.md").read_text(encoding="utf-8"),
        (VSCODE / "src" / "extension.ts").read_text(encoding="utf-8"),
    ):
        assert "pip install scopewise" not in text  # not published
        assert "pip install -e /path/to/scopewise" in text
