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


class Closed:
    """An output the client has closed (what `exit` leaves): every write fails."""

    def __init__(self) -> None:
        self.tries = 0

    def write(self, data: bytes) -> None:
        self.tries += 1
        raise ValueError("write to closed file")


def test_a_message_sent_after_the_output_closed_is_tried_once() -> None:
    """pygls reports a failed send to the client by sending again, which fails and is
    reported again until the stack runs out: one late log line after `exit` made ~150,000
    lines of tracebacks and held the exit ~6 s. Now the report's own send is dropped."""
    ls = create_server()
    out = Closed()
    ls.protocol.set_writer(out)  # type: ignore[arg-type]
    ls.log("late news")
    assert out.tries == 1
    ls.log("more")  # each message is tried once; the server goes on
    assert out.tries == 2
