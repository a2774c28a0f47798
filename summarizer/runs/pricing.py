"""What a run costs: a per-model price table (overridable with `--prices FILE.json`) and token estimates.

Prices are USD per million tokens. The defaults are OpenAI's list prices as of 2025 and go stale: a run's
cost is always labelled an *estimate*. Token counts before a call (dry runs, the TPM limiter) are the
backend's own count of the very requests the plan would send (`models/backend.py`: characters / 3 for a
server, which errs high).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from summarizer.article.model import Article
from summarizer.errors import ConfigurationError
from summarizer.extract.plan import Plan
from summarizer.models.backend import CharEstimate
from summarizer.models.resolve import EMBEDDED_MODEL

__all__ = ["DEFAULT_PRICES", "Price", "PriceTable", "estimate_article", "estimate_request"]

COMPLETION_BASE = 200  # summary and list scaffolding of an answer, in tokens
COMPLETION_PER_SENTENCE = 20  # longer articles get more items, up to the schema's caps
REQUEST_COMPLETION = 800  # what one request is assumed to produce when only the request is known


@dataclass(frozen=True)
class Price:
    """USD per million tokens, prompt (input) and completion (output)."""

    input: float
    output: float


DEFAULT_PRICES: Mapping[str, Price] = {
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "o4-mini": Price(1.10, 4.40),
    "gpt-3.5-turbo": Price(0.50, 1.50),
    EMBEDDED_MODEL: Price(0.0, 0.0),
}


class PriceTable:
    """Model name → price; a dated name such as `gpt-4o-mini-2024-07-18` uses its base name's price."""

    def __init__(self, prices: Mapping[str, Price] | None = None) -> None:
        self.prices = dict(DEFAULT_PRICES if prices is None else prices)

    @classmethod
    def from_file(cls, path: str | Path) -> PriceTable:
        """The defaults, overridden or extended by `{"model": {"input": usd, "output": usd}}` (per 1M)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ConfigurationError(f"cannot read the price file {path}: {error}") from None
        if not isinstance(data, dict):
            raise ConfigurationError(f'{path}: expected a JSON object of model → {{"input": …, "output": …}}')
        prices = dict(DEFAULT_PRICES)
        for model, entry in data.items():
            prices[str(model)] = _price(entry, f"{path}: {model}")
        return cls(prices)

    def price(self, model: str) -> Price | None:
        """The price of `model`: exact name first, else the longest listed name it extends with '-…'."""
        if model in self.prices:
            return self.prices[model]
        bases = [name for name in self.prices if model.startswith(f"{name}-")]
        return self.prices[max(bases, key=len)] if bases else None

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
        """Estimated USD for these tokens, or None when the model has no price."""
        price = self.price(model)
        if price is None:
            return None
        return (prompt_tokens * price.input + completion_tokens * price.output) / 1_000_000


def _price(entry: Any, where: str) -> Price:
    if not isinstance(entry, dict) or not {"input", "output"} <= entry.keys():
        raise ConfigurationError(f'{where}: expected {{"input": USD, "output": USD}} per 1M tokens')
    values = entry["input"], entry["output"]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in values):
        raise ConfigurationError(f"{where}: prices must be non-negative numbers (USD per 1M tokens)")
    return Price(float(values[0]), float(values[1]))


def estimate_article(plan: Plan, article: Article) -> tuple[int, int]:
    """Estimated (prompt, completion) tokens of the requests that summarise `article`, first attempts only.

    Prompt tokens are the plan's own count of each step's request (schema included), the way its backend
    counts them; completion tokens grow with the article, up to the answer budget. Re-asks are not foreseen.
    """
    steps = plan.steps()
    prompt = sum(plan.meter.request(plan.prepared(article, step, model)) for step, model in steps)
    per_answer = COMPLETION_BASE + COMPLETION_PER_SENTENCE * len(article.sentences) // len(steps)
    return prompt, len(steps) * min(plan.params.max_tokens, per_answer)


def estimate_request(request: Mapping[str, Any]) -> int:
    """Estimated tokens one chat-completions request will be billed: prompt, tools and expected answer."""
    expected = min(int(request.get("max_tokens") or REQUEST_COMPLETION), REQUEST_COMPLETION)
    return CharEstimate().request(request) + expected
