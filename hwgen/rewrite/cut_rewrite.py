"""Cut rewriting: replace a gate's cone over a small cut (up to cut_size <= 4 leaves) by the smallest circuit of
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

from .. import ops
from ..builder import FALSE, Builder, add_node
from ..errors import HwgenError
from ..native import load_library
from ..netlist import Netlist
from . import exact4
from .dce import dce

SOURCE = Path(__file__).with_name("cut_kernel.c")
MAX_CUT_SIZE = 4  # cut_kernel.c's Cut holds 4 leaves, and the exact table covers 4-input functions


def _kernel():
    ptr = lambda t: np.ctypeslib.ndpointer(t, flags="C_CONTIGUOUS")  # noqa: E731
    i64 = ctypes.c_int64
    return load_library(SOURCE, {
        "hwgen_cut_gains": ([ptr(np.uint8), ptr(np.int32), ptr(np.int32), i64, i64, ptr(np.int32), ptr(np.uint8),
                             i64, i64, ptr(np.int32), ptr(np.int32), ptr(np.uint16)], ctypes.c_int),
        "hwgen_cuts": ([ptr(np.uint8), ptr(np.int32), ptr(np.int32), i64, i64, i64, i64, ptr(np.int32),
                        ptr(np.uint16), ptr(np.int32)], ctypes.c_int)})


def _gate_arrays(net: Netlist) -> tuple:
    return (np.ascontiguousarray(net.ops, dtype=np.uint8), np.ascontiguousarray(net.a, dtype=np.int32),
            np.ascontiguousarray(net.b, dtype=np.int32))


def enumerate_cuts(net: Netlist, cuts_per_node: int, cut_size: int = MAX_CUT_SIZE) -> list:
    """Per node, its cuts as (leaves, table) from the C engine: the node itself, then up to cuts_per_node - 1
    merges of its inputs' cuts (fewer leaves first, then by the leaves), leaves a sorted tuple of up to
    cut_size node ids and the table a 16-bit truth table over 4 variables (variable j is leaves[j]). A LUT
    node has only its own cut."""
    nodes, p = net.num_nodes, cuts_per_node
    leaves = np.zeros(nodes * p * 4, dtype=np.int32)
    tables = np.zeros(nodes * p, dtype=np.uint16)
    counts = np.zeros(nodes, dtype=np.int32)
    if _kernel().hwgen_cuts(*_gate_arrays(net), net.num_inputs, net.num_gates, p, cut_size, leaves, tables, counts):
        raise HwgenError("cut enumeration ran out of memory")
    leaves, tables = leaves.reshape(nodes, p, 4).tolist(), tables.reshape(nodes, p).tolist()
    return [[(tuple(v for v in leaves[node][k] if v >= 0), tables[node][k]) for k in range(count)]
            for node, count in enumerate(counts.tolist())]


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


def choose_rewrites(net: Netlist, table, cut_size: int, cuts_per_node: int) -> dict:
    """{gate node: (leaves, truth table)}: the gates to rebuild from their cut, chosen from the outputs down."""
    n_gates = net.num_gates
    refs = net.fanout_counts()
    gain = np.zeros(n_gates, dtype=np.int32)
    leaves = np.zeros(4 * n_gates, dtype=np.int32)
    tts = np.zeros(n_gates, dtype=np.uint16)
    status = _kernel().hwgen_cut_gains(*_gate_arrays(net), net.num_inputs, n_gates, refs, table.cost, cuts_per_node,
                                       cut_size, gain, leaves, tts)
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
            signals.append(builder.gate(ops.XOR, signals[i], signals[j]))
        else:
            signals.append(builder.gate(ops.AND, signals[i] ^ (kind & 1), signals[j] ^ (kind >> 1 & 1)))
    return (FALSE if out < 0 else signals[out]) ^ inverted


def cut(net: Netlist, cut_size: int = MAX_CUT_SIZE, cuts_per_node: int = 8) -> tuple[Netlist, dict]:
    """The pass (rewrite.PASSES["cut"]): up to cuts_per_node cuts of at most cut_size leaves per gate.
    Statistics: the rewrites chosen, and whether the result was kept (it is only when smaller)."""
    if not 2 <= cut_size <= MAX_CUT_SIZE or cuts_per_node < 1:
        raise HwgenError(f"cut: cut_size must be in 2..{MAX_CUT_SIZE} and cuts_per_node at least 1, got "
                         f"{cut_size} and {cuts_per_node}")
    table = exact4.table()
    chosen = choose_rewrites(net, table, cut_size, cuts_per_node)
    if not chosen:
        return net, {"rewrites": 0, "kept": False}
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
    kept = result.num_gates < net.num_gates
    return (result if kept else net), {"rewrites": len(chosen), "kept": kept}
