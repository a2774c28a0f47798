"""The in-memory model server, for runs over many articles."""

from __future__ import annotations

import pytest
from memory import MemoryServer


@pytest.fixture
def memory() -> MemoryServer:
    """Scripted answers behind the model seam, in memory (the loopback server's scripting API)."""
    return MemoryServer()
