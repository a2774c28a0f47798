"""An in-memory stand-in for the loopback server, for tests of the layers above the model seam (runs, CLI).

`MemoryServer` takes the same responders and `Reply` objects as `loopback.LoopbackServer` and records the
requests it got (`chat_requests`, with `prompt_text`, `body`, `model` like `RecordedRequest`), but answers
through `summarizer.models.testing.ScriptedBackend`: no socket is opened and no model is loaded. Replies become
what the openai SDK would have raised or returned (`Reply.error(429)` → `openai.RateLimitError` with its
`retry-after` header, `Reply.drop()` → `openai.APIConnectionError`, `Reply.malformed()` → a JSON decode error),
so the real transport retries, instructor parsing, validators and re-asks run above it.

Tests of the model seam itself (HTTP, the SDK, recorded wire traffic) stay on the loopback server in
`tests/http/`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2
import instructor
import openai
import pytest
from loopback import Reply, no_reply_configured, openai_error

from summarizer.models.backend import BackendInfo, Capabilities
from summarizer.models.testing import ScriptedBackend, ScriptedRequest, completion

URL = "http://memory.test/v1/chat/completions"
_STATUS_ERRORS: Mapping[int, type[openai.APIStatusError]] = {
    400: openai.BadRequestError, 401: openai.AuthenticationError, 403: openai.PermissionDeniedError,
    404: openai.NotFoundError, 409: openai.ConflictError, 422: openai.UnprocessableEntityError,
    429: openai.RateLimitError,
}  # fmt: skip
_DEFAULT_ERRORS = {
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    403: ("Country, region, or territory not supported", "request_forbidden", "unsupported_country_region_territory"),
    404: ("The model does not exist or you do not have access to it.", "invalid_request_error", "model_not_found"),
    429: ("Rate limit reached for requests.", "tokens", "rate_limit_exceeded"),
}


@dataclass
class MemoryRequest:
    """One request the in-memory server got, shaped like `loopback.RecordedRequest` for the tests that read it."""

    body: dict[str, Any]
    received_at: float
    path: str = "/v1/chat/completions"
    status: int | None = None
    usage: dict[str, int] | None = None  # the usage block answered (successful replies only)
    api_key: str | None = None  # the key of the backend that sent it (the loopback server reads the header)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages") or [])

    @property
    def prompt_text(self) -> str:
        return "\n\n".join(m["content"] for m in self.messages if isinstance(m.get("content"), str))

    @property
    def model(self) -> str | None:
        return self.body.get("model")

    @property
    def tool_name(self) -> str | None:
        choice = self.body.get("tool_choice")
        return choice["function"]["name"] if isinstance(choice, dict) and "function" in choice else None


def status_error(reply: Reply) -> openai.APIStatusError:
    """What the openai SDK raises for an HTTP error reply."""
    body = reply.body
    if body is None:
        message, kind, code = _DEFAULT_ERRORS.get(reply.status, ("The server had an error.", "server_error", None))
        body = openai_error(message, kind, None, code)
    headers = dict(reply.headers)
    if reply.retry_after is not None:
        value = reply.retry_after
        headers["retry-after"] = str(int(value)) if float(value).is_integer() else str(value)
    content = body if isinstance(body, bytes) else (
        body.encode() if isinstance(body, str) else json.dumps(body).encode())
    response = httpx2.Response(reply.status, content=content, headers=headers, request=httpx2.Request("POST", URL))
    cls = _STATUS_ERRORS.get(reply.status, openai.InternalServerError if reply.status >= 500 else openai.APIStatusError)
    err = body.get("error") if isinstance(body, dict) else None
    text = err.get("message") if isinstance(err, dict) else str(body)[:200]
    return cls(f"Error code: {reply.status} - {text}", response=response, body=err if err is not None else body)


@dataclass
class MemoryServer:
    """Scripted answers behind the model seam, in memory; the loopback server's scripting API."""

    responder: Callable[[Any], Reply] = no_reply_configured
    latency: float = 0.0
    chat_requests: list[MemoryRequest] = field(default_factory=list)
    _backends: list[ScriptedBackend] = field(default_factory=list)
    _script: deque[Reply] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    @property
    def max_in_flight(self) -> int:
        return max((b.max_in_flight for b in self._backends), default=0)

    def script(self, *replies: Reply) -> None:
        """Queue replies; each request consumes one (FIFO) before the responder is asked."""
        with self._lock:
            self._script.extend(replies)

    def reset(self) -> None:
        """Forget the requests seen and the script (the responder stays)."""
        self.chat_requests.clear()
        self._script.clear()
        for backend in self._backends:
            backend.max_in_flight = 0

    def backend(self, *, model: str = "gpt-4o-mini", kind: str = "openai", api_key: str | None = "test-key",
                capabilities: Capabilities | None = None) -> ScriptedBackend:
        """A backend that answers from this server (one per Summarizer; all share the script and the log)."""
        info = BackendInfo(kind, model, instructor.Mode.TOOLS, "in-memory test server", api_key=api_key)
        backend = ScriptedBackend(lambda request: self._answer(request, api_key), info=info, latency=self.latency,
                                  capabilities=capabilities or Capabilities(default_context=100_000))
        self._backends.append(backend)
        return backend

    def _answer(self, request: ScriptedRequest, api_key: str | None) -> Any:
        record = MemoryRequest(dict(request.kwargs), time.monotonic(), api_key=api_key)
        with self._lock:
            self.chat_requests.append(record)
            scripted = self._script.popleft() if self._script else None
        reply = scripted if scripted is not None else self.responder(record)
        while reply.kind == "slow":
            time.sleep(reply.delay)
            reply = reply.then or self.responder(record)
        record.status = reply.status if reply.kind == "error" else 200
        if reply.kind == "error":
            return status_error(reply)
        if reply.kind == "drop":
            record.status = None
            return openai.APIConnectionError(request=httpx2.Request("POST", URL))
        if reply.kind == "malformed":
            return json.JSONDecodeError("Expecting value", '{"id": "chatcmpl-', 17)
        answer = reply.arguments if reply.kind == "tool_call" else reply.text
        answered = completion(request.kwargs, answer or "", finish=reply.finish_reason, usage=reply.usage)
        if answered.usage is not None:
            record.usage = answered.usage.model_dump(include={"prompt_tokens", "completion_tokens", "total_tokens"})
        return answered


