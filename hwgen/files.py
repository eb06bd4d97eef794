"""Atomic file output: every artifact is written to a temporary name, then renamed."""

import contextlib
import importlib.resources
import json
import os
import tempfile
from pathlib import Path

from .errors import HwgenError


def cache_dir() -> Path:
    """Where machine-local builds and tables are kept (HWGEN_CACHE_DIR, else ~/.cache/hwgen)."""
    return Path(os.environ.get("HWGEN_CACHE_DIR", Path.home() / ".cache" / "hwgen"))


def package_folder(name: str) -> Path:
    """A folder of files shipped inside the package (hwgen.rtl_templates, hwgen.sim) as a real path:
    the same in a wheel install as in this repository, where they are the top-level folders."""
    return Path(str(importlib.resources.files(f"hwgen.{name}")))


def ensure_dir(path) -> Path:
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise HwgenError(f"cannot create output folder {path}: {e.strerror}") from None
    if not os.access(path, os.W_OK):
        raise HwgenError(f"output folder {path} is not writable")
    return path


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to `path`; rename it onto `path` only if the block succeeds. The file
    gets the mode any new file would get (0666 less the umask), not mkstemp's private 0600."""
    path = Path(path)
    ensure_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        try:
            os.replace(tmp, path)
        except OSError as e:
            raise HwgenError(f"cannot write {path}: {e.strerror}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_bytes(path, kind: str) -> bytes:
    """A user's input file, or a one-line error naming it ("no such netlist file", ...)."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise HwgenError(f"{path}: no such {kind} file") from None
    except OSError as e:
        raise HwgenError(f"{path}: cannot read {kind} ({e})") from None


def read_text(path, kind: str) -> str:
    try:
        return read_bytes(path, kind).decode()
    except UnicodeDecodeError as e:
        raise HwgenError(f"{Path(path)}: cannot read {kind} ({e})") from None


def write_text(path, text: str):
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_npy(path, array):
    import numpy as np

    with atomic_path(path) as tmp, open(tmp, "wb") as f:  # np.save given a name would add ".npy" to it
        np.save(f, array)


def write_json(path, obj):
    write_text(path, json.dumps(obj, indent=2) + "\n")
