"""How large the model's context window is, asked of the server itself where it says so.

`probe_context_window` asks an OpenAI-compatible server the endpoints below on its root (the base URL minus a
trailing `/v1`), in this order, and stops at the first that reports a window. The response shapes are those the
projects document or serve:

- vLLM: `GET {base_url}/models`, each `ModelCard` of the list has `max_model_len` (the engine's
  `model_config.max_model_len`; vllm `entrypoints/openai/engine/protocol.py` `ModelCard`,
  `models/serving.py` `show_available_models`). LoRA cards carry none: their `parent`'s is used.
- llama.cpp's server: `GET /props` → `default_generation_settings.n_ctx`, the context of one slot, which is what
  one request gets (`tools/server/README.md`, "GET /props").
- Ollama: `POST /api/show {"model": name}` → `model_info["<general.architecture>.context_length"]` (what the
  model was trained for) and `parameters`, one `name value` per line, where a `num_ctx` set in the Modelfile
  appears (ollama `docs/api.md`, "Show Model Information"). Ollama silently truncates a prompt longer than
  `num_ctx`; when the model sets none, the server's default applies, which `/api/show` does not report: 2048
  before v0.6, 4096 since, and 4096 to 256k by VRAM since v0.15.5 (`docs/faq.md`, `docs/context-length.mdx`,
  `envconfig/config.go`). So the smallest of those, 4096, is assumed (`OLLAMA_DEFAULT_NUM_CTX`).
- LM Studio (0.3.6+): `GET /api/v0/models` → the entry whose `id` is the model: `loaded_context_length` once it
  is loaded, else `max_context_length` (lmstudio docs `1_developer/2_rest/endpoints.md`, "REST API v0").

Where several numbers apply, the smallest wins. Every probe is bounded by a short timeout; a probe that fails
(refused, timed out, 404, not JSON, another shape) means "not reported here", and a server that cannot be
reached ends the probing: this never raises. The API key goes only to the base URL's own scheme, host and port
(redirects are not followed), and OpenAI's hosted API is never probed (it reports no window; the caller keeps
its default).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import httpx2

from summarizer.models.backend import ContextWindow

__all__ = ["OLLAMA_DEFAULT_NUM_CTX", "PROBE_TIMEOUT", "probe_context_window", "server_root"]

PROBE_TIMEOUT = 3.0  # seconds per probe request (connect, read...); all probes together stop after twice this
OLLAMA_DEFAULT_NUM_CTX = 4096  # the smallest default of current Ollama releases (see the module docstring)
_HOSTED = ("openai.com",)  # hosts that report no window: never probed

log = logging.getLogger(__name__)

Probe = Callable[[httpx2.Client, str, str], ContextWindow | None]


def server_root(base_url: str) -> str:
    """The server's root: the base URL without a trailing `/v1` (and without trailing slashes)."""
    root = base_url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


def _probed_host(base_url: str | None) -> bool:
    if not base_url:
        return False  # the SDK's default: OpenAI's hosted API
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme not in ("http", "https") or not host:
        return False
    return not any(host == hosted or host.endswith("." + hosted) for hosted in _HOSTED)


