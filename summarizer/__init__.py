"""summarizer: news articles → grounded, structured summaries (actors, claims, predictions, warnings)."""

from summarizer.article import Article, Sentence
from summarizer.errors import (
    AttemptsExhaustedError,
    BackendUnavailableError,
    ConfigurationError,
    ContextOverflowError,
    InputError,
    ModelFileError,
    ProviderError,
    SummarizerError,
    TruncatedOutputError,
    ValidationFailedError,
)
from summarizer.extract import GenerationParams, RetryPolicy, Summarizer, asummarize, summarize
from summarizer.progress import BatchReport
from summarizer.runner import asummarize_folder, summarize_folder
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
    "BatchReport",
    "Claim",
    "ConfigurationError",
    "ContextOverflowError",
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
    "Summarizer",
    "SummarizerError",
    "TruncatedOutputError",
    "ValidationFailedError",
    "Warning",
    "asummarize",
    "asummarize_folder",
    "summarize",
    "summarize_folder",
]
