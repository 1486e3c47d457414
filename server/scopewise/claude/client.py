"""ClaudeClient: one SDK client per process; streamed calls with progress, usage and clear
errors, token counting and the Models API. `from_settings` builds the client the settings ask
for (the CLI and the language server both use it).

The ``anthropic`` package is imported lazily (it takes about a second), off the event loop.
What a call is (call.py), how it streams (stream.py) and what can go wrong (errors.py) live
next door; this module owns the SDK client itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import inspect
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, cast

from scopewise.vocab import PROVIDERS, Provider

from .call import (
    AdvisorProgress,
    CallRequest,
    CallResult,
    Done,
    OnEvent,
    Retrying,
    StreamEvent,
    TextProgress,
    ThinkingProgress,
    ToolProgress,
    ToolUse,
    Usage,
    request_params,
)
from .errors import (
    CUT_MESSAGE,
    MISSING_KEY_MESSAGE,
    CallCancelled,
    ClaudeError,
    ErrorKind,
    check_stop,
    map_error,
    one_line,
)
from .stream import (
    MAX_RETRY_WAIT_S,
    CallbackFailed,
    StreamState,
    check_parsed,
    check_stream_body,
    check_whole,
    current_listener,
    emit,
    on_stream_event,
    retry_middleware,
    take_content,
)

if TYPE_CHECKING:
    import anthropic

__all__ = [  # the call's data and errors are importable from here too, as before
    "CUT_MESSAGE",
    "MISSING_KEY_MESSAGE",
    "AdvisorProgress",
    "CallCancelled",
    "CallRequest",
    "CallResult",
    "ClaudeClient",
    "ClaudeError",
    "ClientSettings",
    "Done",
    "ErrorKind",
    "OnEvent",
    "Provider",
    "Retrying",
    "StreamEvent",
    "TextProgress",
    "ThinkingProgress",
    "ToolProgress",
    "ToolUse",
    "Usage",
    "from_settings",
    "request_params",
]


class ClaudeClient:
    """One per process. Call :meth:`run` from the event loop that will own the client."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int = 2,
        max_retry_wait_s: float = MAX_RETRY_WAIT_S,
        provider: Provider = "anthropic",
        provider_options: Mapping[str, Any] | None = None,
    ) -> None:
        if provider not in PROVIDERS:
            raise ValueError(f"unknown provider {provider!r}: use anthropic, bedrock or vertex")
        self.provider: Provider = provider
        self._api_key = api_key or os.environ.get("ANTHROPIC_API_KEY") or None
        self._auth_token = None if self._api_key else os.environ.get("ANTHROPIC_AUTH_TOKEN")
        self._base_url = base_url
        self._timeout = timeout
        self._max_retries = max_retries
        self._max_retry_wait_s = max_retry_wait_s
        self._options = dict(provider_options or {})
        self._sdk_client: anthropic.AsyncAnthropic | None = None
        self._build_lock = asyncio.Lock()

    @property
    def base_url(self) -> str:
        return self._base_url or os.environ.get("ANTHROPIC_BASE_URL") or "https://api.anthropic.com"

    def check(self) -> ClaudeError | None:
        """A configuration problem that would stop every call (no network), or None."""
        if self.provider == "anthropic":
            if not (self._api_key or self._auth_token):
                return ClaudeError("auth_missing", MISSING_KEY_MESSAGE)
        elif self.provider == "bedrock":
            bearer = self._options.get("api_key") or os.environ.get("AWS_BEARER_TOKEN_BEDROCK")
            if not bearer and not (_has_module("boto3") and _has_module("botocore")):
                return ClaudeError(
                    "config",
                    "Bedrock support is not installed: pip install 'scopewise[bedrock]'",
                )
        elif not self._options.get("access_token") and not _has_module("google.auth"):
            return ClaudeError(
                "config", "Vertex support is not installed: pip install 'scopewise[vertex]'"
            )
        return None

    async def warm(self) -> None:
        """Import the SDK and build the client now (e.g. right after LSP initialize)."""
        await self._sdk()

    async def close(self) -> None:
        client, self._sdk_client = self._sdk_client, None
        if client is not None:
            await client.close()

    # -- calls --------------------------------------------------------------------------------
    def request_params(self, req: CallRequest) -> dict[str, Any]:
        """The keyword arguments for ``messages.stream`` / ``count_tokens``."""
        return request_params(req)

    async def run(
        self, req: CallRequest, on_event: OnEvent | None = None, *, deadline_s: float | None = None
    ) -> CallResult:
        """Stream one call, reporting progress to ``on_event``.

        Raises ClaudeError (with partial usage) or CallCancelled when the task is cancelled.
        ``deadline_s`` bounds the whole call (kind "timeout"); prefer it to wrapping the call
        in ``asyncio.timeout()``, which on Python 3.11 lets CallCancelled escape instead of
        raising TimeoutError.
        """
        self._check_call(req)
        state = StreamState(req.model, req.advisor)
        started = time.monotonic()
        await self._stream(req, state, on_event, deadline_s)
        usage = state.usage()
        result = CallResult(
            text="".join(state.text),
            thinking="".join(state.thinking),
            stop_reason=state.stop_reason,
            usage=usage,
            model=state.model,
            duration_s=time.monotonic() - started,
            request_id=state.request_id,
            content=state.content,
            advisor_usage=state.advisor_usage,
        )
        try:
            await emit(on_event, Done(state.stop_reason, usage))
        except CallbackFailed as failed:
            raise failed.exc from None
        check_stop(req, result, state.stop_details)
        return result

    async def _stream(
        self,
        req: CallRequest,
        state: StreamState,
        on_event: OnEvent | None,
        deadline_s: float | None,
    ) -> None:
        """Stream the answer into ``state``; any failure leaves as ClaudeError (with the
        usage so far), CallCancelled or the listener's own exception."""
        deadline = asyncio.timeout(deadline_s)
        listening = current_listener.set(on_event)
        try:
            sdk = await self._sdk()
            params = self.request_params(req)
            api = sdk.beta.messages if "betas" in params else sdk.messages
            async with (
                deadline,
                api.stream(max_tokens=req.max_tokens, **params) as stream,
            ):
                state.request_id = stream.request_id
                await check_stream_body(stream.response, self.base_url)
                async for event in stream:
                    await on_stream_event(event, state, on_event)
                await take_content(stream, state)
            check_whole(state, self.base_url)
        except TimeoutError as exc:
            mapped = None if deadline.expired() else self._map(exc, req.model, state)
            if mapped is not None:
                raise mapped from exc
            raise ClaudeError(
                "timeout",
                f"Claude did not finish within {deadline_s:g} s; try again or narrow the request",
                usage=state.usage(),
                request_id=state.request_id,
            ) from exc
        except asyncio.CancelledError as exc:
            if isinstance(exc, CallCancelled):
                raise
            raise CallCancelled(state.usage(), "".join(state.text), state.request_id) from exc
        except CallbackFailed as failed:
            raise failed.exc from None
        except ClaudeError:
            raise
        except Exception as exc:
            error = self._map(exc, req.model, state)
            if error is None:
                raise
            raise error from exc
        finally:
            current_listener.reset(listening)

    async def count_tokens(self, req: CallRequest) -> int:
        """The API's input-token estimate for ``req`` (a network call; may raise ClaudeError)."""
        self._check_call(req)
        if self.provider == "bedrock":
            raise ClaudeError("unsupported", "token counting is not available on Bedrock")
        try:
            sdk = await self._sdk()
            params = self.request_params(req)
            api = sdk.beta.messages if "betas" in params else sdk.messages
            counted = await api.count_tokens(**params)
            check_parsed(counted, self.base_url)
        except ClaudeError:
            raise
        except Exception as exc:
            error = self._map(exc, req.model, None)
            if error is None:
                raise
            raise error from exc
        return int(counted.input_tokens)

    async def retrieve_model(self, model_id: str) -> dict[str, Any]:
        """The Models API object for ``model_id`` as JSON (may raise ClaudeError)."""
        problem = self.check()
        if problem is not None:
            raise problem
        if self.provider != "anthropic":
            raise ClaudeError("unsupported", f"the Models API is not available on {self.provider}")
        try:
            sdk = await self._sdk()
            info = await sdk.models.retrieve(model_id, timeout=10.0)
            check_parsed(info, self.base_url)
        except ClaudeError:
            raise
        except Exception as exc:
            error = self._map(exc, model_id, None)
            if error is None:
                raise
            raise error from exc
        return dict(info.to_dict(mode="json"))

    # -- internals ----------------------------------------------------------------------------
    def _check_call(self, req: CallRequest) -> None:
        """What stops this call before any network: configuration, or an advisor where the
        provider has none."""
        problem = self.check()
        if problem is not None:
            raise problem
        if req.advisor and self.provider != "anthropic":
            raise ClaudeError(
                "unsupported",
                f"the advisor tool is only on the Anthropic API, not {self.provider}: "
                "use provider anthropic or run without an advisor",
            )

    async def _sdk(self) -> anthropic.AsyncAnthropic:
        if self._sdk_client is not None:
            return self._sdk_client
        async with self._build_lock:
            if self._sdk_client is None:
                problem = self.check()
                if problem is not None:
                    raise problem
                if "anthropic" not in sys.modules:
                    await _import_aside("anthropic")
                self._sdk_client = self._build()
            return self._sdk_client

    def _build(self) -> anthropic.AsyncAnthropic:
        import anthropic

        kwargs: dict[str, Any] = {"max_retries": self._max_retries}
        if (
            self._max_retries
            and "middleware" in inspect.signature(anthropic.AsyncAnthropic).parameters
        ):
            kwargs["middleware"] = [retry_middleware(self._max_retries, self._max_retry_wait_s)]
        if self._base_url:
            kwargs["base_url"] = self._base_url
        if self._timeout is not None:
            kwargs["timeout"] = anthropic.Timeout(self._timeout, connect=min(5.0, self._timeout))
        factory: Callable[..., Any]
        if self.provider == "anthropic":
            factory = anthropic.AsyncAnthropic
            if self._api_key:
                kwargs["api_key"] = self._api_key
            else:
                kwargs["auth_token"] = self._auth_token
        elif self.provider == "bedrock":
            factory = anthropic.AsyncAnthropicBedrock
        else:
            factory = anthropic.AsyncAnthropicVertex
        kwargs.update(self._options)
        if "open_telemetry" in inspect.signature(factory).parameters:
            kwargs.setdefault("open_telemetry", False)
        try:
            client = factory(**kwargs)
        except (ValueError, TypeError, anthropic.AnthropicError) as exc:
            raise ClaudeError(
                "config", f"could not set up the {self.provider} client: {one_line(str(exc))}"
            ) from exc
        # Bedrock/Vertex clients share the messages API surface we use.
        return cast("anthropic.AsyncAnthropic", client)

    def _map(self, exc: Exception, model: str, state: StreamState | None) -> ClaudeError | None:
        usage = state.usage() if state is not None else None
        request_id = state.request_id if state is not None else None
        return map_error(exc, model, self.base_url, usage, request_id)


