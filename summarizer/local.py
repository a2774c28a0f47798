"""The embedded model: Qwen2.5-Coder-1.5B-Instruct (GGUF) run in-process by llama-cpp-python.

`LocalModel.create` speaks the OpenAI chat-completions shape that instructor's TOOLS mode expects, so the same
instructor + validator + re-ask path serves it. Two choices make it fast and always parseable:
- the forced tool's JSON Schema becomes a llama.cpp grammar (decoding cannot leave the schema), with sentence
  numbers and actor ids narrowed to the valid values for *this* article;
- the schema is *not* pasted into the prompt (the instructions describe the fields), which keeps the prompt
  short, and the system message is identical for every article so llama.cpp reuses its cached prefix.
The model is loaded once per process and serialised behind a lock.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from openai.types.chat import ChatCompletion

from summarizer.article import Article
from summarizer.errors import ConfigurationError, ProviderError
from summarizer.schema import ARTICLE_VOICE

CTX_STEP = 1024
MIN_CTX = 4096
MAX_CTX = 32768
PROMPT_MARGIN = 8  # tokens the chat template may add around the messages (assistant turn header)


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


# A 1.5B model writes long, repetitive lists when it may; every token costs ~60 ms on 2 cores. These caps are
# enforced by the grammar, so they bound both run time and rambling.
LIST_CAPS = {"actors": 12, "claims": 6, "predictions": 4, "warnings": 2, "sentences": 2, "aliases": 3,
             "addressees": 2}
STRING_CAPS = {"id": 12, "summary": 400, "statement": 180, "name": 60, "role": 40, "timeframe": 40, "condition": 120,
               "consequence": 120}
ITEM_STRING_CAPS = {"aliases": 60, "addressees": 60}  # strings inside lists: unbounded, a small model can loop
PROSE = frozenset(STRING_CAPS) - {"id"}  # capped strings a reader reads: a cut one is marked as cut
DROPPED = ("quote", "role")  # optional in the schema: sentence numbers ground every item; roles cost tokens


def _cap_string(node: dict[str, Any], limit: int) -> None:
    for option in node.get("anyOf", [node]):
        if option.get("type") == "string":
            option["maxLength"] = limit


def constrain_schema(schema: dict[str, Any], n_sentences: int | None, actor_ids: Sequence[str] | None,
                     ) -> dict[str, Any]:
    """Narrow the schema for *this* article: sentence numbers 1..n, actor ids, list and string caps."""
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                for name in DROPPED:
                    if name in props and name not in node.get("required", []):
                        del props[name]
                for name, prop in props.items():
                    if not isinstance(prop, dict):
                        continue
                    if name in LIST_CAPS and prop.get("type") == "array":
                        prop["maxItems"] = min(prop.get("maxItems", LIST_CAPS[name]), LIST_CAPS[name])
                    if name in STRING_CAPS:
                        _cap_string(prop, STRING_CAPS[name])
                    if name in ITEM_STRING_CAPS and isinstance(prop.get("items"), dict):
                        _cap_string(prop["items"], ITEM_STRING_CAPS[name])
                if n_sentences and isinstance(props.get("sentences"), dict):
                    items = props["sentences"].get("items", {})
                    items.pop("type", None)
                    items["enum"] = list(range(1, n_sentences + 1))
                    props["sentences"]["items"] = items
                if actor_ids and isinstance(props.get("actor"), dict):
                    props["actor"] = {"enum": [*actor_ids, ARTICLE_VOICE], "description": props["actor"].get(
                        "description", "")}
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def tidy_answer(text: str) -> str:
    """Two repairs of a grammar-decoded answer that would otherwise cost a re-ask or mislead a reader.

    - A raw control character (a newline) inside a string, which llama-cpp-python's schema grammar lets through
      and strict JSON refuses: prose strings get their whitespace collapsed, anything else is escaped.
    - A string the grammar cut at its cap ("...fight on Russia's") ends at its last whole word, with "…": the
      grammar closed it mid-word, not the model, and an item must not pretend that is what it said.

    Text that is not a JSON object (an answer cut off as a whole) is returned as it is.
    """
    try:
        data = json.loads(text, strict=False)
    except ValueError:
        return text
    if not isinstance(data, dict):
        return text

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: _prose(value, STRING_CAPS[key]) if key in PROSE and isinstance(value, str) else walk(value)
                    for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value) for value in node]
        return node

    return json.dumps(walk(data), ensure_ascii=False)


def _prose(value: str, cap: int) -> str:
    cut = len(value) >= cap
    value = " ".join(value.split())
    if not cut:
        return value
    head = value[: value.rfind(" ")] if " " in value else value
    return head.rstrip(" ,;:-") + "…"


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
        self.load_seconds = 0.0

    @classmethod
    def shared(cls) -> LocalModel:
        """The process-wide model, reassembled and verified on first use."""
        with cls._shared_lock:
            if cls._shared is None:
                from summarizer.model_file import ensure_model

                cls._shared = cls(ensure_model())
            return cls._shared

    def _ensure_ctx(self, needed: int) -> Any:
        if self._llm is not None and needed <= self.n_ctx:
            return self._llm
        n_ctx = max(MIN_CTX, -(-needed // CTX_STEP) * CTX_STEP)
        if n_ctx > MAX_CTX:
            raise ProviderError(f"the prompt needs {needed} tokens of context; the embedded model allows {MAX_CTX}")
        started = time.perf_counter()
        self._llm = None  # free the old context before allocating a bigger one
        self._llm = self._llama_cpp.Llama(
            model_path=str(self.path), n_ctx=n_ctx, n_threads=self.n_threads, n_threads_batch=self.n_threads,
            n_batch=512, verbose=False, seed=0,
        )
        self.n_ctx = n_ctx
        self.load_seconds += time.perf_counter() - started
        return self._llm

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
               article: Article | None = None, actor_ids: Sequence[str] | None = None,
               response_format: Any = None, **_ignored: Any) -> ChatCompletion:
        """An OpenAI-shaped chat completion; a forced tool is decoded under its (narrowed) schema grammar."""
        tool: dict[str, Any] | None = tools[0] if tools else None
        grammar = None
        schema = None
        if tool is not None:
            schema = constrain_schema(tool["function"]["parameters"],
                                      len(article.sentences) if article else None, actor_ids)
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
            text = tidy_answer(text)
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
        llama's grammar from the tool as given, no narrowing or caps)."""
        kwargs.pop("article", None)
        kwargs.pop("actor_ids", None)
        with self._lock:
            prompt_chars = sum(len(str(m.get("content") or "")) for m in kwargs["messages"])
            schema_chars = len(json.dumps(kwargs.get("tools") or []))
            llm = self._ensure_ctx((prompt_chars + schema_chars) // 2 + int(kwargs.get("max_tokens") or 2048))
            return llm.create_chat_completion_openai_v1(**kwargs)  # type: ignore[no-any-return]

    async def acreate(self, **kwargs: Any) -> ChatCompletion:
        """Run `create` in a worker thread so the event loop stays responsive."""
        return await asyncio.to_thread(self.create, **kwargs)
