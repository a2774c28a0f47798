"""A server that answers HTTP 200 with something that is not a chat completion is named as such, not re-asked."""

from __future__ import annotations

import pytest
from loopback import LoopbackServer, Reply

from summarizer import ProviderError, RetryPolicy, Summarizer

FAST = RetryPolicy(transport_retries=2, reasks=2, initial_wait=0.01, max_wait=0.02)


@pytest.mark.parametrize("body", ["<html><body><h1>Welcome to nginx!</h1></body></html>", {}],
                         ids=["web page", "empty object"])
def test_a_200_without_a_completion_says_so_and_is_not_re_asked(loopback: LoopbackServer, body: object) -> None:
    loopback.script(Reply.error(200, body=body, headers={"content-type": "text/html"} if isinstance(body, str)
                                else None))
    with Summarizer(base_url=loopback.base_url, api_key="k", model="m", policy=FAST) as s, \
            pytest.raises(ProviderError, match="not a chat completion") as info:
        s.summarize("The council met on Monday. It said the bridge will reopen.")
    assert "/v1" in str(info.value) and "No choices" not in str(info.value)
    assert len(loopback.chat_requests) == 1 and [r["outcome"] for r in info.value.records] == ["malformed"]
