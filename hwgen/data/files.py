"""A user's own data set from a file: .npz (arrays x, y, or train_x, train_y, test_x, test_y; optionally
class_names, feature_names and image_shape) or .csv (a header row, one column of labels, the rest features). Loading never
runs code from the file: arrays load without pickle, CSV as text.

Features become what hwgen's encoder and RTL read, unsigned integers: integer features (0 or more) as
they are; any other (negative or fractional) feature as an 8-bit code, round(255 * (x - low) / (high -
low)) clipped to 0..255, with low and high that feature's range on the training data (`Dataset.scaling`
keeps them: the RTL reads the codes, so a user scales new inputs the same way; `FileData.codes` does it).
"""

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import HwgenError
from . import Dataset, read_npz

SUFFIXES = (".npz", ".csv")
CODE_MAX = 255  # a scaled feature's code: 8 bits


def is_file(name: str) -> bool:
    """Whether a config's `dataset` names a file rather than a built-in data set."""
    return Path(name).suffix.lower() in SUFFIXES


@dataclass
class Scaling:
    """Per feature: None where it is read as it is, else (low, high) of its 8-bit code."""
    ranges: list

    def codes(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        out = np.empty(x.shape, dtype=np.int64)
        for f, r in enumerate(self.ranges):
            if r is None:
                out[:, f] = np.rint(x[:, f]).astype(np.int64)
            else:
                low, high = r
                out[:, f] = np.clip(np.rint(CODE_MAX * (x[:, f] - low) / max(high - low, 1e-12)), 0, CODE_MAX)
        return out

    def to_json(self) -> list:
        return [None if r is None else [float(r[0]), float(r[1])] for r in self.ranges]


def load_file(path, label: str = "label", test_fraction: float = 0.2, seed: int = 0,
              image_shape=None) -> Dataset:
    """The data set in `path` (module docstring), split into train and test (a given test set, or
    `test_fraction` of the rows drawn with `seed`, every class in both where it can be)."""
    path = Path(path)
    if not path.exists():
        raise HwgenError(f"{path}: no such data file")
    arrays = _read_npz(path) if path.suffix.lower() == ".npz" else _read_csv(path, label)
    return from_arrays(arrays, path, test_fraction, seed, image_shape)


def from_arrays(arrays: dict, path, test_fraction: float = 0.2, seed: int = 0, image_shape=None) -> Dataset:
    """A Dataset from arrays as a file holds them (x and y, or train_x, train_y, test_x and test_y; maybe
    class_names and image_shape); `path` names them in messages."""
    path = Path(path)
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    names = arrays.pop("class_names", None)
    shape = arrays.pop("image_shape", None)
    features = arrays.pop("feature_names", None)
    if image_shape:
        shape = tuple(image_shape)
    if "x" in arrays:
        x, y = arrays["x"], arrays["y"]
        _check_rows(path, x, y, "x", "y")
        labels, names = _labels(path, y, names)
        train, test = _split(labels, test_fraction, seed, path)
        train_x, train_y, test_x, test_y = x[train], labels[train], x[test], labels[test]
    else:
        _check_rows(path, arrays["train_x"], arrays["train_y"], "train_x", "train_y")
        _check_rows(path, arrays["test_x"], arrays["test_y"], "test_x", "test_y")
        if arrays["train_x"].shape[1] != arrays["test_x"].shape[1]:
            raise HwgenError(f"{path}: train_x has {arrays['train_x'].shape[1]} features and test_x "
                             f"{arrays['test_x'].shape[1]}")
        labels, names = _labels(path, np.concatenate([arrays["train_y"], arrays["test_y"]]), names)
        n = len(arrays["train_y"])
        train_x, train_y, test_x, test_y = arrays["train_x"], labels[:n], arrays["test_x"], labels[n:]
    if shape is not None:
        shape = tuple(int(v) for v in np.asarray(shape).ravel())
        if len(shape) != 2 or shape[0] * shape[1] != train_x.shape[1]:
            raise HwgenError(f"{path}: image_shape {list(shape)} does not hold the {train_x.shape[1]} features")
    scaling = _scaling(train_x)
    train_codes, test_codes = scaling.codes(train_x), scaling.codes(test_x)
    data = Dataset(path.stem, train_codes, train_y, test_codes, test_y,
                   max_value=int(max(train_codes.max(initial=1), 1)), num_classes=len(names), image_shape=shape)
    data.class_names, data.scaling = list(names), scaling
    if features is not None:
        features = [str(f) for f in np.asarray(features).ravel()]
        if len(features) != train_x.shape[1]:
            raise HwgenError(f"{path}: {len(features)} feature names for {train_x.shape[1]} features")
        data.feature_names = features
    return data


def _read_npz(path: Path) -> dict:
    arrays = read_npz(path)
    keys = set(arrays) - {"class_names", "image_shape", "feature_names"}
    if keys == {"x", "y"} or keys == {"train_x", "train_y", "test_x", "test_y"}:
        return arrays
    raise HwgenError(f"{path} holds {', '.join(sorted(keys)) or 'no arrays'}: it needs x and y, or train_x, train_y, "
                     "test_x and test_y (and may hold class_names, feature_names and image_shape)")


def _read_csv(path: Path, label: str) -> dict:
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise HwgenError(f"{path}: not a readable CSV file ({e})") from None
    rows = [r for r in rows if r]
    if len(rows) < 2:
        raise HwgenError(f"{path}: a header row and at least one row of data are needed")
    header = [h.strip() for h in rows[0]]
    if label not in header:
        raise HwgenError(f"{path}: no column \"{label}\" for the labels (the columns: {', '.join(header)}; "
                         "data.label names it)")
    for line, r in enumerate(rows[1:], start=2):
        if len(r) != len(header):
            raise HwgenError(f"{path}: line {line} has {len(r)} fields, the header {len(header)}")
    column = header.index(label)
    features = [h for k, h in enumerate(header) if k != column]
    x = np.empty((len(rows) - 1, len(features)), dtype=np.float64)
    for line, r in enumerate(rows[1:], start=2):
        values = [v for k, v in enumerate(r) if k != column]
        for j, v in enumerate(values):
            try:
                x[line - 2, j] = float(v)
            except ValueError:
                raise HwgenError(f"{path}: line {line}, column \"{features[j]}\": {v!r} is not a number "
                                 "(features must be numbers; code categories as integers)") from None
    return {"x": x, "y": np.array([r[column].strip() for r in rows[1:]]), "feature_names": np.array(features)}


def _check_rows(path: Path, x: np.ndarray, y: np.ndarray, xname: str, yname: str):
    if x.ndim != 2 or x.shape[1] == 0 or len(x) == 0:
        raise HwgenError(f"{path}: {xname} must be a non-empty (samples, features) array, got shape {x.shape}")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise HwgenError(f"{path}: {xname} must hold numbers, got {x.dtype}")
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        raise HwgenError(f"{path}: {xname} holds NaN or infinite values (in feature "
                         f"{int(np.flatnonzero(~np.isfinite(x).all(axis=0))[0])})")
    if y.ndim != 1 or len(y) != len(x):
        raise HwgenError(f"{path}: {yname} must hold one label per row of {xname} ({len(x)}), got shape {y.shape}")


def _labels(path: Path, y: np.ndarray, names) -> tuple[np.ndarray, list]:
    """Class indices 0..C-1 and the classes' names: integer labels as they are (names from class_names,
    else the numbers), other labels (strings) numbered in sorted order."""
    if np.issubdtype(y.dtype, np.floating) and np.all(y == np.rint(y)):
        y = y.astype(np.int64)
    if np.issubdtype(y.dtype, np.integer):
        if y.min() < 0:
            raise HwgenError(f"{path}: integer labels must be 0 or more (class indices), got {int(y.min())}")
        count = int(y.max()) + 1
        labels = y.astype(np.int64)
        names = [str(n) for n in names] if names is not None else [str(k) for k in range(count)]
        if len(names) < count:
            raise HwgenError(f"{path}: class_names names {len(names)} classes, the labels go up to {count - 1}")
    elif y.dtype.kind in "US":
        if names is not None:
            raise HwgenError(f"{path}: class_names goes with integer labels; these are already names")
        names = sorted(set(y.tolist()))
        labels = np.searchsorted(np.array(names), y).astype(np.int64)
    else:
        raise HwgenError(f"{path}: labels must be integers or strings, got {y.dtype}")
    if len(np.unique(labels)) < 2:
        raise HwgenError(f"{path}: the labels hold a single class: a classifier needs two or more")
    return labels, names


def _split(labels: np.ndarray, fraction: float, seed: int, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Rows for training and for testing: `fraction` of each class's rows (at least one where the class
    has two or more) drawn at random for the test set."""
    if not 0 < fraction < 1:
        raise HwgenError(f"data.test_fraction must be between 0 and 1, got {fraction}")
    rng = np.random.default_rng(seed)
    test = []
    for c in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == c))
        test += rows[:max(1, round(fraction * len(rows))) if len(rows) > 1 else 0].tolist()
    mask = np.zeros(len(labels), dtype=bool)
    mask[test] = True
    if mask.all() or not mask.any():
        raise HwgenError(f"{path}: too few rows to keep a test set apart")
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def _scaling(train_x: np.ndarray) -> Scaling:
    """Each feature read as it is where its training values are integers of 0 or more, else as an 8-bit
    code over its training range."""
    x = np.asarray(train_x, dtype=np.float64)
    ranges = []
    for f in range(x.shape[1]):
        column = x[:, f]
        ranges.append(None if (column >= 0).all() and np.all(column == np.rint(column)) else
                      (float(column.min()), float(column.max())))
    return Scaling(ranges)
