"""Which backend a run uses, and the CLI's answers when none can be used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures_lib import SEED
from memory import InProcessCLI

from summarizer.errors import BackendUnavailableError, ConfigurationError
from summarizer.models.resolve import resolve_backend


def test_order_of_choice() -> None:
    none = lambda: False  # noqa: E731
    yes = lambda: True  # noqa: E731
    assert resolve_backend(model="m", base_url="http://h/v1", environ={}, local_available=none).kind == "openai"
    env_key = resolve_backend(environ={"OPENAI_API_KEY": "k"}, local_available=yes)
    assert env_key.kind == "openai" and env_key.reason == "OPENAI_API_KEY is set"
    assert resolve_backend(environ={"OPENAI_BASE_URL": "http://h/v1"}, local_available=yes).base_url == "http://h/v1"
    assert resolve_backend(environ={}, local_available=yes).kind == "embedded"
    with pytest.raises(BackendUnavailableError) as info:
        resolve_backend(environ={}, local_available=none)
    assert "OPENAI_API_KEY" in str(info.value) and ".[local]" in str(info.value)
    with pytest.raises(ConfigurationError):
        resolve_backend(model="gpt-4o", environ={}, local_available=none)


def test_backend_never_shows_the_key() -> None:
    backend = resolve_backend(environ={"OPENAI_API_KEY": "sk-secret-123456"}, local_available=lambda: False)
    assert "sk-secret" not in repr(backend) and "sk-secret" not in json.dumps(backend.describe())


def test_run_without_any_backend_exits_2_and_says_how_to_proceed(cli: InProcessCLI, tmp_path: Path) -> None:
    result = cli("run", str(SEED), "-o", str(tmp_path / "out"), backend=False)  # llama_cpp is hidden here
    assert result.returncode == 2, result.stderr
    assert "OPENAI_API_KEY" in result.stderr and 'pip install -e ".[local]"' in result.stderr


def test_doctor_explains_the_choice(cli: InProcessCLI) -> None:
    result = cli("doctor", env={"OPENAI_API_KEY": "sk-doctor-canary-99"}, backend=False)
    assert result.returncode == 0
    assert "OPENAI_API_KEY is set" in result.stdout and "sk-doctor-canary" not in result.stdout
    assert "instructor" in result.stdout and "small (1.5B) model" in result.stdout


def test_schema_command_prints_the_four_lists(cli: InProcessCLI) -> None:
    result = cli("schema", backend=False)
    schema = json.loads(result.stdout)
    for name in ("actors", "claims", "predictions", "warnings"):
        assert name in schema["properties"]
