"""One article: its text and metadata, its sentences with character offsets, and the files it is read from."""

from summarizer.article.model import Article, Sentence

__all__ = ["Article", "Sentence"]
