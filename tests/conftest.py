"""Shared pytest fixtures, and the rule of the test folders.

- `unit/`: pure functions and files; `runs/` and `cli/`: runs and commands over the in-memory backend
  (`memory.py`, `summarizer.models.testing`); none of them may open a socket or load llama.cpp.
- `http/`: through the real openai + instructor stack to the loopback server (`loopback.py`), and subprocesses
  that talk to it.
- `embedded/`: the real embedded model; every test there is marked `local_model`, so `pytest -m "not
  local_model"` never loads it.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from loopback import network_guard

TESTS = Path(__file__).resolve().parent
SOCKETS = ("http", "embedded")  # the only folders whose tests may open sockets
MODEL = ("embedded",)  # the only folder whose tests may load llama.cpp


def _folder(item: pytest.Item) -> str:
    relative = Path(str(item.path)).resolve().relative_to(TESTS)
    return relative.parts[0] if len(relative.parts) > 1 else ""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under embedded/ is a `local_model` test."""
    for item in items:
        if _folder(item) in MODEL:
            item.add_marker(pytest.mark.local_model)


class SocketNotAllowedError(RuntimeError):
    """A test outside http/ and embedded/ tried to open a connection."""


@pytest.fixture(autouse=True)
def _folder_rules(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside http/ and embedded/ no connection is opened; outside embedded/ llama.cpp cannot be imported."""
    folder = _folder(request.node)
    if folder not in SOCKETS:
        def refuse(self: socket.socket, address: Any) -> None:
            raise SocketNotAllowedError(f"a test in tests/{folder or '.'}/ tried to connect to {address!r}: "
                                        "use the in-memory backend (tests/memory.py), or move it to tests/http/")

        monkeypatch.setattr(socket.socket, "connect", refuse)
        monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    if folder not in MODEL:
        monkeypatch.setitem(sys.modules, "llama_cpp", None)  # `import llama_cpp` raises ImportError here

# ---- loopback OpenAI server + network guard (see tests/loopback.py) ------------------------------


@pytest.fixture(scope="session", autouse=True)
def blocked_connections() -> Iterator[list[str]]:
    """For the whole session, sockets may only connect to 127.0.0.1 / localhost / ::1 (and AF_UNIX).

    Anything else raises ``loopback.NetworkBlockedError`` and is appended to this list (openai wraps the
    exception into ``APIConnectionError``, so ``_fail_on_blocked_connections`` also fails the test).
    """
    with network_guard() as attempts:
        yield attempts


@pytest.fixture(autouse=True)
def _fail_on_blocked_connections(blocked_connections: list[str]) -> Iterator[None]:
    start = len(blocked_connections)
    yield
    new = blocked_connections[start:]
    if new:
        del blocked_connections[start:]
        pytest.fail(f"test tried to reach the network: {new}")


@pytest.fixture(autouse=True)
def _no_developer_openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never pick up a developer's real key, endpoint or model."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SUMMARIZER_MODEL"):
        monkeypatch.delenv(name, raising=False)
