"""Which backend a run uses, and the CLI's answers when none can be used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures_lib import SEED

from summarizer.errors import BackendUnavailableError, ConfigurationError
from summarizer.models.resolve import resolve_backend


def _cli(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "summarizer", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120, check=False)


def _env(tmp_path: Path, *, hide_local: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SUMMARIZER_"))}
    if hide_local:  # an importable `llama_cpp` that fails, as when the [local] extra is not installed
        shadow = tmp_path / "shadow"
        shadow.mkdir()
        (shadow / "llama_cpp.py").write_text("raise ImportError('llama_cpp is not installed')\n")
        env["PYTHONPATH"] = str(shadow)
    return env


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


def test_run_without_any_backend_exits_2_and_says_how_to_proceed(tmp_path: Path) -> None:
    result = _cli("run", str(SEED), "-o", str(tmp_path / "out"), env=_env(tmp_path, hide_local=True))
    assert result.returncode == 2, result.stderr
    assert "OPENAI_API_KEY" in result.stderr and 'pip install -e ".[local]"' in result.stderr


def test_doctor_explains_the_choice(tmp_path: Path) -> None:
    env = _env(tmp_path, hide_local=True) | {"OPENAI_API_KEY": "sk-doctor-canary-99"}
    result = _cli("doctor", env=env)
    assert result.returncode == 0
    assert "OPENAI_API_KEY is set" in result.stdout and "sk-doctor-canary" not in result.stdout
    assert "instructor" in result.stdout and "small (1.5B) model" in result.stdout


def test_schema_command_prints_the_four_lists(tmp_path: Path) -> None:
    result = _cli("schema", env=_env(tmp_path, hide_local=True))
    schema = json.loads(result.stdout)
    for name in ("actors", "claims", "predictions", "warnings"):
        assert name in schema["properties"]
