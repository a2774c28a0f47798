"""The loopback OpenAI-compatible server, for the tests that go through real HTTP, and the CLI run against it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from loopback import LoopbackServer
from loopback_cli import LoopbackCLI
from memory import InProcessCLI


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


@pytest.fixture
def cli_in_process(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                   loopback: LoopbackServer) -> LoopbackCLI:
    """`cli_in_process("run", folder, "-o", out)`: the CLI in this process against `loopback` (`loopback_cli.py`);
    returns its exit code, stdout and stderr like `runs_lib.run_cli(..., server=loopback)`."""
    return LoopbackCLI(InProcessCLI(monkeypatch, capsys), loopback)


@pytest.fixture(scope="session", autouse=True)
def _imports_frozen() -> None:
    """What importing the libraries made is never garbage: keep it out of every collection (they get cheap)."""
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def _leaks_show_in_the_test_that_made_them(_imports_frozen: None) -> Iterator[None]:
    """Collect garbage after each test, so an unclosed client or socket fails (ResourceWarning is an error) the
    test that left it, not whichever test the collector happens to run in later."""
    yield
    gc.collect()
