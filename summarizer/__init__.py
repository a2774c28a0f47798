"""summarizer: news articles → grounded, structured summaries (actors, claims, predictions, warnings)."""

from summarizer.article.model import Article, Sentence
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
from summarizer.extract.plan import GenerationParams
from summarizer.extract.summarizer import Summarizer, asummarize, summarize
from summarizer.models.retry import RetryPolicy
from summarizer.runs.folder import asummarize_folder, summarize_folder
from summarizer.runs.report import BatchReport
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
