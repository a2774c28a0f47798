"""Commands run in this process against the in-memory model server."""

from __future__ import annotations

import pytest
from memory import InProcessCLI, MemoryServer


@pytest.fixture
def memory() -> MemoryServer:
    """Scripted answers behind the model seam, in memory (the loopback server's scripting API)."""
    return MemoryServer()


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], memory: MemoryServer) -> InProcessCLI:
    """`cli("run", folder, "-o", out)`: the command in this process; returns its exit code, stdout and stderr."""
    return InProcessCLI(monkeypatch, capsys, memory)
