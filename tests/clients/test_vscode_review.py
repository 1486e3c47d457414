"""The VS Code review's pure part (clients/vscode/src/proposal.ts) unit-tested under node: a
proposal checked as it arrives, the proposed text of a file with exactly the hunks not
rejected laid over its current text (moved with its lines, a hunk whose text is gone named
stale), the model's text made inert where VS Code reads markup."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from workers import VSCODE_FOLDER

pytestmark = VSCODE_FOLDER

VSCODE = Path(__file__).resolve().parents[2] / "clients" / "vscode"


NEEDS_NODE = pytest.mark.skipif(
    shutil.which("node") is None or not (VSCODE / "node_modules" / "esbuild").is_dir(),
    reason="needs node and clients/vscode/node_modules (npm ci there)",
)


def node_test(name: str, passes: int) -> None:
    """Run one of the extension's unit tests under node; all of its `passes` tests pass."""
    out = subprocess.run(
        ["node", "--test", f"test/unit/{name}"],
        cwd=VSCODE, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "# fail 0" in out.stdout and f"# pass {passes}\n" in out.stdout, out.stdout[-500:]


@NEEDS_NODE
def test_the_proposed_text_holds_exactly_the_hunks_not_rejected() -> None:
    node_test("proposal.test.mjs", 10)


@NEEDS_NODE
def test_the_quick_pick_shows_a_row_per_choice_and_asks_nothing_on_a_refusal() -> None:
    """clients/vscode/src/choose.ts: `scopewise.choices`' answer read defensively, a row per
    choice (name; tier and cost; why)."""
    node_test("choose.test.mjs", 2)
