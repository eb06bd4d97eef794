"""Data sets as raw integer features: (N, F) arrays plus labels, split into train and test."""

from dataclasses import dataclass, replace

import numpy as np

from ..errors import HwgenError


@dataclass
class Dataset:
    name: str
    train_x: np.ndarray  # (N, F) integers in 0..max_value
    train_y: np.ndarray  # (N,) class indices
    test_x: np.ndarray
    test_y: np.ndarray
    max_value: int
    num_classes: int
    image_shape: tuple | None = None  # (height, width) when each sample is an image, row-major
    class_names: list | None = None   # a user's data set (files.py): each class's name
    scaling: object = None            # and how its features became integers (files.Scaling)
    feature_names: list | None = None  # and each feature's name (a CSV's header, an .npz's feature_names)

    def input_names(self, thresholds: np.ndarray) -> list | None:
        """Each input bit's name, "age>=37", where the features have names."""
        from ..encoding import bit_names

        return None if self.feature_names is None else bit_names(thresholds, self.feature_names)

    @property
    def from_file(self) -> bool:
        return self.scaling is not None

    def thresholds(self, bits: int, kind: str = "auto") -> np.ndarray:
        """The encoder's (F, bits) thresholds. uniform: bands of equal width over 0..max_value; quantile: the
        training data's quantiles per feature (DWN's distributive thermometer: each bit splits the data
        evenly); auto: uniform for a built-in data set, quantile for a user's (features of any range and spread)."""
        from .. import encoding

        if kind == "quantile" or (kind == "auto" and self.from_file):
            return encoding.quantile_thresholds(self.train_x, bits)
        return encoding.uniform_thresholds(self.train_x.shape[1], bits, self.max_value)

    def hold_out(self, fraction: float, seed: int) -> "Dataset":
        """This data set with a random `fraction` of its training samples as its test set, the rest to train
        on: what a search scores its trials on, so that the test set stays unseen until the end."""
        order = np.random.default_rng(seed).permutation(len(self.train_y))
        cut = round(fraction * len(order))
        held, kept = np.sort(order[:cut]), np.sort(order[cut:])
        if not len(held) or not len(kept):
            raise HwgenError(f"data.validation {fraction} leaves no samples to train on or to score with")
        return replace(self, train_x=self.train_x[kept], train_y=self.train_y[kept], test_x=self.train_x[held],
                       test_y=self.train_y[held])


def load(name: str) -> Dataset:
    if name == "mnist":
        from .mnist import load_mnist
        return load_mnist()
    if name == "fashion-mnist":
        from .fashion_mnist import load_fashion_mnist
        return load_fashion_mnist()
    if name == "digits":
        from .digits import load_digits
        return load_digits()
    if name in ("monk1", "monk2", "monk3"):
        from .orange import load_monk
        return load_monk(int(name[-1]))
    if name == "adult":
        from .adult import load_adult
        return load_adult()
    if name == "breast-cancer":
        from .orange import load_breast_cancer
        return load_breast_cancer()
    raise HwgenError(f"unknown data set \"{name}\" (known: {', '.join(NAMES)})")


def from_config(cfg: dict) -> Dataset:
    """The data set a config names: a built-in one, or a user's file (.npz, .csv) with the config's `data`
    options; with data.validation, a share of its training set in place of its test set."""
    from .files import is_file, load_file

    d = cfg["data"]
    if is_file(cfg["dataset"]):
        data = load_file(cfg["dataset"], d["label"], d["test_fraction"], cfg["seed"], d["image_shape"] or None)
    else:
        data = load(cfg["dataset"])
    return data.hold_out(d["validation"], cfg["seed"]) if d["validation"] else data


NAMES = ("mnist", "fashion-mnist", "digits", "monk1", "monk2", "monk3", "breast-cancer", "adult")
IMAGE_SHAPES = {"mnist": (28, 28), "fashion-mnist": (28, 28), "digits": (8, 8)}  # the data sets of images
NUM_CLASSES = {"mnist": 10, "fashion-mnist": 10, "digits": 10, "monk1": 2, "monk2": 2, "monk3": 2, "breast-cancer": 2, "adult": 2}


def read_npz(path) -> dict:
    """Every array of an .npz file, loaded without unpickling (object arrays are refused), or one line."""
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return {k: arrays[k] for k in arrays.files}
    except FileNotFoundError:
        raise HwgenError(f"{path}: no such data file") from None
    except (OSError, ValueError) as e:
        raise HwgenError(f"{path}: not a readable .npz of plain arrays ({e})") from None


def read_npy(path, what: str) -> np.ndarray:
    """An .npy file's array, loaded without unpickling, or one line naming it as `what`."""
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise HwgenError(f"{path}: no such {what} file") from None
    except (OSError, ValueError) as e:
        raise HwgenError(f"{path}: not a readable .npy array ({e})") from None


def user_data(source: str, net) -> Dataset:
    """Training and test inputs for data-aware folding: a data set by name, or a user's .npz holding train_x,
    test_x and test_y (raw integer features when the netlist has an encoder, else 0/1 input bits). Loading
    it never unpickles: object arrays are refused."""
    from pathlib import Path

    if source in NAMES:
        return load(source)
    path = Path(source)
    if path.suffix != ".npz":
        raise HwgenError(f"--data must be a data set ({', '.join(NAMES)}) or an .npz file, got {source!r}")
    arrays = read_npz(path)
    found = {k: arrays[k] for k in ("train_x", "test_x", "test_y") if k in arrays}
    missing = [k for k in ("train_x", "test_x", "test_y") if k not in found]
    if missing:
        raise HwgenError(f"{path} lacks {', '.join(missing)} (train_x, test_x and test_y are needed)")
    width = net.encoder.shape[0] if net.encoder is not None else net.num_inputs
    for key in ("train_x", "test_x"):
        x = found[key]
        if x.ndim != 2 or x.shape[1] != width or not np.issubdtype(x.dtype, np.integer) and x.dtype != bool:
            what = "raw integer features" if net.encoder is not None else "0/1 input bits"
            raise HwgenError(f"{path}: {key} must be an (N, {width}) array of {what}, got {x.dtype} {x.shape}")
        if net.encoder is None and ((x < 0) | (x > 1)).any():
            raise HwgenError(f"{path}: {key} must hold input bits (0 or 1): the netlist has no encoder")
    if len(found["test_y"]) != len(found["test_x"]):
        raise HwgenError(f"{path}: test_y has {len(found['test_y'])} labels for {len(found['test_x'])} test inputs")
    return Dataset(path.stem, found["train_x"], np.zeros(len(found["train_x"]), np.int64), found["test_x"],
                   found["test_y"].astype(np.int64), max_value=int(found["train_x"].max(initial=1)),
                   num_classes=net.num_classes)
