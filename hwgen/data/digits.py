"""scikit-learn's bundled 8x8 digits (1,797 images, pixel values 0..16): a fixed 80/20 split."""

import numpy as np

from . import IMAGE_SHAPES, Dataset


def load_digits() -> Dataset:
    from sklearn.datasets import load_digits as sklearn_digits

    d = sklearn_digits()
    x, y = d.data.astype(np.uint8), d.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(y))  # fixed split, independent of the training seed
    test, train = order[:360], order[360:]
    return Dataset("digits", x[train], y[train], x[test], y[test], max_value=16, num_classes=10,
                   image_shape=IMAGE_SHAPES["digits"])