class ClientSettings(Protocol):
    """What the client needs of the settings (scopewise.settings.Settings has it; this module
    does not import settings, which sits below it)."""

    @property
    def api_key(self) -> str | None: ...
    @property
    def base_url(self) -> str | None: ...
    @property
    def timeout_s(self) -> float: ...
    @property
    def max_retries(self) -> int: ...
    @property
    def provider(self) -> Provider: ...


def from_settings(settings: ClientSettings, api_key: str | None = None) -> ClaudeClient:
    """The client the settings ask for (provider, endpoint, timeout, retries). The key:
    ``api_key`` when the caller resolved it, else the settings' key, else the environment's
    ANTHROPIC_API_KEY (the client's own fallback)."""
    return ClaudeClient(
        api_key=api_key if api_key is not None else settings.api_key,
        base_url=settings.base_url,
        timeout=settings.timeout_s,
        max_retries=settings.max_retries,
        provider=settings.provider,
    )


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


_importing: set[str] = set()  # modules being imported on `_import_aside`'s threads


def importing() -> bool:
    """Whether the SDK is being imported aside (an exit need not wait for it: `lsp.serve`)."""
    return bool(_importing)


async def _import_aside(name: str) -> None:
    """Import `name` on a daemon thread: not the loop's executor, whose threads the loop's
    close joins (an exit within a second or two of the start waited for the SDK's import)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def settle(exc: BaseException | None) -> None:
        if done.done():
            return
        if exc is None:
            done.set_result(None)
        else:
            done.set_exception(exc)

    def run() -> None:
        error: BaseException | None = None
        try:
            importlib.import_module(name)
        except BaseException as exc:  # handed to the caller
            error = exc
        finally:
            _importing.discard(name)
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
            loop.call_soon_threadsafe(settle, error)

    _importing.add(name)
    threading.Thread(target=run, name=f"scopewise-import-{name}", daemon=True).start()
    await done
