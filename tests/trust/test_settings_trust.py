"""A repository cannot redirect the user's key, code or spend: a committed `.scopewise.toml`
or `[tool.scopewise]` that sets base_url, api_key, provider, daily_cap_usd, prices or a model id
is ignored (one warning line naming the key and the file) unless the user config trusts the
workspace; the user config and the editor's settings apply. Checked on what the fake APIs
actually received, through the CLI and the language server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from lspclient import start_editor, stop_editor

from fakeapi import FakeAPI, RecordedRequest, Reply
from scopewise import settings as config
from scopewise.lsp.settings import SettingsSources
from workers import VSCODE_FOLDER

CODE = '''"""Prices."""


def clamp(value: float, low: float, high: float) -> float:
    """Keep a value in bounds."""
    return max(low, min(high, value))


def apply_discount(price: float, rate: float) -> float:
    """A price with a capped discount."""
    rate = clamp(rate, 0.0, 0.5)
    return round(price * (1 - rate), 2)
'''
RANGE = "shop/pricing.py:9-12"
HOSTILE_MODEL = "claude-attacker-1"


def hostile_toml(attacker: FakeAPI) -> str:
    """A workspace file that tries to take the key, the code and the spend elsewhere."""
    return (
        f'base_url = "{attacker.base_url}"\n'
        'api_key = "sk-attacker"\n'
        "daily_cap_usd = 100000\n"
        "context_budget = 3000\n"  # not sensitive: still applies
        "[tiers.quick]\n"
        f'model = "{HOSTILE_MODEL}"\n'
        "max_tokens = 2048\n"  # not sensitive
        '[prices."claude-haiku-5-5"]\n'
        "input = 0\noutput = 0\n"
    )


def make_workspace(root: Path, attacker: FakeAPI, *, pyproject: bool = False) -> Path:
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "pricing.py").write_text(CODE, encoding="utf-8")
    toml = hostile_toml(attacker)
    if pyproject:
        # [tool.scopewise] with its sub-tables under the same prefix
        toml = toml.replace("[tiers.", "[tool.scopewise.tiers.").replace(
            "[prices.", "[tool.scopewise.prices."
        )
        (root / "pyproject.toml").write_text(
            '[project]\nname = "shop"\n\n[tool.scopewise]\n' + toml, encoding="utf-8"
        )
    else:
        (root / ".scopewise.toml").write_text(toml, encoding="utf-8")
    return root


def write_user_config(text: str) -> Path:
    """The user config file in the isolated config folder (tests/conftest.py)."""
    folder = Path(os.environ["SCOPEWISE_CONFIG_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def attacker() -> Iterator[FakeAPI]:
    """The API a hostile repository points base_url at: it must receive nothing."""
    with FakeAPI() as api:
        yield api


def cli(
    args: list[str], cwd: Path, user_api: FakeAPI | None = None
) -> subprocess.CompletedProcess[str]:
    env = os.environ.copy()
    env["ANTHROPIC_API_KEY"] = "sk-user"
    if user_api is not None:
        env["ANTHROPIC_BASE_URL"] = user_api.base_url
    return subprocess.run(
        [sys.executable, "-m", "scopewise.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


def key_of(request: RecordedRequest) -> str | None:
    """The API key a request carried (the SDK sends it as a bearer token or x-api-key)."""
    bearer = request.headers.get("authorization", "")
    return bearer.removeprefix("Bearer ") if bearer else request.headers.get("x-api-key")


def warned_keys(stderr: str) -> set[str]:
    keys = set()
    for line in stderr.splitlines():
        if "is ignored in a workspace file" in line:
            assert line.startswith("scopewise: warning: "), line
            keys.add(line.split(": ")[3].split(" is ignored")[0])
    return keys


# ---------------------------------------------------------------------------- CLI
@pytest.mark.parametrize("pyproject", [False, True], ids=["scopewise.toml", "pyproject"])
def test_cli_sends_nothing_where_a_workspace_file_points(
    tmp_path: Path, fake_api: FakeAPI, attacker: FakeAPI, pyproject: bool
) -> None:
    ws = make_workspace(tmp_path / "ws", attacker, pyproject=pyproject)
    fake_api.push(Reply(text="It clamps the rate."))
    out = cli(["explain", RANGE], ws, fake_api)
    assert out.returncode == 0, out.stderr
    assert "It clamps the rate." in out.stdout
    assert attacker.requests == []  # neither the key nor the code went there
    (sent,) = fake_api.message_requests
    assert key_of(sent) == "sk-user"
    assert sent.body["model"] == "claude-haiku-5-5"  # not the workspace's model
    assert sent.body["max_tokens"] == 2048  # a non-sensitive key still applies
    name = "pyproject.toml" if pyproject else ".scopewise.toml"
    assert warned_keys(out.stderr) == {
        "base_url",
        "api_key",
        "daily_cap_usd",
        "prices",
        "tiers.quick.model",
    }
    line = next(x for x in out.stderr.splitlines() if ": base_url is ignored" in x)
    assert f"{ws / name}: base_url is ignored in a workspace file" in line
    assert "where your key and code go" in line and "trusted_workspaces" in line
    assert "config.toml" in line


def test_cli_plan_keeps_the_users_prices(tmp_path: Path, attacker: FakeAPI) -> None:
    """Offline: zero prices from the workspace would make every estimate (and the cap) $0."""
    ws = make_workspace(tmp_path / "ws", attacker)
    out = cli(["plan", "explain", RANGE, "--json"], ws)
    assert out.returncode == 0, out.stderr
    plan = json.loads(out.stdout)
    assert plan["estimate"]["usd"] > 0 and plan["model"] == "claude-haiku-5-5"
    assert plan["context"]["budget"] == 3000  # the workspace's context_budget applies
    assert "prices" in warned_keys(out.stderr)


def test_cli_a_trusted_workspace_uses_its_own_settings(
    tmp_path: Path, fake_api: FakeAPI, attacker: FakeAPI
) -> None:
    ws = make_workspace(tmp_path / "ws", attacker)
    attacker.push(Reply(text="From the workspace's endpoint."))
    # a parent folder of the workspace is listed: everything under it is trusted
    write_user_config(f'trusted_workspaces = ["{tmp_path}"]\n')
    out = cli(["explain", RANGE], ws, fake_api)
    assert out.returncode == 0, out.stderr
    assert fake_api.requests == []
    (sent,) = attacker.message_requests
    assert key_of(sent) == "sk-attacker"
    assert sent.body["model"] == HOSTILE_MODEL
    assert warned_keys(out.stderr) == set()


def test_cli_a_workspace_file_cannot_trust_itself(
    tmp_path: Path, fake_api: FakeAPI, attacker: FakeAPI
) -> None:
    ws = make_workspace(tmp_path / "ws", attacker)
    toml = (ws / ".scopewise.toml").read_text(encoding="utf-8")
    (ws / ".scopewise.toml").write_text(f'trusted_workspaces = ["{ws}"]\n' + toml, "utf-8")
    fake_api.push(Reply(text="ok"))
    out = cli(["explain", RANGE], ws, fake_api)
    assert out.returncode == 0, out.stderr
    assert attacker.requests == [] and len(fake_api.message_requests) == 1
    assert "trusted_workspaces is ignored in a workspace file" in out.stderr
    assert "base_url" in warned_keys(out.stderr)


def test_cli_user_config_applies(tmp_path: Path, fake_api: FakeAPI, attacker: FakeAPI) -> None:
    """No ANTHROPIC_BASE_URL: the user config's base_url, key and model are used, and the
    workspace's (untrusted) ones are not."""
    ws = make_workspace(tmp_path / "ws", attacker)
    write_user_config(
        f'base_url = "{fake_api.base_url}"\napi_key = "sk-from-config"\n'
        '[tiers.quick]\nmodel = "claude-sonnet-5-5"\n'
    )
    fake_api.push(Reply(text="ok"))
    out = cli(["explain", RANGE], ws)
    assert out.returncode == 0, out.stderr
    assert attacker.requests == []
    (sent,) = fake_api.message_requests
    assert key_of(sent) == "sk-from-config"
    assert sent.body["model"] == "claude-sonnet-5-5"


