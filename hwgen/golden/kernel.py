"""The golden model's C kernel (eval_kernel.c): a netlist planned for bit-parallel evaluation and run on
blocks of 64 samples a word. Built through hwgen.native; nothing is generated per netlist, so a netlist of
any size is ready to run at once."""

import ctypes
from pathlib import Path

import numpy as np

from .. import ops
from ..errors import HwgenError
from ..native import load_library
from ..netlist import LUT, Netlist

SOURCE = Path(__file__).with_name("eval_kernel.c")
# Live node values per block of samples: large blocks pay the per-gate dispatch once per many samples
# (benchmarks/eval_speed.py measures the effect of the size).
BLOCK_BYTES = 4 << 20
MAX_BLOCK_WORDS = 64  # 4,096 samples


def _gate_cases() -> str:
    """The C evaluation kernel's switch over the 16 ops, spelled from ops.FORMS."""
    return "\n            ".join(
        f"case {op}: GATE({ops.spell(op, 'a', 'b', '0', '~(uint64_t)0')});" for op in range(16))


class Program:
    """A netlist as eval_kernel.c runs it (planned there by hwgen_plan): the gates in the outputs' cone, in
    level order and sorted by op within a level (so the kernel's dispatch is predicted), each writing a slot
    of a value store that is handed to a later gate once the last reader of its value has run, so the store
    is as large as the widest cut of live values, not as the netlist."""

    def __init__(self, net: Netlist, kernel: "Kernel"):
        n, node_ops = net.num_inputs, net.ops.copy()
        if net.has_luts:  # a LUT node of 1 or 2 inputs runs as the gate it is (a and b are its inputs)
            small = np.flatnonzero((node_ops == LUT) & (net.lut_inputs[:, 2] < 0))
            table = net.lut_tables[small].astype(np.int64)
            table = np.where(net.lut_inputs[small, 1] < 0, table | (table << 2), table)  # k = 1: b = a
            node_ops[small] = ops.op_of_table(table)
        fanins = np.ascontiguousarray(net.fanins(), dtype=np.int64)
        order = np.empty(net.num_gates, dtype=np.int32)
        slot = np.full(net.num_nodes, -1, dtype=np.int32)
        used = ctypes.c_int64(0)
        kept = kernel.plan(n, net.num_gates, fanins.shape[1], fanins, np.ascontiguousarray(node_ops, dtype=np.uint8),
                           len(net.outputs), np.ascontiguousarray(net.outputs, dtype=np.int64), order, slot,
                           ctypes.byref(used))
        if kept < 0:
            raise HwgenError(f"not enough memory to plan the evaluation of {net.num_gates} gates")
        order = order[:kept].astype(np.int64)
        used = used.value
        self.slots = max(used, 1)
        self.ops = np.ascontiguousarray(node_ops[order], dtype=np.uint8)
        self.dst = np.ascontiguousarray(slot[n + order], dtype=np.int32)
        self.a = np.ascontiguousarray(slot[net.a[order]], dtype=np.int32)
        self.b = np.ascontiguousarray(slot[net.b[order]], dtype=np.int32)
        if net.has_luts:
            lut = self.ops == LUT
            rows = net.lut_inputs[order[lut]]
            self.lut_slots = np.ascontiguousarray(np.where(rows >= 0, slot[rows], -1), dtype=np.int32)
            self.lut_tables = np.ascontiguousarray(net.lut_tables[order[lut]], dtype=np.uint64)
            self.a[lut] = np.arange(int(lut.sum()))
        else:
            self.lut_slots, self.lut_tables = np.full(6, -1, np.int32), np.zeros(1, np.uint64)
        self.out_slots = np.ascontiguousarray(slot[net.outputs], dtype=np.int32)


class Kernel:
    """The evaluation kernel (eval_kernel.c)."""

    def __init__(self):
        u8, i32, i64p, u64 = (np.ctypeslib.ndpointer(t, flags="C_CONTIGUOUS") for t in
                              (np.uint8, np.int32, np.int64, np.uint64))
        i64 = ctypes.c_int64
        lib = load_library(SOURCE, {
            "hwgen_scores": ([u8, i32, i32, i32, i64, i32, u64, i64, i32, i64, i64, u8, i64, i64, i64, ctypes.c_int, i64p],
                             ctypes.c_int),
            "hwgen_plan": ([i64, i64, i64, i64p, u8, i64, i64p, i32, i32, ctypes.POINTER(ctypes.c_int64)],
                           ctypes.c_int64)}, fills={"GATE_CASES": _gate_cases()})
        self.score, self.plan = lib.hwgen_scores, lib.hwgen_plan

    def scores(self, net: Netlist, bits: np.ndarray, threads: int = 0) -> np.ndarray:
        """(N, num_inputs) bools -> (N, num_classes) int64 class scores, on `threads` threads (0: as many as
        OpenMP is told to use, e.g. by OMP_NUM_THREADS). The scores are the same at any thread count."""
        n = bits.shape[0]
        result = np.zeros((n, net.num_classes), dtype=np.int64)
        if n == 0 or net.outputs_per_class == 0:
            return result
        program = Program(net, self)
        rows = np.ascontiguousarray(bits, dtype=bool).view(np.uint8)
        words = -(-n // 64)
        block = int(max(1, min(words, MAX_BLOCK_WORDS, BLOCK_BYTES // (8 * program.slots))))
        status = self.score(program.ops, program.dst, program.a, program.b, len(program.ops), program.lut_slots,
                            program.lut_tables, program.slots, program.out_slots, net.outputs_per_class,
                            net.num_classes, rows, net.num_inputs, n, block, threads, result)
        if status != 0:
            raise HwgenError(f"not enough memory to evaluate a block of {64 * block} samples")
        return result
