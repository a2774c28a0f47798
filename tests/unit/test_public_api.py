"""The public API is what `summarizer.__all__` says, nothing more and nothing less (as httpx guards its own)."""

from __future__ import annotations

import types

import summarizer

PUBLIC = [
    "Actor", "Article", "ArticleSummary", "AttemptsExhaustedError", "BackendUnavailableError", "BatchReport",
    "Claim", "ConfigurationError", "ContextOverflowError", "Evidence", "GenerationParams", "InputError",
    "ModelFileError", "Prediction", "Provenance", "ProviderError", "RetryPolicy", "Sentence", "Span", "Summarizer",
    "SummarizerError", "TruncatedOutputError", "ValidationFailedError", "Warning", "asummarize",
    "asummarize_folder", "summarize", "summarize_folder",
]  # fmt: skip


def test_all_lists_the_public_api_sorted() -> None:
    assert summarizer.__all__ == PUBLIC == sorted(PUBLIC)


def test_every_public_name_is_in_all_and_comes_from_the_package() -> None:
    exposed = {name for name in dir(summarizer) if not name.startswith("_")
               and not isinstance(getattr(summarizer, name), types.ModuleType)}  # subpackages are not API names
    assert exposed == set(summarizer.__all__)
    for name in summarizer.__all__:
        assert getattr(summarizer, name).__module__.startswith("summarizer."), name
