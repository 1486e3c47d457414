"""The `scopewise` command as a user runs it: real processes, exit codes, JSON output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(args: list[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scopewise.cli", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )


def test_index_json(poly: Path) -> None:
    out = run(["index", str(poly), "--json"], poly)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["files"] == 15
    assert data["languages"]["python"] == 4
    assert data["symbols"] > 50 and data["references"] > 100
    again = json.loads(run(["index", str(poly), "--json"], poly).stdout)
    assert again["cache_hits"] == again["files"]


def test_scope_and_context_json(poly: Path) -> None:
    out = run(["scope", "shop/pricing.py:29-32", "--json"], poly)
    assert out.returncode == 0, out.stderr
    scope = json.loads(out.stdout)
    assert scope["targets"][0]["name"] == "apply_discount" and scope["public"] is True
    out = run(["context", "shop/pricing.py:29-32", "--budget", "1500", "--json"], poly)
    assert out.returncode == 0, out.stderr
    ctx = json.loads(out.stdout)
    assert ctx["tokens"] <= 1500
    assert {"path", "start_line", "end_line"} <= set(ctx["snippets"][0])
    assert any(m["symbol"] == "clamp" for m in ctx["manifest"])


def test_context_text_output_has_manifest_on_stderr(poly: Path) -> None:
    out = run(["context", "shop/cart.py:27-30"], poly)
    assert out.returncode == 0
    assert "### shop/cart.py" in out.stdout
    assert "manifest" in out.stderr


def test_jsonl_provider_protocol(poly: Path) -> None:
    reqs = [
        {
            "repo": str(poly),
            "file": "shop/pricing.py",
            "start_line": 29,
            "end_line": 32,
            "budget": 800,
        },
        {"repo": str(poly), "file": "nope.py", "start_line": 1, "end_line": 2, "budget": 800},
        "not an object",
        {
            "repo": str(poly),
            "file": "shop/cart.py",
            "start_line": 27,
            "end_line": 30,
            "budget": 4000,
        },
    ]
    stdin = "\n".join(json.dumps(r) for r in reqs) + "\n{broken json\n"
    out = run(["context", "--jsonl", "--root", str(poly)], poly, stdin)
    assert out.returncode == 0, out.stderr
    answers = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(answers) == 5
    assert answers[0]["snippets"] and answers[0]["tokens"] <= 800
    assert all({"path", "start_line", "end_line"} == set(s) for s in answers[0]["snippets"])
    assert "no such file" in answers[1]["error"]
    assert "error" in answers[2] and "error" in answers[4]
    assert answers[3]["snippets"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scope", "shop/missing.py:1"], "no such file"),
        (["scope", "shop/pricing.py:400-410"], "past the end"),
        (["scope", "shop/pricing.py"], "expected FILE:START[-END]"),
        (["context", "notes.txt:1"], "unsupported language"),
        (["index", "/definitely/not/here"], "not a folder"),
        (["context", "shop/pricing.py:1", "--budget", "3"], "too small"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(poly: Path, args: list[str], message: str) -> None:
    (poly / "notes.txt").write_text("hi\n")
    out = run(args, poly)
    assert out.returncode == 2, out.stdout
    assert message in out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_jsonl_takes_the_action_and_its_budget_is_the_cap(wide: Path) -> None:
    base = {"repo": str(wide), "file": "lib/textutil.py", "start_line": 1, "end_line": 3}
    reqs = [
        {**base, "budget": 16000, "action": "refactor"},
        {**base, "budget": 1500, "action": "refactor"},
        {**base, "budget": 16000},
        {**base, "budget": 16000, "action": "rewrite"},
    ]
    out = run(["context", "--jsonl"], wide, "\n".join(json.dumps(r) for r in reqs) + "\n")
    assert out.returncode == 0, out.stderr
    roomy, capped, plain, bad = [json.loads(line) for line in out.stdout.splitlines()]
    assert roomy["budget"] < 16000  # what a refactor of it asks for, not the bench's budget
    assert capped["budget"] == 1500 and capped["tokens"] <= 1500  # the request's cap holds
    assert plain["budget"] == 16000
    assert "unknown action 'rewrite'" in bad["error"]


def test_plan_json_lists_the_sites(wide: Path) -> None:
    out = run(["plan", "refactor", "lib/textutil.py:1-3", "--json"], wide)
    assert out.returncode == 0, out.stderr
    ctx = json.loads(out.stdout)["context"]
    sites = ctx["sites"]
    assert len(sites) >= 133
    assert {"path", "line", "symbol", "confidence", "via", "shown"} <= set(sites[0])
    assert {"path": "app/mod3.py", "line": 5, "symbol": "handler0"}.items() <= next(
        s for s in sites if s["path"] == "app/mod3.py" and s["line"] == 5
    ).items()
    assert ctx["budget"] <= ctx["budget_max"] == 24000
    assert "sites in 13 files" in ctx["line"]


def _imported(poly: Path, argv: list[str], modules: set[str]) -> subprocess.CompletedProcess[str]:
    """Run `scopewise ARGV` in a fresh interpreter; its stderr ends with the exit code and
    which of `modules` it imported ("HEAVY 0 []": none)."""
    code = (
        "import sys\n"
        "from scopewise.cli.main import main\n"
        f"rc = main({argv!r})\n"
        f"heavy = {sorted(modules)!r}\n"
        "print('HEAVY', rc, [m for m in heavy if m in sys.modules], file=sys.stderr)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=poly,
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )


def test_a_warm_context_imports_nothing_only_a_build_needs(poly: Path) -> None:
    """On a warm cache `scopewise context` starts no worker pool (multiprocessing is not
    imported), keeps the cache's version key (importlib.metadata is not), reads plain
    settings without cattrs, and our query files without importlib's readers (zipfile):
    what a command costs before it answers."""
    (poly / ".scopewise.toml").write_text("max_files = 5000\n")
    assert run(["index", str(poly)], poly).returncode == 0
    heavy = {"multiprocessing", "importlib.metadata", "cattrs", "zipfile"}
    out = _imported(poly, ["context", "shop/pricing.py:29-32"], heavy)
    assert "HEAVY 0 []" in out.stderr, out.stderr[-2000:]
    assert "apply_discount" in out.stdout


def test_a_plan_imports_no_transport(poly: Path) -> None:
    """`scopewise plan` is offline: it prices and routes without importing the client's
    transport (asyncio, the SDK) or the deep tier's look-ups (regex) — a plan at 50k files
    answers in half a second, and these were a tenth of it."""
    assert run(["index", str(poly)], poly).returncode == 0
    heavy = {"asyncio", "anthropic", "regex", "scopewise.claude.client"}
    out = _imported(poly, ["plan", "explain", "shop/pricing.py:29-32"], heavy)
    assert "HEAVY 0 []" in out.stderr, out.stderr[-2000:]
    assert "explain" in out.stdout.lower()


def test_a_reader_that_leaves_early_gets_no_error_line(poly: Path) -> None:
    """`scopewise context … | head -1`: the reader closes the pipe; the command stops without
    an error line (it said "scopewise: : Broken pipe" when OSError was caught first)."""
    argv = ["context", "shop/cart.py:27-30", "--budget", "20000"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "scopewise.cli", *argv],
        cwd=poly, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy(),
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # gone before the first write
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1
    assert "Broken pipe" not in err and "Traceback" not in err, err
