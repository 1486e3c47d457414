"""Secrets never leave the machine: a workspace seeded with credentials and ignored files,
every action run against the fake API, every recorded request searched.

The secrets are made at test time (none is committed, so no scanner trips over the repo)."""

from __future__ import annotations

import json
import os
import random
import string
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from fakeapi import FakeAPI, Reply
from scopewise.actions.plan import ActionRequest, Actions
from scopewise.analysis.engine import Engine
from scopewise.claude.client import ClaudeClient
from scopewise.settings import build
from scopewise.vocab import DiagnosticInfo
from widemodel import listed_sites

ANTHROPIC = "sk-ant-api03-" + "Zq9" * 15
AWS_ID = "AKIA" + "QWERTYUIOPASDFGH"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY"
GITHUB = "ghp_" + "a1B2c3D4e5" * 4
PASSWORD = "correct-horse-battery-staple"
DB_URL_PASS = "s3cr3tpw"
PRIVATE_KEY_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + "x" * 30
IGNORED = "ignored-file-contents-7731"
EXCLUDED = "excluded-by-settings-5521"
_rng = random.Random(4)
_ALNUM = string.ascii_letters + string.digits
OPENAI_PROJ = "sk-" + "proj-" + "".join(_rng.choice(_ALNUM) for _ in range(48))
ONE_LINE_PEM_BODY = "MIIEpAIBAAKCAQEA" + "".join(_rng.choice(_ALNUM) for _ in range(40))
REDIS_PW = "redis-pw-8812"
DICT_PW = "dict-pw-5150"
ANNOTATED_PW = "annotated-pw-6060"
GETENV_DEFAULT = "getenv-default-4242"
BEARER = "".join(_rng.choice(_ALNUM) for _ in range(40))
BLOB = "aZ3" + "".join(_rng.choice(_ALNUM + "+/") for _ in range(37))
SPLIT_TAIL = "".join(_rng.choice(_ALNUM) for _ in range(40))
CREDENTIALS_PY = "credentials-py-value-99"
LINKED_DOTENV = "linked-dotenv-value-17"
SECRETS = [ANTHROPIC, AWS_ID, AWS_SECRET, GITHUB, PASSWORD, DB_URL_PASS, PRIVATE_KEY_BODY,
           IGNORED, EXCLUDED, OPENAI_PROJ[8:], ONE_LINE_PEM_BODY, REDIS_PW, DICT_PW, ANNOTATED_PW,
           GETENV_DEFAULT, BEARER, BLOB, SPLIT_TAIL, CREDENTIALS_PY, LINKED_DOTENV]  # fmt: skip


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    (root / "app").mkdir(parents=True)
    (root / "private").mkdir()
    (root / "vendor").mkdir()
    (root / ".env").write_text(f"ANTHROPIC_API_KEY={ANTHROPIC}\n")
    (root / "deploy").mkdir()
    (root / "deploy" / "prod.env").write_text(f"SECRET={LINKED_DOTENV}\n")
    os.symlink("../deploy/prod.env", root / "app" / "config.py")  # judged by its target
    (root / "app" / "credentials.py").write_text(  # code named like secrets: indexed, redacted
        f'CREDENTIALS = {{"password": "{CREDENTIALS_PY}"}}\n\n\n'
        "def credentials() -> dict[str, str]:\n    return CREDENTIALS\n"
    )
    begin, end = "-----BEGIN RSA " + "PRIVATE KEY-----", "-----END RSA " + "PRIVATE KEY-----"
    (root / "app" / "more.py").write_text(
        "import os\n\n"
        f'OPENAI_KEY = "{OPENAI_PROJ}"\n'
        f'SIGNING_PEM = "{begin}\\n{ONE_LINE_PEM_BODY}\\n{end}\\n"\n'
        f'CACHE_URL = "redis://:{REDIS_PW}@cache:6379/0"\n'
        f'DB = {{"PASSWORD": "{DICT_PW}", "HOST": "db"}}\n'
        f'admin_password: str = "{ANNOTATED_PW}"\n'
        f'STRIPE = os.getenv("STRIPE_SECRET_KEY", "{GETENV_DEFAULT}")\n'
        f'HEADERS = {{"Authorization": "Bearer {BEARER}"}}\n'
        f'SALT = "{BLOB}"\n'
        f'SPLIT = ("sk-" "ant-api03-"\n         "{SPLIT_TAIL}")\n\n\n'
        "def settings() -> tuple[object, ...]:\n"
        "    return (OPENAI_KEY, SIGNING_PEM, CACHE_URL, DB, admin_password, STRIPE,\n"
        "            HEADERS, SPLIT)\n"
    )
    (root / "id_rsa").write_text(
        f"-----BEGIN RSA PRIVATE KEY-----\n{PRIVATE_KEY_BODY}\n-----END RSA PRIVATE KEY-----\n"
    )
    (root / ".gitignore").write_text("private/\n")
    (root / "private" / "notes.py").write_text(f'NOTE = "{IGNORED}"\n')
    (root / "vendor" / "blob.py").write_text(f'BLOB = "{EXCLUDED}"\n')
    (root / "app" / "settings.py").write_text(
        "import os\n\n"
        f'AWS_ACCESS_KEY_ID = "{AWS_ID}"\n'
        f'aws_secret_access_key = "{AWS_SECRET}"\n'
        f'DATABASE_URL = "postgres://admin:{DB_URL_PASS}@db:5432/app"\n'
        f'password = "{PASSWORD}"\n'
        f'ANTHROPIC_KEY = "{ANTHROPIC}"\n'
        "PRIVATE_KEY = '''\n-----BEGIN PRIVATE KEY-----\n"
        f"{PRIVATE_KEY_BODY}\n-----END PRIVATE KEY-----\n'''\n\n\n"
        "def connection_string() -> str:\n"
        "    return DATABASE_URL + password\n"
    )
    (root / "app" / "client.py").write_text(
        "from app.settings import ANTHROPIC_KEY, AWS_ACCESS_KEY_ID, connection_string\n\n"
        f'GITHUB_TOKEN = "{GITHUB}"\n\n\n'
        "def connect() -> tuple[str, str, str]:\n"
        "    auth = {'token': GITHUB_TOKEN}\n"
        "    return connection_string(), ANTHROPIC_KEY, AWS_ACCESS_KEY_ID + str(auth)\n"
    )
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


