"""The flow on arrays, as people work in notebooks: a scikit-learn-style estimator.

    from hwgen.learn.estimator import LogicClassifier
    clf = LogicClassifier(layers=[300, 60], bits=4, steps=1500).fit(X_train, y_train)
    clf.score(X_test, y_test)            # the hardened circuit's accuracy: what the RTL computes
    clf.simplify()                       # exact rewriting, proven equivalent by ABC
    clf.emit("rtl")                      # RTL: rtl/dlgn.v, rtl/dlgn.json
    clf.simulate("rtl", X_test)          # cocotb against the circuit, bit for bit
    clf.synthesize("rtl")                # yosys + nextpnr: LUTs, FFs, Fmax

Features are numbers (float or integer) and labels integers or strings, as for a data file
(hwgen/data/files.py): integer features of 0 or more are read as they are, any other as an 8-bit code
over its training range (`codes`), and the encoder's thresholds are the training data's quantiles. The
RTL reads the codes: `codes(X)` gives them for new inputs.
"""

import tempfile
from pathlib import Path

import numpy as np

from ..data.files import from_arrays
from ..errors import HwgenError
from ..flow.config import DEFAULTS, from_dict

PLACEHOLDER = "arrays.npz"  # the config's dataset: the arrays given to fit


class LogicClassifier:
    """A logic network trained on arrays and hardened into a circuit. Keyword arguments are `model.*`
    keys of a config (layers, node, k, tau, candidates, conv, ...) plus bits (encoding.bits), steps, lr,
    batch_size, threads, seed, image_shape (features that are pixels) and train (more `train.*` keys)."""

    def __init__(self, layers=(300, 60), node="lut", k=4, tau=3.0, bits=4, steps=2000, lr=0.02, batch_size=64,
                 threads=0, seed=0, image_shape=None, train=None, **model):
        self.params = {"layers": list(layers), "node": node, "k": k, "tau": tau, **model}
        self.bits, self.seed, self.image_shape = bits, seed, image_shape
        self.train_params = {"steps": steps, "lr": lr, "batch_size": batch_size, "threads": threads,
                             "eval_every": steps, "checkpoint_every": steps, **(train or {})}

    def config(self) -> dict:
        """The config this estimator trains with (the same keys `hwgen build` takes)."""
        return from_dict({"dataset": PLACEHOLDER, "seed": self.seed, "encoding": {"bits": self.bits},
                          "model": self.params, "train": self.train_params}, "LogicClassifier")

    def fit(self, X, y, X_test=None, y_test=None, progress: bool = False):
        """Train, then harden: `netlist_` is the circuit. The accuracy printed while training is on
        (X_test, y_test) where given, else on the training data."""
        from .harden import harden_checkpoint
        from .train import CHECKPOINT, train

        if X_test is None:  # every row trains; the progress lines report the training accuracy
            X_test, y_test = X, y
        arrays = {"train_x": X, "train_y": y, "test_x": X_test, "test_y": y_test}
        self.data_ = from_arrays(arrays, "the arrays given to fit", image_shape=self.image_shape)
        cfg = self.config()
        with tempfile.TemporaryDirectory(prefix="hwgen-fit-") as work:
            self.metrics_ = train(cfg, work, progress=progress, data=self.data_)
            self.netlist_ = harden_checkpoint(Path(work) / CHECKPOINT)
        names = self.data_.class_names  # string labels come back as themselves, integer labels as integers
        self.classes_ = np.array(names) if np.asarray(y).dtype.kind in "US" else np.arange(len(names))
        return self

    def _fitted(self):
        if not hasattr(self, "netlist_"):
            raise HwgenError("this LogicClassifier is not fitted yet: call fit(X, y) first")

    def codes(self, X) -> np.ndarray:
        """What the RTL's input port reads for X: each feature's integer (or its 8-bit code)."""
        self._fitted()
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.data_.train_x.shape[1]:
            raise HwgenError(f"expected X of shape (N, {self.data_.train_x.shape[1]}), got {X.shape}")
        return self.data_.scaling.codes(X)

    def predict(self, X) -> np.ndarray:
        """The class the hardened circuit gives each row: bit for bit what the RTL gives."""
        from ..golden import evaluate

        bits = evaluate.encode_features(self.netlist_, self.codes(X))
        return self.classes_[evaluate.predict_from_scores(evaluate.scores(self.netlist_, bits))]

    def score(self, X, y) -> float:
        return float(np.mean(self.predict(X) == np.asarray(y)))

    def simplify(self, verify: bool = True):
        """Exact rewriting (the default passes), proven equivalent by ABC where `verify`."""
        from ..convnet import ConvNetlist
        from ..rewrite.flow import simplify, simplify_conv

        self._fitted()
        if isinstance(self.netlist_, ConvNetlist):
            self.netlist_, _ = simplify_conv(self.netlist_, verify=verify)
        else:
            self.netlist_ = simplify(self.netlist_, verify=verify).exact
        return self

    def emit(self, out_dir, **options) -> dict:
        """RTL into out_dir (hwgen.emit.verilog.emit's options: name, backend, pipeline, freq_mhz, target)."""
        from ..emit.verilog import emit

        self._fitted()
        return emit(self.netlist_, out_dir, **options)

    def simulate(self, rtl_dir, X, simulator: str = DEFAULTS["sim"]["simulator"], **options) -> dict:
        """The RTL in rtl_dir on X, every output compared with the circuit (hwgen.simulation.simulate)."""
        from ..simulation import simulate

        return simulate(rtl_dir, self.netlist_, self.codes(X), simulator, **options)

    def synthesize(self, rtl_dir, **options) -> dict:
        """yosys + nextpnr on the RTL in rtl_dir (hwgen.synthesis.synthesize's options)."""
        from ..synthesis import synthesize

        return synthesize(rtl_dir, **options)
