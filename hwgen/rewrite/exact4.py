"""The smallest circuit of two-input gates for each function of up to 4 inputs that needs at most 4 gates.

Found once by enumerating every circuit of up to 4 gates, then cached on disk. Inverters are free in a
netlist (any of the 16 ops is one gate), so a gate is an AND with any input polarities or an XOR, and a
function costs what its complement costs. Functions that need more than 4 gates have cost UNKNOWN:
cut rewriting leaves them as they are.

A truth table is 16 bits over the leaves x0..x3 (bit m is f at x_i = bit i of m). A circuit's signals
are x0..x3 then its gates in order; `out` is the signal it outputs (-1: the constant FALSE), `inverted`
says whether the output is complemented.
"""

import hashlib
from pathlib import Path

import numpy as np

from ..errors import HwgenError
from ..files import atomic_path, cache_dir

VARS = (0xAAAA, 0xCCCC, 0xF0F0, 0xFF00)
MASK = 0xFFFF
MAX_GATES = 4
UNKNOWN = 255
XOR_KIND = 4  # kinds 0..3: AND with input a inverted when bit 0 is set, input b when bit 1 is


def apply_kind(kind, x, y):
    """A gate kind on truth tables (ints or numpy arrays)."""
    if kind == XOR_KIND:
        return x ^ y
    return (x ^ (MASK if kind & 1 else 0)) & (y ^ (MASK if kind & 2 else 0))


class ExactTable:
    def __init__(self, cost, gates, out, inverted):
        self.cost, self.gates, self.out, self.inverted = cost, gates, out, inverted

    def circuit(self, tt: int):
        """(gates as (kind, i, j) tuples, out, inverted) for a truth table of known cost."""
        n = int(self.cost[tt])
        return [tuple(int(v) for v in g) for g in self.gates[tt, :n]], int(self.out[tt]), int(self.inverted[tt])


def _enumerate() -> ExactTable:
    cost = np.full(1 << 16, UNKNOWN, dtype=np.uint8)
    gates = np.zeros((1 << 16, MAX_GATES, 3), dtype=np.int8)
    out = np.full(1 << 16, -1, dtype=np.int8)
    inverted = np.zeros(1 << 16, dtype=np.uint8)
    cost[0] = cost[MASK] = 0
    inverted[MASK] = 1
    for k, v in enumerate(VARS):
        for neg in (0, 1):
            cost[v ^ (MASK * neg)], out[v ^ (MASK * neg)], inverted[v ^ (MASK * neg)] = 0, k, neg

    def record(f, circuit):
        for neg in (0, 1):
            g = f ^ (MASK * neg)
            if cost[g] == UNKNOWN:
                cost[g], out[g], inverted[g] = len(circuit), 3 + len(circuit), neg
                gates[g, :len(circuit)] = circuit

    # Circuits of 1..3 gates one by one (about 80k); a gate that repeats a signal or its complement,
    # or is constant, is never part of a smallest circuit.
    level = [(VARS, ())]
    for _ in range(MAX_GATES - 1):
        following = []
        for signals, circuit in level:
            for i in range(len(signals)):
                for j in range(i + 1, len(signals)):
                    for kind in range(5):
                        f = apply_kind(kind, signals[i], signals[j])
                        if f in (0, MASK) or f in signals or f ^ MASK in signals:
                            continue
                        extended = circuit + ((kind, i, j),)
                        record(f, extended)
                        following.append((signals + (f,), extended))
        level = following
    # The last gate over all of them at once.
    signals = np.array([s for s, _ in level], dtype=np.int64)
    for kind in range(5):
        for i in range(signals.shape[1]):
            for j in range(i + 1, signals.shape[1]):
                f = apply_kind(kind, signals[:, i], signals[:, j])
                for neg in (0, 1):
                    g = f ^ (MASK * neg)
                    new, first = np.unique(g, return_index=True)
                    keep = cost[new] == UNKNOWN
                    for tt, c in zip(new[keep].tolist(), first[keep].tolist()):
                        cost[tt], out[tt], inverted[tt] = MAX_GATES, 3 + MAX_GATES, neg
                        gates[tt] = level[c][1] + ((kind, i, j),)
    return ExactTable(cost, gates, out, inverted)


_table = None


def table() -> ExactTable:
    """The table, from the cache (keyed by this file's source) or enumerated (well under a second) and cached."""
    global _table
    if _table is None:
        key = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
        cache = cache_dir() / f"exact4-{key}.npz"
        try:
            with np.load(cache) as f:
                _table = ExactTable(f["cost"], f["gates"], f["out"], f["inverted"])
        except (OSError, KeyError, ValueError):
            _table = _enumerate()
            try:
                with atomic_path(cache) as tmp:
                    with open(tmp, "wb") as f:
                        np.savez(f, cost=_table.cost, gates=_table.gates, out=_table.out, inverted=_table.inverted)
            except (OSError, HwgenError):
                pass  # an unwritable cache only costs the enumeration next time
    return _table
