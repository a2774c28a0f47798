"""Any OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp's server, LM Studio) through the openai SDK.

Clients are always built with `max_retries=0`: tenacity (`models/retry.py`) is the only transport retry layer,
so retries never multiply. The SDK's loggers get a filter that redacts every key this process gave a client.

Every chat request has a deadline (`GenerationParams.timeout`): wall-clock seconds from sending it to the
complete response. The SDK's `timeout=` cannot be one: httpx2's `Timeout` has connect, read, write and pool
phases and no total (`httpx2/_config.py`), and httpcore2 applies the read timeout to each socket read
(`httpcore2/_sync/http11.py: _receive_event`, `_backends/sync.py: read` sets it per `recv`), so a server that
sends one byte every 2 s resets it forever. So:

- async: `asyncio.timeout(deadline)` around the SDK's `create`. Cancellation interrupts any await (connect, TLS,
  write, headers, body); httpcore2's pool closes the half-used connection under a shield, and nothing outlives
  the call.
- sync: a blocking `recv` cannot be cancelled, but it returns at once when its socket is shut down from another
  thread. The request goes through the SDK's public `with_streaming_response.create` (the same request; the SDK
  returns once the headers are in and leaves the body to us), so the connection's socket is reachable through
  httpx's documented `network_stream` response extension (`get_extra_info("socket")`). A `threading.Timer`
  started at send shuts that socket down at the deadline; the blocked read sees end-of-file, the connection is
  discarded (never returned to the pool as reusable), and we raise `DeadlineExceeded`. Until the headers have
  arrived there is no socket to reach, so every phase before them is bounded by the per-request `timeout=` (the
  deadline, per phase): a hung server is cut off at the deadline either way; only a server that trickles its
  status line and headers (or the body of an error reply) byte by byte could outlast it, up to the per-read
  timeout after its last byte; so could any reply through a custom transport that exposes no socket. Running
  the call in a worker thread and abandoning it instead would leave the thread and its connection trickling
  forever.

`DeadlineExceeded` is an `openai.APITimeoutError`, so `models/retry.py` records the attempt as "timeout" and
retries it like any timeout (at most `RetryPolicy.timeout_retries` times).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
import openai

from summarizer.errors import SummarizerError
from summarizer.models.backend import BackendInfo, Capabilities, CharEstimate, ContextWindow, Narrowing, TokenMeter
from summarizer.models.context import PROBE_TIMEOUT, probe_context_window
from summarizer.redact import RedactingFilter

__all__ = ["NO_KEY", "OPENAI_CONTEXT", "DeadlineExceeded", "OpenAICompatible", "deadline_acreate", "deadline_create"]

NO_KEY = "sk-no-key-required"  # OpenAI-compatible servers without auth still need a non-empty key
OPENAI_CONTEXT = 100_000  # below the 128k of current OpenAI models; servers with less: set context_tokens

# The openai SDK and its HTTP layer log response headers and unparsable bodies at DEBUG, so a server that echoes
# the key back would put it in the user's own logs: these loggers redact every key this process gave a client.
_SDK_LOGGERS = ("openai._base_client", "openai._response", "httpcore2.http11", "httpcore2.http2")
_SDK_LOG_FILTER = RedactingFilter()


def redact_sdk_logs(api_key: str | None) -> None:
    """Hide `api_key` in everything the SDK's loggers print."""
    if api_key and api_key not in _SDK_LOG_FILTER.secrets:
        _SDK_LOG_FILTER.secrets.append(api_key)
    for name in _SDK_LOGGERS:
        if _SDK_LOG_FILTER not in logging.getLogger(name).filters:
            logging.getLogger(name).addFilter(_SDK_LOG_FILTER)


class DeadlineExceeded(openai.APITimeoutError):
    """No complete response within the request's deadline: a timeout attempt, retried like one."""

    def __init__(self, request: httpx2.Request, seconds: float) -> None:
        openai.APIConnectionError.__init__(
            self, message=f"no complete response within the {seconds:g} s deadline", request=request)


class _Watchdog:
    """Shuts the socket of one sync request down when its deadline passes (see the module docstring)."""

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._done = False
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._done = True
        self._timer.cancel()

    def watch(self, response: httpx2.Response) -> None:
        """The headers are in: from now on the deadline shuts this response's socket down."""
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        with self._lock:
            self._socket = sock if isinstance(sock, socket.socket) else None
            expired = self.expired
        if expired:
            self._shutdown()

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
        self._shutdown()

    def _shutdown(self) -> None:
        with self._lock:
            sock = self._socket
        if sock is not None:
            with contextlib.suppress(OSError):
                # The plain socket's shutdown, also for a TLS socket: ssl.SSLSocket.shutdown would drop its SSL
                # object under the reading thread. End-of-file wakes the blocked recv at once.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _chat_request(client: openai.OpenAI | openai.AsyncOpenAI) -> httpx2.Request:
    """What a timeout error names when the SDK gave us no request of its own."""
    return httpx2.Request("POST", f"{str(client.base_url).rstrip('/')}/chat/completions")


