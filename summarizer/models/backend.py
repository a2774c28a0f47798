"""What every model backend offers the rest of the package: the one seam to a model.

A backend hands out raw chat-completions `create` functions (sync and async) in the OpenAI shape that
instructor patches, counts tokens the way it will be billed or decoded, and says what it can do. The request
plan (`extract/plan.py`) and the summarizer talk to nothing else; which backend is used is decided in
`models/resolve.py` only.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import instructor

__all__ = [
    "CHARS_PER_TOKEN", "Backend", "BackendInfo", "Capabilities", "CharEstimate", "ContextProbe", "ContextWindow",
    "Narrowing", "TokenMeter",
]  # fmt: skip

CHARS_PER_TOKEN = 3  # English runs ~4 characters per token; 3 errs high for names, numbers and JSON escapes
PROMPT_KEYS = ("messages", "tools", "tool_choice", "functions", "function_call", "response_format")


@dataclass(frozen=True)
class BackendInfo:
    """Where requests go and why. The API key is held but never printed, logged or serialised."""

    kind: str  # "openai" (any OpenAI-compatible server), "embedded", or "test" (`testing.py`)
    model: str
    mode: instructor.Mode
    reason: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        """What provenance and `doctor` call the backend."""
        return "openai-compatible" if self.kind == "openai" else self.kind

    def describe(self) -> dict[str, Any]:
        """What `doctor` and provenance may show: everything but the key."""
        return {
            "backend": self.label,
            "model": self.model,
            "mode": self.mode.value,
            "base_url": self.base_url,
            "api_key": "set" if self.api_key else "not set",
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do, so callers ask instead of checking which backend it is."""

    default_context: int  # the context window requests are sized to unless the caller gives one
    max_context: int | None = None  # the most a caller may ask for (None: the server decides)
    grammar: bool = False  # decodes under the answer's schema narrowed to this article (`Narrowing`)
    small: bool = False  # a small model: the focused multi-step plan and one article at a time by default
    provider_batches: bool = True  # has a provider's Files and Batches API (`provider_client`)

    @property
    def default_concurrency(self) -> int:
        """Articles in flight at once unless the caller says otherwise."""
        return 1 if self.small else 4


@dataclass(frozen=True)
class ContextWindow:
    """A context window a server reported, and where it said so (e.g. 8192 from "llama.cpp GET /props")."""

    tokens: int
    source: str


@runtime_checkable
class ContextProbe(Protocol):
    """A backend that can ask its server how large the model's context window is (`models/context.py`)."""

    def context_window(self) -> ContextWindow | None:
        """The window the server reports, or None when it says nothing (never raises)."""
        ...


@dataclass(frozen=True)
class Narrowing:
    """What a grammar-decoding backend may narrow an answer to: this article's sentence numbers and actor ids."""

    sentences: int
    actor_ids: tuple[str, ...] = ()


class TokenMeter(Protocol):
    """Counts tokens the way one backend will."""

    def text(self, text: str) -> int: ...

    def request(self, request: Mapping[str, Any]) -> int: ...


class CharEstimate:
    """Characters / 3 of the JSON a request is sent as (messages, schema): errs high, needs no tokenizer."""

    def text(self, text: str) -> int:
        return -(-len(json.dumps(text, ensure_ascii=False)) // CHARS_PER_TOKEN)

    def request(self, request: Mapping[str, Any]) -> int:
        sent = {key: request[key] for key in PROMPT_KEYS if request.get(key) is not None}
        return -(-len(json.dumps(sent, ensure_ascii=False, default=_plain)) // CHARS_PER_TOKEN)


def _plain(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    return dump(mode="json", exclude_none=True) if callable(dump) else str(value)


class Backend(Protocol):
    """A model behind the OpenAI chat-completions shape."""

    info: BackendInfo
    capabilities: Capabilities

    def create(self, narrowing: Narrowing | None = None) -> Callable[..., Any]:
        """The raw sync `create` instructor will patch; `narrowing` is used where `capabilities.grammar`."""
        ...

    def acreate(self, narrowing: Narrowing | None = None) -> Callable[..., Awaitable[Any]]:
        """The raw async `create`."""
        ...

    def plain_create(self) -> Callable[..., Any]:
        """The backend's own create, nothing narrowed or capped: the naive baseline's path."""
        ...

    def meter(self) -> TokenMeter:
        """How this backend counts prompt tokens."""
        ...

    def provider_client(self) -> Any:
        """The provider's async SDK client, for its Files and Batches APIs."""
        ...

    def close(self) -> None: ...

    async def aclose(self) -> None: ...
