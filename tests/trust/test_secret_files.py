"""The secrets-file rule, precise both ways: key and credential DATA files are never read,
sent or edited, while code that merely has "secrets" or "credentials" in its name is indexed
like any code (and redacted as always). A symlink is judged by its own name and by the name
of the file it points at."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from scopewise.actions.edits import EditError, read_for_edit
from scopewise.analysis.engine import Engine, EngineError
from scopewise.index.files import SECRET_PATTERNS, is_secret_path, list_files

README = Path(__file__).parents[2] / "README.md"

DATA_FILES = [
    ".env", "app/.env.production", "deploy/prod.env", ".envrc", "certs/server.pem",
    "certs/tls.key", "keys/id_rsa", "keys/id_ed25519.pub", "home/.netrc", "home/.pypirc",
    "home/.npmrc", ".git-credentials", "aws/credentials", "gcp/credentials.json",
    "conf/credentials.yaml", "conf/secrets.toml", "conf/secrets.yml", "k8s/Secrets.JSON",
    "client_secret_1234.apps.json", "vault/token.secret", "android/release.keystore",
    "ios/AuthKey_ABC.p8",
]  # fmt: skip
CODE_FILES = [
    "daemon/secrets.go", "app/credentials.py", "app/credentials_loader.py", "lib/secrets.rb",
    "vendor/github.com/aws/credentials/provider.go", "src/secrets/mod.rs",
    "src/Credentials.java", "web/secrets.ts", "environment.py", "keys/keyring.py",
]  # fmt: skip


@pytest.mark.parametrize("rel", DATA_FILES)
def test_key_and_credential_data_files_are_secrets(rel: str) -> None:
    assert is_secret_path(rel)


@pytest.mark.parametrize("rel", CODE_FILES)
def test_code_named_like_secrets_is_not_a_secrets_file(rel: str) -> None:
    assert not is_secret_path(rel)


@pytest.fixture(params=["walk", "git"])
def workspace(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    files = {
        "daemon/secrets.go": 'package daemon\n\nfunc Load() string { return "x" }\n',
        "app/credentials.py": 'password = "from-credentials-py"\n\n\ndef user() -> str:\n'
        '    return "app"\n',
        "vendor/aws/credentials/provider.go": "package credentials\n\nfunc P() {}\n",
        "app/real.py": "def real() -> int:\n    return 1\n",
        ".env": "DB_PASSWORD=dotenv-value-3141\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (tmp_path / "outside.env").write_text("TOKEN=outside-value-2718\n")
    os.symlink("../.env", root / "app" / "config.py")  # a code name, a secrets target
    os.symlink(tmp_path / "outside.env", root / "app" / "settings.py")
    os.symlink("real.py", root / "app" / "alias.py")  # a link to code is code
    if request.param == "git":
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def test_code_named_secrets_is_indexed_and_links_to_secrets_are_not(workspace: Path) -> None:
    listing = list_files(workspace)
    assert {"daemon/secrets.go", "app/credentials.py", "vendor/aws/credentials/provider.go"} <= set(
        listing.files
    )
    assert not {"app/config.py", "app/settings.py"} & set(listing.files)
    if (workspace / ".git").exists():  # git lists links (the walk never follows them)
        assert "app/alias.py" in listing.files
        skipped = {s.path: s.reason for s in listing.skipped}
        assert skipped["app/config.py"] == "a symlink to a secrets file"
        assert skipped["app/settings.py"] == "a symlink to a secrets file"


def test_a_link_to_a_secrets_file_is_never_read_for_an_action_or_an_edit(workspace: Path) -> None:
    engine = Engine(workspace, use_cache=False)
    engine.index(workers=1)
    assert not engine.workspace.admits("app/config.py")
    with pytest.raises(EngineError, match="secrets file"):
        engine.analyze("app/config.py", 1, 1)
    for rel in ("app/config.py", "app/settings.py"):
        with pytest.raises(EditError, match="secrets file"):
            read_for_edit(workspace, rel)
    assert read_for_edit(workspace, "app/alias.py") == "def real() -> int:\n    return 1\n"


def test_code_named_credentials_is_context_with_its_values_redacted(workspace: Path) -> None:
    engine = Engine(workspace, use_cache=False)
    engine.index(workers=1)
    ctx = engine.context("app/credentials.py", 4, 5, 2000)
    text = ctx.render()
    assert "def user()" in text or 'return "app"' in text
    full = engine.context("app/credentials.py", 1, 5, 2000).render()
    assert "from-credentials-py" not in full and "[REDACTED]" in full


def test_the_readme_lists_exactly_the_secrets_file_names() -> None:
    section = README.read_text().split("## Secrets and privacy", 1)[1].split("\n## ", 1)[0]
    first = section.split("\n- ", 2)[1]  # the "Never read" bullet
    listed = set(re.findall(r"`([^`]+)`", first))
    stems = {x for x in listed if x.endswith(".*") and x != ".env.*"}
    exts = {x for x in listed if x.isalpha() and x not in SECRET_PATTERNS}
    readme = (listed - stems - exts) | {s[:-1] + e for s in stems for e in exts}
    assert readme == set(SECRET_PATTERNS)
