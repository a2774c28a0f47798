"""The embedded model: Qwen2.5-Coder-1.5B-Instruct (GGUF) run in-process by llama-cpp-python.

`EmbeddedBackend` is the `Backend` the rest of the package sees; `LocalModel.create` speaks the OpenAI chat-
completions shape that instructor's TOOLS mode expects, so the same instructor + validator + re-ask path serves it.
Two choices make it fast and always parseable:
- the forced tool's JSON Schema becomes a llama.cpp grammar (decoding cannot leave the schema), with sentence
  numbers and actor ids narrowed to the valid values for *this* article (`grammar.py`);
- the schema is *not* pasted into the prompt (the instructions describe the fields), which keeps the prompt short,
  and the system message is identical for every article so llama.cpp reuses its cached prefix. The model is loaded
  once per process and serialised behind a lock.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from openai.types.chat import ChatCompletion

from summarizer.errors import ConfigurationError, ProviderError
from summarizer.models.backend import BackendInfo, Capabilities, Narrowing, TokenMeter
from summarizer.models.embedded.grammar import constrain_schema, tidy_answer

__all__ = ["EMBEDDED_CONTEXT", "MAX_CTX", "EmbeddedBackend", "LlamaTokens", "LocalModel"]

CTX_STEP = 1024
MIN_CTX = 4096
MAX_CTX = 32768
EMBEDDED_CONTEXT = 16_384  # half what the embedded model allows: long reads chunk, the small model stays fast
PROMPT_MARGIN = 8  # tokens the chat template may add around the messages (assistant turn header)

log = logging.getLogger(__name__)


def chat_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """The messages in the model's chat template (ChatML), tool-call arguments of re-asks included."""
    parts = []
    for m in messages:
        calls = m.get("tool_calls") or []
        args = "".join(str((c.get("function") or {}).get("arguments") or "")
                       for c in calls if isinstance(c, dict))
        parts.append(f"<|im_start|>{m.get('role')}\n{m.get('content') or ''}{args}<|im_end|>\n")
    return "".join(parts)


def _threads() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


