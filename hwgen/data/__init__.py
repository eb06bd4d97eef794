"""Data sets as raw integer features: (N, F) arrays plus labels, split into train and test."""

from dataclasses import dataclass

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


NAMES = ("mnist", "fashion-mnist", "digits", "monk1", "monk2", "monk3", "breast-cancer", "adult")
NUM_CLASSES = {"mnist": 10, "fashion-mnist": 10, "digits": 10, "monk1": 2, "monk2": 2, "monk3": 2, "breast-cancer": 2, "adult": 2}
