"""Re-record fixtures/responses/ against any OpenAI-compatible server.

For each article it sends the real `extract` request (the one-call plan, instructor TOOLS mode) and stores the
server's tool-call arguments verbatim, labelled as a recording with server, model and date. Whether the answer
is valid is checked and written down, but never "fixed": a recording is what the server sent.

Example, with the embedded model behind llama.cpp's OpenAI-compatible server:

    python -m llama_cpp.server --model ~/.cache/summarizer/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf \\
        --n_ctx 8192 --port 8011 &
    python benchmarks/record_fixtures.py --base-url http://127.0.0.1:8011/v1 --model qwen2.5-coder-1.5b \\
        fixtures/articles/ie9.txt
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def record(path: Path, base_url: str, model: str, out_dir: Path, timeout: float) -> Path:
    """Send one article's extract request and store the raw tool-call arguments."""
    import httpx2
    import openai

    from summarizer import GenerationParams, RetryPolicy, Summarizer
    from summarizer.errors import SummarizerError

    bodies: list[dict[str, Any]] = []

    def keep(response: Any) -> None:
        if response.request.url.path.endswith("/chat/completions"):
            response.read()
            bodies.append(response.json())

    http = httpx2.Client(event_hooks={"response": [keep]}, timeout=timeout)
    client = openai.OpenAI(base_url=base_url, api_key="sk-no-key-required", http_client=http, max_retries=0)
    summarizer = Summarizer(client=client, model=model, policy=RetryPolicy(reasks=0),
                            params=GenerationParams(timeout=timeout, two_pass=False))
    valid, error = True, None
    try:
        summarizer.summarize(path)
    except SummarizerError as exc:
        valid, error = False, str(exc)[:500]
    finally:
        http.close()
    if not bodies:
        raise SystemExit(f"{path}: the server sent no chat completion")
    body = bodies[-1]
    calls = body["choices"][0]["message"].get("tool_calls") or []
    arguments = calls[0]["function"]["arguments"] if calls else body["choices"][0]["message"].get("content")
    try:
        parsed: Any = json.loads(arguments)
    except (TypeError, json.JSONDecodeError):
        parsed = arguments
    record = {
        "_origin": f"RECORDED from {model} at an OpenAI-compatible server ({base_url}) on "
                   f"{dt.date.today().isoformat()} by benchmarks/record_fixtures.py; arguments are verbatim.",
        "step": "extract",
        "valid": valid,
        "validation_error": error,
        "usage": body.get("usage"),
        "finish_reason": body["choices"][0].get("finish_reason"),
        "arguments": parsed,
    }
    out = out_dir / f"{path.stem}.extract.recorded.json"
    out.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("articles", nargs="+", type=Path, help="article files to record")
    parser.add_argument("--base-url", required=True, help="OpenAI-compatible server, e.g. http://127.0.0.1:8011/v1")
    parser.add_argument("--model", required=True, help="model name to send")
    parser.add_argument("--out", type=Path, default=ROOT / "fixtures" / "responses")
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    for path in args.articles:
        print(record(path, args.base_url, args.model, args.out, args.timeout), flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
