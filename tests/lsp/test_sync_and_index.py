"""Documents and the index: incremental edits in UTF-16, unsaved buffers feeding the index,
files changing on disk, re-indexing, indexing progress, and TCP."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sys
from pathlib import Path

import pytest
from lspclient import (
    TIMEOUT,
    Editor,
    capabilities,
    server_env,
    start_editor,
    stop_editor,
)
from lsprotocol import types
from pytest_lsp.client import make_test_lsp_client

from fakeapi import FakeAPI, Reply

pytestmark = pytest.mark.asyncio(loop_scope="module")

PRICING = "shop/pricing.py"
CART = "shop/cart.py"


async def explain_apply_discount(ed: Editor) -> list[types.CodeAction]:
    return await ed.actions(PRICING, 29, 32, only=["refactor"])


def uses(listed: list[types.CodeAction]) -> int:
    """The uses the plan counted elsewhere. A reason that names no uses fails the test, so a
    wait for a count (`uses(m) == base`) cannot pass on a menu that lost its reason; each
    wait for `base` comes after one for another count, so it sees the index change back."""
    renames = [a for a in listed if a.data.get("intent") == "improve names"]
    reason = str(renames[0].data["reason"])  # an interface's change counts its uses
    m = re.search(r"(\d+|no) (?:uses|sites) (elsewhere|in \d+ files?)", reason)
    assert m, f"the reason names no uses: {reason!r}"
    return 0 if m.group(1) == "no" else int(m.group(1))


async def test_utf16_edits_after_astral_characters(ed: Editor) -> None:
    ed.open(PRICING)
    ed.replace(PRICING, "TAX_RATE = 0.2", 'TAX_RATE = 0.2; NOTE = "💶💶" + "a"')
    ed.replace(PRICING, '"a"', '"b"')  # columns counted in UTF-16 units, after two pairs
    ed.replace(PRICING, '"💶💶"', '"€"')
    assert 'NOTE = "€" + "b"' in ed.texts[ed.uri(PRICING)]
    # the server's copy is the same text: one wrong column would leave a syntax error
    assert await ed.actions(PRICING, 7, 7, only=["quickfix"]) == []
    ed.replace(PRICING, '"b"', '"b')
    assert await ed.actions(PRICING, 7, 7, only=["quickfix"]) != []


async def test_unsaved_buffers_feed_the_index_and_closing_restores_the_disk(ed: Editor) -> None:
    base = uses(await explain_apply_discount(ed))
    assert base == 7
    ed.open(CART)
    ed.replace(
        CART,
        "def checkout(cart: Cart) -> int:",
        "def extra(p: Price) -> Price:\n    return apply_discount(p, 0.3)\n\n\n"
        "def checkout(cart: Cart) -> int:",
    )
    await ed.wait_for_menu(lambda m: uses(m) == base + 1, explain_apply_discount)
    ed.close(CART)  # the change was never saved
    await ed.wait_for_menu(lambda m: uses(m) == base, explain_apply_discount)


async def test_files_changed_on_disk(ed: Editor) -> None:
    (reg,) = ed.registrations
    assert reg.method == "workspace/didChangeWatchedFiles"
    globs = [w["globPattern"] for w in reg.register_options["watchers"]]  # type: ignore[index]
    assert "**/.scopewise.toml" in globs and any(",py," in str(g) for g in globs)
    base = uses(await explain_apply_discount(ed))
    assert base > 0
    extra = ed.root / "shop" / "extra.py"
    pruned = ed.root / "node_modules" / "also.py"
    pruned.parent.mkdir()
    body = "from shop.pricing import apply_discount\n\nX = apply_discount(None, 0.1)\n"
    extra.write_text(body + "Y = apply_discount(None, 0.2)\n")
    pruned.write_text(body)

    def event(path: Path, kind: types.FileChangeType) -> None:
        ed.client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[types.FileEvent(uri=path.as_uri(), type=kind)]
            )
        )

    event(pruned, types.FileChangeType.Created)
    event(extra, types.FileChangeType.Created)
    await ed.wait_for_menu(lambda m: uses(m) == base + 3, explain_apply_discount)  # import + 2
    extra.unlink()
    event(extra, types.FileChangeType.Deleted)
    await ed.wait_for_menu(lambda m: uses(m) == base, explain_apply_discount)


def watched(ed: Editor, *events: tuple[Path, types.FileChangeType]) -> None:
    ed.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=p.as_uri(), type=kind) for p, kind in events]
        )
    )


async def test_files_renamed_while_indexed(ed: Editor) -> None:
    """A rename is a delete and a create (what editors' file watchers send): the index
    follows the file to its new name and forgets the old one."""
    created, deleted = types.FileChangeType.Created, types.FileChangeType.Deleted
    base = uses(await explain_apply_discount(ed))
    body = "from shop.pricing import apply_discount\n\nX = apply_discount(None, 0.1)\n"
    first = ed.root / "shop" / "renamed_a.py"
    first.write_text(body + "Y = apply_discount(None, 0.2)\n")
    watched(ed, (first, created))
    await ed.wait_for_menu(lambda m: uses(m) == base + 3, explain_apply_discount)

    parked = first.with_name("renamed_a.py.bak")  # renamed to a name that is not code
    first.rename(parked)
    watched(ed, (first, deleted), (parked, created))
    await ed.wait_for_menu(lambda m: uses(m) == base, explain_apply_discount)

    second = ed.root / "shop" / "renamed_b.py"  # and back under another name
    parked.rename(second)
    watched(ed, (parked, deleted), (second, created))
    await ed.wait_for_menu(lambda m: uses(m) == base + 3, explain_apply_discount)

    third = ed.root / "shop" / "renamed_c.py"  # code to code, then edited: if the old name
    second.rename(third)  # lingered, its three uses would still count
    third.write_text(body)
    watched(ed, (second, deleted), (third, created))
    await ed.wait_for_menu(lambda m: uses(m) == base + 2, explain_apply_discount)
    third.unlink()
    watched(ed, (third, deleted))
    await ed.wait_for_menu(lambda m: uses(m) == base, explain_apply_discount)


async def test_an_open_buffer_the_index_excludes_stays_private(
    ed: Editor, module_api: FakeAPI
) -> None:
    """A file the index leaves out (here under node_modules/) can be opened and acted on,
    but it never becomes context for other files, even while open."""
    base = uses(await explain_apply_discount(ed))
    body = (
        "from shop.pricing import apply_discount\n\n\n"
        "def vendored_total(cart):\n    return apply_discount(cart, 0.3)\n"
    )
    ed.open("node_modules/vendored/private_use.py", body)
    own = await ed.actions("node_modules/vendored/private_use.py", 4, 5)
    assert own and own[0].title.startswith("Explain")  # actions on it still work
    at = await ed.actions("node_modules/vendored/private_use.py", 5, cursor=True)
    assert at and at[0].title.startswith("Explain")  # at a cursor too, still left out:
    ed.open("shop/visible_use.py", body)  # the same text where the index looks
    await ed.wait_for_menu(lambda m: uses(m) == base + 2, explain_apply_discount)
    ed.close("shop/visible_use.py")
    await ed.wait_for_menu(lambda m: uses(m) == base, explain_apply_discount)

    module_api.push(Reply(text="It applies a discount."))
    ed.open(PRICING)
    explain = await ed.actions(PRICING, 29, 32, only=["source"])
    result = await ed.run(explain[0])
    assert result.get("shown") is True
    sent = json.dumps(module_api.last.body)
    assert "apply_discount" in sent and "vendored_total" not in sent
    assert "private_use" not in sent


async def test_open_buffers_are_judged_again_when_the_ignore_rules_change(ed: Editor) -> None:
    created, deleted = types.FileChangeType.Created, types.FileChangeType.Deleted
    base = uses(await explain_apply_discount(ed))
    body = "from shop.pricing import apply_discount\n\nX = apply_discount(None, 0.1)\n"
    ed.open("shop/later_private.py", body)  # an unsaved buffer, indexed as it is typed
    await ed.wait_for_menu(lambda m: uses(m) == base + 2, explain_apply_discount)
    ignore = ed.root / ".scopewiseignore"
    ignore.write_text("shop/later_private.py\n")
    try:
        watched(ed, (ignore, created))  # the user excludes it: it leaves the index, though open
        await ed.wait_for_menu(lambda m: uses(m) == base, explain_apply_discount)
    finally:
        ignore.unlink()
    watched(ed, (ignore, deleted))  # and comes back when the rule goes
    await ed.wait_for_menu(lambda m: uses(m) == base + 2, explain_apply_discount)
    ed.close("shop/later_private.py")
    await ed.wait_for_menu(lambda m: uses(m) == base, explain_apply_discount)


async def test_reindex_command(ed: Editor) -> None:
    stats = await asyncio.wait_for(
        ed.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="scopewise.reindex")
        ),
        TIMEOUT,
    )
    assert stats["files"] == 15 and stats["symbols"] > 50 and stats["seconds"] >= 0


async def test_indexing_progress_while_answering(tmp_path: Path) -> None:
    root = tmp_path / "many"
    (root / "pkg").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'many'\n")
    for i in range(60):
        (root / "pkg" / f"m{i}.py").write_text(
            "".join(f"def f{i}_{j}(x):\n    return x + {j}\n\n\n" for j in range(40))
        )
    ed = await start_editor(root, tmp_path / "home", wait_index=False)
    try:
        ed.open("pkg/m0.py")
        listed = await ed.actions("pkg/m0.py", 1, 2)  # answered whether or not indexing ended
        assert listed and listed[0].title.startswith("Explain")

        def index_progress() -> list[object]:
            found = [
                v
                for t, v in ed.client.progress_reports.items()
                if str(t).startswith("scopewise-index")
            ]
            assert len(found) <= 1
            # the token is known (an empty list) before its first value arrives
            ended = bool(found and found[0]) and isinstance(found[0][-1], types.WorkDoneProgressEnd)
            return found[0] if ended else []

        values: list[object] = await ed.wait_for(index_progress)
        assert isinstance(values[0], types.WorkDoneProgressBegin)
        reports = [v for v in values if isinstance(v, types.WorkDoneProgressReport)]
        assert reports and all(
            re.fullmatch(r"Indexing [\d,]+/60 files", r.message or "") for r in reports
        )
        assert isinstance(values[-1], types.WorkDoneProgressEnd)
        assert (values[-1].message or "").startswith("Indexed 60 files")
    finally:
        await stop_editor(ed)


async def test_serve_over_tcp(tmp_path: Path, poly: Path) -> None:
    root = poly
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "scopewise.cli", "serve", "--tcp", f"127.0.0.1:{port}",
        env=server_env(tmp_path / "home", None), cwd=str(root),
    )  # fmt: skip
    client = make_test_lsp_client()
    try:
        for _ in range(100):
            try:
                await client.start_tcp("127.0.0.1", port)
                break
            except OSError:
                await asyncio.sleep(0.05)
        await client.initialize_session(
            types.InitializeParams(capabilities=capabilities(), root_uri=root.as_uri())
        )
        ed = Editor(client, root)
        ed.open(PRICING)
        assert len(await ed.actions(PRICING, 29, 32)) == 3  # the default menu
        await asyncio.wait_for(client.shutdown_session(), TIMEOUT)
    finally:
        await client.stop()
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
