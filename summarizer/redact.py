"""Keep secrets out of every message, log line and file we write."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

__all__ = ["RedactingFilter", "redact"]

# OpenAI-style keys, even when a server echoes them partly masked ("sk-abc***xyz")
_KEY_PATTERN = re.compile(r"\b(sk|rk|pk)-[A-Za-z0-9_\-*]{6,}")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\"]+")
_MASK = r"[\w\-]*\*{3,}[\w\-]*"  # what follows a key's first characters when a server masks it


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """`text` with every known secret and anything key-shaped replaced by `[REDACTED]`.

    A known secret is also hidden in the masked form servers echo in their 401s ("Incorrect API key
    provided: can***********6789"), which the key-shaped pattern misses when the key has no `sk-` prefix.
    """
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[REDACTED]")
            if len(secret) >= 8:
                text = re.sub(re.escape(secret[:3]) + _MASK, "[REDACTED]", text)
    text = _KEY_PATTERN.sub("[REDACTED]", text)
    return _BEARER.sub(r"\1[REDACTED]", text)


class RedactingFilter(logging.Filter):
    """A handler filter that runs `redact` over each record: its message, arguments and traceback."""

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage(), self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True
