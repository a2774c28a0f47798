"""Tests for summarizer.models.embedded.weights: small fake parts; the real 1.1 GB file only under `local_model`."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from summarizer.errors import ConfigurationError, ModelFileError
from summarizer.models.embedded import weights as model_file

CHUNKS = [b"GGUF" + b"a" * 96, b"b" * 100, b"c" * 37]
GOOD = b"".join(CHUNKS)
GOOD_SHA = hashlib.sha256(GOOD).hexdigest()


def _write_parts(root: Path, chunks: list[bytes] = CHUNKS) -> list[Path]:
    """Write loose part files, for tests of `assemble` itself."""
    paths = []
    for i, chunk in enumerate(chunks, 1):
        path = root / f"part{i:02d}.bin"
        path.write_bytes(chunk)
        paths.append(path)
    return paths


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Fake part packages on sys.path, fake expectations, and a private cache dir; returns the cache file."""
    site = tmp_path / "site"
    names = []
    for i, chunk in enumerate(CHUNKS, 1):
        name = f"fakemodel_part{i}"
        data = site / name / "data"
        data.mkdir(parents=True)
        (site / name / "__init__.py").write_text("raise RuntimeError('part packages must not be imported')\n")
        (data / f"part{i:02d}.bin").write_bytes(chunk)
        names.append(name)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(model_file, "PART_PACKAGES", names)
    monkeypatch.setattr(model_file, "EXPECTED_SIZE", len(GOOD))
    monkeypatch.setattr(model_file, "EXPECTED_SHA256", GOOD_SHA)
    monkeypatch.setenv("SUMMARIZER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SUMMARIZER_LOCAL_MODEL", raising=False)
    return model_file.cache_path()


