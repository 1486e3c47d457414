"""Whether a message from the client is waiting to be handled: the signal the work done
ahead (lsp/ahead.py) yields to.

pygls reads stdin in an executor thread, a line or a body at a time, and hands what it read
to the event loop, which dispatches the message once the loop is free. While a slice of the
work ahead runs on the loop, the message waits behind it. Here the stream pygls reads
(`SignallingReader`, given to `start_io` by `server.serve`) says `arrived` from the reading
thread as soon as a read brings bytes — before the loop sees them — and the loop says
`handled` when it dispatches a message (`ScopewiseServer.message_came`). Over TCP nothing
sets it: the work ahead then stops between slices only.

Bytes read that never become a message (a malformed body, which pygls logs and drops) would
leave it set: `forget_stale` (and `pending`) clears it once nothing has been read for
`STALE_S`.

Knows nothing of the server, the protocol or the work ahead."""

from __future__ import annotations

import threading
import time
from typing import BinaryIO

STALE_S = 2.0  # bytes read this long ago and no message handled since: none is coming


class Waiting:
    """The signal: set from the reading thread, read and cleared on the loop (a
    `threading.Event`: its read is one attribute load)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._last = 0.0  # time.monotonic() of the last read that brought bytes

    def arrived(self) -> None:
        """Bytes of a message were read (the reading thread)."""
        self._last = time.monotonic()
        self._event.set()

    def handled(self) -> None:
        """The loop dispatches a message: what had arrived is being handled."""
        self._event.clear()

    def __call__(self) -> bool:
        """Whether a message has arrived and is not handled yet."""
        return self._event.is_set()

    def pending(self) -> bool:
        """Whether a message waits, a stale signal forgotten first (`forget_stale`): what
        the work ahead and the idle collection ask before they start."""
        self.forget_stale()
        return self()

    def forget_stale(self, now: float | None = None) -> None:
        """Clear a signal nothing has followed for STALE_S (no message came of the bytes)."""
        at = time.monotonic() if now is None else now
        if self._event.is_set() and at - self._last >= STALE_S:
            self._event.clear()


class SignallingReader:
    """The stream pygls reads the protocol from (`readline`, `read`), saying `arrived` to
    `waiting` whenever a read brings bytes; an empty read (the end) says nothing."""

    def __init__(self, stream: BinaryIO, waiting: Waiting) -> None:
        self._stream = stream
        self._waiting = waiting

    def readline(self, size: int = -1) -> bytes:
        data = self._stream.readline(size)
        if data:
            self._waiting.arrived()
        return data

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if data:
            self._waiting.arrived()
        return data

    def close(self) -> None:
        self._stream.close()
