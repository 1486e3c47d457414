"""pygls's protocol, patched: UTF-8 positions whenever the client offers them; documents kept
only by scopewise (pygls's own copy would double the work of every keystroke); `$/cancelRequest`
reaching a running command; the finished steps of generator handlers let go (a leak in pygls
2.1); a malformed request answered with InvalidParams instead of silence; a send that fails
not reported by sending again (pygls would, over and over: after `exit` closed the output,
one late message grew a ~1,000-deep chain of tracebacks, 150,000 lines and ~6 s); and the index's
worker processes stopped while a message is handled; full garbage collections left for when
no message has come for a while (`collector`, once `serve` starts it).

It knows the server only as a `Receiver` of document notifications and cancellations."""

from __future__ import annotations

import collections
import threading
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, Protocol, cast

import cattrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol, lsp_method

from scopewise.index.gate import GATE

from .capabilities import prefer_utf8
from .collector import IdleCollector


class Receiver(Protocol):
    """What the protocol hands on to the server."""

    def did_open(self, params: types.DidOpenTextDocumentParams) -> None: ...
    def did_change(self, params: types.DidChangeTextDocumentParams) -> None: ...
    def did_close(self, params: types.DidCloseTextDocumentParams) -> None: ...
    def cancel_request(self, msg_id: Any) -> None: ...
    def message_came(self) -> None: ...  # any message (the work ahead stops: lsp/ahead.py)


class ScopewiseProtocol(LanguageServerProtocol):
    """pygls's protocol with the changes the module names."""

    @property
    def _receiver(self) -> Receiver:
        server: Any = self._server
        return cast(Receiver, server)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._finished_steps: collections.deque[tuple[Any, Any]] = collections.deque()
        self.collector = IdleCollector()
        self._sending = threading.local()  # this thread is inside `_send_data`

    def _send_data(self, data: Any) -> None:
        """pygls reports a failed send (a closed output) to the client, which sends, fails
        and reports again until the stack runs out: a send made while this thread is
        reporting its own failed send is dropped (pygls has logged the failure)."""
        if getattr(self._sending, "on", False):
            return
        self._sending.on = True
        try:
            super()._send_data(data)
        finally:
            self._sending.on = False

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        prefer_utf8(params)
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        return result

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        self._receiver.did_open(params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        self._receiver.did_change(params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        self._receiver.did_close(params)

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        self._receiver.cancel_request(msg_id)
        super()._handle_cancel_notification(msg_id)

    def _execute_handler(
        self,
        msg_id: Any,
        handler: Any,
        callback: Any,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        """pygls (2.1) files the future of each step of a generator handler (executeCommand
        runs every command that way) under a fresh id and never removes it: each run left
        its finished task, result and HTTP state behind (~2.5 KiB an action, found by the
        LSP soak). Finished futures are noted here and let go before the next message (not
        in the callback: pygls cancels futures while iterating over them at shutdown, and
        thread-pool futures finish on other threads). The index's workers are stopped
        while the handler runs here (a request is answered before the background work);
        a coroutine or thread handler is only started here, so its later work (a Claude
        call, waiting on the network) does not stop them."""

        def note(future: Any) -> None:
            self._finished_steps.append((msg_id, future))  # deque: safe from any thread
            callback(future)

        with GATE.hold():
            super()._execute_handler(msg_id, handler, note, args, kwargs)

    def _let_go(self) -> None:
        while self._finished_steps:
            try:
                msg_id, future = self._finished_steps.popleft()
            except IndexError:
                return
            if self._request_futures.get(msg_id) is future:
                del self._request_futures[msg_id]

    def structure_message(self, data: dict[str, Any]) -> Any:
        """pygls drops a request whose params do not fit the method's type (the client waits
        forever); answer it with InvalidParams instead. Likewise a notification sent with an
        id: a JSON-RPC request, so it gets an answer (an error) rather than silence."""
        method = data.get("method")
        if "id" in data and isinstance(method, str):
            entry = types.METHOD_TO_TYPES.get(method)
            if entry is not None and entry[1] is None and method != types.EXIT:
                return _Malformed(data["id"], method, "a notification, sent with an id")
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "id" in data and isinstance(data.get("method"), str):
                return _Malformed(data["id"], data["method"], _why(exc))
            raise

    def handle_message(self, message: Any) -> None:
        self._let_go()
        self.collector.touched()
        self._receiver.message_came()
        if isinstance(message, _Malformed):
            error = JsonRpcInvalidParams(f"Invalid Params: {message.method}: {message.why}")
            self._send_response(message.id, None, error.to_response_error())
            return
        super().handle_message(message)


@dataclass(frozen=True)
class _Malformed:
    id: Any
    method: str
    why: str


def _why(exc: BaseException) -> str:
    cause = exc.__cause__
    if isinstance(cause, cattrs.ClassValidationError):
        return "; ".join(cattrs.transform_error(cause, path="params")[:5])
    return str(cause or exc)
