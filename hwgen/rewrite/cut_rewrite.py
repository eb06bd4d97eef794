"""Cut rewriting: replace a gate's cone over a small cut (up to 4 leaves) by the smallest circuit of
two-input gates for the same function, where that saves gates (as ABC `rewrite` and mockturtle
`cut_rewriting` do, over all 16 two-input functions rather than AND/XOR).

The C kernel (cut_kernel.c) enumerates cuts and scores each gate's best rewrite. Rewrites are then
chosen from the outputs down, skipping gates that die with an already chosen one, and the netlist is
rebuilt with hashing (a new circuit reuses existing gates where it can) and dead-gate removal. A
result that is not smaller is discarded, so the pass never grows a netlist.
"""

import ctypes
from pathlib import Path

import numpy as np

from ..builder import FALSE, Builder, add_node
from ..errors import HwgenError
from ..native import load_library
from ..netlist import Netlist
from . import exact4
from .dce import dce

SOURCE = Path(__file__).with_name("cut_kernel.c")
CUTS_PER_NODE = 8


def _kernel():
    ptr = lambda t: np.ctypeslib.ndpointer(t, flags="C_CONTIGUOUS")  # noqa: E731
    return load_library(SOURCE, {"hwgen_cut_gains": (
        [ptr(np.uint8), ptr(np.int32), ptr(np.int32), ctypes.c_int64, ctypes.c_int64, ptr(np.int32), ptr(np.uint8),
         ctypes.c_int64, ptr(np.int32), ptr(np.int32), ptr(np.uint16)], ctypes.c_int)})


def _dying_gates(net: Netlist, root: int, leaves: set, refs: list) -> list:
    """The gates that lose their last reader when `root` is replaced (refs updated for good)."""
    dead, stack = [], [root]
    while stack:
        node = stack.pop()
        dead.append(node)
        k = node - net.num_inputs
        for child in (int(net.a[k]), int(net.b[k])):
            if child >= net.num_inputs and child not in leaves:
                refs[child] -= 1
                if refs[child] == 0:
                    stack.append(child)
    return dead


def choose_rewrites(net: Netlist, table) -> dict:
    """{gate node: (leaves, truth table)}: the gates to rebuild from their cut, chosen from the outputs down."""
    n_gates = net.num_gates
    refs = net.fanout_counts()
    gain = np.zeros(n_gates, dtype=np.int32)
    leaves = np.zeros(4 * n_gates, dtype=np.int32)
    tts = np.zeros(n_gates, dtype=np.uint16)
    status = _kernel().hwgen_cut_gains(
        np.ascontiguousarray(net.ops, dtype=np.uint8), np.ascontiguousarray(net.a, dtype=np.int32),
        np.ascontiguousarray(net.b, dtype=np.int32), net.num_inputs, n_gates, refs, table.cost,
        CUTS_PER_NODE, gain, leaves, tts)
    if status != 0:
        raise HwgenError("the cut pass ran out of memory")
    refs, gone, chosen = refs.tolist(), set(), {}
    for g in np.flatnonzero(gain > 0)[::-1].tolist():
        node = net.num_inputs + g
        if node in gone:
            continue
        cut = [v for v in leaves[4 * g: 4 * g + 4].tolist() if v >= 0]
        gone.update(_dying_gates(net, node, set(cut), refs))
        chosen[node] = (cut, int(tts[g]))
    return chosen


def _build_circuit(builder: Builder, table, tt: int, leaf_lits: list) -> int:
    gates, out, inverted = table.circuit(tt)
    signals = leaf_lits + [FALSE] * (4 - len(leaf_lits))
    for kind, i, j in gates:
        if kind == exact4.XOR_KIND:
            signals.append(builder.gate(6, signals[i], signals[j]))
        else:
            signals.append(builder.gate(1, signals[i] ^ (kind & 1), signals[j] ^ (kind >> 1 & 1)))
    return (FALSE if out < 0 else signals[out]) ^ inverted


def cut(net: Netlist) -> Netlist:
    table = exact4.table()
    chosen = choose_rewrites(net, table)
    if not chosen:
        return net
    builder = Builder(net.num_inputs, hashing=True)
    lits = [2 * i for i in range(net.num_inputs)]
    for k in range(net.num_gates):
        node = net.num_inputs + k
        if node in chosen:
            leaves, tt = chosen[node]
            lits.append(_build_circuit(builder, table, tt, [lits[v] for v in leaves]))
        else:
            lits.append(add_node(builder, net, k, lits))
    result = dce(builder.finish([lits[o] for o in net.outputs.tolist()], net.num_classes, net.encoder))
    return result if result.num_gates < net.num_gates else net
