"""The CLI run in this process against the loopback server (the `cli_in_process` fixture in conftest.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from loopback import LoopbackServer
from memory import Done, InProcessCLI


@dataclass
class LoopbackCLI:
    """`summarizer ...` in this process, talking over real HTTP to the loopback server.

    `cli_in_process("run", folder, "-o", out)` is `runs_lib.run_cli(..., server=loopback)` without the
    interpreter start-up: OPENAI_BASE_URL is the loopback server and OPENAI_API_KEY is test-key (`env` adds to
    or overrides them; `server=False` sets neither, like `run_cli` without a server). Returns a `Done` with the
    exit code, stdout and stderr; what the command changed in the process (logging included) is put back.
    """

    runner: InProcessCLI
    server: LoopbackServer

    def __call__(self, *args: Any, env: Mapping[str, str] | None = None, stdin: str | bytes | None = None,
                 server: bool = True) -> Done:
        base = {"OPENAI_BASE_URL": self.server.base_url, "OPENAI_API_KEY": "test-key"} if server else {}
        return self.runner(*args, env=base | dict(env or {}), stdin=stdin)
