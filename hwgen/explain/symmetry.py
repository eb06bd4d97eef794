"""Symmetry and counting, exactly, from the netlist alone: per output, the largest set of inputs in which
it is symmetric (so it depends only on how many of them are 1), and for each assignment of the other
inputs, the counts for which it is 1.

The proof is the output's whole truth table over the inputs it reads, evaluated bit-parallel, so it is
exact and bounded by MAX_SUPPORT inputs (2**20 rows); a larger support is reported as beyond the analysis.
Swapping two inputs is an equivalence relation over symmetric pairs (a swap of i and k is the swaps
(i j)(j k)(i j)), so the symmetric sets are the classes of the pairs found symmetric.
"""

import dataclasses
import itertools

import numpy as np

from ..golden import evaluate
from ..netlist import Netlist
from ..rewrite.dce import dce

MAX_SUPPORT = 20
MAX_OTHERS = 8  # ones_when lists 2**others assignments


def restricted(net: Netlist, output: int, inputs: list) -> Netlist:
    """Output `output` alone, over `inputs` only (a netlist whose input j is inputs[j]); inputs it reads
    without depending on them become input 0."""
    cone = dce(dataclasses.replace(net, outputs=net.outputs[[output]], num_classes=1))
    s, n = len(inputs), net.num_inputs
    remap = np.zeros(cone.num_nodes, dtype=np.int64)
    remap[inputs] = np.arange(s)
    remap[n:] = max(s, 1) + np.arange(cone.num_gates)  # with no input read, gates follow input 0
    lut_inputs = None
    if cone.has_luts:
        lut_inputs = np.where(cone.lut_inputs >= 0, remap[np.maximum(cone.lut_inputs, 0)], -1)
    return Netlist(max(s, 1), cone.ops, remap[cone.a], remap[cone.b], remap[cone.outputs], 1, None, lut_inputs,
                   cone.lut_tables)


def truth_table(net: Netlist, output: int, inputs: list) -> np.ndarray:
    """Output `output`'s value on every assignment of `inputs` (it must read no other input), as a bool
    array with one axis per input, in their order."""
    sub = restricted(net, output, inputs)
    rows = np.arange(1 << len(inputs))
    bits = (rows[:, None] >> (len(inputs) - 1 - np.arange(max(len(inputs), 1)))) & 1  # input 0: the top bit
    return evaluate.scores(sub, bits.astype(bool))[:, 0].astype(bool).reshape((2,) * len(inputs))


def depends(table: np.ndarray, axis: int) -> bool:
    return not np.array_equal(np.take(table, 0, axis=axis), np.take(table, 1, axis=axis))


def symmetric_sets(table: np.ndarray) -> list:
    """The classes of inputs (axes) in which the table is symmetric, largest first (ties: first axis)."""
    n = table.ndim
    parent = list(range(n))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in itertools.combinations(range(n), 2):
        if root(i) != root(j) and np.array_equal(table, np.swapaxes(table, i, j)):
            parent[root(j)] = root(i)
    classes = {}
    for i in range(n):
        classes.setdefault(root(i), []).append(i)
    return sorted(classes.values(), key=lambda c: (-len(c), c[0]))


def analyse(net: Netlist, output: int, support: list, names: list) -> dict:
    """The symmetry record of one output (see docs/explain-format.md)."""
    record = {"inputs": [names[i] for i in support]}
    if len(support) > MAX_SUPPORT:
        record["note"] = f"reads {len(support)} inputs: beyond the exact analysis (at most {MAX_SUPPORT})"
        return record
    table = truth_table(net, output, support)
    used = [j for j in range(table.ndim) if depends(table, j)]
    for j in sorted(set(range(table.ndim)) - set(used), reverse=True):
        table = np.take(table, 0, axis=j)
    inputs = [support[j] for j in used]
    record["inputs"] = [names[i] for i in inputs]
    if not inputs:
        record["constant"] = int(table)
        return record
    sym = symmetric_sets(table)[0]
    if len(sym) < 2:
        record.update(symmetric_in=[], others=record["inputs"])
        return record
    others = [j for j in range(table.ndim) if j not in sym]
    record["symmetric_in"] = [names[inputs[j]] for j in sym]
    record["others"] = [names[inputs[j]] for j in others]
    if len(others) > MAX_OTHERS:
        record["note"] = f"{len(others)} other inputs: ones_when would list 2**{len(others)} cases"
        return record
    ordered = np.transpose(table, others + sym).reshape(2 ** len(others), 2 ** len(sym))
    # the row of each count: the first `count` symmetric inputs 1 (the first axis is the top bit)
    index = [sum(1 << (len(sym) - 1 - t) for t in range(count)) for count in range(len(sym) + 1)]
    ones_when = {}
    for row, assignment in enumerate(itertools.product([0, 1], repeat=len(others))):
        key = ",".join(f"{name}={value}" for name, value in zip(record["others"], assignment))
        ones_when[key] = [count for count in range(len(sym) + 1) if ordered[row, index[count]]]
    record["ones_when"] = ones_when
    return record
