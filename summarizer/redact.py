"""Keep secrets out of every message, log line and file we write."""

from __future__ import annotations

import re
from collections.abc import Sequence

# OpenAI-style keys, even when a server echoes them partly masked ("sk-abc***xyz")
_KEY_PATTERN = re.compile(r"\b(sk|rk|pk)-[A-Za-z0-9_\-*]{6,}")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\"]+")


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """`text` with every known secret and anything key-shaped replaced by `[REDACTED]`."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[REDACTED]")
    text = _KEY_PATTERN.sub("[REDACTED]", text)
    return _BEARER.sub(r"\1[REDACTED]", text)
