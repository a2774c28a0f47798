"""`summarizer doctor`: what a run would use, and why, without calling any model."""

from __future__ import annotations

import importlib.metadata
import platform

from summarizer.errors import SummarizerError
from summarizer.models.resolve import resolve_backend

CAVEAT = (
    "The embedded model is a small (1.5B) model, there for offline and private use: expect fewer and "
    "simpler items than a large hosted model, about 1–2 minutes per article on 2 cores."
)


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def report() -> str:
    """A human-readable report; never prints the API key."""
    lines = ["backend:"]
    try:
        backend = resolve_backend()
        for key, value in backend.describe().items():
            lines.append(f"  {key}: {value}")
    except SummarizerError as exc:
        lines.append("  none available")
        lines.extend(f"  {line}" for line in str(exc).splitlines())
    lines.append("embedded model:")
    try:
        from summarizer.models.embedded.weights import model_status

        for key, value in model_status().items():
            lines.append(f"  {key}: {value}")
    except ImportError:
        lines.append("  (model_file module unavailable)")
    lines.append(f"  note: {CAVEAT}")
    lines.append("versions:")
    lines.append(f"  python: {platform.python_version()}")
    for name in ("summarizer", "openai", "instructor", "pydantic", "tenacity", "llama-cpp-python", "trafilatura"):
        lines.append(f"  {name}: {_version(name)}")
    return "\n".join(lines)
