"""A user's own data: files (.npz, .csv) in a config and arrays in Python, through to the RTL; bad data
gets one line."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
import yaml

from hwgen import encoding
from hwgen.data.files import load_file
from hwgen.errors import HwgenError


def wine_like(rows: int = 90, seed: int = 0):
    """Three classes told apart by float features of different ranges (one negative), one integer feature."""
    rng = np.random.default_rng(seed)
    y = np.arange(rows) % 3
    x = np.stack([y * 2.5 + rng.normal(0, 0.4, rows), -40 + 10 * y + rng.normal(0, 2, rows),
                  rng.normal(0, 1, rows), rng.integers(0, 7, rows) + 3 * y], axis=1)
    return x, np.array(["merlot", "shiraz", "tempranillo"])[y]


def write_csv(path, x, y, header=("alcohol", "acid", "noise", "count"), label="label"):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*header, label])
        for row, cls in zip(x, y):
            w.writerow([*row, cls])


def test_a_csv_with_named_classes_and_float_features(tmp_path):
    x, y = wine_like()
    write_csv(tmp_path / "wine.csv", x, y)
    d = load_file(tmp_path / "wine.csv", test_fraction=0.2, seed=1)
    assert d.class_names == ["merlot", "shiraz", "tempranillo"] and d.num_classes == 3
    assert len(d.train_y) + len(d.test_y) == 90 and len(d.test_y) == 18
    assert np.bincount(d.test_y).tolist() == [6, 6, 6]  # each class keeps a fifth apart
    # float features become 8-bit codes over their training range; the integer one is read as it is
    assert d.scaling.ranges[3] is None and all(r is not None for r in d.scaling.ranges[:3])
    assert d.train_x.min() >= 0 and d.train_x[:, :3].max() == 255 and d.train_x[:, :3].min() == 0
    assert set(np.unique(d.train_x[:, 3])) <= set(np.unique(x[:, 3]).astype(int))
    t = d.thresholds(3)
    assert t.shape == (4, 3) and (np.diff(t, axis=1) >= 0).all() and (t >= 1).all()
    bits = encoding.encode(d.train_x, t).reshape(len(d.train_x), 4, 3)
    assert 0.1 < bits[:, 0].mean() < 0.9  # quantiles: each threshold splits the data, not an empty band


def test_npz_with_its_own_test_set_and_class_names(tmp_path):
    x, y = wine_like()
    labels = np.searchsorted(np.unique(y), y)
    np.savez(tmp_path / "d.npz", train_x=x[:60], train_y=labels[:60], test_x=x[60:], test_y=labels[60:],
             class_names=np.array(["a", "b", "c"]))
    d = load_file(tmp_path / "d.npz")
    assert (len(d.train_y), len(d.test_y), d.class_names) == (60, 30, ["a", "b", "c"])
    assert np.array_equal(d.test_y, labels[60:])


def test_quantile_thresholds_split_each_feature_at_its_quantiles():
    x = np.array([[0, 5], [1, 5], [2, 5], [3, 5], [4, 5], [5, 5], [6, 5], [7, 5]])
    t = encoding.quantile_thresholds(x, 3)
    assert t[0].tolist() == [2, 4, 6]  # quarters of 0..7
    assert t[1].tolist() == [6, 6, 6]  # a constant feature: above its range, a constant bit


@pytest.mark.parametrize("make, message", [
    (lambda p: np.savez(p, x=np.array([[1.0, np.nan]] * 4), y=np.array([0, 1, 0, 1])), "NaN or infinite"),
    (lambda p: np.savez(p, x=np.ones((4, 2)), y=np.zeros(4, int)), "a single class"),
    (lambda p: np.savez(p, x=np.ones((4, 2)), y=np.array([0, 1])), "one label per row"),
    (lambda p: np.savez(p, x=np.ones((4, 2)), y=np.array(["a", "b", "a", "b"]), class_names=np.array(["x", "y"])),
     "class_names goes with integer labels"),
    (lambda p: np.savez(p, features=np.ones((4, 2))), "it needs x and y"),
    (lambda p: np.savez(p, x=np.ones((4, 3)), y=np.array([0, 1, 0, 1]), image_shape=np.array([2, 2])),
     "image_shape [2, 2] does not hold the 3 features"),
    (lambda p: p.with_suffix(".csv").write_text("a,b,label\n1,2,x\n3,y\n"), "line 3 has 2 fields"),
    (lambda p: p.with_suffix(".csv").write_text("a,b,label\n1,2,x\n3,red,y\n"), "\"b\": 'red' is not a number"),
    (lambda p: p.with_suffix(".csv").write_text("a,b,class\n1,2,x\n3,4,y\n"), "no column \"label\""),
])
def test_bad_data_gets_one_line(tmp_path, make, message):
    path = tmp_path / "d.npz"
    make(path)
    target = path if path.exists() else path.with_suffix(".csv")
    with pytest.raises(HwgenError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_file(target)


def test_a_config_trains_on_a_file_beside_it(tmp_path):
    """`dataset: wine.csv` (relative to the config, wherever hwgen runs from) trains, and the thresholds
    it learned are the hardened netlist's encoder."""
    x, y = wine_like()
    write_csv(tmp_path / "wine.csv", x, y)
    cfg = {"dataset": "wine.csv", "encoding": {"bits": 3}, "model": {"node": "lut", "k": 4, "layers": [60, 30]},
           "train": {"steps": 150, "lr": 0.05, "batch_size": 32, "threads": 1}}
    (tmp_path / "wine.yaml").write_text(yaml.safe_dump(cfg))
    run = subprocess.run([sys.executable, "-m", "hwgen.cli", "train", str(tmp_path / "wine.yaml"), "--out",
                          str(tmp_path / "out"), "--quiet"], capture_output=True, text=True, cwd="/")
    assert run.returncode == 0, run.stderr
    accuracy = float(run.stdout.split("hardened ")[1].split(";")[0])
    assert accuracy > 0.8  # three well-separated classes
    from hwgen.learn.harden import harden_checkpoint

    net = harden_checkpoint(tmp_path / "out" / "checkpoint.pt")
    d = load_file(tmp_path / "wine.csv", seed=0)
    assert np.array_equal(net.encoder, d.thresholds(3))
    # the CSV's column names name the input bits, through the exact passes and into explain's expressions
    assert net.input_names[:3] == [f"alcohol>={t}" for t in net.encoder[0]]
    net.save(tmp_path / "net.json")
    run = subprocess.run([sys.executable, "-m", "hwgen.cli", "simplify", str(tmp_path / "net.json"), "--out",
                          str(tmp_path / "small.json")], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    from hwgen.explain import explain
    from hwgen.netlist import load

    small = load(tmp_path / "small.json")
    assert small.input_names == net.input_names
    info = explain(small, outputs=[0], log=lambda *a: None)
    assert any(name in json.dumps(info) for name in ("alcohol>=", "acid>=", "count>="))
    cfg["dataset"] = "missing.csv"
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(cfg))
    run = subprocess.run([sys.executable, "-m", "hwgen.cli", "train", str(tmp_path / "bad.yaml"), "--out",
                          str(tmp_path / "bad")], capture_output=True, text=True)
    assert run.returncode == 2 and "missing.csv: no such data file" in run.stderr


def test_the_estimator_fits_predicts_and_its_rtl_agrees(tmp_path):
    """fit / predict / score on arrays with string labels; the hardened circuit's predictions are what
    the RTL gives, fed the codes the estimator says it reads."""
    from hwgen.learn.estimator import LogicClassifier

    x, y = wine_like(120, seed=2)
    clf = LogicClassifier(layers=[60, 30], bits=3, steps=200, lr=0.05, batch_size=32, threads=1).fit(x[:90], y[:90])
    assert set(clf.classes_) == {"merlot", "shiraz", "tempranillo"}
    assert clf.score(x[90:], y[90:]) > 0.8
    assert set(clf.predict(x[90:])) <= set(clf.classes_)
    clf.simplify()
    clf.emit(tmp_path / "rtl")
    result = clf.simulate(tmp_path / "rtl", x[90:], "icarus")
    assert result["mismatches"] == 0 and result["vectors"] == 30
    assert np.array_equal(clf.classes_[np.array(result["classes"])], clf.predict(x[90:]))
    with pytest.raises(HwgenError, match="expected X of shape"):
        clf.predict(x[:, :2])