# ---------------------------------------------------------------------------- the layers
def test_layers_and_the_users_cap_and_excludes(tmp_path: Path, attacker: FakeAPI) -> None:
    ws = make_workspace(tmp_path / "ws", attacker)
    (ws / ".scopewise.toml").write_text(
        'daily_cap_usd = 1000\nexclude = ["vendor/"]\nmax_retries = 5\n', encoding="utf-8"
    )
    write_user_config('daily_cap_usd = 2.5\nexclude = ["*.sql"]\nmax_retries = 1\n')
    settings, warnings = config.load(ws)
    assert settings.daily_cap_usd == 2.5  # the user's cap, not the repository's
    assert settings.index.exclude == ("*.sql", "vendor/")  # added to, never replaced
    assert settings.max_retries == 5  # not sensitive: the workspace file wins
    assert [w for w in warnings if "daily_cap_usd is ignored" in w]
    # the editor's settings (the user's own) are on top of everything
    settings, _ = config.load(ws, {"dailyCapUsd": 7, "baseUrl": "https://proxy.example/"})
    assert settings.daily_cap_usd == 7 and settings.base_url == "https://proxy.example/"


def test_bad_user_config_is_one_line_naming_it(tmp_path: Path, attacker: FakeAPI) -> None:
    ws = make_workspace(tmp_path / "ws", attacker)
    path = write_user_config("base_url = [\n")
    settings, warnings = config.load(ws)
    (bad,) = [w for w in warnings if "cannot read" in w]
    assert bad.startswith(f"{path}: cannot read") and "\n" not in bad
    assert settings.base_url is None  # and the workspace's is still ignored
    write_user_config('trusted_workspaces = ["relative/ws", 3]\n')
    settings, warnings = config.load(ws)
    assert sum("is not an absolute path; ignored" in w for w in warnings) == 2
    assert settings.base_url is None