def deadline_create(client: openai.OpenAI, seconds: float) -> Callable[..., Any]:
    """The client's sync chat `create`, with a total deadline of `seconds` per call."""
    streaming = client.chat.completions.with_streaming_response.create

    def create(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", seconds)  # every phase before the headers, each at most the deadline
        with _Watchdog(seconds) as watchdog:
            request: httpx2.Request | None = None
            try:
                with streaming(*args, **kwargs) as response:
                    request = response.http_response.request
                    watchdog.watch(response.http_response)
                    return response.parse()
            except openai.APIStatusError:
                raise  # the server answered (with an error) in time: its status decides
            except Exception as exc:
                sent = request or _chat_request(client)
                # Cut off (the read saw end-of-file), or a phase before the headers ran out of its timeout,
                # which is the deadline.
                if watchdog.expired or isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException):
                    raise DeadlineExceeded(sent, seconds) from exc
                if isinstance(exc, httpx2.TransportError):  # the body is read here, outside the SDK's mapping
                    raise openai.APIConnectionError(request=sent) from exc
                raise

    return create


def deadline_acreate(client: openai.AsyncOpenAI, seconds: float) -> Callable[..., Awaitable[Any]]:
    """The client's async chat `create`, with a total deadline of `seconds` per call."""
    raw = client.chat.completions.create

    async def create(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", seconds)
        try:
            async with asyncio.timeout(seconds):
                return await raw(*args, **kwargs)
        except TimeoutError:
            raise DeadlineExceeded(_chat_request(client), seconds) from None

    return create


class OpenAICompatible:
    """A chat-completions server; clients are built when first needed (each costs a TLS context)."""

    capabilities = Capabilities(default_context=OPENAI_CONTEXT)

    def __init__(self, info: BackendInfo, *, timeout: float, client: Any = None) -> None:
        self.info = info
        self.timeout = timeout
        self._owns = client is None
        self._sync: openai.OpenAI | None = None
        self._async: openai.AsyncOpenAI | None = None
        if isinstance(client, openai.AsyncOpenAI):
            self._async = client
        elif client is not None:
            self._sync = client
        redact_sdk_logs(info.api_key if client is None else getattr(client, "api_key", None))
        self._client_key = None if client is None else getattr(client, "api_key", None)
        self._window_lock = threading.Lock()
        self._window: tuple[ContextWindow | None] | None = None  # probed once: (the answer,)

    def context_window(self, timeout: float = PROBE_TIMEOUT) -> ContextWindow | None:
        """The context window the server reports for this model (`models/context.py`), asked once; None when it
        reports none, cannot be reached, or is OpenAI's hosted API. Never raises."""
        with self._window_lock:
            if self._window is None:
                key = self.info.api_key or self._client_key
                self._window = (probe_context_window(self.info.base_url, self.info.model,
                                                     api_key=key if isinstance(key, str) else None,
                                                     timeout=min(timeout, self.timeout)),)
            return self._window[0]

    def _kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"api_key": self.info.api_key or NO_KEY, "max_retries": 0, "timeout": self.timeout}
        if self.info.base_url:
            kwargs["base_url"] = self.info.base_url
        return kwargs

    def sync_client(self) -> openai.OpenAI:
        if self._sync is None and self._owns:
            self._sync = openai.OpenAI(**self._kwargs())
        if self._sync is None:
            raise SummarizerError("this Summarizer was given an async client: use asummarize()")
        return self._sync

    def provider_client(self) -> openai.AsyncOpenAI:
        if self._async is None and self._owns:
            self._async = openai.AsyncOpenAI(**self._kwargs())
        if self._async is None:
            raise SummarizerError("this Summarizer was given a sync client: use summarize()")
        return self._async

    def create(self, narrowing: Narrowing | None = None) -> Callable[..., Any]:
        """The sync chat `create`; each call ends within `timeout` seconds (see the module docstring)."""
        return deadline_create(self.sync_client(), self.timeout)

    def acreate(self, narrowing: Narrowing | None = None) -> Callable[..., Awaitable[Any]]:
        """The async chat `create`; each call ends within `timeout` seconds."""
        return deadline_acreate(self.provider_client(), self.timeout)

    def plain_create(self) -> Callable[..., Any]:
        return self.create()

    def meter(self) -> TokenMeter:
        return CharEstimate()

    def close(self) -> None:
        """Close the sync client this backend opened (never a client the caller passed in)."""
        if self._owns and self._sync is not None:
            self._sync.close()
            self._sync = None

    async def aclose(self) -> None:
        """Close every client this backend opened."""
        self.close()
        if self._owns and self._async is not None:
            await self._async.close()
            self._async = None
