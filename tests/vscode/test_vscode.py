"""The VS Code extension end to end in real VS Code (code-server + headless Chromium), against
the real server and the fake Messages API: clients/vscode/test/e2e/run.sh.

Runs when SCOPEWISE_VSCODE_E2E=1 (scripts/test sets it; pytest alone skips it).
The first run on a machine installs Node 24, code-server and Debian chromium (~2 min, ~620 MB,
cached under ~/.cache/scopewise-e2e); a warm run takes ~30 s. Screenshots and logs of a
failure are in the log folder the output names (clients/vscode/test/e2e/logs/<time>)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from workers import VSCODE_FOLDER

RUN = Path(__file__).resolve().parents[2] / "clients" / "vscode" / "test" / "e2e" / "run.sh"
IMPOSSIBLE = 3  # run.sh: an install step cannot be done on this machine


@VSCODE_FOLDER
@pytest.mark.skipif(
    os.environ.get("SCOPEWISE_VSCODE_E2E") != "1",
    reason="opt-in: set SCOPEWISE_VSCODE_E2E=1 to run the VS Code end-to-end test",
)
def test_vscode_extension_end_to_end(tmp_path: Path) -> None:
    logs = Path(os.environ.get("SCOPEWISE_E2E_LOGS") or tmp_path / "logs")
    env = dict(os.environ, SCOPEWISE_E2E_LOGS=str(logs))
    for attempt in range(2):  # a real browser and editor: one retry absorbs a rare hiccup
        proc = subprocess.run(
            [str(RUN)], env=env, capture_output=True, text=True, timeout=900, check=False
        )
        if proc.returncode in (0, IMPOSSIBLE):
            break
        print(f"attempt {attempt + 1} failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
    out = proc.stdout + proc.stderr
    if proc.returncode == IMPOSSIBLE:
        pytest.skip(next((ln for ln in out.splitlines() if "impossible" in ln), out[-500:]))
    assert proc.returncode == 0, (
        f"VS Code e2e failed (logs and screenshots in {logs}):\n{out[-6000:]}"
    )
