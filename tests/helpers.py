"""Shared test helpers: random netlists and a slow, obviously-correct reference evaluator."""

import numpy as np

from hwgen import ops
from hwgen.netlist import Netlist


def random_netlist(seed: int, num_inputs: int = 12, num_gates: int = 200, num_classes: int = 3,
                   per_class: int = 5, window: int = 40) -> Netlist:
    """Gates read mostly recent nodes (layer-like) and sometimes any earlier node (skip connections);
    outputs may repeat a node."""
    rng = np.random.default_rng(seed)
    gates = []
    for g in range(num_gates):
        node = num_inputs + g
        lo = 0 if rng.random() < 0.2 else max(0, node - window)
        gates.append([int(rng.integers(16)), int(rng.integers(lo, node)), int(rng.integers(lo, node))])
    outputs = rng.integers(max(0, num_inputs + num_gates - 3 * window), num_inputs + num_gates,
                           size=num_classes * per_class)
    net = Netlist.from_gates(num_inputs, gates, outputs, num_classes)
    net.validate()
    return net


def reference_scores(net: Netlist, bits: np.ndarray) -> np.ndarray:
    """One sample at a time, one gate at a time, straight from the contract."""
    out = []
    for row in bits.astype(int):
        values = list(row)
        for op, a, b in zip(net.ops.tolist(), net.a.tolist(), net.b.tolist()):
            values.append(ops.apply(op, values[a], values[b]))
        o = [values[k] for k in net.outputs.tolist()]
        m = net.outputs_per_class
        out.append([sum(o[c * m:(c + 1) * m]) for c in range(net.num_classes)])
    return np.array(out, dtype=np.int64)


def random_bits(num_inputs: int, count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, size=(count, num_inputs)).astype(bool)
