"""The fake Messages API (tests/fakeapi.py) for the VS Code end-to-end test, driven over
stdin/stdout by the Node test: prints {"base_url": ...} once, then answers one JSON line per
command: {"push": "<reply text>"} queues a reply, {"requests": true} counts message requests,
{"last": true} gives the last message request's body as text (to check what was sent)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests"))
from fakeapi import FakeAPI, Reply


def main() -> None:
    with FakeAPI() as api:
        print(json.dumps({"base_url": api.base_url}), flush=True)
        for line in sys.stdin:
            if not line.strip():
                continue
            cmd = json.loads(line)
            if "push" in cmd:
                api.push(Reply(text=cmd["push"]))
                print(json.dumps({"pending": api.pending()}), flush=True)
            elif "requests" in cmd:
                print(json.dumps({"requests": len(api.message_requests)}), flush=True)
            elif "last" in cmd:
                body = api.message_requests[-1].body if api.message_requests else None
                print(json.dumps({"last": json.dumps(body)}), flush=True)
            else:
                print(json.dumps({"error": f"unknown command {cmd!r}"}), flush=True)


if __name__ == "__main__":
    main()
