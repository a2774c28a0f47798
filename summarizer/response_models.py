"""Our pydantic models as instructor response models, prepared once per class rather than once per request.

instructor re-derives a response model's schema and re-checks it for async validators on every call; for a
batch of short articles that CPU is a large share of the client's overhead. Neither changes for a class.
"""

from __future__ import annotations

import functools
import weakref
from typing import Any, TypeVar

import instructor
from pydantic import BaseModel

__all__ = ["response_model"]

M = TypeVar("M", bound=BaseModel)


@functools.cache
def response_model(model: type[M]) -> type[M]:
    """Wrap once: instructor wraps a plain model in a new class per call, which defeats its schema cache."""
    _check_async_validators_once()
    return instructor.response_schema(model)


def _check_async_validators_once() -> None:
    """Remember the classes instructor found free of async validators.

    instructor 1.17 walks the whole class tree of the response model about six times per request to refuse
    async validators: ~1 ms of CPU per request, a fifth of a batch's client overhead. A class's validators do
    not change, so the answer is kept per class; anything else (generics, new classes) is still checked.
    """
    try:
        from instructor.v2.core import patch as patch_module
        from instructor.v2.validation import async_validators
    except ImportError:  # pragma: no cover - another instructor layout: nothing to speed up
        return
    check = async_validators.reject_async_validators
    if getattr(check, "remembers", False):
        return
    passed: weakref.WeakSet[type] = weakref.WeakSet()

    def reject_async_validators(response_model: Any) -> None:
        if isinstance(response_model, type) and response_model in passed:
            return
        check(response_model)
        if isinstance(response_model, type):
            passed.add(response_model)

    reject_async_validators.remembers = True  # type: ignore[attr-defined]
    async_validators.reject_async_validators = reject_async_validators
    patch_module.reject_async_validators = reject_async_validators  # type: ignore[attr-defined]  # imported by name
