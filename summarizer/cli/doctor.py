"""`summarizer doctor`: what a run would use, and why, without calling any model.

The context window is the one a run would size requests to: for a server, the doctor asks it (the probes of
`models/context.py`, a short timeout each; no model is called).
"""

from __future__ import annotations

import importlib.metadata
import platform

from summarizer.errors import SummarizerError
from summarizer.models.backend import BackendInfo
from summarizer.models.resolve import resolve_backend

PROBE_TIMEOUT = 2.0  # seconds per probe of the server's context window

CAVEAT = (
    "The embedded model is a small (1.5B) model, there for offline and private use: expect fewer and "
    "simpler items than a large hosted model, about 1–2 minutes per article on 2 cores."
)


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _context_window(info: BackendInfo) -> str:
    """The window a run would size requests to, and where it comes from (the server is asked, briefly)."""
    from summarizer.extract.plan import Plan
    from summarizer.models.resolve import connect

    try:
        backend = connect(info, timeout=PROBE_TIMEOUT)
    except (ImportError, SummarizerError) as exc:
        return f"unknown ({exc})"
    try:
        plan = Plan.for_backend(backend)
        return plan.context.describe(plan.params)
    except SummarizerError as exc:
        return f"unknown ({exc})"
    finally:
        backend.close()


def report() -> str:
    """A human-readable report; never prints the API key."""
    lines = ["backend:"]
    try:
        backend = resolve_backend()
        for key, value in backend.describe().items():
            lines.append(f"  {key}: {value}")
        lines.append(f"  context window: {_context_window(backend)}")
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
