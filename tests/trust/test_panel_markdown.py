"""The model's text is data in VS Code's explanation panel too: its renderer
(clients/vscode/src/markdown.ts) escapes everything and makes only its own few tags; the page
has no scripts. Unit-tested under node (clients/vscode/test/unit/markdown.test.mjs)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from workers import VSCODE_FOLDER

VSCODE = Path(__file__).resolve().parents[2] / "clients" / "vscode"


@VSCODE_FOLDER
@pytest.mark.skipif(
    shutil.which("node") is None or not (VSCODE / "node_modules" / "esbuild").is_dir(),
    reason="needs node and clients/vscode/node_modules (npm ci there)",
)
def test_the_explanation_panel_renders_the_models_html_as_text() -> None:
    out = subprocess.run(
        ["node", "--test", "test/unit/markdown.test.mjs"],
        cwd=VSCODE, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "# fail 0" in out.stdout and "# pass 3" in out.stdout