@dataclass(frozen=True)
class Done:
    """What a command did, as `subprocess.CompletedProcess` reports it."""

    returncode: int
    stdout: str
    stderr: str


_CLI_LOGGERS = ("summarizer", "openai", "instructor", "httpx2")  # loggers `summarizer run` sets levels on


@dataclass
class InProcessCLI:
    """Runs `summarizer ...` in this process (no interpreter start-up), its backends answering from `server`.

    Called like the subprocess helpers it replaces: `cli("run", folder, "-o", out, env={...}, stdin="...")`
    returns a `Done` with the exit code and what went to stdout and stderr. `backend=False`: no server and no
    key, as on a fresh machine. What a command changes in the process (environment, stdin, the root logger's
    handlers, library log levels) is put back after it.
    """

    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]
    server: MemoryServer | None = None  # None: backends are resolved as usual (a loopback URL in `env`, …)

    def __call__(self, *args: Any, env: Mapping[str, str] | None = None, stdin: str | bytes | None = None,
                 backend: bool = True) -> Done:
        import io
        import logging
        import os
        import sys

        from summarizer.cli import main

        root = logging.getLogger()
        handlers = {handler: list(handler.filters) for handler in root.handlers}
        levels = {name: logging.getLogger(name).level for name in _CLI_LOGGERS}
        with self.monkeypatch.context() as patch:
            for name in [n for n in os.environ if n.startswith(("OPENAI_", "SUMMARIZER_"))]:
                patch.delenv(name)
            patch.setenv("COLUMNS", "200")
            server = self.server
            if backend and server is not None:  # as if OPENAI_BASE_URL pointed at a server: answers from `server`
                patch.setenv("OPENAI_BASE_URL", "http://memory.test/v1")
                patch.setenv("OPENAI_API_KEY", "test-key")

                def connect(info: BackendInfo, *, timeout: float) -> ScriptedBackend:
                    return server.backend(model=info.model, kind=info.kind, api_key=info.api_key)

                patch.setattr("summarizer.extract.summarizer.connect", connect)
            for name, value in (env or {}).items():
                patch.setenv(name, value)
            if stdin is not None:
                data = stdin.encode() if isinstance(stdin, str) else stdin
                patch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
            self.capsys.readouterr()  # what the test printed before is not the command's
            try:
                main([str(a) for a in args])
                code = 0
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
            finally:
                root.handlers[:] = list(handlers)  # not the handler writing to this test's captured stderr
                for handler, filters in handlers.items():
                    handler.filters[:] = filters
                for name, level in levels.items():
                    logging.getLogger(name).setLevel(level)
            out, err = self.capsys.readouterr()
        return Done(code, out, err)
