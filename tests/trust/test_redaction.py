"""What `redact` takes out of a context before it is sent, one case per gap of issue #11,
and the ordinary code it must leave alone.

Every key-shaped value is assembled at test time from a seeded random alphabet, so no
literal in this file looks like a credential to a scanner."""

from __future__ import annotations

import random
import string

import pytest

from scopewise.actions.edits import ProposedEdit, resolve
from scopewise.analysis import redact
from scopewise.analysis.redact import MARK, redact_lines

_rng = random.Random(11)


def rand(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    """n characters that look random and hold upper, lower case and digits."""
    while True:
        s = "".join(_rng.choice(alphabet) for _ in range(n))
        if (
            any(c.isupper() for c in s)
            and any(c.islower() for c in s)
            and any(c.isdigit() for c in s)
        ):
            return s


OPENAI_PROJ = "sk-" + "proj-" + rand(24) + "_" + rand(20) + "-" + rand(12)
ANTHROPIC = "sk-" + "ant-api03-" + rand(40)
PEM_BODY = "MIIEow" + rand(40, string.ascii_letters + string.digits + "+/")
PEM_BODY2 = rand(44, string.ascii_letters + string.digits + "+/") + "=="
BEGIN, END = "-----BEGIN RSA " + "PRIVATE KEY-----", "-----END RSA " + "PRIVATE KEY-----"
BLOB = rand(40, string.ascii_letters + string.digits + "+/")
BEARER = rand(36, string.ascii_letters + string.digits + "-_.")

# (case, source lines, what must not be sent, the kind the manifest lists)
CASES: list[tuple[str, list[str], list[str], str]] = [
    ("sk-proj key", [f'OPENAI = "{OPENAI_PROJ}"'], [OPENAI_PROJ[8:]], "OpenAI-style API key"),
    (
        "one-line PEM with \\n escapes",
        [f'KEY = "{BEGIN}\\n{PEM_BODY}\\n{PEM_BODY2}\\n{END}\\n"'],
        [PEM_BODY, PEM_BODY2[:40]],
        "private key",
    ),
    (
        "PEM as concatenated literals",
        [f'KEY = ("{BEGIN}\\n"', f'       "{PEM_BODY}\\n"', f'       "{END}\\n")'],
        [PEM_BODY],
        "private key",
    ),
    (
        "redis URL, empty user",
        ['CACHE = "redis://:hunter2pw@cache:6379/0"'],
        ["hunter2pw"],
        "credentials in URL",
    ),
    (
        "URL userinfo, token as user",
        [f'REPO = "https://{BLOB[:20]}@github.com/a/b.git"'],
        [BLOB[:20]],
        "credentials in URL",
    ),
    ("name: db_password", ['db_password = "p4ss-w0rd!"'], ["p4ss-w0rd!"], "password or secret"),
    (
        "name: STRIPE_SECRET_KEY",
        ['STRIPE_SECRET_KEY = "live-value-7"'],
        ["live-value-7"],
        "password or secret",
    ),
    ("name: HEROKU_API_KEY", ['HEROKU_API_KEY = "9f2c-77ab"'], ["9f2c-77ab"], "password or secret"),
    ("name: password2", ['password2 = "second-one"'], ["second-one"], "password or secret"),
    (
        "annotated assignment",
        ['password: str = "annotated-pw"'],
        ["annotated-pw"],
        "password or secret",
    ),
    (
        "dict literal, double quotes",
        ['cfg = {"PASSWORD": "dict-pw-1"}'],
        ["dict-pw-1"],
        "password or secret",
    ),
    (
        "dict literal, single quotes",
        ["auth = {'token': 'tok-2345-x'}"],
        ["tok-2345-x"],
        "password or secret",
    ),
    (
        "keyword argument",
        ['db.connect(user="app", password="kwarg-pw")'],
        ["kwarg-pw"],
        "password or secret",
    ),
    ("bytes literal", ['SECRET = b"bytes-secret"'], ["bytes-secret"], "password or secret"),
    (
        "JS object key",
        ["const cfg = { apiKey: 'js-key-123' };"],
        ["js-key-123"],
        "password or secret",
    ),
    ("Go short declaration", ['dbPassword := "go-pw-42"'], ["go-pw-42"], "password or secret"),
    (
        "Bearer token",
        [f'headers = {{"Authorization": "Bearer {BEARER}"}}'],
        [BEARER],
        "bearer credential",
    ),
    (
        "getenv default",
        ['pw = os.getenv("DB_PASSWORD", "default-pw")'],
        ["default-pw"],
        "password or secret",
    ),
    (
        "environ.get default",
        ["tok = os.environ.get('GITHUB_TOKEN', 'env-default-9')"],
        ["env-default-9"],
        "password or secret",
    ),
    ("high-entropy literal, any name", [f'BLOB = "{BLOB}"'], [BLOB], "high-entropy string"),
    ("high-entropy argument", [f'client.login("{BLOB}")'], [BLOB], "high-entropy string"),
    (
        "key split with +",
        [f'KEY = "{ANTHROPIC[:10]}" + "{ANTHROPIC[10:]}"'],
        [ANTHROPIC[10:]],
        "split key",
    ),
    (
        "key split over lines",
        [
            f'KEY = ("{OPENAI_PROJ[:8]}"',
            f'       "{OPENAI_PROJ[8:30]}"',
            f'       "{OPENAI_PROJ[30:]}")',
        ],
        [OPENAI_PROJ[8:30], OPENAI_PROJ[30:]],
        "split key",
    ),
]


@pytest.mark.parametrize(
    ("lines", "gone", "what"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_gap_is_redacted(lines: list[str], gone: list[str], what: str) -> None:
    clean, findings = redact_lines(lines)
    text = "\n".join(clean)
    for secret in gone:
        assert secret not in text, f"{secret!r} left in {text!r}"
    assert MARK in text
    assert what in {f.what for f in findings}, findings


NOT_SECRETS = [
    "token = tokens[0]",
    "password_field = forms.CharField()",
    "def get_secret_key(self):",
    "    return self.secret_key",
    'msg = "Enter your password:"',
    'url = f"postgres://{user}:{password}@{host}/db"',
    'SECRET_ENV = "DJANGO_SECRET_KEY"',
    'if text.startswith("' + BEGIN + '"):',
    'elif token == "login":',
    'PREFIXES = ("sk-' + 'ant-", "sk-' + 'proj-")',
    'digest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"',
    'NAME = "test_something_very_long_identifier_name"',
    'ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"',
    'PATH = "/usr/local/lib/python3/dist-packages/x"',
    'password = ""',
    'password = os.environ["DB_PASSWORD"]',
    'placeholder = {"password": "<your password>"}',
    'RELEASE = "https://github.com/org/repo/releases/download/v1.2/tool.tar.gz"',
    'log.info("Bearer token refreshed for %s", user)',
]


@pytest.mark.parametrize("line", NOT_SECRETS)
def test_ordinary_code_is_left_alone(line: str) -> None:
    clean, findings = redact_lines([line])
    assert clean == [line] and findings == []


def test_a_multi_line_key_block_is_redacted_until_its_end_and_no_further() -> None:
    lines = [
        'PEM = """' + BEGIN,
        "Proc-Type: 4,ENCRYPTED",
        "",
        PEM_BODY,
        PEM_BODY2,
        END + '"""',
        "",
        "def load() -> str:",
        "    return PEM",
    ]
    clean, findings = redact_lines(lines)
    text = "\n".join(clean)
    assert PEM_BODY not in text and PEM_BODY2 not in text
    assert clean[5:] == lines[5:]  # the END line and the code after it are kept
    assert [f.what for f in findings] == ["private key"]


def test_a_begin_marker_used_as_a_constant_does_not_swallow_the_code_after_it() -> None:
    lines = [f'HEADER = "{BEGIN}"', "", "def parse(text: str) -> bool:", "    return True"]
    assert redact_lines(lines) == (lines, [])


@pytest.mark.parametrize(
    ("line", "old_text", "new_text", "written"),
    [
        (
            'DB = {"PASSWORD": "dict-pw-1", "HOST": "db"}',
            'DB = {"PASSWORD": "[REDACTED]", "HOST": "db"}',
            'DB = {"PASSWORD": "[REDACTED]", "HOST": "db.internal"}',
            'DB = {"PASSWORD": "dict-pw-1", "HOST": "db.internal"}',
        ),
        (
            'password: str = "annotated-pw"',
            'password: str = "[REDACTED]"',
            'password: Final[str] = "[REDACTED]"',
            'password: Final[str] = "annotated-pw"',
        ),
        (
            f'KEY = "{ANTHROPIC[:10]}" + "{ANTHROPIC[10:]}"',
            'KEY = "[REDACTED]" + "[REDACTED]"',
            'API_KEY = "[REDACTED]" + "[REDACTED]"',
            f'API_KEY = "{ANTHROPIC[:10]}" + "{ANTHROPIC[10:]}"',
        ),
        (
            'CACHE = "redis://:hunter2pw@cache:6379/0"',
            'CACHE = "redis://:[REDACTED]@cache:6379/0"',
            'CACHE = "redis://:[REDACTED]@cache:6380/0"',
            'CACHE = "redis://:hunter2pw@cache:6380/0"',
        ),
        (
            f'headers = {{"Authorization": "Bearer {BEARER}"}}',
            'headers = {"Authorization": "Bearer [REDACTED]"}',
            'HEADERS = {"Authorization": "Bearer [REDACTED]"}',
            f'HEADERS = {{"Authorization": "Bearer {BEARER}"}}',
        ),
    ],
    ids=["dict literal", "annotated assignment", "split key", "URL userinfo", "bearer"],
)
def test_an_edit_written_against_the_redacted_text_gets_the_real_value_back(
    line: str, old_text: str, new_text: str, written: str
) -> None:
    source = f"import os\n\n{line}\n"
    [sent], _ = redact_lines([line])
    assert sent == old_text  # what the model saw is what it quotes back
    [change] = resolve([ProposedEdit("cfg.py", old_text, new_text)], lambda _: source)
    assert change.after == f"import os\n\n{written}\n"


def test_redacting_is_memoised_and_gated_so_unremarkable_lines_cost_little() -> None:
    redact.redact_line.cache_clear()
    lines = [f"x_{i} = compute({i}) + other_{i}" for i in range(2000)]
    assert redact_lines(lines) == (lines, [])
    assert redact.redact_line.cache_info().misses == 0  # no rule could match: not even run