def _count_assemblies(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Spy on `assemble` so tests can tell a cache hit from a rebuild."""
    calls: list[Path] = []
    real = model_file.assemble

    def spy(parts: list[Path], dest: Path, **kwargs: object) -> Path:
        calls.append(dest)
        return real(parts, dest, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(model_file, "assemble", spy)
    return calls


def test_error_is_a_configuration_error() -> None:
    assert issubclass(ModelFileError, ConfigurationError)


def test_assemble_concatenates_in_order_and_writes_sidecar(tmp_path: Path) -> None:
    parts = _write_parts(tmp_path)
    dest = tmp_path / "out" / "model.gguf"
    seen: list[tuple[int, int]] = []
    result = model_file.assemble(
        parts,
        dest,
        expected_size=len(GOOD),
        expected_sha256=GOOD_SHA,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert result == dest
    assert dest.read_bytes() == GOOD
    record = json.loads(model_file.sidecar_path(dest).read_text())
    assert record == {"size": len(GOOD), "mtime_ns": dest.stat().st_mtime_ns, "sha256": GOOD_SHA}
    assert seen[-1] == (len(GOOD), len(GOOD))
    assert sorted(p.name for p in dest.parent.iterdir()) == ["model.gguf", "model.gguf.verified"]


def test_assemble_refuses_wrong_hash_and_leaves_nothing(tmp_path: Path) -> None:
    parts = _write_parts(tmp_path, [CHUNKS[0], b"X" * 100, CHUNKS[2]])
    dest = tmp_path / "out" / "model.gguf"
    with pytest.raises(ModelFileError) as info:
        model_file.assemble(parts, dest, expected_size=len(GOOD), expected_sha256=GOOD_SHA)
    message = str(info.value)
    bad_sha = hashlib.sha256(CHUNKS[0] + b"X" * 100 + CHUNKS[2]).hexdigest()
    assert GOOD_SHA in message and bad_sha in message and str(len(GOOD)) in message
    assert "--force-reinstall" in message and "SUMMARIZER_LOCAL_MODEL" in message
    assert list(dest.parent.iterdir()) == []


def test_assemble_refuses_wrong_size(tmp_path: Path) -> None:
    parts = _write_parts(tmp_path, CHUNKS[:2])
    dest = tmp_path / "model.gguf"
    with pytest.raises(ModelFileError, match=rf"expected {len(GOOD)} bytes.*got {len(GOOD) - 37} bytes"):
        model_file.assemble(parts, dest, expected_size=len(GOOD), expected_sha256=GOOD_SHA)
    assert not dest.exists()
    assert not model_file.sidecar_path(dest).exists()


def test_assemble_refuses_out_of_order_parts(tmp_path: Path) -> None:
    parts = _write_parts(tmp_path)
    with pytest.raises(ModelFileError, match=GOOD_SHA):
        model_file.assemble(
            parts[::-1], tmp_path / "m.gguf", expected_size=len(GOOD), expected_sha256=GOOD_SHA
        )


def test_verify_file_checks_size_then_hash(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(GOOD)
    model_file.verify_file(path, expected_size=len(GOOD), expected_sha256=GOOD_SHA)
    with pytest.raises(ModelFileError, match=r"not computed.*") as info:
        model_file.verify_file(path, expected_size=len(GOOD) + 1, expected_sha256=GOOD_SHA)
    assert GOOD_SHA in str(info.value)
    path.write_bytes(GOOD[:-1] + b"!")
    with pytest.raises(ModelFileError, match=GOOD_SHA):
        model_file.verify_file(path, expected_size=len(GOOD), expected_sha256=GOOD_SHA)
    with pytest.raises(ModelFileError, match=GOOD_SHA):
        model_file.verify_file(tmp_path / "absent.gguf", expected_size=1, expected_sha256=GOOD_SHA)


def test_parts_found_without_importing_them(sandbox: Path) -> None:
    parts = model_file.parts_installed()
    assert parts is not None
    assert [p.name for p in parts] == ["part01.bin", "part02.bin", "part03.bin"]
    assert model_file.missing_parts() == []


def test_ensure_model_assembles_then_reuses_sidecar(sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _count_assemblies(monkeypatch)
    assert model_file.ensure_model() == sandbox
    assert sandbox.read_bytes() == GOOD
    assert model_file.ensure_model() == sandbox
    assert calls == [sandbox]


def test_missing_parts_give_install_command(sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_file, "PART_PACKAGES", [*model_file.PART_PACKAGES, "fakemodel_part_absent"])
    assert model_file.parts_installed() is None
    assert model_file.missing_parts() == ["fakemodel_part_absent"]
    with pytest.raises(ModelFileError) as info:
        model_file.ensure_model()
    message = str(info.value)
    assert "fakemodel-part-absent" in message
    assert 'pip install -e ".[local]"' in message and 'pip install "summarizer[local]"' in message
    assert not sandbox.exists()


def test_part_package_without_data_file_counts_as_missing(sandbox: Path, tmp_path: Path) -> None:
    (tmp_path / "site" / "fakemodel_part2" / "data" / "part02.bin").unlink()
    assert model_file.missing_parts() == ["fakemodel_part2"]


def test_override_must_be_gguf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    not_gguf = tmp_path / "model.bin"
    not_gguf.write_bytes(b"PK\x03\x04 not a model")
    monkeypatch.setenv("SUMMARIZER_LOCAL_MODEL", str(not_gguf))
    with pytest.raises(ModelFileError, match="not a GGUF file"):
        model_file.ensure_model()
    monkeypatch.setenv("SUMMARIZER_LOCAL_MODEL", str(tmp_path / "nope.gguf"))
    with pytest.raises(ModelFileError, match="cannot be read"):
        model_file.ensure_model()
    monkeypatch.setenv("SUMMARIZER_LOCAL_MODEL", str(tmp_path))
    with pytest.raises(ModelFileError, match="cannot be read"):
        model_file.ensure_model()


def test_override_gguf_is_accepted_without_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    own = tmp_path / "own.gguf"
    own.write_bytes(b"GGUF" + b"\0" * 12)
    monkeypatch.setenv("SUMMARIZER_LOCAL_MODEL", str(own))
    monkeypatch.setattr(model_file, "PART_PACKAGES", ["fakemodel_part_absent"])
    assert model_file.ensure_model() == own
    assert model_file.model_status()["override"] == str(own)


def test_tampered_cache_is_rebuilt(sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model_file.ensure_model()
    calls = _count_assemblies(monkeypatch)
    sandbox.write_bytes(GOOD[:-1] + b"!")  # same size, new mtime: the sidecar no longer vouches for it
    os.utime(sandbox, ns=(time.time_ns(), sandbox.stat().st_mtime_ns + 1_000_000))
    assert model_file.ensure_model() == sandbox
    assert sandbox.read_bytes() == GOOD and calls == [sandbox]
    sandbox.write_bytes(b"GGUF short")  # different size
    assert model_file.ensure_model() == sandbox
    assert sandbox.read_bytes() == GOOD and calls == [sandbox, sandbox]


def test_touched_but_intact_cache_is_rehashed_not_rebuilt(
    sandbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_file.ensure_model()
    calls = _count_assemblies(monkeypatch)
    stat = sandbox.stat()
    os.utime(sandbox, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert model_file.model_status()["verified"] is False
    assert model_file.ensure_model() == sandbox
    assert calls == []
    assert json.loads(model_file.sidecar_path(sandbox).read_text())["mtime_ns"] == sandbox.stat().st_mtime_ns
    assert model_file.model_status()["verified"] is True


def test_model_status_is_cheap_and_complete(sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = model_file.model_status()
    assert before == {
        "override": None,
        "parts_installed": True,
        "missing_parts": [],
        "cached_path": str(sandbox),
        "cached": False,
        "verified": None,
        "size": None,
    }
    model_file.ensure_model()
    monkeypatch.setattr(model_file, "_stream", None)  # any hashing now would crash
    after = model_file.model_status()
    assert after["cached"] is True and after["verified"] is True and after["size"] == len(GOOD)


def test_cache_path_default_uses_platformdirs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUMMARIZER_CACHE_DIR", raising=False)
    path = model_file.cache_path()
    assert path.name == f"{model_file.MODEL_NAME}.gguf" and path.parent.name == "models"
    assert path.parent.parent.name == "summarizer"


def test_real_parts_are_listed_in_order() -> None:
    parts = model_file.parts_installed()
    if parts is None:
        pytest.skip("the [local] extra is not installed")
    assert [p.name for p in parts] == [f"part{i:02d}.bin" for i in range(1, 23)]
    assert sum(p.stat().st_size for p in parts) == model_file.EXPECTED_SIZE


@pytest.mark.local_model
def test_real_model_assembles_and_verifies(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Uses the real default cache dir on purpose, so the product reuses the assembled file later."""
    if "local_model" not in (request.config.option.markexpr or ""):
        pytest.skip("reads 1.1 GB; run with -m local_model")
    monkeypatch.delenv("SUMMARIZER_CACHE_DIR", raising=False)
    monkeypatch.delenv("SUMMARIZER_LOCAL_MODEL", raising=False)
    if model_file.parts_installed() is None:
        pytest.skip("the [local] extra is not installed")
    path = model_file.ensure_model()
    assert path == model_file.cache_path()
    assert path.stat().st_size == model_file.EXPECTED_SIZE
    with path.open("rb") as fh:
        assert fh.read(4) == b"GGUF"
    model_file.verify_file(path)
    assert model_file.model_status()["verified"] is True
    started = time.monotonic()
    assert model_file.ensure_model() == path
    assert time.monotonic() - started < 1.0  # the sidecar spares the rehash


def test_unwritable_cache_is_a_model_file_error(tmp_path: Path) -> None:
    parts = _write_parts(tmp_path)
    (tmp_path / "blocker").write_text("a file where the cache directory should be")
    with pytest.raises(ModelFileError, match=r"Could not write the model.*SUMMARIZER_CACHE_DIR"):
        model_file.assemble(
            parts, tmp_path / "blocker" / "m.gguf", expected_size=len(GOOD), expected_sha256=GOOD_SHA
        )


def test_interrupted_assembly_leaves_no_temp_file(tmp_path: Path) -> None:
    parts = _write_parts(tmp_path)
    dest = tmp_path / "out" / "m.gguf"

    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        model_file.assemble(
            parts, dest, expected_size=len(GOOD), expected_sha256=GOOD_SHA, progress=interrupt
        )
    assert list(dest.parent.iterdir()) == []