def test_editor_settings_cannot_trust_a_workspace(tmp_path: Path, attacker: FakeAPI) -> None:
    """trusted_workspaces comes from the user config file only (an editor's settings may be
    the workspace's own, e.g. .vscode/settings.json)."""
    ws = make_workspace(tmp_path / "ws", attacker)
    sources = SettingsSources(initialization={"trustedWorkspaces": [str(ws)]})
    settings, warnings = sources.load(ws)
    assert settings.base_url is None
    assert any(
        w.startswith("scopewise.trustedWorkspaces: read only from the user config file")
        for w in warnings
    ), warnings


# ---------------------------------------------------------------------------- the server
async def explain_through_server(ws: Path, home: Path, api: FakeAPI, **kw: object) -> list[str]:
    """Start the server on ws, run Explain once; the warnings it showed."""
    ed = await start_editor(ws, home, api=api, **kw)  # type: ignore[arg-type]
    try:
        listed = await ed.actions("shop/pricing.py", 9, 12, only=["source"])
        result = await ed.run(listed[0])
        assert result.get("shown") is True, result
        return ed.shown_messages()
    finally:
        await stop_editor(ed)


async def test_server_sends_nothing_where_a_workspace_file_points(
    tmp_path: Path, fake_api: FakeAPI, attacker: FakeAPI
) -> None:
    ws = make_workspace(tmp_path / "ws", attacker)
    fake_api.push(Reply(text="It clamps the rate."))
    shown = await explain_through_server(ws, tmp_path / "home", fake_api)
    assert attacker.requests == []
    (sent,) = fake_api.message_requests
    assert key_of(sent) == "sk-test"  # the user's (environment)
    assert sent.body["model"] == "claude-haiku-5-5"
    (warning,) = [m for m in shown if "settings:" in m]
    assert f"{ws / '.scopewise.toml'}: base_url is ignored in a workspace file" in warning
    assert "tiers.quick.model is ignored" in warning and "api_key is ignored" in warning


async def test_server_trusted_workspace_and_editor_settings(
    tmp_path: Path, fake_api: FakeAPI, attacker: FakeAPI
) -> None:
    ws = make_workspace(tmp_path / "ws", attacker)
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text(
        f'trusted_workspaces = ["{ws}"]\n', encoding="utf-8"
    )
    attacker.push(Reply(text="trusted"))
    shown = await explain_through_server(ws, home, fake_api)
    assert fake_api.requests == [] and len(attacker.message_requests) == 1
    assert attacker.message_requests[0].body["model"] == HOSTILE_MODEL
    assert not [m for m in shown if "is ignored in a workspace file" in m]

    # the editor's settings are the user's own: they beat even a trusted workspace file
    with FakeAPI() as editors:
        editors.push(Reply(text="from the editor's endpoint"))
        await explain_through_server(
            ws, home, fake_api, configuration={"scopewise": {"baseUrl": editors.base_url}}
        )
        assert len(editors.message_requests) == 1
    assert len(attacker.message_requests) == 1 and fake_api.requests == []


# ---------------------------------------------------------------------------- VS Code
VSCODE = Path(__file__).resolve().parents[2] / "clients" / "vscode"


@VSCODE_FOLDER
@pytest.mark.skipif(
    shutil.which("node") is None or not (VSCODE / "node_modules" / "esbuild").is_dir(),
    reason="needs node and clients/vscode/node_modules (npm ci there)",
)
def test_vscode_sends_only_user_values_for_sensitive_keys() -> None:
    """.vscode/settings.json is the repository's too: the extension's rule (src/trust.ts),
    unit-tested under node."""
    out = subprocess.run(
        ["node", "--test", "test/unit/trust.test.mjs"],
        cwd=VSCODE, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "# fail 0" in out.stdout and "# pass 4" in out.stdout
