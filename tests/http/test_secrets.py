"""Secret hygiene: a canary API key, used for a batch with failures, appears nowhere the user or a log sees.

Servers echo keys back: OpenAI's 401 names the key partly masked ("Incorrect API key provided: sk-abc***wxyz"),
and proxies have been seen quoting the whole Authorization header in an error body or a response header (which
the openai SDK logs at DEBUG). Each form is checked for in
stdout, stderr (with --verbose), every file under OUT (the SQLite store and its WAL included, byte for
byte), exception messages and tracebacks, and log records.
"""

from __future__ import annotations

import io
import json
import logging
import traceback
from pathlib import Path

import pytest
from loopback import LoopbackServer, RecordedRequest, Reply, openai_error
from loopback_cli import LoopbackCLI
from runs_lib import answer, marker, write_articles

from summarizer import ProviderError, RetryPolicy, Summarizer
from summarizer.redact import RedactingFilter

CANARIES = ["sk-canary-5f1c0ffee0ddba11a7e5",  # OpenAI-shaped
            "canary-5f1c0ffee0ddba11a7e5ab"]  # an OpenAI-compatible server's key without the sk- prefix
FAST = RetryPolicy(transport_retries=1, reasks=1, initial_wait=0.01, max_wait=0.02)


def forms(canary: str) -> list[str]:
    """The key, the masked forms servers echo, and its random part alone."""
    loopback_mask = f"{canary[:3]}{'*' * (len(canary) - 7)}{canary[-4:]}"  # tests/loopback.py's 401 body
    return [canary, loopback_mask, f"{canary[:6]}***{canary[-3:]}", canary.split("-", 1)[1], canary[-10:]]


def echoing(canary: str) -> dict[int, Reply]:
    """One reply per article marker: every way a server can echo the key, plus ordinary failures."""
    return {
        1: Reply.error(500, body=openai_error(f"upstream refused header 'Authorization: Bearer {canary}'",
                                              "server_error"),
                       headers={"x-echo-authorization": f"Bearer {canary}", "x-echo-key": canary}),
        2: Reply.error(429, retry_after=0.01),
        3: Reply.error(400, body=openai_error(f"Incorrect API key provided: {canary[:6]}***{canary[-3:]}.",
                                              "invalid_request_error", None, "invalid_api_key")),
        4: Reply.tool_call(answer() | {"claims": [{"actor": "A1", "sentences": [99], "statement": "x",
                                                   "quote": None}]}),
        5: Reply.error(401),  # OpenAI's body: "Incorrect API key provided: sk-****…1234"; ends the run
    }


@pytest.mark.parametrize("canary", CANARIES)
def test_a_batch_with_failures_leaks_the_key_nowhere(loopback: LoopbackServer, cli_in_process: LoopbackCLI,
                                                     tmp_path: Path, canary: str) -> None:
    write_articles(tmp_path / "in", 6)
    replies = echoing(canary)
    seen: set[int] = set()

    def respond(request: RecordedRequest) -> Reply:
        m = marker(request)
        assert m is not None
        first = m not in seen
        seen.add(m)
        if m in (2, 4) and not first:  # a 429 and an invalid answer are followed by a good answer
            return Reply.tool_call(answer())
        return replies.get(m) or Reply.tool_call(answer())

    loopback.responder = respond
    out = tmp_path / "out"
    done = cli_in_process("run", tmp_path / "in", "-o", out, "--verbose", "--concurrency", "1", "--retry-wait", "0.01",
                          env={"OPENAI_API_KEY": canary})
    assert done.returncode == 2, done.stderr  # the 401 stopped the run
    assert {r.api_key for r in loopback.chat_requests} == {canary}  # the key was really used
    assert "DEBUG openai" in done.stderr and "Request options" in done.stderr  # --verbose logged requests

    failures = [json.loads(x) for x in (out / "failures.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [Path(f["path"]).name for f in failures] == ["article-001.md", "article-003.md", "article-005.md"]
    assert all("[REDACTED]" in f["message"] for f in failures)  # the echoes were there, and were hidden
    leaks = [(form, where) for form in forms(canary)
             for where, text in _everything(out, done.stdout, done.stderr) if form.encode() in text]
    assert not leaks


def _everything(out: Path, stdout: str, stderr: str) -> list[tuple[str, bytes]]:
    files = [(str(p), p.read_bytes()) for p in sorted(out.rglob("*")) if p.is_file()]
    assert any(name.endswith("store.sqlite") for name, _ in files)
    return [("stdout", stdout.encode()), ("stderr", stderr.encode()), *files]


@pytest.mark.parametrize("canary", CANARIES)
@pytest.mark.parametrize("case", [1, 3, 5])
def test_errors_and_log_records_never_hold_the_key(loopback: LoopbackServer, caplog: pytest.LogCaptureFixture,
                                                   canary: str, case: int) -> None:
    loopback.responder = lambda request: echoing(canary)[case]
    caplog.set_level(logging.DEBUG)  # everything the library and the SDKs log, as a user's own logging sees it
    with (Summarizer(base_url=loopback.base_url, api_key=canary, model="gpt-4o-mini", policy=FAST) as summarizer,
          pytest.raises(ProviderError) as caught):
        summarizer.summarize("The minister spoke on Monday. The marker is MARKER-001. Taxes will rise.")
    error = caught.value
    assert loopback.chat_requests and loopback.chat_requests[0].api_key == canary
    shown = [str(error), repr(error), json.dumps(error.records), "".join(traceback.format_exception(error)),
             caplog.text, *(record.getMessage() for record in caplog.records)]
    assert "[REDACTED]" in str(error)
    assert not [(form, text) for form in forms(canary) for text in shown if form in text]


def test_the_log_filter_redacts_messages_arguments_and_tracebacks(canary: str = CANARIES[1]) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter([canary]))
    logger = logging.getLogger("summarizer.tests.redaction")
    logger.addHandler(handler)
    try:
        logger.warning("headers %s", {"authorization": f"Bearer {canary}"})
        try:
            raise RuntimeError(f"Incorrect API key provided: {forms(canary)[1]}")
        except RuntimeError:
            logger.exception("request failed", stack_info=True)
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "RuntimeError: Incorrect API key provided: [REDACTED]" in text and "Stack (most recent call" in text
    assert not [form for form in forms(canary) if form in text]
