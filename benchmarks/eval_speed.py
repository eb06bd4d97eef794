"""Evaluation speed: hwgen's evaluator against a C model built the way difflogic's compiled model is.

Netlist: a hardened-shape 400 -> 6 x 8,000 network (random ops and wiring, 48,000 gates, 10 classes).
Work: 100,000 samples, from bool inputs to class scores, on one core.
- baseline: generated C, one statement per gate over 64-bit words, gcc -O1, inputs packed and class
  sums done in C (difflogic's CompiledLogicNet scheme); its compile time is reported apart.
- hwgen: evaluate.scores (the compiled kernel; its one-off build is cached per machine), packing included.
- limit: the machine's bitwise limit, one AND per gate per word streamed from cache, as samples/s.

    .venv/bin/python benchmarks/eval_speed.py [--samples 100000]
"""

import argparse
import ctypes
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OMP_NUM_THREADS", "1")

from hwgen import evaluate  # noqa: E402
from hwgen.netlist import Netlist  # noqa: E402
from hwgen.kernel import Kernel  # noqa: E402

IN_DIM, WIDTH, LAYERS, CLASSES = 400, 8000, 6, 10
C_EXPR = ["0", "a & b", "a & ~b", "a", "~a & b", "b", "a ^ b", "a | b", "~(a | b)", "~(a ^ b)", "~b", "a | ~b",
          "~a", "~a | b", "~(a & b)", "~(uint64_t)0"]


def network(seed=0) -> Netlist:
    rng = np.random.default_rng(seed)
    ops, a, b = [], [], []
    start, width, node = 0, IN_DIM, IN_DIM
    for _ in range(LAYERS):
        ops.append(rng.integers(0, 16, WIDTH))
        a.append(start + rng.integers(0, width, WIDTH))
        b.append(start + rng.integers(0, width, WIDTH))
        start, width, node = node, WIDTH, node + WIDTH
    return Netlist(IN_DIM, np.concatenate(ops).astype(np.uint8), np.concatenate(a), np.concatenate(b),
                   np.arange(start, start + WIDTH), CLASSES)


def baseline_source(net: Netlist) -> str:
    """One C statement per gate on one 64-bit word; class sums by popcount of each sample's bit."""
    m = net.outputs_per_class
    lines = ["#include <stdint.h>", "#include <string.h>",
             "void model(const uint64_t *in, int32_t *scores) {",
             f"  uint64_t v[{net.num_nodes}];", f"  memcpy(v, in, {net.num_inputs} * 8);"]
    for g, (op, x, y) in enumerate(zip(net.ops.tolist(), net.a.tolist(), net.b.tolist())):
        expr = C_EXPR[op].replace("a", f"v[{x}]").replace("b", f"v[{y}]") if op not in (0, 15) else C_EXPR[op]
        lines.append(f"  v[{net.num_inputs + g}] = {expr};")
    lines += [f"  for (int c = 0; c < {net.num_classes}; c++)",
              f"    for (int j = 0; j < {m}; j++) {{",
              f"      uint64_t w = v[{net.outputs[0]} + c * {m} + j];",
              "      for (int s = 0; s < 64; s++) scores[s * %d + c] += (w >> s) & 1;" % net.num_classes,
              "    }", "}",
              "void run(const uint64_t *packed, int64_t words, int32_t *scores) {",
              f"  uint64_t in[{net.num_inputs}];",
              "  for (int64_t w = 0; w < words; w++) {",
              f"    for (int i = 0; i < {net.num_inputs}; i++) in[i] = packed[i * words + w];",
              f"    model(in, scores + w * 64 * {net.num_classes});",
              "  }", "}"]
    return "\n".join(lines) + "\n"


def limit_source() -> str:
    return ("#include <stdint.h>\n"
            "uint64_t run(const uint64_t *x, const uint64_t *y, uint64_t *z, int64_t n, int64_t reps) {\n"
            "  for (int64_t r = 0; r < reps; r++) for (int64_t i = 0; i < n; i++) z[i] = x[i] & y[i];\n"
            "  return z[n - 1];\n}\n")


def compile_c(source: str, flags, folder: Path, name: str):
    src, lib = folder / f"{name}.c", folder / f"{name}.so"
    src.write_text(source)
    start = time.perf_counter()
    subprocess.run(["gcc", *flags, "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    return ctypes.CDLL(str(lib)), time.perf_counter() - start


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--samples", type=int, default=100_000)
    args = p.parse_args()
    n = args.samples
    net = network()
    bits = np.random.default_rng(1).integers(0, 2, (n, IN_DIM)).astype(bool)

    with tempfile.TemporaryDirectory() as tmp:
        base_lib, base_compile = compile_c(baseline_source(net), ["-O1"], Path(tmp), "baseline")
        limit_lib, _ = compile_c(limit_source(), ["-O3", "-march=native"], Path(tmp), "limit")

        start = time.perf_counter()
        Kernel()  # builds the C library once per machine, then loads it
        prep = time.perf_counter() - start  # 0 once the kernel is cached on this machine

        start = time.perf_counter()
        ours = evaluate.scores(net, bits, engine="c")
        t_ours = time.perf_counter() - start

        start = time.perf_counter()
        packed = evaluate.pack(bits)
        words = packed.shape[1]
        theirs = np.zeros((words * 64, CLASSES), dtype=np.int32)
        base_lib.run(packed.ctypes.data_as(ctypes.c_void_p), ctypes.c_int64(words),
                     theirs.ctypes.data_as(ctypes.c_void_p))
        t_base = time.perf_counter() - start
        assert np.array_equal(theirs[:n], ours), "baseline and hwgen disagree"

        size = 1 << 15  # 256 KiB per array: the cache-resident bitwise rate
        x, y, z = (np.ones(size, dtype=np.uint64) for _ in range(3))
        reps = 2000
        start = time.perf_counter()
        limit_lib.run(*(v.ctypes.data_as(ctypes.c_void_p) for v in (x, y, z)), ctypes.c_int64(size),
                      ctypes.c_int64(reps))
        words_per_s = size * reps / (time.perf_counter() - start)
        t_limit = (n / 64) * net.num_gates / words_per_s

    print(f"{net.num_gates:,} gates, {n:,} samples, one core")
    print(f"{'':28s}{'samples/s':>12s}{'vs baseline':>13s}{'preparation s':>15s}")
    print(f"{'C baseline (gcc -O1)':28s}{n / t_base:12,.0f}{1.0:12.2f}x{base_compile:15.1f}")
    print(f"{'hwgen evaluate (kernel)':28s}{n / t_ours:12,.0f}{t_base / t_ours:12.2f}x{prep:15.2f}")
    print(f"{'bitwise limit (1 AND/gate)':28s}{n / t_limit:12,.0f}{t_base / t_limit:12.2f}x{'-':>15s}")


if __name__ == "__main__":
    main()