@pytest.fixture
async def client(fake_api: FakeAPI) -> AsyncIterator[ClaudeClient]:
    c = ClaudeClient(api_key="sk-test", base_url=fake_api.base_url, max_retries=0)
    yield c
    await c.close()


async def test_no_secret_reaches_the_api_in_any_action(
    workspace: Path, fake_api: FakeAPI, client: ClaudeClient
) -> None:
    settings, _ = build({"exclude": ["vendor/"]})
    engine = Engine(workspace, settings.index, use_cache=False)
    stats = engine.index(workers=1)
    indexed = set(engine.workspace.files)
    assert indexed == {"app/settings.py", "app/client.py", "app/credentials.py", "app/more.py"}
    assert {s.path for s in stats.skipped} >= {"vendor/blob.py"}
    actions = Actions(engine, settings)
    empty = json.dumps({"summary": "", "edits": []})
    requests = [
        ActionRequest("explain", "app/client.py", 1, 9),
        ActionRequest("explain", "app/settings.py", 1, 16),
        ActionRequest("refactor", "app/client.py", 6, 9, intent="improve names"),
        ActionRequest("refactor", "app/settings.py", 15, 16, tier="deep"),
        ActionRequest("fix", "app/client.py", 8, 8, diagnostics=(DiagnosticInfo(8, "bad"),)),
        ActionRequest("explain", "app/more.py", 1, 17),
        ActionRequest("refactor", "app/more.py", 15, 17, tier="deep"),
        ActionRequest("explain", "app/credentials.py", 1, 5),
    ]

    def answer(body: dict[str, Any]) -> Reply:
        """Explanations, no edits; a wide change's plan names every site it was sent, so
        its writers are shown the files around them (wide/writer.py)."""
        prompt = body["messages"][0]["content"]
        if prompt.startswith("Plan a change"):
            files = [
                {"path": p, "sites": lines, "how": "tidy"}
                for p, lines in listed_sites(prompt).items()
            ]
            none = {"renames": [], "removed": [], "signature": None}
            return Reply(text=json.dumps({"summary": "", "interface": none, "files": files}))
        return Reply(text="ok" if prompt.startswith("Explain") else empty)

    fake_api.responder = answer
    redactions = set()
    for req in requests:
        plan = actions.plan(req)
        redactions |= {(r.path, r.what) for r in plan.context.redactions}
        await actions.run(plan, client)
    sent = [json.dumps(r.body) for r in fake_api.message_requests]
    writers = [b for b in sent if "scopewise's writer" in b]
    assert len(sent) > len(requests) and writers  # the wide changes: plan, writers, repairs
    for body in sent:
        for secret in SECRETS:
            assert secret not in body, f"{secret[:12]}… was sent to the API"
    kinds = {what for _, what in redactions}
    assert {"Anthropic API key", "AWS access key id", "GitHub token", "private key"} <= kinds
    assert {"password or secret", "credentials in URL"} <= kinds
    assert {
        "OpenAI-style API key",
        "bearer credential",
        "high-entropy string",
        "split key",
    } <= kinds
    assert all(
        "[REDACTED]" in json.dumps(r.body) for r in fake_api.message_requests[:2]
    )  # the context is there, only the values are gone


async def test_an_edit_next_to_a_redacted_value_keeps_the_real_value(
    workspace: Path, fake_api: FakeAPI, client: ClaudeClient
) -> None:
    engine = Engine(workspace, use_cache=False)
    engine.index(workers=1)
    actions = Actions(engine, build({})[0])
    edit = {
        "path": "app/client.py",
        "old_text": 'GITHUB_TOKEN = "[REDACTED]"',
        "new_text": 'GITHUB_TOKEN = "[REDACTED]"  # rotate quarterly',
    }
    fake_api.push(Reply(text=json.dumps({"summary": "comment", "edits": [edit]})))
    plan = actions.plan(ActionRequest("refactor", "app/client.py", 3, 3))
    result = await actions.run(plan, client)
    after = result.changes[0].after
    assert f'GITHUB_TOKEN = "{GITHUB}"  # rotate quarterly' in after
    assert GITHUB not in json.dumps(fake_api.last.body)