class LocalModel:
    """One llama.cpp model per process, behind a lock."""

    _shared: ClassVar[LocalModel | None] = None
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path, *, n_threads: int | None = None) -> None:
        try:
            import llama_cpp
        except ImportError as exc:  # pragma: no cover - depends on the [local] extra
            raise ConfigurationError('the embedded model needs the [local] extra: pip install -e ".[local]"') from exc
        self._llama_cpp: Any = llama_cpp
        self.path = path
        self.n_threads = n_threads or _threads()
        self._lock = threading.Lock()
        self._llm: Any = None
        self._vocab: Any = None
        self._vocab_lock = threading.Lock()
        self.n_ctx = 0

    @classmethod
    def shared(cls) -> LocalModel:
        """The process-wide model, reassembled and verified on first use."""
        with cls._shared_lock:
            if cls._shared is None:
                from summarizer.models.embedded.weights import ensure_model

                cls._shared = cls(ensure_model())
            return cls._shared

    def _ensure_ctx(self, needed: int) -> Any:
        if self._llm is not None and needed <= self.n_ctx:
            return self._llm
        n_ctx = max(MIN_CTX, -(-needed // CTX_STEP) * CTX_STEP)
        if n_ctx > MAX_CTX:
            raise ProviderError(f"the prompt needs {needed} tokens of context; the embedded model allows {MAX_CTX}")
        self._llm = None  # free the old context before allocating a bigger one
        self._llm = self._llama_cpp.Llama(
            model_path=str(self.path), n_ctx=n_ctx, n_threads=self.n_threads, n_threads_batch=self.n_threads,
            n_batch=512, verbose=False, seed=0,
        )
        self.n_ctx = n_ctx
        return self._llm

    def prepare(self, n_ctx: int) -> None:
        """Load the model with a context of at least `n_ctx` tokens now, so a benchmark times generation only."""
        with self._lock:
            self._ensure_ctx(n_ctx)

    def tokenize(self, text: str) -> int:
        """Prompt-token count with the model's own tokenizer (a vocabulary-only load: no context, no wait)."""
        with self._vocab_lock:
            if self._vocab is None:
                from llama_cpp._utils import suppress_stdout_stderr

                with suppress_stdout_stderr(disable=False):  # a vocab-only load warns about n_ctx on stderr
                    self._vocab = self._llama_cpp.Llama(model_path=str(self.path), vocab_only=True, verbose=False)
            return len(self._vocab.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def prompt_tokens(self, messages: Sequence[Mapping[str, Any]]) -> int:
        """The prompt tokens of a chat request, counted as `create` counts them before sizing its context."""
        return self.tokenize(chat_text(messages)) + PROMPT_MARGIN

    def create(self, *, messages: list[dict[str, Any]], model: str = "", tools: list[dict[str, Any]] | None = None,
               tool_choice: Any = None, max_tokens: int = 2048, temperature: float = 0.0,
               narrowing: Narrowing | None = None, response_format: Any = None, **_ignored: Any) -> ChatCompletion:
        """An OpenAI-shaped chat completion; a forced tool is decoded under its (narrowed) schema grammar."""
        tool: dict[str, Any] | None = tools[0] if tools else None
        grammar = None
        schema = None
        if tool is not None:
            schema = constrain_schema(tool["function"]["parameters"],
                                      narrowing.sentences if narrowing else None,
                                      narrowing.actor_ids if narrowing else None)
        elif isinstance(response_format, dict) and response_format.get("schema"):
            schema = response_format["schema"]
        n_prompt = self.prompt_tokens(messages)  # the vocabulary-only tokenizer: no context needed to count
        with self._lock:
            llm = self._ensure_ctx(n_prompt + max_tokens)
            if schema is not None:
                grammar = self._llama_cpp.LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
            raw = llm.create_chat_completion(messages=messages, grammar=grammar, max_tokens=max_tokens,
                                             temperature=temperature, seed=0)
        text = raw["choices"][0]["message"].get("content") or ""
        if schema is not None:
            text, unfinished = tidy_answer(text)
            if unfinished:
                log.info("%d item(s) dropped: the statement cap cut their statement before its first sentence "
                         "ended", unfinished)
        finish = raw["choices"][0].get("finish_reason") or "stop"
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if tool is not None:
            message = {"role": "assistant", "content": None, "tool_calls": [{
                "id": f"call_{uuid.uuid4().hex[:24]}", "type": "function",
                "function": {"name": tool["function"]["name"], "arguments": text}}]}
            finish = "length" if finish == "length" else "tool_calls"
        return ChatCompletion.model_validate({
            "id": raw.get("id") or f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion",
            "created": int(time.time()), "model": model or self.path.stem,
            "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
            "usage": raw.get("usage"),
        })

    def plain_create(self, **kwargs: Any) -> ChatCompletion:
        """llama-cpp-python's own OpenAI-style create, untouched: the naive baseline's path (schema in the prompt,
        llama's grammar from the tool as given, no narrowing or caps). The context is sized by the tokenizer
        over the messages and the tool schema llama's handler pastes into the prompt."""
        needed = self.prompt_tokens(kwargs["messages"]) + self.tokenize(json.dumps(kwargs.get("tools") or []))
        with self._lock:
            llm = self._ensure_ctx(needed + int(kwargs.get("max_tokens") or 2048))
            return llm.create_chat_completion_openai_v1(**kwargs)  # type: ignore[no-any-return]


class LlamaTokens:
    """The embedded model's own tokenizer, counting a request as `LocalModel.create` does (messages only).

    Takes the model or a function that loads it, so a plan can hold a meter before the model is needed.
    """

    def __init__(self, model: LocalModel | Callable[[], LocalModel]) -> None:
        self._model = model

    @property
    def model(self) -> LocalModel:
        return self._model if isinstance(self._model, LocalModel) else self._model()

    def text(self, text: str) -> int:
        return self.model.tokenize(text)

    def request(self, request: Mapping[str, Any]) -> int:
        return self.model.prompt_tokens(request.get("messages") or [])


class EmbeddedBackend:
    """The `Backend` over the process-wide `LocalModel`, loaded when first needed."""

    capabilities = Capabilities(default_context=EMBEDDED_CONTEXT, max_context=MAX_CTX, grammar=True, small=True,
                                provider_batches=False)

    def __init__(self, info: BackendInfo, model: LocalModel | None = None) -> None:
        self.info = info
        self._model = model

    @property
    def model(self) -> LocalModel:
        if self._model is None:
            self._model = LocalModel.shared()
        return self._model

    def create(self, narrowing: Narrowing | None = None) -> Callable[..., Any]:
        model = self.model

        def create(**kwargs: Any) -> ChatCompletion:
            return model.create(narrowing=narrowing, **kwargs)

        return create

    def acreate(self, narrowing: Narrowing | None = None) -> Callable[..., Awaitable[Any]]:
        create = self.create(narrowing)

        async def acreate(**kwargs: Any) -> ChatCompletion:
            return await asyncio.to_thread(create, **kwargs)  # the event loop stays responsive

        return acreate

    def plain_create(self) -> Callable[..., Any]:
        return self.model.plain_create

    def meter(self) -> TokenMeter:
        return LlamaTokens(lambda: self.model)

    def provider_client(self) -> Any:
        raise ConfigurationError("the Batch API needs an OpenAI-compatible server; the embedded model runs "
                                 "in-process: use --via realtime")

    def close(self) -> None:
        """The model is shared by the process: nothing to close."""

    async def aclose(self) -> None:
        """The model is shared by the process: nothing to close."""
