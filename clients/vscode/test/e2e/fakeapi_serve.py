"""The fake Messages API (tests/fakeapi.py) for the VS Code end-to-end test, driven over
stdin/stdout by the Node test: prints {"base_url": ...} once, then answers one JSON line per
command: {"push": "<reply text>"} queues a reply (with "chunks" and "delay": streamed slowly), {"requests": true} counts message requests,
{"last": true} gives the last message request's body as text (to check what was sent),
{"wide": {"old": name, "new": name}} answers every request the queue does not with the
scripted wide model (tests/widemodel.py: a deep planner that lists every site it was shown, and
writers that rename `old` to `new` in the text they were given), {"wide_requests": true} gives
what that model was asked so far ("plan", "write", "repair") and the models it was asked of."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests"))
from fakeapi import FakeAPI, Reply
from widemodel import Model


def main() -> None:
    with FakeAPI() as api:
        print(json.dumps({"base_url": api.base_url}), flush=True)
        model = None
        for line in sys.stdin:
            if not line.strip():
                continue
            cmd = json.loads(line)
            if "wide" in cmd:
                model = Model(old=cmd["wide"]["old"], new=cmd["wide"]["new"])
                api.responder = model
                print(json.dumps({"wide": True}), flush=True)
            elif "wide_requests" in cmd:
                asked = model.requests if model else []
                # the model of each request the scripted model answered (plan first)
                answered = api.message_requests[len(api.message_requests) - len(asked) :]
                models = [r.body.get("model") for r in answered]
                print(json.dumps({"wide_requests": asked, "models": models}), flush=True)
            elif "push" in cmd:
                slow = {k: cmd[k] for k in ("chunks", "delay") if k in cmd}
                api.push(Reply(text=cmd["push"], **slow))
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
