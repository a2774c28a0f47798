"""Any OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp's server, LM Studio) through the openai SDK.

Clients are always built with `max_retries=0`: tenacity (`models/retry.py`) is the only transport retry layer,
so retries never multiply. The SDK's loggers get a filter that redacts every key this process gave a client.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import openai

from summarizer.errors import SummarizerError
from summarizer.models.backend import BackendInfo, Capabilities, CharEstimate, Narrowing, TokenMeter
from summarizer.redact import RedactingFilter

__all__ = ["NO_KEY", "OPENAI_CONTEXT", "OpenAICompatible"]

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
        return self.sync_client().chat.completions.create

    def acreate(self, narrowing: Narrowing | None = None) -> Callable[..., Awaitable[Any]]:
        return self.provider_client().chat.completions.create

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
