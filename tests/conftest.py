"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from loopback import LoopbackServer, network_guard

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


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    """A started LoopbackServer (``.base_url`` = http://127.0.0.1:PORT/v1); stopped at teardown.

    Teardown fails the test if the server itself hit an error (e.g. the test's responder raised).
    """
    server = LoopbackServer().start()
    try:
        yield server
    finally:
        server.stop()
    if server.errors:
        pytest.fail(f"loopback server errors: {server.errors!r}")
