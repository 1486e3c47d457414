"""The protocol layer in-process: what pygls keeps per request is let go once answered."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from scopewise.lsp.server import create_server


class Sink:
    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data

    def answers(self) -> list[dict[str, Any]]:
        out = []
        for part in self.data.split(b"Content-Length: ")[1:]:
            body = part.split(b"\r\n\r\n", 1)[1]
            out.append(json.loads(body))
        return out


async def test_finished_commands_leave_nothing_behind() -> None:
    """Each executeCommand runs its command as a step of a generator handler; pygls 2.1
    filed every step's future and never removed it (the LSP soak saw ~2.5 KiB kept per
    action). After 50 commands, at most the last one's is left (it goes with the next
    message)."""
    ls = create_server()
    sink = Sink()
    ls.protocol.set_writer(sink)  # type: ignore[arg-type]

    @ls.command("test.echo")
    async def echo(*args: Any) -> Any:
        await asyncio.sleep(0)
        return {"echo": args}

    def send(n: int) -> None:
        message = {
            "jsonrpc": "2.0",
            "id": n,
            "method": "workspace/executeCommand",
            "params": {"command": "test.echo", "arguments": [n]},
        }
        ls.protocol.handle_message(ls.protocol.structure_message(message))

    async def answered(count: int) -> list[dict[str, Any]]:
        for _ in range(300):
            if len(sink.answers()) >= count:
                break
            await asyncio.sleep(0.01)
        return sink.answers()

    for n in range(50):
        send(n)
    await answered(50)
    send(50)  # the next message lets go of what the earlier ones left
    answers = await answered(51)
    assert sorted(a["id"] for a in answers) == list(range(51))
    assert all(a["result"] == {"echo": [a["id"]]} for a in answers)
    assert len(ls.protocol._request_futures) <= 1, len(ls.protocol._request_futures)
