"""Data-aware folding (lossy, opt-in): don't-cares taken from the training inputs.

A gate whose value is the same on all but a `rare_fraction` of the training samples becomes that
constant, and so does a gate whose value never reaches an output on any of them (observability is
propagated backwards one path at a time, so reconvergent paths make it an estimate). The exact passes
then clean up. The result is not equivalent to its input: the pass measures its test accuracy and refuses
it when it loses more than allowed (`accuracy_guard`).
"""

import numpy as np

from .. import ops, tables
from ..errors import HwgenError
from ..golden import evaluate
from ..netlist import LUT, MAX_LUT_INPUTS, Netlist

CHUNK_WORDS = 256  # samples are processed 64 * CHUNK_WORDS at a time


def _popcount(words: np.ndarray) -> np.ndarray:
    return np.unpackbits(words.view(np.uint8), axis=-1).sum(axis=-1, dtype=np.int64)


def _observed(net: Netlist, values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Per node: does its value reach an output on some sample of this chunk (valid: the real samples)?"""
    obs = np.zeros_like(values)
    obs[net.outputs] = valid
    anf = evaluate.ANF
    for k in range(net.num_gates - 1, -1, -1):
        reach = obs[net.num_inputs + k]
        if not reach.any():
            continue
        if net.ops[k] == LUT:  # flipping input j flips f where its two cofactors in j differ
            _, table, fanin = net.node(k)
            for j, x in enumerate(fanin):
                rest = [values[y] for m, y in enumerate(fanin) if m != j]
                cofactors = [evaluate.lut_words(tables.cofactor(table, len(fanin), j, v), rest) for v in (0, 1)]
                obs[x] |= reach & (cofactors[0] ^ cofactors[1])
            continue
        op, a, b = int(net.ops[k]), int(net.a[k]), int(net.b[k])
        # f(a, b) = c0 ^ c1 a ^ c2 b ^ c3 a b: flipping a flips f where c1 ^ c3 b is set (likewise b).
        obs[a] |= reach & (anf[1, op] ^ (anf[3, op] & values[b]))
        obs[b] |= reach & (anf[2, op] ^ (anf[3, op] & values[a]))
    return obs.any(axis=1)


def fold_dont_cares(net: Netlist, bits: np.ndarray, rare_fraction: float) -> tuple[Netlist, dict]:
    """The netlist with its near-constant and unobserved gates made constant (before any clean-up)."""
    if not 0 <= rare_fraction < 0.5:
        raise HwgenError(f"rare_fraction must be in [0, 0.5), got {rare_fraction}")
    packed = evaluate.pack(bits)
    n = bits.shape[0]
    schedule = evaluate.Schedule(net)
    ones = np.zeros(net.num_nodes, dtype=np.int64)
    observed = np.zeros(net.num_nodes, dtype=bool)
    for w0 in range(0, packed.shape[1], CHUNK_WORDS):
        chunk = packed[:, w0:w0 + CHUNK_WORDS]
        valid = np.full(chunk.shape[1], evaluate.ALL_ONES)
        samples = min(64 * chunk.shape[1], n - 64 * w0)
        if samples % 64:
            valid[-1] = np.uint64((1 << (samples % 64)) - 1)
        values = schedule.run(chunk) & valid
        ones += _popcount(values)
        observed |= _observed(net, values, valid)
    gates = slice(net.num_inputs, None)
    majority = ones[gates] * 2 > n
    rare = np.minimum(ones[gates], n - ones[gates]) <= rare_fraction * n
    fold = rare | ~observed[gates]
    folded_ops = net.ops.copy()
    lut = folded_ops == LUT
    folded_ops[fold & ~lut] = np.where(majority[fold & ~lut], ops.TRUE, ops.FALSE)
    lut_tables = None
    if net.has_luts:  # a LUT node becomes constant through its table: all ones or all zeros
        lut_tables = net.lut_tables.copy()
        lut_tables[fold & lut] = np.where(majority[fold & lut], ~np.uint64(0), np.uint64(0))
        arity = (net.lut_inputs >= 0).sum(axis=1)
        full = (np.uint64(1) << (np.uint64(1) << np.minimum(arity, 5).astype(np.uint64))) - np.uint64(1)
        lut_tables &= np.where(arity == MAX_LUT_INPUTS, ~np.uint64(0), full)  # 2**64 bits: the whole word
    folded = net.with_gates(folded_ops, net.a, net.b, net.outputs, net.lut_inputs, lut_tables)
    return folded, {"rare_fraction": rare_fraction, "near_constant": int(rare.sum()),
                    "unobserved": int((~observed[gates] & ~rare).sum())}


def accuracy_guard(exact_accuracy: float, lossy_accuracy: float, max_drop_points: float):
    drop = 100 * (exact_accuracy - lossy_accuracy)
    if drop > max_drop_points:
        raise HwgenError(f"data-aware simplification loses {drop:.2f} points of test accuracy "
                         f"({exact_accuracy:.4f} -> {lossy_accuracy:.4f}), more than the allowed "
                         f"{max_drop_points:g}; lower rare_fraction or raise max_accuracy_drop")
    return round(drop, 4)


def data_aware(net: Netlist, data, rare_fraction: float, max_accuracy_drop: float) -> tuple[Netlist, dict]:
    """The pass (rewrite.PASSES["data_aware"]): fold the don't-cares seen on `data`'s training inputs, and
    refuse the result when it loses more than max_accuracy_drop points of test accuracy. The exact passes
    that clean up after it keep its accuracy."""
    folded, stats = fold_dont_cares(net, evaluate.input_bits(net, data.train_x), rare_fraction)
    test_bits = evaluate.input_bits(net, data.test_x)
    before, after = (evaluate.accuracy(n, test_bits, data.test_y) for n in (net, folded))
    drop = accuracy_guard(before, after, max_accuracy_drop)
    return folded, {**stats, "gates_exact": net.num_gates, "test_accuracy_exact": before, "test_accuracy": after,
                    "drop_points": drop, "max_accuracy_drop": max_accuracy_drop}
