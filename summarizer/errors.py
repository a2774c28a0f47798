"""The typed errors of summarizer.

Library code raises these; only the CLI turns them into messages and exit codes. Every message says what
happened and what to do. No message ever contains an API key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "AttemptsExhaustedError",
    "BackendUnavailableError",
    "BatchRequestError",
    "ConfigurationError",
    "ContextOverflowError",
    "InputError",
    "ModelFileError",
    "ProviderError",
    "SummarizerError",
    "TruncatedOutputError",
    "Usage",
    "ValidationFailedError",
]


@dataclass
class Usage:
    """Tokens spent, summed over attempts."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens

    def as_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


class SummarizerError(Exception):
    """Base of every error summarizer raises on purpose."""


class InputError(SummarizerError):
    """An input file or text cannot be read as an article."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path and path not in message else message)


class ConfigurationError(SummarizerError):
    """The user's settings are incomplete or contradictory (CLI exit code 2)."""


class BackendUnavailableError(ConfigurationError):
    """No model backend can be used: no key, no base URL, and no embedded model."""


class ModelFileError(ConfigurationError):
    """The embedded model file is missing, the wrong size, or fails its hash check."""


class ProviderError(SummarizerError):
    """A model call failed for good; carries the attempts made and the tokens spent."""

    def __init__(
        self,
        message: str,
        *,
        attempts: int = 0,
        usage: Usage | None = None,
        records: list[dict[str, Any]] | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.usage = usage or Usage()
        self.records = records or []
        self.status_code = status_code

    @property
    def reason(self) -> str:
        """A short machine-friendly reason for failure tables."""
        return type(self).__name__


class AttemptsExhaustedError(ProviderError):
    """Transport failures (429, 5xx, timeouts, dropped connections) outlasted the retry cap."""


class ValidationFailedError(ProviderError):
    """The model's answers stayed invalid or ungrounded after every re-ask."""


class TruncatedOutputError(ProviderError):
    """The model stopped at its token limit (`finish_reason: length`); the answer is incomplete."""


class ContextOverflowError(ProviderError):
    """A request would not fit the model's context window, even with one sentence; nothing was sent."""


class BatchRequestError(ProviderError):
    """A Batch API line came back as an error or a non-200 response, or its batch failed as a whole."""
