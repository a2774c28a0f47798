"""summarizer: news articles → grounded, structured summaries (actors, claims, predictions, warnings)."""

from summarizer.article import Article, Sentence
from summarizer.errors import (
    AttemptsExhaustedError,
    BackendUnavailableError,
    ConfigurationError,
    InputError,
    ModelFileError,
    ProviderError,
    SummarizerError,
    TruncatedOutputError,
    ValidationFailedError,
)
from summarizer.extract import GenerationParams, RetryPolicy, Summarizer, asummarize, summarize
from summarizer.schema import (
    Actor,
    ArticleSummary,
    Claim,
    Evidence,
    Prediction,
    Provenance,
    Span,
    Warning,
)

__all__ = [
    "Actor",
    "Article",
    "ArticleSummary",
    "AttemptsExhaustedError",
    "BackendUnavailableError",
    "Claim",
    "ConfigurationError",
    "Evidence",
    "GenerationParams",
    "InputError",
    "ModelFileError",
    "Prediction",
    "Provenance",
    "ProviderError",
    "RetryPolicy",
    "Sentence",
    "Span",
    "SummarizerError",
    "Summarizer",
    "TruncatedOutputError",
    "ValidationFailedError",
    "Warning",
    "asummarize",
    "summarize",
]
