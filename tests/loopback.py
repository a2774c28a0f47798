"""A real HTTP server on 127.0.0.1 that answers like OpenAI's chat-completions API.

Tests point the real openai SDK at it::

    with LoopbackServer() as server:                      # or use the `loopback` pytest fixture
        server.script(Reply.tool_call({"title": "x"}), Reply.error(429, retry_after=1))
        with OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0) as client:
            client.chat.completions.create(...)
        server.requests[0].body["messages"]

How a ``POST /v1/chat/completions`` is answered, in order:

1. the next scripted :class:`Reply` (``server.script(...)``, FIFO, one per request), else
2. ``server.responder(request)`` (a callable returning a :class:`Reply`), else
3. :func:`no_reply_configured`: a 400 whose message says nothing was scripted.

``server.latency`` seconds are slept before every chat-completions reply. Two replies never finish:
``Reply.slow(seconds)`` with a long ``seconds`` is a server that hangs (no byte after the request), and
``Reply.trickle(interval)`` one that sends a 200 status line and headers at once, then one byte of body every
``interval`` seconds, never completing it (a ``Content-Length`` it never reaches), until the client goes away or
``stop()``; both are interrupted by ``stop()``. ``GET /v1/models`` and
``GET /v1/models/{id}`` answer from ``server.models``. Every other path is a 404 shaped like OpenAI's.

Other servers' own routes (llama.cpp's ``GET /props``, vLLM's ``GET /v1/models`` with ``max_model_len``,
Ollama's ``POST /api/show``, LM Studio's ``GET /api/v0/models``, ...) are answered from ``server.routes``, a
dict ``{(METHOD, path): answer}`` (path without query string or trailing slash) consulted before every built-in
route except chat completions. An answer is JSON data (sent with 200), a :class:`Reply` of kind ``error`` (sent
like any error reply), or a callable taking the :class:`RecordedRequest` and returning either::

    server.routes[("GET", "/props")] = {"default_generation_settings": {"n_ctx": 4096}}
    server.routes[("POST", "/api/show")] = lambda r: show if r.body["model"] == "llama3.2" else Reply.error(404)

Requests to them are recorded like all others (``server.requests``; ``server.chat_requests`` stays chat only).

The Batch API is served too: ``POST /v1/files`` (multipart upload), ``GET /v1/files/{id}`` and
``GET /v1/files/{id}/content``, ``POST /v1/batches``, ``GET /v1/batches`` and ``GET /v1/batches/{id}``. Each
retrieve moves a batch one step along ``server.batch_statuses`` (default validating → in_progress →
completed); when it reaches the end, every input line is answered by the responder (never the script, and
never recorded as a chat request) and written as OpenAI's output lines, ``{"id", "custom_id", "response":
{"status_code", "request_id", "body"}, "error"}``: 200s to the output file, the rest to the error file.
``server.batch_faults`` (:class:`BatchFaults`) shuffles lines, turns lines into error lines, 4xx answers or
invalid tool-call JSON, or ends the batch ``expired`` with partial output. ``server.answer_batch(lines)``
answers request lines directly, as ``vllm run-batch`` would.

Wire details follow recordings in /work/shared/wire (api.openai.com, 2023-2025): success bodies carry
``id=chatcmpl-…``, ``system_fingerprint``, ``usage`` with ``*_tokens_details``, ``message.refusal`` and
``message.annotations``; success headers carry ``x-request-id``, ``openai-processing-ms``,
``openai-version`` and ``x-ratelimit-*``; error bodies are ``{"error": {message, type, param, code}}``
pretty-printed with 4 spaces and a trailing newline (byte-exact in the recorded 401) and carry no
``x-ratelimit-*`` headers. Streaming (``"stream": true``) is not implemented: it answers 400.

Default usage numbers (when a Reply gives no ``usage=(prompt, completion)``):
``prompt_tokens = max(1, len(request.prompt_text) // 4)``,
``completion_tokens = max(1, len(arguments or content) // 4)``; ``total = prompt + completion``.
What was actually sent is stored on ``RecordedRequest.usage`` / ``.status``.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import ipaddress
import itertools
import json
import random
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "DEFAULT_MODEL",
    "BatchFaults",
    "LoopbackServer",
    "NetworkBlockedError",
    "RecordedRequest",
    "Reply",
    "network_guard",
    "no_reply_configured",
    "openai_error",
]

DEFAULT_MODEL = "gpt-4o-mini-2024-07-18"
SYSTEM_FINGERPRINT = "fp_0392822090"
RATE_LIMIT_REQUESTS = 30000
RATE_LIMIT_TOKENS = 150000000
DEFAULT_MODELS: tuple[tuple[str, int], ...] = (  # (id, created)
    ("gpt-4o-mini", 1721172741),
    ("gpt-4o-mini-2024-07-18", 1721172717),
    ("gpt-4o", 1715367049),
    ("gpt-4.1-mini", 1744318173),
)


# --------------------------------------------------------------------------------------------------
# Recorded requests
# --------------------------------------------------------------------------------------------------
@dataclass
class RecordedRequest:
    """One HTTP request as the server received it (every path, including 404s, drops and timeouts)."""

    method: str
    path: str
    headers: dict[str, str]  # keys lower-cased
    body: Any  # parsed JSON, or None when empty / not JSON
    raw: bytes
    received_at: float  # time.monotonic()
    status: int | None = None  # status sent back; None for drop() or a reply the client never got
    usage: dict[str, int] | None = None  # usage block actually sent (successful chat replies only)

    @property
    def messages(self) -> list[dict[str, Any]]:
        if isinstance(self.body, dict) and isinstance(self.body.get("messages"), list):
            return self.body["messages"]
        return []

    @property
    def prompt_text(self) -> str:
        """All message contents joined with blank lines (text parts of multi-part contents included)."""
        parts: list[str] = []
        for message in self.messages:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):
                parts.extend(
                    p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
                )
        return "\n\n".join(parts)

    @property
    def tool_name(self) -> str | None:
        """The tool the request forces via ``tool_choice.function.name``, or None."""
        choice = self.body.get("tool_choice") if isinstance(self.body, dict) else None
        if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
            name = choice["function"].get("name")
            return name if isinstance(name, str) else None
        return None

    @property
    def tool_names(self) -> list[str]:
        """Names of all tools offered in ``tools``."""
        tools = self.body.get("tools") if isinstance(self.body, dict) else None
        names: list[str] = []
        for tool in tools or []:
            fn = tool.get("function") if isinstance(tool, dict) else None
            if isinstance(fn, dict) and isinstance(fn.get("name"), str):
                names.append(fn["name"])
        return names

    @property
    def model(self) -> str | None:
        model = self.body.get("model") if isinstance(self.body, dict) else None
        return model if isinstance(model, str) else None

    @property
    def api_key(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth[7:] if auth.lower().startswith("bearer ") else None


# --------------------------------------------------------------------------------------------------
# Replies
# --------------------------------------------------------------------------------------------------
def openai_error(
    message: str, type: str, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """An OpenAI-shaped error body: ``{"error": {"message", "type", "param", "code"}}``."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def _dump_arguments(arguments: Any) -> str:
    if isinstance(arguments, str):
        return arguments
    if hasattr(arguments, "model_dump_json"):  # a pydantic model
        return str(arguments.model_dump_json())
    return json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Reply:
    """A scripted answer. Build one with the classmethods, not the constructor."""

    kind: str  # tool_call | content | error | slow | drop | malformed | trickle
    status: int = 200
    arguments: str | None = None
    name: str | None = None
    text: str | None = None
    usage: tuple[int, int] | None = None
    finish_reason: str | None = None
    body: Any = None  # error body override: dict (JSON), str or bytes (sent as is)
    error_kind: str | None = None
    retry_after: float | None = None
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    then: Reply | None = None
    reset: bool = False

    @classmethod
    def tool_call(
        cls,
        arguments: Mapping[str, Any] | str | Any,
        *,
        name: str | None = None,
        usage: tuple[int, int] | None = None,
        finish_reason: str = "tool_calls",
    ) -> Reply:
        """TOOLS-mode answer: ``content=None`` and one tool call whose ``arguments`` is a JSON string.

        ``arguments``: dict (dumped compactly, like OpenAI), str (sent verbatim, may be invalid JSON) or a
        pydantic model. ``name`` defaults to the request's forced tool (``tool_choice.function.name``), else
        its only tool, else ``"tool"``.
        """
        return cls(
            "tool_call",
            arguments=_dump_arguments(arguments),
            name=name,
            usage=usage,
            finish_reason=finish_reason,
        )

    @classmethod
    def content(
        cls, text: str, *, usage: tuple[int, int] | None = None, finish_reason: str = "stop"
    ) -> Reply:
        """A plain assistant message (instructor JSON / MD_JSON modes)."""
        return cls("content", text=text, usage=usage, finish_reason=finish_reason)

    @classmethod
    def length(
        cls, arguments_prefix: str, *, name: str | None = None, usage: tuple[int, int] | None = None
    ) -> Reply:
        """A tool call cut off by max_tokens: truncated ``arguments`` and ``finish_reason="length"``."""
        return cls("tool_call", arguments=arguments_prefix, name=name, usage=usage, finish_reason="length")

    @classmethod
    def error(
        cls,
        status: int,
        *,
        retry_after: float | None = None,
        body: Mapping[str, Any] | str | bytes | None = None,
        kind: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """An HTTP error with the body OpenAI sends for ``status`` (unless ``body`` is given).

        ``retry_after`` adds a ``retry-after`` header (seconds; integral values are sent as ints).
        ``kind`` picks a variant: 429 ``"tokens"`` (default) / ``"requests"`` (``rate_limit_exceeded``) /
        ``"insufficient_quota"``; 400 ``"context_length_exceeded"`` (default) / ``"invalid_request"``.
        Defaults: 401 invalid_api_key, 403 unsupported_country_region_territory, 404 model_not_found,
        500/503 server_error, 502 Cloudflare HTML page (text/html), others a generic JSON error.
        """
        return cls(
            "error",
            status=status,
            retry_after=retry_after,
            body=body,
            error_kind=kind,
            headers=tuple((headers or {}).items()),
        )

    @classmethod
    def slow(cls, seconds: float, then: Reply | None = None) -> Reply:
        """Wait ``seconds`` then answer with ``then`` (default: the responder). Interrupted by stop()."""
        return cls("slow", delay=seconds, then=then)

    @classmethod
    def trickle(cls, interval: float) -> Reply:
        """200 and headers at once, then one body byte (a space) every ``interval`` seconds, never finishing.

        The body claims a ``Content-Length`` of 1,000,000 bytes, so the reply never completes: it ends when the
        client closes the connection or at ``stop()``. A per-read timeout longer than ``interval`` never fires.
        """
        return cls("trickle", delay=interval)

    @classmethod
    def drop(cls, *, reset: bool = False) -> Reply:
        """Read the request, then close the TCP connection without answering (FIN; RST if ``reset``)."""
        return cls("drop", reset=reset)

    @classmethod
    def malformed(cls) -> Reply:
        """200, ``content-type: application/json``, correct Content-Length, truncated JSON body."""
        return cls("malformed")


def no_reply_configured(request: RecordedRequest) -> Reply:
    """Default responder: a 400 explaining that the test scripted nothing (never retried by clients)."""
    return Reply.error(
        400,
        body=openai_error(
            "loopback: no Reply scripted and no responder set for this chat-completions request "
            f"(tool={request.tool_name!r}). Use server.script(...) or server.responder = ...",
            "invalid_request_error",
        ),
    )


def _mask_key(key: str | None) -> str:
    if not key:
        return ""
    if len(key) < 12:
        return "****"
    return f"{key[:3]}{'*' * (len(key) - 7)}{key[-4:]}"


def _default_error_body(reply: Reply, request: RecordedRequest, request_id: str) -> Any:
    status, kind = reply.status, reply.error_kind
    model = request.model or "gpt-4o-mini"
    if status == 400:
        if kind in (None, "context_length_exceeded"):
            return openai_error(
                "This model's maximum context length is 128000 tokens. However, your messages resulted in "
                f"{max(128001, len(request.prompt_text) // 4)} tokens. "
                "Please reduce the length of the messages.",
                "invalid_request_error",
                "messages",
                "context_length_exceeded",
            )
        return openai_error("Invalid request.", "invalid_request_error")
    if status == 401:
        return openai_error(
            f"Incorrect API key provided: {_mask_key(request.api_key)}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            None,
            "invalid_api_key",
        )
    if status == 403:
        return openai_error(
            "Country, region, or territory not supported",
            "request_forbidden",
            None,
            "unsupported_country_region_territory",
        )
    if status == 404:
        return openai_error(
            f"The model `{model}` does not exist or you do not have access to it.",
            "invalid_request_error",
            None,
            "model_not_found",
        )
    if status == 429:
        if kind == "insufficient_quota":
            return openai_error(
                "You exceeded your current quota, please check your plan and billing details. For more "
                "information on this error, read the docs: "
                "https://platform.openai.com/docs/guides/error-codes/api-errors.",
                "insufficient_quota",
                None,
                "insufficient_quota",
            )
        if kind == "requests":
            return openai_error(
                f"Rate limit reached for {model} in organization org-loopback on requests per min (RPM): "
                "Limit 500, Used 500, Requested 1. Please try again in 120ms. Visit "
                "https://platform.openai.com/account/rate-limits to learn more.",
                "requests",
                None,
                "rate_limit_exceeded",
            )
        return openai_error(
            f"Rate limit reached for {model} in organization org-loopback on tokens per min (TPM): "
            "Limit 30000, Used 18928, Requested 11159. Please try again in 174ms. Visit "
            "https://platform.openai.com/account/rate-limits to learn more.",
            "tokens",
            None,
            "rate_limit_exceeded",
        )
    if status == 500:
        return openai_error(
            "The server had an error processing your request. Sorry about that! You can retry your request, "
            "or contact us through our help center at help.openai.com if you keep seeing this error. "
            f"(Please include the request ID {request_id} in your email.)",
            "server_error",
        )
    if status == 502:
        return (
            "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
            "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
            "</body>\r\n</html>\r\n"
        )
    if status == 503:
        return openai_error(
            "That model is currently overloaded with other requests. You can retry your request, or contact "
            "us through our help center at help.openai.com if the error persists. "
            f"(Please include the request ID {request_id} in your message.)",
            "server_error",
        )
    return openai_error(
        f"loopback scripted HTTP {status}", "server_error" if status >= 500 else "invalid_request_error"
    )


# --------------------------------------------------------------------------------------------------
# The Batch API
# --------------------------------------------------------------------------------------------------
BATCH_STATUSES = ("validating", "in_progress", "completed")
BATCH_EXPIRED = "This request could not be executed before the completion window expired."


@dataclass(frozen=True)
class BatchFaults:
    """What goes wrong inside a batch; line numbers are 0-based positions in the batch's input file."""

    shuffle: bool = False  # output lines in another order than the input
    error_lines: frozenset[int] = frozenset()  # ``"response": null, "error": {"code", "message"}``
    status_lines: Mapping[int, int] = field(default_factory=dict)  # answered with this HTTP status instead
    invalid_json_lines: frozenset[int] = frozenset()  # 200, but the tool-call arguments are cut off mid-JSON
    expire_after: int | None = None  # the batch ends ``expired``: later lines are ``batch_expired`` errors


def _check_batch_line(index: int, line: Any, endpoint: str, seen: set[str]) -> dict[str, Any] | None:
    """OpenAI's validation of one input line: the error it reports for the line, or None."""
    where = {"line": index + 1, "param": None}
    if not isinstance(line, dict):
        return {"code": "invalid_json_line", "message": "This line is not a JSON object.", **where}
    custom_id = line.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        return {"code": "missing_required_parameter", "message": "Missing custom_id.", **where}
    if custom_id in seen:
        return {"code": "duplicate_custom_id", "message": f"The custom_id {custom_id} is not unique.", **where}
    seen.add(custom_id)
    if line.get("method") != "POST" or line.get("url") != endpoint or not isinstance(line.get("body"), dict):
        return {"code": "invalid_request", "message": f"Expected method POST, url {endpoint} and a body.",
                **where}
    return None


# --------------------------------------------------------------------------------------------------
# Network guard (used by tests/conftest.py)
# --------------------------------------------------------------------------------------------------
class NetworkBlockedError(RuntimeError):
    """A test tried to reach a non-loopback address."""


def _is_loopback_host(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower() in ("localhost", "localhost.", "ip6-localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


@contextlib.contextmanager
def network_guard(blocked: list[str] | None = None) -> Iterator[list[str]]:
    """Make ``socket.connect``/``connect_ex``/``getaddrinfo`` refuse anything but loopback and AF_UNIX.

    Refusals raise :class:`NetworkBlockedError` and are appended to the yielded list, because HTTP clients
    (openai wraps every exception in ``APIConnectionError``) may hide the exception itself.
    """
    attempts: list[str] = [] if blocked is None else blocked
    orig_connect = socket.socket.connect
    orig_connect_ex = socket.socket.connect_ex
    orig_getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if getattr(socket, "AF_UNIX", None) is not None and sock.family == socket.AF_UNIX:
            return
        host = address[0] if isinstance(address, tuple) else address
        if not _is_loopback_host(host):
            attempts.append(f"connect {address!r}")
            raise NetworkBlockedError(f"tests may only connect to loopback, not {address!r}")

    def connect(self: socket.socket, address: Any) -> None:
        check(self, address)
        return orig_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(self, address)
        return orig_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback_host(host):
            attempts.append(f"getaddrinfo {host!r}")
            raise NetworkBlockedError(f"tests may only resolve loopback names, not {host!r}")
        return orig_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo
    try:
        yield attempts
    finally:
        socket.socket.connect = orig_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = orig_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = orig_getaddrinfo


# --------------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------------
class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # LoopbackServer.stop() joins handler threads itself, with a timeout
    request_queue_size = 256  # listen backlog: many concurrent connects must not hit SYN retries
    allow_reuse_address = True
    owner: LoopbackServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return  # client went away (timeouts, closed pools): expected in fault tests
        self.owner._record_error(exc)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    server_version = "loopback-openai/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    server: _HTTPServer

    # -- lifecycle ---------------------------------------------------------------------------------
    def setup(self) -> None:
        super().setup()
        self.server.owner._register(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._unregister(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- dispatch ----------------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        owner = self.server.owner
        raw = self._read_body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        path = self.path.split("?", 1)[0]
        record = RecordedRequest(
            method=self.command,
            path=path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            raw=raw,
            received_at=time.monotonic(),
        )
        owner._append(record)
        request_id = owner._next_request_id()
        route = path.rstrip("/")
        extra = owner.routes.get((self.command, route))
        if extra is not None and route != "/v1/chat/completions":
            answer = extra(record) if callable(extra) else extra
            if isinstance(answer, Reply):
                self._send_error_reply(record, answer, request_id)
            else:
                self._send_json(record, 200, answer, request_id)
        elif self.command == "POST" and route == "/v1/chat/completions":
            owner._enter()
            self._counted = True
            try:
                self._chat(record, request_id)
            finally:
                self._release()
        elif route.startswith(("/v1/files", "/v1/batches")):
            self._batch_api(record, request_id, route)
        elif self.command == "GET" and route == "/v1/models":
            self._send_json(record, 200, {"object": "list", "data": owner._model_list()}, request_id)
        elif self.command == "GET" and route.startswith("/v1/models/"):
            model_id = route[len("/v1/models/") :]
            found = [m for m in owner._model_list() if m["id"] == model_id]
            if found:
                self._send_json(record, 200, found[0], request_id)
            else:
                self._send_error_reply(record, Reply.error(404), request_id)
        else:
            self._send_error_reply(
                record,
                Reply.error(
                    404, body=openai_error(f"Invalid URL ({self.command} {path})", "invalid_request_error")
                ),
                request_id,
            )

    # -- chat completions --------------------------------------------------------------------------
    def _chat(self, record: RecordedRequest, request_id: str) -> None:
        owner = self.server.owner
        started = time.monotonic()
        if owner.expected_api_key is not None and record.api_key != owner.expected_api_key:
            self._send_error_reply(record, Reply.error(401), request_id)
            return
        problem = _validate_chat_body(record, raw_ok=bool(record.raw))
        if problem is not None:
            self._send_error_reply(record, Reply.error(400, body=problem), request_id)
            return
        reply = owner._pop_script()
        if owner.latency > 0 and owner._stopping.wait(owner.latency):
            return self._abort(record)
        responder_calls = 0
        while reply is None or reply.kind == "slow":
            if reply is not None:  # slow: wait (interruptible by stop()), then its `then` or the responder
                if owner._stopping.wait(reply.delay):
                    return self._abort(record)
                reply = reply.then
                continue
            responder_calls += 1
            reply = owner._ask_responder(record) if responder_calls == 1 else no_reply_configured(record)
        if reply.kind == "drop":
            return self._abort(record, reset=reply.reset)
        if reply.kind == "trickle":
            return self._trickle(record, request_id, reply.delay)
        if reply.kind == "error":
            self._send_error_reply(record, reply, request_id)
            return
        completion, usage = _completion_body(owner, reply, record)
        headers = _success_headers(request_id, started, usage["prompt_tokens"])
        if reply.kind == "malformed":
            data = json.dumps(completion, ensure_ascii=False).encode()
            self._send(record, 200, data[: max(1, len(data) // 2)], "application/json", headers)
            return
        record.usage = usage
        self._send_json(record, 200, completion, request_id, headers=headers)

    # -- files and batches -------------------------------------------------------------------------
    def _batch_api(self, record: RecordedRequest, request_id: str, route: str) -> None:
        owner, method, parts = self.server.owner, self.command, route.split("/")[2:]
        if method == "POST" and parts == ["files"]:
            result: tuple[int, Any] = owner._upload(record)
        elif method == "GET" and len(parts) == 3 and parts[0] == "files" and parts[2] == "content":
            found = owner._files.get(parts[1])
            if found is not None:
                self._send(record, 200, found["data"], "application/octet-stream", [("x-request-id", request_id)])
                return
            result = 404, f"No such File object: {parts[1]}"
        elif method == "GET" and len(parts) == 2 and parts[0] == "files":
            found = owner._files.get(parts[1])
            result = (200, found["object"]) if found else (404, f"No such File object: {parts[1]}")
        elif method == "POST" and parts == ["batches"]:
            result = owner._create_batch(record.body)
        elif method == "GET" and parts == ["batches"]:
            with owner._lock:
                data = list(reversed([dict(b) for b in owner._batches.values()]))
            result = 200, {"object": "list", "data": data, "first_id": data[0]["id"] if data else None,
                           "last_id": data[-1]["id"] if data else None, "has_more": False}
        elif method == "GET" and len(parts) == 2 and parts[0] == "batches":
            result = owner._poll_batch(parts[1])
        else:
            result = 404, f"Invalid URL ({method} {record.path})"
        status, payload = result
        if status == 200:
            self._send_json(record, 200, payload, request_id)
        else:
            body = openai_error(payload, "invalid_request_error")
            self._send_error_reply(record, Reply.error(status, body=body), request_id)

    # -- low-level responses -----------------------------------------------------------------------
    _counted = False

    def _release(self) -> None:
        """Leave the in-flight count once, before the client can see the outcome (no test races)."""
        if self._counted:
            self._counted = False
            self.server.owner._leave()

    def _abort(self, record: RecordedRequest, *, reset: bool = False) -> None:
        """Close the connection without sending anything."""
        record.status = None
        self._release()
        self.close_connection = True
        with contextlib.suppress(OSError):
            if reset:  # linger 0 + close = RST instead of FIN
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            else:
                self.connection.shutdown(socket.SHUT_RDWR)

    def _trickle(self, record: RecordedRequest, request_id: str, interval: float) -> None:
        """Headers now, then one byte every `interval` s of a body that never completes."""
        owner = self.server.owner
        record.status = 200
        self._release()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000000")
            self.send_header("x-request-id", request_id)
            self.end_headers()
            self.wfile.flush()
            while not owner._stopping.wait(interval):
                self.wfile.write(b" ")  # raises once the client has closed the connection
                self.wfile.flush()

    def _send_error_reply(self, record: RecordedRequest, reply: Reply, request_id: str) -> None:
        body = reply.body
        if body is None:
            body = _default_error_body(reply, record, request_id)
        if isinstance(body, Mapping):
            data = (json.dumps(body, indent=4) + "\n").encode()
            content_type = "application/json"
        else:
            data = body if isinstance(body, bytes) else str(body).encode()
            content_type = "text/html" if reply.status == 502 and reply.body is None else "application/json"
        headers = [
            ("x-request-id", request_id),
            ("openai-version", "2020-10-01"),
            ("openai-organization", "user-loopback"),
            ("openai-processing-ms", "1"),
            ("access-control-expose-headers", "X-Request-ID"),
        ]
        if reply.status == 502 and reply.body is None:
            headers = [("cf-ray", "8e695a03eed4f9fd-LBK")]
        if reply.retry_after is not None:
            ra = reply.retry_after
            headers.append(("retry-after", str(int(ra)) if float(ra).is_integer() else repr(float(ra))))
        headers.extend(reply.headers)
        self._send(record, reply.status, data, content_type, headers)

    def _send_json(
        self,
        record: RecordedRequest,
        status: int,
        payload: Any,
        request_id: str,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        if headers is None:
            headers = [
                ("x-request-id", request_id),
                ("openai-version", "2020-10-01"),
                ("openai-processing-ms", "1"),
            ]
        self._send(record, status, data, "application/json", headers)

    def _send(
        self,
        record: RecordedRequest,
        status: int,
        data: bytes,
        content_type: str,
        headers: list[tuple[str, str]],
    ) -> None:
        record.status = status  # before writing: the client may look at it as soon as it has the reply
        self._release()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)


def _validate_chat_body(record: RecordedRequest, *, raw_ok: bool) -> dict[str, Any] | None:
    """The 400s OpenAI sends for bodies it cannot use (so client bugs are loud, not silently answered)."""
    body = record.body
    if not isinstance(body, dict):
        return openai_error(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
            "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not "
            "valid JSON. If you have trouble figuring out how to fix this, please contact us through our "
            "help center at help.openai.com.)"
            if raw_ok
            else "you must provide a model parameter",
            "invalid_request_error",
        )
    if not isinstance(body.get("model"), str):
        return openai_error("you must provide a model parameter", "invalid_request_error")
    if not isinstance(body.get("messages"), list):
        return openai_error(
            "Missing required parameter: 'messages'.",
            "invalid_request_error",
            "messages",
            "missing_required_parameter",
        )
    if body.get("stream"):
        return openai_error("loopback: stream=true is not supported", "invalid_request_error", "stream")
    return None


def _completion_body(
    owner: LoopbackServer, reply: Reply, record: RecordedRequest
) -> tuple[dict[str, Any], dict[str, int]]:
    n = owner._next_completion_number()
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if reply.kind == "content":
        message["content"] = reply.text
        produced = reply.text or ""
        finish_reason = reply.finish_reason or "stop"
    elif reply.kind in ("tool_call", "malformed"):
        arguments = reply.arguments if reply.arguments is not None else "{}"
        names = record.tool_names
        name = reply.name or record.tool_name or (names[0] if len(names) == 1 else "tool")
        message["tool_calls"] = [
            {
                "id": f"call_{n:024d}",
                "type": "function",
                "function": {"name": name, "arguments": arguments},
            }
        ]
        produced = arguments
        finish_reason = reply.finish_reason or "tool_calls"
    else:  # pragma: no cover - guarded by the caller
        raise ValueError(reply.kind)
    message["refusal"] = None
    message["annotations"] = []
    if reply.usage is not None:
        prompt_tokens, completion_tokens = reply.usage
    else:
        prompt_tokens = max(1, len(record.prompt_text) // 4)
        completion_tokens = max(1, len(produced) // 4)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    body = {
        "id": f"chatcmpl-LB{n:027d}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": record.model or DEFAULT_MODEL,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
        "usage": {
            **usage,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }
    return body, usage


def _success_headers(request_id: str, started: float, prompt_tokens: int) -> list[tuple[str, str]]:
    elapsed_ms = max(1, int((time.monotonic() - started) * 1000))
    return [
        ("access-control-expose-headers", "X-Request-ID"),
        ("openai-organization", "user-loopback"),
        ("openai-processing-ms", str(elapsed_ms)),
        ("openai-version", "2020-10-01"),
        ("x-ratelimit-limit-requests", str(RATE_LIMIT_REQUESTS)),
        ("x-ratelimit-limit-tokens", str(RATE_LIMIT_TOKENS)),
        ("x-ratelimit-remaining-requests", str(RATE_LIMIT_REQUESTS - 1)),
        ("x-ratelimit-remaining-tokens", str(RATE_LIMIT_TOKENS - prompt_tokens)),
        ("x-ratelimit-reset-requests", "2ms"),
        ("x-ratelimit-reset-tokens", "0s"),
        ("x-request-id", request_id),
    ]


class LoopbackServer:
    """OpenAI-compatible chat-completions server on 127.0.0.1:<ephemeral port>, in background threads.

    Use as a context manager, or ``start()`` / ``stop()``. Attributes tests may set at any time:
    ``responder`` (``Callable[[RecordedRequest], Reply]``), ``latency`` (seconds added to every chat
    request), ``expected_api_key`` (None = accept any key; else other keys get OpenAI's 401),
    ``models`` (ids served by ``/v1/models``), ``routes`` (other servers' routes: see the module docstring).
    """

    def __init__(
        self,
        *,
        responder: Callable[[RecordedRequest], Reply] | None = None,
        latency: float = 0.0,
        expected_api_key: str | None = None,
        models: list[str] | None = None,
        routes: Mapping[tuple[str, str], Any] | None = None,
    ) -> None:
        self.responder: Callable[[RecordedRequest], Reply] = responder or no_reply_configured
        self.latency = latency
        self.expected_api_key = expected_api_key
        self.models: list[str] = list(models) if models is not None else [m[0] for m in DEFAULT_MODELS]
        self.routes: dict[tuple[str, str], Any] = dict(routes or {})  # (METHOD, path) -> answer
        self.requests: list[RecordedRequest] = []
        self.errors: list[BaseException] = []  # exceptions raised inside the server (e.g. by a responder)
        self.max_in_flight = 0
        self.in_flight = 0
        self._lock = threading.Lock()
        self._script: deque[Reply] = deque()
        self._counter = itertools.count(1)
        self._request_counter = itertools.count(1)
        self._stopping = threading.Event()
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        # The Batch API: server-side state that outlives reset(), like OpenAI's.
        self.batch_statuses: tuple[str, ...] = BATCH_STATUSES
        self.batch_faults = BatchFaults()
        self._files: dict[str, dict[str, Any]] = {}
        self._batches: dict[str, dict[str, Any]] = {}
        self._batch_polls: dict[str, int] = {}
        self._batch_problems: dict[str, list[dict[str, Any]]] = {}
        self._ids = itertools.count(1)

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> LoopbackServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="loopback-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, wake sleeping handlers, close every connection and the listening socket."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            self._stopping.set()
            connections = dict(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread in connections.values():
            thread.join(max(0.0, deadline - time.monotonic()))
        httpd.server_close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("LoopbackServer is not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no path)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1`` - pass as ``OpenAI(base_url=...)``."""
        return f"{self.url}/v1"

    # -- test API ----------------------------------------------------------------------------------
    def script(self, *replies: Reply) -> None:
        """Queue replies; each chat-completions request consumes one (FIFO) before the responder."""
        for reply in replies:
            if not isinstance(reply, Reply):
                raise TypeError(f"script() takes Reply objects, got {reply!r}")
        with self._lock:
            self._script.extend(replies)

    @property
    def pending(self) -> int:
        """Scripted replies not consumed yet."""
        with self._lock:
            return len(self._script)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The recorded ``POST /v1/chat/completions`` requests."""
        with self._lock:
            return [r for r in self.requests if r.path.rstrip("/") == "/v1/chat/completions"]

    def reset(self) -> None:
        """Forget recorded requests, errors, the script and max_in_flight (the responder stays)."""
        with self._lock:
            self.requests.clear()
            self.errors.clear()
            self._script.clear()
            self.max_in_flight = self.in_flight

    # -- internals used by the handler -------------------------------------------------------------
    def _register(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections[conn] = threading.current_thread()
            stopping = self._stopping.is_set()
        if stopping:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def _unregister(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.pop(conn, None)

    def _append(self, record: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(record)

    def _record_error(self, exc: BaseException | None) -> None:
        if exc is not None:
            with self._lock:
                self.errors.append(exc)

    def _pop_script(self) -> Reply | None:
        with self._lock:
            return self._script.popleft() if self._script else None

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _next_completion_number(self) -> int:
        with self._lock:
            return next(self._counter)

    def _next_request_id(self) -> str:
        with self._lock:
            return f"req_{next(self._request_counter):032x}"

    def _ask_responder(self, record: RecordedRequest) -> Reply:
        try:
            reply = self.responder(record)
        except Exception as exc:  # a bug in the test's responder: keep it for the fixture, answer 500
            self._record_error(exc)
            return Reply.error(500, body=openai_error(f"loopback responder raised {exc!r}", "server_error"))
        if not isinstance(reply, Reply):
            self._record_error(TypeError(f"responder returned {reply!r}, expected a Reply"))
            return Reply.error(
                500, body=openai_error("loopback responder returned a non-Reply", "server_error")
            )
        return reply

    def _model_list(self) -> list[dict[str, Any]]:
        created = dict(DEFAULT_MODELS)
        return [
            {"id": mid, "object": "model", "created": created.get(mid, 1700000000), "owned_by": "system"}
            for mid in self.models
        ]

    # -- the Batch API -----------------------------------------------------------------------------
    @property
    def batch_creates(self) -> list[RecordedRequest]:
        """The recorded ``POST /v1/batches`` requests."""
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.path.rstrip("/") == "/v1/batches"]

    @property
    def batch_ids(self) -> list[str]:
        """Every batch created, oldest first."""
        with self._lock:
            return list(self._batches)

    def batch_status(self, batch_id: str) -> str:
        """A batch's current status, without moving it along."""
        with self._lock:
            return str(self._batches[batch_id]["status"])

    def batch_input(self, batch_id: str) -> list[dict[str, Any]]:
        """The request lines of a batch's input file."""
        with self._lock:
            data = self._files[self._batches[batch_id]["input_file_id"]]["data"]
        return [json.loads(line) for line in data.splitlines() if line.strip()]

    def batch_output(self, batch_id: str) -> list[dict[str, Any]]:
        """The lines of a batch's output and error files (empty until it has ended)."""
        with self._lock:
            batch = self._batches[batch_id]
            data = [self._files[f]["data"] for f in (batch["output_file_id"], batch["error_file_id"]) if f]
        return [json.loads(line) for chunk in data for line in chunk.splitlines() if line.strip()]

    def answer_batch(
        self, lines: list[dict[str, Any]], faults: BatchFaults | None = None
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Answer request lines with the responder, as a batch would: (output lines, error lines)."""
        faults = faults or BatchFaults()
        done: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for index, line in enumerate(lines):
            request_id = self._next_request_id()
            out: dict[str, Any] = {"id": f"batch_req_{next(self._ids):024x}", "custom_id": line.get("custom_id"),
                                   "response": None, "error": None}
            if faults.expire_after is not None and index >= faults.expire_after:
                out["error"] = {"code": "batch_expired", "message": BATCH_EXPIRED}
            elif index in faults.error_lines:
                out["error"] = {"code": "server_error", "message": "loopback: scripted batch error line"}
            else:
                out["response"] = self._answer_line(index, line, faults, request_id)
            ok = out["response"] is not None and out["response"]["status_code"] == 200
            (done if ok else failed).append(out)
        if faults.shuffle:
            random.Random(len(lines)).shuffle(done)
            random.Random(len(lines) + 1).shuffle(failed)
        return done, failed

    def _answer_line(self, index: int, line: dict[str, Any], faults: BatchFaults,
                     request_id: str) -> dict[str, Any]:
        body = line.get("body")
        raw = json.dumps(body).encode()
        record = RecordedRequest("POST", str(line.get("url")), {}, body, raw, time.monotonic())
        problem = _validate_chat_body(record, raw_ok=True)
        if problem is not None:
            reply = Reply.error(400, body=problem)
        elif index in faults.status_lines:
            reply = Reply.error(faults.status_lines[index])
        else:
            reply = self._ask_responder(record)
            while reply.kind == "slow":
                reply = reply.then or self._ask_responder(record)
        if index in faults.invalid_json_lines and reply.kind == "tool_call":
            arguments = reply.arguments or "{}"
            reply = replace(reply, arguments=arguments[: max(1, len(arguments) // 2)])
        if reply.kind in ("tool_call", "content"):
            completion, _ = _completion_body(self, reply, record)
            return {"status_code": 200, "request_id": request_id, "body": completion}
        status = reply.status if reply.kind == "error" else 500
        error = reply.body if reply.kind == "error" else None
        if error is None:
            error = _default_error_body(replace(reply, status=status), record, request_id)
        if not isinstance(error, Mapping):
            error = openai_error(error.decode() if isinstance(error, bytes) else str(error), "server_error")
        return {"status_code": status, "request_id": request_id, "body": error}

    def _new_file(self, filename: str, purpose: str, data: bytes) -> dict[str, Any]:
        with self._lock:
            file_id = f"file-{next(self._ids):024d}"
            obj = {"id": file_id, "object": "file", "bytes": len(data), "created_at": int(time.time()),
                   "filename": filename, "purpose": purpose, "status": "processed", "expires_at": None,
                   "status_details": None}
            self._files[file_id] = {"object": obj, "data": data}
        return obj

    def _upload(self, record: RecordedRequest) -> tuple[int, Any]:
        content_type = record.headers.get("content-type", "")
        if not content_type.startswith("multipart/form-data"):
            return 400, "Files are uploaded as multipart/form-data."
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + record.raw)
        fields: dict[str, tuple[str | None, bytes]] = {}
        for part in message.iter_parts():  # type: ignore[attr-defined]
            name = part.get_param("name", header="content-disposition")
            fields[str(name)] = (part.get_filename(), part.get_payload(decode=True) or b"")
        purpose = fields.get("purpose", (None, b""))[1].decode()
        if "file" not in fields or purpose not in ("batch", "fine-tune", "assistants", "user_data"):
            return 400, "Upload a file and a purpose (batch, fine-tune, assistants or user_data)."
        filename, data = fields["file"]
        return 200, self._new_file(filename or "upload", purpose, data)

    def _create_batch(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return 400, "We could not parse the JSON body of your request."
        endpoint, file_id = body.get("endpoint"), body.get("input_file_id")
        if endpoint != "/v1/chat/completions" or body.get("completion_window") != "24h":
            return 400, "The loopback server batches /v1/chat/completions with completion_window 24h only."
        with self._lock:
            found = self._files.get(str(file_id))
        if found is None or found["object"]["purpose"] != "batch":
            return 400, f"No such File object with purpose batch: {file_id}"
        seen: set[str] = set()
        problems: list[dict[str, Any]] = []
        lines: list[Any] = []
        for index, raw in enumerate(x for x in found["data"].splitlines() if x.strip()):
            try:
                lines.append(json.loads(raw))
            except ValueError:
                lines.append(None)
            problem = _check_batch_line(index, lines[-1], endpoint, seen)
            if problem is not None:
                problems.append(problem)
        now = int(time.time())
        with self._lock:
            batch_id = f"batch_{next(self._ids):024x}"
            batch: dict[str, Any] = {
                "id": batch_id, "object": "batch", "endpoint": endpoint, "errors": None, "input_file_id": file_id,
                "completion_window": "24h", "status": self.batch_statuses[0], "output_file_id": None,
                "error_file_id": None, "created_at": now, "in_progress_at": None, "expires_at": now + 86400,
                "finalizing_at": None, "completed_at": None, "failed_at": None, "expired_at": None,
                "cancelling_at": None, "cancelled_at": None, "metadata": body.get("metadata"),
                "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
            }
            self._batches[batch_id] = batch
            self._batch_polls[batch_id] = 0
            self._batch_problems[batch_id] = problems
            return 200, dict(batch)

    def _poll_batch(self, batch_id: str) -> tuple[int, Any]:
        """One retrieve: the batch moves one step along `batch_statuses`; at the end its lines are answered."""
        with self._lock:
            batch = self._batches.get(batch_id)
            if batch is None:
                return 404, f"No such Batch object: {batch_id}"
            if batch["status"] in ("completed", "expired", "failed", "cancelled"):
                return 200, dict(batch)
            self._batch_polls[batch_id] += 1
            statuses = self.batch_statuses
            status = statuses[min(self._batch_polls[batch_id], len(statuses) - 1)]
            problems = self._batch_problems[batch_id]
            now = int(time.time())
            if problems:
                batch.update(status="failed", failed_at=now, errors={"object": "list", "data": problems})
                return 200, dict(batch)
            if status != "completed":
                batch["status"] = status
                if status == "in_progress" and batch["in_progress_at"] is None:
                    batch["in_progress_at"] = now
                return 200, dict(batch)
            faults = self.batch_faults
        done, failed = self.answer_batch(self.batch_input(batch_id), faults)
        output = self._new_file(f"{batch_id}_output.jsonl", "batch_output", _jsonl(done)) if done else None
        errors = self._new_file(f"{batch_id}_error.jsonl", "batch_output", _jsonl(failed)) if failed else None
        final = "expired" if faults.expire_after is not None else "completed"
        with self._lock:
            batch.update(status=final, output_file_id=output and output["id"], error_file_id=errors and errors["id"],
                         request_counts={"total": len(done) + len(failed), "completed": len(done),
                                         "failed": len(failed)}, finalizing_at=now)
            batch["expired_at" if final == "expired" else "completed_at"] = now
            return 200, dict(batch)


def _jsonl(lines: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
