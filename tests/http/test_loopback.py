"""The loopback server, exercised through the real openai SDK (and instructor) over real HTTP."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2
import instructor
import openai
import pytest
from loopback import LoopbackServer, NetworkBlockedError, RecordedRequest, Reply
from openai import AsyncOpenAI, OpenAI
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, field_validator

MESSAGES = [
    {"role": "system", "content": "Summarize the article."},
    {"role": "user", "content": "The council approved the new bridge on Monday."},
]
TOOL = {
    "type": "function",
    "function": {
        "name": "ArticleDraft",
        "description": "Structured summary",
        "parameters": {"type": "object", "properties": {"headline": {"type": "string"}}},
    },
}
FORCED = {"type": "function", "function": {"name": "ArticleDraft"}}


@pytest.fixture
def client(loopback: LoopbackServer) -> Iterator[OpenAI]:
    with OpenAI(base_url=loopback.base_url, api_key="test-key", max_retries=0) as c:
        yield c


def create(client: OpenAI, **kwargs: Any) -> ChatCompletion:
    return client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# successful replies
# --------------------------------------------------------------------------------------------------
def test_tool_call_reply_parses_into_chat_completion(loopback: LoopbackServer, client: OpenAI) -> None:
    loopback.script(Reply.tool_call({"headline": "Bridge approved", "n": 1}, usage=(120, 17)))

    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES, tools=[TOOL], tool_choice=FORCED
    )
    completion = raw.parse()

    assert isinstance(completion, ChatCompletion)
    assert completion.id.startswith("chatcmpl-")
    assert completion.object == "chat.completion"
    assert completion.model == "gpt-4o-mini"
    assert completion.system_fingerprint
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.role == "assistant"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls or []
    assert call.type == "function"
    assert call.id.startswith("call_")
    assert call.function.name == "ArticleDraft"  # defaulted from the request's forced tool
    assert isinstance(call.function.arguments, str)
    assert json.loads(call.function.arguments) == {"headline": "Bridge approved", "n": 1}
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (120, 17)
    assert completion.usage.total_tokens == 137

    headers = raw.headers
    assert headers["content-type"] == "application/json"
    assert headers["x-request-id"].startswith("req_")
    assert raw.request_id == headers["x-request-id"]
    assert int(headers["openai-processing-ms"]) >= 1
    assert int(headers["content-length"]) == len(raw.http_response.content)
    for name in ("limit-requests", "limit-tokens", "remaining-requests", "remaining-tokens"):
        assert int(headers[f"x-ratelimit-{name}"]) > 0
    assert headers["x-ratelimit-reset-requests"] == "2ms"
    assert loopback.requests[0].usage == {"prompt_tokens": 120, "completion_tokens": 17, "total_tokens": 137}


def test_default_usage_is_deterministic(loopback: LoopbackServer, client: OpenAI) -> None:
    loopback.script(Reply.tool_call({"headline": "x" * 40}), Reply.content("y" * 81))

    first = create(client, tools=[TOOL], tool_choice=FORCED)
    second = create(client)

    prompt_chars = len("\n\n".join(m["content"] for m in MESSAGES))
    assert loopback.requests[0].prompt_text == "\n\n".join(m["content"] for m in MESSAGES)
    assert first.usage is not None and second.usage is not None
    assert first.usage.prompt_tokens == second.usage.prompt_tokens == prompt_chars // 4
    assert first.usage.completion_tokens == len('{"headline":"' + "x" * 40 + '"}') // 4
    assert second.usage.completion_tokens == 81 // 4
    assert sum(r.usage["total_tokens"] for r in loopback.requests if r.usage) == (
        first.usage.total_tokens + second.usage.total_tokens
    )


def test_content_and_explicit_tool_name(loopback: LoopbackServer, client: OpenAI) -> None:
    loopback.script(Reply.content('{"headline": "ok"}'), Reply.tool_call('{"a":1}', name="Other"))

    content = create(client, response_format={"type": "json_object"})
    named = create(client, tools=[TOOL], tool_choice=FORCED)

    assert content.choices[0].message.content == '{"headline": "ok"}'
    assert content.choices[0].message.tool_calls is None
    assert content.choices[0].finish_reason == "stop"
    call = (named.choices[0].message.tool_calls or [])[0]
    assert (call.function.name, call.function.arguments) == ("Other", '{"a":1}')


def test_length_reply_truncates_arguments(loopback: LoopbackServer, client: OpenAI) -> None:
    loopback.script(Reply.length('{"headline": "The council appro'))

    completion = create(client, tools=[TOOL], tool_choice=FORCED)

    choice = completion.choices[0]
    assert choice.finish_reason == "length"
    call = (choice.message.tool_calls or [])[0]
    assert call.function.arguments == '{"headline": "The council appro'
    with pytest.raises(json.JSONDecodeError):
        json.loads(call.function.arguments)


def test_script_is_fifo_then_responder(loopback: LoopbackServer, client: OpenAI) -> None:
    def responder(req: RecordedRequest) -> Reply:
        return Reply.content(f"responder saw: {req.messages[-1]['content']}")

    loopback.responder = responder
    loopback.script(Reply.content("one"), Reply.content("two"))

    answers = [create(client).choices[0].message.content for _ in range(3)]

    assert answers == ["one", "two", "responder saw: The council approved the new bridge on Monday."]
    assert loopback.pending == 0


def test_nothing_configured_is_a_loud_400(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="no Reply scripted"):
        create(client)


# --------------------------------------------------------------------------------------------------
# faults
# --------------------------------------------------------------------------------------------------
def test_429_with_retry_after(loopback: LoopbackServer, client: OpenAI) -> None:
    loopback.script(Reply.error(429, retry_after=2))

    with pytest.raises(openai.RateLimitError) as excinfo:
        create(client)

    err = excinfo.value
    assert err.status_code == 429
    assert err.response.headers["retry-after"] == "2"
    assert err.response.headers["content-type"] == "application/json"
    assert err.code == "rate_limit_exceeded"
    assert err.type == "tokens"
    assert err.request_id and err.request_id.startswith("req_")
    assert isinstance(err.body, dict) and set(err.body) == {"message", "type", "param", "code"}
    assert not any(h.startswith("x-ratelimit-") for h in err.response.headers)


@pytest.mark.parametrize(
    ("kind", "type_", "code"),
    [("requests", "requests", "rate_limit_exceeded"), ("insufficient_quota", "insufficient_quota", None)],
)
def test_429_variants_without_retry_after(
    loopback: LoopbackServer, client: OpenAI, kind: str, type_: str, code: str | None
) -> None:
    loopback.script(Reply.error(429, kind=kind))

    with pytest.raises(openai.RateLimitError) as excinfo:
        create(client)

    assert "retry-after" not in excinfo.value.response.headers
    assert excinfo.value.type == type_
    assert excinfo.value.code == (code or "insufficient_quota")


def test_fractional_retry_after(loopback: LoopbackServer, client: OpenAI) -> None:
    loopback.script(Reply.error(429, retry_after=0.25))
    with pytest.raises(openai.RateLimitError) as excinfo:
        create(client)
    assert excinfo.value.response.headers["retry-after"] == "0.25"


@pytest.mark.parametrize(
    ("status", "exc_type", "code"),
    [
        (400, openai.BadRequestError, "context_length_exceeded"),
        (401, openai.AuthenticationError, "invalid_api_key"),
        (403, openai.PermissionDeniedError, "unsupported_country_region_territory"),
        (404, openai.NotFoundError, "model_not_found"),
        (500, openai.InternalServerError, None),
        (503, openai.InternalServerError, None),
    ],
)
def test_status_errors_map_to_sdk_exceptions(
    loopback: LoopbackServer, client: OpenAI, status: int, exc_type: type[Exception], code: str | None
) -> None:
    loopback.script(Reply.error(status))

    with pytest.raises(exc_type) as excinfo:
        create(client)

    err = excinfo.value
    assert isinstance(err, openai.APIStatusError)
    assert err.status_code == status
    assert err.code == code
    assert isinstance(err.body, dict) and err.body["message"]
    assert err.response.headers["x-request-id"].startswith("req_")
    assert err.response.text.startswith('{\n    "error": {')  # OpenAI pretty-prints error bodies


def test_502_is_a_cloudflare_html_page(loopback: LoopbackServer, client: OpenAI) -> None:
    loopback.script(Reply.error(502))
    with pytest.raises(openai.InternalServerError) as excinfo:
        create(client)
    assert excinfo.value.status_code == 502
    assert excinfo.value.response.headers["content-type"] == "text/html"
    assert isinstance(excinfo.value.body, str) and "502 Bad Gateway" in excinfo.value.body


def test_wrong_api_key_gets_masked_401(loopback: LoopbackServer) -> None:
    loopback.expected_api_key = "sk-right-key-000000"
    secret = "sk-wrong-SECRET-123456789"
    with (
        OpenAI(base_url=loopback.base_url, api_key=secret, max_retries=0) as client,
        pytest.raises(openai.AuthenticationError) as excinfo,
    ):
        create(client)
    assert excinfo.value.code == "invalid_api_key"
    assert secret not in str(excinfo.value)
    assert "6789" in str(excinfo.value)  # OpenAI shows a masked key


@pytest.mark.parametrize("reset", [False, True])
def test_drop_gives_connection_error(loopback: LoopbackServer, client: OpenAI, reset: bool) -> None:
    loopback.script(Reply.drop(reset=reset))

    with pytest.raises(openai.APIConnectionError) as excinfo:
        create(client)

    assert not isinstance(excinfo.value, openai.APITimeoutError)
    assert isinstance(excinfo.value.__cause__, httpx2.RemoteProtocolError | httpx2.ReadError)
    assert loopback.requests[0].status is None
    # the client recovers on a fresh connection
    loopback.script(Reply.content("after drop"))
    assert create(client).choices[0].message.content == "after drop"


def test_slow_with_client_timeout_gives_timeout_error(loopback: LoopbackServer) -> None:
    loopback.script(Reply.slow(3, Reply.content("too late")))
    started = time.monotonic()
    with (
        OpenAI(base_url=loopback.base_url, api_key="test-key", max_retries=0, timeout=0.5) as client,
        pytest.raises(openai.APITimeoutError),
    ):
        create(client)
    assert 0.45 <= time.monotonic() - started < 1.5


def test_slow_then_answer(loopback: LoopbackServer, client: OpenAI) -> None:
    loopback.script(Reply.slow(0.2, Reply.content("eventually")))
    started = time.monotonic()
    assert create(client).choices[0].message.content == "eventually"
    assert time.monotonic() - started >= 0.2


def test_malformed_json_raises_json_decode_error(loopback: LoopbackServer, client: OpenAI) -> None:
    """openai 3.3.0 calls response.json() unguarded: a truncated 200 body escapes as a bare
    json.JSONDecodeError (a ValueError), NOT an openai.APIError / APIResponseValidationError."""
    loopback.script(Reply.malformed())

    with pytest.raises(json.JSONDecodeError) as excinfo:
        create(client)

    assert not isinstance(excinfo.value, openai.OpenAIError)
    assert loopback.requests[0].status == 200


# --------------------------------------------------------------------------------------------------
# recording, concurrency, other endpoints
# --------------------------------------------------------------------------------------------------
def test_requests_are_recorded(loopback: LoopbackServer, client: OpenAI) -> None:
    loopback.script(Reply.tool_call({}), Reply.content("x"))
    before = time.monotonic()

    create(client, tools=[TOOL], tool_choice=FORCED, temperature=0)
    create(client)

    first, second = loopback.requests
    assert (first.method, first.path) == ("POST", "/v1/chat/completions")
    assert first.headers["authorization"] == "Bearer test-key"
    assert first.headers["content-type"] == "application/json"
    assert first.api_key == "test-key"
    assert first.body["model"] == "gpt-4o-mini"
    assert first.body["messages"] == MESSAGES
    assert first.body["temperature"] == 0
    assert json.loads(first.raw) == first.body
    assert first.tool_name == "ArticleDraft"
    assert first.tool_names == ["ArticleDraft"]
    assert second.tool_name is None
    assert before <= first.received_at <= second.received_at <= time.monotonic()
    assert [r.status for r in loopback.requests] == [200, 200]
    assert loopback.chat_requests == [first, second]

    loopback.reset()
    assert loopback.requests == [] and loopback.max_in_flight == 0 and loopback.pending == 0


def test_max_in_flight_with_four_threads(loopback: LoopbackServer, client: OpenAI) -> None:
    loopback.latency = 0.3
    loopback.responder = lambda req: Reply.content(req.messages[-1]["content"])
    barrier = threading.Barrier(4)

    def call(i: int) -> str | None:
        barrier.wait()
        messages = [{"role": "user", "content": f"article {i}"}]
        completion = client.chat.completions.create(model="gpt-4o-mini", messages=messages)  # type: ignore[arg-type]
        return completion.choices[0].message.content

    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(call, range(4)))

    assert answers == [f"article {i}" for i in range(4)]
    assert loopback.max_in_flight == 4
    assert time.monotonic() - started < 0.3 * 4  # concurrent, not serialized


async def test_sixteen_concurrent_async_requests(loopback: LoopbackServer) -> None:
    import asyncio

    loopback.latency = 0.2
    loopback.responder = lambda req: Reply.tool_call({"echo": req.messages[-1]["content"]})
    async with AsyncOpenAI(base_url=loopback.base_url, api_key="test-key", max_retries=0) as client:
        results = await asyncio.gather(
            *(
                client.chat.completions.create(
                    model="gpt-4o-mini",
                    messages=[{"role": "user", "content": f"a{i}"}],
                    tools=[TOOL],  # type: ignore[list-item]
                    tool_choice=FORCED,  # type: ignore[arg-type]
                )
                for i in range(16)
            )
        )
    echoes = [
        json.loads((r.choices[0].message.tool_calls or [])[0].function.arguments)["echo"] for r in results
    ]
    assert echoes == [f"a{i}" for i in range(16)]
    assert loopback.max_in_flight == 16


def test_models_endpoint(client: OpenAI, loopback: LoopbackServer) -> None:
    models = client.models.list()
    ids = [m.id for m in models.data]
    assert "gpt-4o-mini" in ids
    assert all(m.object == "model" and m.owned_by and m.created > 0 for m in models.data)
    assert client.models.retrieve("gpt-4o").id == "gpt-4o"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")


def test_unknown_path_and_keep_alive(loopback: LoopbackServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", loopback.port, timeout=5)
    try:
        conn.request("GET", "/v1/nope")
        resp = conn.getresponse()
        data = resp.read()
        assert resp.status == 404
        assert resp.getheader("content-type") == "application/json"
        assert int(resp.getheader("content-length") or -1) == len(data)
        assert json.loads(data) == {
            "error": {
                "message": "Invalid URL (GET /v1/nope)",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        }
        # same TCP connection, HTTP/1.1 keep-alive: a bad JSON body gets OpenAI's 400
        sock = conn.sock
        conn.request(
            "POST", "/v1/chat/completions", body=b"{not json", headers={"Content-Type": "application/json"}
        )
        resp = conn.getresponse()
        body = json.loads(resp.read())
        assert conn.sock is sock
        assert resp.status == 400
        assert body["error"]["type"] == "invalid_request_error"
        assert "could not parse the JSON body" in body["error"]["message"]
        assert loopback.max_in_flight == 1
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------------
# instructor
# --------------------------------------------------------------------------------------------------
class Headline(BaseModel):
    headline: str
    sentence: int

    @field_validator("sentence")
    @classmethod
    def positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("sentence numbers start at 1")
        return value


def test_instructor_tools_mode_parses_tool_call(loopback: LoopbackServer, client: OpenAI) -> None:
    loopback.script(Reply.tool_call({"headline": "Bridge approved", "sentence": 1}, usage=(50, 9)))
    ic = instructor.from_openai(client, mode=instructor.Mode.TOOLS)

    result, completion = ic.chat.completions.create_with_completion(
        model="gpt-4o-mini", response_model=Headline, messages=MESSAGES, max_retries=0
    )

    assert isinstance(result, Headline)
    assert result.model_dump() == {"headline": "Bridge approved", "sentence": 1}
    assert completion.usage.total_tokens == 59
    (request,) = loopback.requests
    assert request.tool_name == "Headline"  # instructor forces the tool named after the model


def test_instructor_reasks_after_invalid_tool_call(loopback: LoopbackServer, client: OpenAI) -> None:
    loopback.script(
        Reply.tool_call({"headline": "Bridge approved", "sentence": 0}),
        Reply.tool_call({"headline": "Bridge approved", "sentence": 2}),
    )
    ic = instructor.from_openai(client, mode=instructor.Mode.TOOLS)

    result = ic.chat.completions.create(
        model="gpt-4o-mini", response_model=Headline, messages=MESSAGES, max_retries=2
    )

    assert result.sentence == 2
    first, second = loopback.requests
    assert len(second.messages) > len(first.messages)
    assert "sentence numbers start at 1" in second.prompt_text


# --------------------------------------------------------------------------------------------------
# the network guard from conftest
# --------------------------------------------------------------------------------------------------
def test_network_guard_blocks_non_loopback(blocked_connections: list[str]) -> None:
    start = len(blocked_connections)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(NetworkBlockedError):
            sock.connect(("192.0.2.1", 443))
        with pytest.raises(NetworkBlockedError):
            socket.getaddrinfo("api.openai.com", 443)
        with (
            OpenAI(api_key="test-key", max_retries=0) as real,
            pytest.raises(openai.APIConnectionError) as exc,
        ):
            create(real)
        assert isinstance(exc.value.__cause__, NetworkBlockedError) or "loopback" in repr(exc.value.__cause__)
        assert len(blocked_connections) > start
    finally:
        del blocked_connections[start:]


def test_network_guard_allows_loopback(loopback: LoopbackServer) -> None:
    for host in ("127.0.0.1", "localhost"):
        with socket.create_connection((host, loopback.port), timeout=2):
            pass


def test_env_is_scrubbed() -> None:
    import os

    assert "OPENAI_API_KEY" not in os.environ
    assert "OPENAI_BASE_URL" not in os.environ
    assert "SUMMARIZER_MODEL" not in os.environ
