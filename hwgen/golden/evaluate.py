"""The golden model: bit-parallel evaluation of a Netlist with numpy (64 samples per uint64 word).

Gates are evaluated level by level, all gates of a level at once, through the algebraic normal form
f(a, b) = c0 ^ c1&a ^ c2&b ^ c3&a&b, so one code path serves all 16 ops.
"""

import numpy as np

from .. import encoding, ops
from ..convnet import ConvNetlist
from ..errors import HwgenError
from ..netlist import LUT, Netlist

ALL_ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
# Over GF(2) the multilinear coefficients become the ANF ones: (4, 16) word masks, all zeros or all ones.
ANF = (np.array([ops.multilinear(op) for op in range(16)]) % 2).T.astype(np.uint64) * ALL_ONES
MEMORY_BUDGET_WORDS = 1 << 26  # 512 MiB of node values per chunk of samples


def pack(bits: np.ndarray) -> np.ndarray:
    """(N, K) bools -> (K, ceil(N/64)) uint64, sample s in bit s%64 of word s//64."""
    n = bits.shape[0]
    packed = np.packbits(np.asarray(bits, dtype=bool).T, axis=1, bitorder="little")
    pad = (-packed.shape[1]) % 8
    if pad or packed.shape[1] == 0:
        packed = np.pad(packed, ((0, 0), (0, pad if packed.shape[1] else 8)))
    return np.ascontiguousarray(packed).view(np.uint64)[:, : max(1, -(-n // 64))]


def unpack(words: np.ndarray, n: int) -> np.ndarray:
    """(K, W) uint64 -> (n, K) bools."""
    bits = np.unpackbits(np.ascontiguousarray(words).view(np.uint8), axis=1, bitorder="little")
    return bits[:, :n].T.astype(bool)


class Schedule:
    """Gates grouped by logic level, with their ANF masks, prepared once per netlist. LUT nodes of a level
    are grouped by input count, with their tables as word masks (one per entry)."""

    def __init__(self, net: Netlist):
        self.net = net
        levels = net.levels()[net.num_inputs:]
        order = np.argsort(levels, kind="stable")
        bounds = np.flatnonzero(np.diff(levels[order])) + 1
        self.groups = []
        lut = net.ops == LUT
        arity = (net.lut_inputs >= 0).sum(axis=1) if net.has_luts else None
        for idx in np.split(order, bounds) if len(order) else []:
            gates = idx[~lut[idx]]
            op = net.ops[gates].astype(np.int64)
            group = [(gates + net.num_inputs, net.a[gates], net.b[gates], ANF[0, op][:, None], ANF[1, op][:, None],
                      ANF[2, op][:, None], ANF[3, op][:, None])]
            for k in np.unique(arity[idx[lut[idx]]]).tolist() if net.has_luts else []:
                nodes = idx[lut[idx] & (arity[idx] == k)]
                entries = (net.lut_tables[nodes, None] >> np.arange(1 << k, dtype=np.uint64)) & np.uint64(1)
                group.append((nodes + net.num_inputs, net.lut_inputs[nodes, :k], entries * ALL_ONES))
            self.groups.append(group)

    def run(self, packed_inputs: np.ndarray) -> np.ndarray:
        """Packed input bits (num_inputs, W) -> packed values of every node (num_nodes, W)."""
        net = self.net
        values = np.empty((net.num_nodes, packed_inputs.shape[1]), dtype=np.uint64)
        values[: net.num_inputs] = packed_inputs
        for (node, a, b, c0, c1, c2, c3), *luts in self.groups:
            va, vb = values[a], values[b]
            values[node] = c0 ^ (c1 & va) ^ (c2 & vb) ^ (c3 & va & vb)
            for node, inputs, entries in luts:
                # A tree of multiplexers over the entries: input j, from the last, halves them.
                v = np.repeat(entries[:, :, None], values.shape[1], axis=2)
                for j in range(inputs.shape[1] - 1, -1, -1):
                    half = v.shape[1] // 2
                    x = values[inputs[:, j]][:, None, :]
                    v = (x & v[:, half:]) | (~x & v[:, :half])
                values[node] = v[:, 0]
        return values


def lut_words(table: int, inputs: list) -> np.ndarray:
    """A k-input table over packed words of its inputs (a list of k arrays of the same shape)."""
    if not inputs:
        return np.full((), ALL_ONES if table & 1 else np.uint64(0))
    v = [ALL_ONES if (table >> a) & 1 else np.uint64(0) for a in range(1 << len(inputs))]
    for x in reversed(inputs):  # input j, from the last, halves the entries
        half = len(v) // 2
        v = [(x & v[half + a]) | (~x & v[a]) for a in range(half)]
    return v[0]


def _check_bits(net: Netlist, bits) -> np.ndarray:
    bits = np.asarray(bits)
    if bits.ndim != 2 or bits.shape[1] != net.num_inputs:
        raise HwgenError(f"expected input bits of shape (N, {net.num_inputs}), got {tuple(bits.shape)}")
    return bits.astype(bool, copy=False)


def output_bits(net: Netlist, bits) -> np.ndarray:
    """(N, num_inputs) input bits -> (N, len(outputs)) bools: the values of the output nodes."""
    bits = _check_bits(net, bits)
    n = bits.shape[0]
    schedule = Schedule(net)
    chunk = 64 * max(1, MEMORY_BUDGET_WORDS // net.num_nodes)
    parts = []
    for start in range(0, max(n, 1), chunk):
        part = bits[start: start + chunk]
        values = schedule.run(pack(part))
        parts.append(unpack(values[net.outputs], part.shape[0]))
    return np.concatenate(parts) if parts else np.zeros((0, len(net.outputs)), dtype=bool)


def scores(net: Netlist | ConvNetlist, bits, engine: str = "auto", threads: int = 0) -> np.ndarray:
    """(N, num_inputs) input bits -> (N, num_classes) class scores (popcount of each class's slice); a conv
    netlist (v3) stage by stage (golden/conv.py).

    engine: "c" (the compiled kernel, hwgen/eval_kernel.c), "numpy", or "auto" (c where a compiler is found).
    threads: the kernel's threads (0: as many as OpenMP is told to use); the scores do not depend on it.
    """
    if engine not in ("auto", "c", "numpy"):
        raise HwgenError(f"unknown evaluation engine \"{engine}\" (auto, c or numpy)")
    if isinstance(net, ConvNetlist):  # netlist v3: its stages run directly
        from .conv import conv_scores

        return conv_scores(net, _check_bits(net, bits), threads)
    net.validate("netlist to evaluate")  # the kernel reads raw memory: every id must name a node
    kernel = None
    if engine != "numpy":
        from .kernel import Kernel

        try:
            kernel = Kernel()
        except HwgenError:
            if engine == "c":
                raise
    if kernel is not None:
        return kernel.scores(net, _check_bits(net, bits), threads)
    out = output_bits(net, bits)
    return out.reshape(out.shape[0], net.num_classes, net.outputs_per_class).sum(axis=2, dtype=np.int64)


def predict_from_scores(class_scores: np.ndarray) -> np.ndarray:
    """Highest score wins; ties go to the lowest class index (np.argmax returns the first maximum)."""
    return np.argmax(class_scores, axis=1)


def input_bits(net: Netlist, inputs) -> np.ndarray:
    """The netlist's input bits for inputs as the RTL's port takes them: raw features through its encoder,
    or, without one, the bits themselves."""
    return encode_features(net, inputs) if net.encoder is not None else _check_bits(net, inputs)


def encode_features(net: Netlist, features) -> np.ndarray:
    """Raw features -> input bits through the netlist's encoder."""
    if net.encoder is None:
        raise HwgenError("this netlist has no encoder: give input bits, not raw features")
    return encoding.encode(features, net.encoder)


def accuracy(net: Netlist, bits, labels) -> float:
    return float(np.mean(predict_from_scores(scores(net, bits)) == np.asarray(labels)))
