"""Fashion-MNIST, from Debian's `dataset-fashion-mnist` package (60k train, 10k test, 28 x 28 uint8).

The four IDX files are checked against pinned sha256 sums before they are read.
"""

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np

from ..errors import HwgenError
from . import IMAGE_SHAPES, Dataset

DIRECTORY = Path(os.environ.get("HWGEN_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
FILES = {
    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}


def _read_idx(name: str) -> np.ndarray:
    path = DIRECTORY / name
    if not path.exists():
        raise HwgenError(f"Fashion-MNIST is not installed: {path} is missing (apt install dataset-fashion-mnist)")
    raw = path.read_bytes()
    if hashlib.sha256(raw).hexdigest() != FILES[name]:
        raise HwgenError(f"{path}: sha256 does not match the pinned sum (a different dataset-fashion-mnist?)")
    data = gzip.decompress(raw)
    dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * k:8 + 4 * k], "big") for k in range(dims))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_fashion_mnist() -> Dataset:
    train_x, train_y = _read_idx("train-images-idx3-ubyte.gz"), _read_idx("train-labels-idx1-ubyte.gz")
    test_x, test_y = _read_idx("t10k-images-idx3-ubyte.gz"), _read_idx("t10k-labels-idx1-ubyte.gz")
    return Dataset("fashion-mnist", train_x.reshape(len(train_x), -1), train_y.astype(np.int64),
                   test_x.reshape(len(test_x), -1), test_y.astype(np.int64), max_value=255, num_classes=10,
                   image_shape=IMAGE_SHAPES["fashion-mnist"])
