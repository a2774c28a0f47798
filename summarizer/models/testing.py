"""In-memory backends for tests of the layers above the model seam (runs, CLI), as pydantic-ai's models.

- `ScriptedBackend`: answers from a function of the request (or a list of answers, in order), like
  pydantic-ai's `FunctionModel` and simonw/llm's `MockModel`; keeps every request in `.requests`.
- `FillingBackend`: fills the requested schema with the smallest valid answer, like pydantic-ai's `TestModel`.

Both answer in the OpenAI chat-completions shape instructor parses (a forced tool call in TOOLS mode, JSON
content otherwise), so the real instructor parsing, validators and re-asks run above them. Nothing is sent
over a network and no model is loaded. Tests of the model seam itself use the loopback HTTP server instead.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import instructor
from openai.types.chat import ChatCompletion

from summarizer.models.backend import BackendInfo, Capabilities, CharEstimate, Narrowing, TokenMeter

__all__ = ["Answer", "FillingBackend", "ScriptedBackend", "ScriptedRequest", "completion"]

# What a script returns for one request: tool-call arguments (a dict), raw text, a whole chat completion, or an
# exception to raise.
Answer = Mapping[str, Any] | str | ChatCompletion | BaseException


@dataclass(frozen=True)
class ScriptedRequest:
    """One request a test backend received: its keyword arguments and the narrowing it was given."""

    kwargs: Mapping[str, Any]
    narrowing: Narrowing | None

    @property
    def prompt_text(self) -> str:
        """Every message's content, joined: what a test looks for markers in."""
        return "\n".join(str(m.get("content") or "") for m in self.kwargs.get("messages") or [])


def completion(request: Mapping[str, Any], answer: Mapping[str, Any] | str, *, finish: str | None = None,
               usage: tuple[int, int] | None = None) -> ChatCompletion:
    """`answer` as the chat completion a server would send for `request` (a tool call when a tool is forced).

    `usage` is (prompt, completion) tokens; by default counted as a server would be estimated (`CharEstimate`).
    """
    text = answer if isinstance(answer, str) else json.dumps(answer)
    tools = request.get("tools") or []
    if tools:
        message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [{
            "id": f"call_{uuid.uuid4().hex[:24]}", "type": "function",
            "function": {"name": tools[0]["function"]["name"], "arguments": text}}]}
        reason = finish or "tool_calls"
    else:
        message, reason = {"role": "assistant", "content": text}, finish or "stop"
    prompt, answered = usage or (CharEstimate().request(request), CharEstimate().text(text))
    return ChatCompletion.model_validate({
        "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
        "model": str(request.get("model") or "test"),
        "choices": [{"index": 0, "message": message, "finish_reason": reason, "logprobs": None}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": answered, "total_tokens": prompt + answered},
    })


@dataclass
class ScriptedBackend:
    """Answers each request with `script(request)`, or the next of a list of answers; records every request.

    An exception as an answer is raised instead of answering (an `openai.APIStatusError` exercises the
    transport retries, a `SummarizerError` the run's handling of it). `latency` seconds pass before each async
    answer, so concurrency can be observed (`max_in_flight`).
    """

    script: Callable[[ScriptedRequest], Answer] | Sequence[Answer]
    info: BackendInfo = field(default_factory=lambda: BackendInfo("test", "test-model", instructor.Mode.TOOLS,
                                                                  "a test backend"))
    capabilities: Capabilities = field(default_factory=lambda: Capabilities(default_context=100_000))
    latency: float = 0.0
    requests: list[ScriptedRequest] = field(default_factory=list)
    max_in_flight: int = 0
    closed: bool = False

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._queue = None if callable(self.script) else list(self.script)
        self._in_flight = 0

    def _answer(self, kwargs: Mapping[str, Any], narrowing: Narrowing | None) -> ChatCompletion:
        request = ScriptedRequest(dict(kwargs), narrowing)
        with self._lock:
            self.requests.append(request)
            if self._queue is None:
                assert callable(self.script)
                answer = self.script(request)
            elif self._queue:
                answer = self._queue.pop(0)
            else:
                raise AssertionError(f"the script has no answer left for request {len(self.requests)}")
        if isinstance(answer, BaseException):
            raise answer
        return answer if isinstance(answer, ChatCompletion) else completion(kwargs, answer)

    def create(self, narrowing: Narrowing | None = None) -> Callable[..., Any]:
        return lambda **kwargs: self._answer(kwargs, narrowing)

    def acreate(self, narrowing: Narrowing | None = None) -> Callable[..., Awaitable[Any]]:
        async def create(**kwargs: Any) -> ChatCompletion:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            try:
                await asyncio.sleep(self.latency)  # a real await point, as a network call has
                return self._answer(kwargs, narrowing)
            finally:
                self._in_flight -= 1

        return create

    def plain_create(self) -> Callable[..., Any]:
        return self.create()

    def meter(self) -> TokenMeter:
        return CharEstimate()

    def provider_client(self) -> Any:
        from summarizer.errors import ConfigurationError

        raise ConfigurationError("a scripted test backend has no Batch API")

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def fill(schema: Mapping[str, Any], narrowing: Narrowing | None = None) -> Any:
    """The smallest value valid for a JSON Schema: required properties only, minimum lengths, first choices."""
    defs = schema.get("$defs", {})

    def value(node: Mapping[str, Any]) -> Any:
        if "$ref" in node:
            return value(defs[node["$ref"].rsplit("/", 1)[-1]])
        if "enum" in node:
            return node["enum"][0]
        if "anyOf" in node:
            return value(node["anyOf"][0])
        kind = node.get("type")
        if kind == "object":
            props = node.get("properties", {})
            return {name: value(props[name]) for name in node.get("required", [])}
        if kind == "array":
            items = node.get("items", {})
            return [value(items) for _ in range(node.get("minItems", 0))]
        if kind == "integer":
            return max(1, node.get("minimum", 1))
        if kind == "number":
            return 0.0
        if kind == "boolean":
            return False
        if kind == "null":
            return None
        return "a" * max(1, node.get("minLength", 1)) if kind == "string" else None

    return value(schema)


class FillingBackend(ScriptedBackend):
    """Answers every request with the smallest answer its schema allows (no items, a one-letter summary)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(script=self._filled, **options)

    @staticmethod
    def _filled(request: ScriptedRequest) -> Answer:
        tools = request.kwargs.get("tools") or []
        if tools:
            return dict(fill(tools[0]["function"]["parameters"], request.narrowing))
        fmt = request.kwargs.get("response_format") or {}
        schema = (fmt.get("json_schema") or {}).get("schema") if isinstance(fmt, Mapping) else None
        return dict(fill(schema)) if schema else "{}"
