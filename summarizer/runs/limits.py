"""Requests- and tokens-per-minute limits of a run, awaited before every HTTP attempt (retries included)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiolimiter import AsyncLimiter

from summarizer.runs.pricing import estimate_request

__all__ = ["RateLimits"]


class RateLimits:
    """Requests- and tokens-per-minute limits, awaited before every HTTP attempt (retries included)."""

    def __init__(self, rpm: float | None = None, tpm: float | None = None) -> None:
        # A one-second bucket for requests: servers often enforce "60/min" as "1/s", so no minute-long burst.
        per_second = max(1.0, (rpm or 0) / 60)
        self._rpm = AsyncLimiter(per_second, 60 * per_second / rpm) if rpm else None
        self._tpm = AsyncLimiter(tpm, 60) if tpm else None

    @classmethod
    def of(cls, rpm: float | None, tpm: float | None) -> RateLimits | None:
        """The limits, or None when there are none (nothing to await)."""
        return cls(rpm, tpm) if (rpm or tpm) else None

    async def __call__(self, request: Mapping[str, Any]) -> None:
        if self._rpm is not None:
            await self._rpm.acquire()
        if self._tpm is not None:
            await self._tpm.acquire(min(estimate_request(request), self._tpm.max_rate))