def _tokens(value: Any) -> int | None:
    """A positive token count, from an int or a string of digits; anything else is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and value > 0 else None


def _json(response: httpx2.Response) -> Any:
    """The body as JSON when the answer is a 200, else None."""
    if response.status_code != 200:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _smallest(found: Iterable[ContextWindow | None]) -> ContextWindow | None:
    windows = [w for w in found if w is not None]
    return min(windows, key=lambda w: w.tokens) if windows else None


def _vllm(http: httpx2.Client, base_url: str, model: str) -> ContextWindow | None:
    body = _json(http.get(f"{base_url.rstrip('/')}/models"))
    cards = body.get("data") if isinstance(body, dict) else None
    if not isinstance(cards, list):
        return None
    by_id = {card.get("id"): card for card in cards if isinstance(card, dict)}
    card = by_id.get(model)
    if card is not None and _tokens(card.get("max_model_len")) is None and card.get("parent") in by_id:
        card = by_id[card.get("parent")]  # a LoRA adapter: its base model's length
    source = "vLLM GET /v1/models max_model_len"
    if card is not None:
        tokens = _tokens(card.get("max_model_len"))
        return ContextWindow(tokens, source) if tokens else None
    lengths = [t for t in (_tokens(c.get("max_model_len")) for c in by_id.values()) if t]
    return ContextWindow(min(lengths), f"{source} (smallest listed)") if lengths else None


def _llama_cpp(http: httpx2.Client, root: str, model: str) -> ContextWindow | None:
    body = _json(http.get(f"{root}/props"))
    settings = body.get("default_generation_settings") if isinstance(body, dict) else None
    tokens = _tokens(settings.get("n_ctx")) if isinstance(settings, dict) else None
    return ContextWindow(tokens, "llama.cpp GET /props default_generation_settings.n_ctx") if tokens else None


def _ollama(http: httpx2.Client, root: str, model: str) -> ContextWindow | None:
    body = _json(http.post(f"{root}/api/show", json={"model": model}))
    if not isinstance(body, dict) or not isinstance(body.get("model_info"), dict):
        return None
    info = body["model_info"]
    arch = info.get("general.architecture")
    trained = _tokens(info.get(f"{arch}.context_length")) if isinstance(arch, str) else None
    num_ctx = None
    parameters = body.get("parameters")
    for line in parameters.splitlines() if isinstance(parameters, str) else ():
        name, _, value = line.strip().partition(" ")
        if name == "num_ctx":
            num_ctx = _tokens(value.strip())
    if num_ctx is not None:
        runtime = ContextWindow(num_ctx, "Ollama POST /api/show parameters num_ctx")
    else:
        runtime = ContextWindow(OLLAMA_DEFAULT_NUM_CTX,
                                f"Ollama's default num_ctx ({OLLAMA_DEFAULT_NUM_CTX} assumed: the model sets none)")
    model_max = ContextWindow(trained, f"Ollama POST /api/show model_info.{arch}.context_length") if trained else None
    return _smallest([runtime, model_max])


def _lm_studio(http: httpx2.Client, root: str, model: str) -> ContextWindow | None:
    body = _json(http.get(f"{root}/api/v0/models"))
    entries = body.get("data") if isinstance(body, dict) else None
    if not isinstance(entries, list):
        return None
    entries = [e for e in entries if isinstance(e, dict)]
    source = "LM Studio GET /api/v0/models"
    entry = next((e for e in entries if e.get("id") == model), None)
    if entry is None:  # the model is named differently: the smallest loaded window
        loaded = [t for t in (_tokens(e.get("loaded_context_length")) for e in entries) if t]
        return ContextWindow(min(loaded), f"{source} loaded_context_length (smallest loaded)") if loaded else None
    return _smallest([
        ContextWindow(t, f"{source} loaded_context_length") if (t := _tokens(entry.get("loaded_context_length")))
        else None,
        ContextWindow(t, f"{source} max_context_length") if (t := _tokens(entry.get("max_context_length")))
        else None,
    ])


def probe_context_window(base_url: str | None, model: str, *, api_key: str | None = None,
                         timeout: float = PROBE_TIMEOUT) -> ContextWindow | None:
    """The context window the server at `base_url` reports for `model`, or None (see the module docstring)."""
    if not _probed_host(base_url):
        return None
    assert base_url is not None
    root = server_root(base_url)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    probes: tuple[tuple[Probe, str], ...] = (
        (_vllm, base_url), (_llama_cpp, root), (_ollama, root), (_lm_studio, root))
    started = time.monotonic()
    try:
        with httpx2.Client(headers=headers, timeout=timeout, follow_redirects=False) as http:
            for probe, where in probes:
                if time.monotonic() - started > 2 * timeout:
                    break
                try:
                    found = probe(http, where, model)
                except httpx2.TransportError as exc:  # refused, timed out, dropped: the server is not answering
                    log.debug("context window probe stopped: %s", type(exc).__name__)
                    break
                except (httpx2.HTTPError, ValueError, TypeError, KeyError, AttributeError):
                    continue  # an answer of another shape: not this kind of server
                if found is not None:
                    log.debug("context window %d tokens, from %s", found.tokens, found.source)
                    return found
    except Exception as exc:  # never raise: a failed probe only means "unknown"
        log.debug("context window probe failed: %s", type(exc).__name__)
    return None
