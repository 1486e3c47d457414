"""`exit` ends the server at once: the Claude SDK's import, started in the background at
`initialized` (about a second, many on a busy machine), is not waited for."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import scopewise

SERVER = Path(scopewise.__file__).resolve().parents[1]
POLY = Path(__file__).resolve().parents[1] / "fixtures" / "poly"


def send(stdin: IO[bytes], message: dict[str, Any]) -> None:
    body = json.dumps(message).encode()
    stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    stdin.flush()


def answer(stdout: IO[bytes], msg_id: int) -> dict[str, Any]:
    while True:
        headers: dict[str, str] = {}
        while (line := stdout.readline()) not in (b"\r\n", b""):
            key, value = line.decode().split(":", 1)
            headers[key.lower()] = value.strip()
        assert headers, "the server closed its output"
        body = json.loads(stdout.read(int(headers["content-length"])))
        if body.get("id") == msg_id and "method" not in body:
            return body


def test_exit_right_after_start_does_not_wait_for_the_sdk_import(tmp_path: Path) -> None:
    root = tmp_path / "poly"
    shutil.copytree(POLY, root)
    home = tmp_path / "home"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SCOPEWISE_", "ANTHROPIC_"))},
        "PYTHONPATH": str(SERVER),
        "ANTHROPIC_API_KEY": "sk-ant-test",  # a key, so the client is built (the SDK imported)
        **{f"SCOPEWISE_{d}_DIR": str(home / d.lower()) for d in ("CACHE", "STATE", "CONFIG")},
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "scopewise.cli", "serve"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=env, cwd=root,
    )  # fmt: skip
    assert server.stdin is not None and server.stdout is not None and server.stderr is not None
    try:
        params = {"processId": None, "rootUri": root.as_uri(), "capabilities": {}}
        send(server.stdin, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params})
        answer(server.stdout, 1)
        send(server.stdin, {"jsonrpc": "2.0", "method": "initialized", "params": {}})
        send(server.stdin, {"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        answer(server.stdout, 2)
        t0 = time.monotonic()
        send(server.stdin, {"jsonrpc": "2.0", "method": "exit"})
        assert server.wait(timeout=30) == 0
        took = time.monotonic() - t0
        assert "anthropic" not in _imported_before(env), "the SDK was imported at start"
        assert took < 0.5, f"the exit took {took:.2f} s"
        assert b"Traceback" not in server.stderr.read()
    finally:
        server.kill()
        server.wait()


def _imported_before(env: dict[str, str]) -> str:
    """The modules the server has once imported its own modules: the SDK is not among them
    (else the exit above would not be racing its import)."""
    done = subprocess.run(
        [sys.executable, "-c", "import sys, scopewise.lsp.server; print(' '.join(sys.modules))"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout
