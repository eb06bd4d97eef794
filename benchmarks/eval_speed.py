"""Evaluation speed: hwgen's evaluator against a C model built the way difflogic's compiled model is.

Netlist: a hardened-shape 400 -> 6 x 8,000 network (random ops and wiring, 48,000 gates, 10 classes).
Work: 100,000 samples, from bool inputs to class scores.
- baseline: generated C the way difflogic's CompiledLogicNet is (inputs packed in C, one statement per
  gate over 64-bit words, bit-sliced ripple-carry class counters), gcc -O1, one core; its compile time is
  the preparation.
- hwgen: evaluate.scores from the same bools (its kernel is built once per machine and cached; the
  preparation is planning the netlist, done on every call), on 1 and on 2 threads.
- hwgen, LUT4 nodes: 400 -> 6 x 4,000 LUT4 nodes, as many node inputs as the gate network; per
  node input it should be as fast.
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

from hwgen.golden import evaluate  # noqa: E402
from hwgen.golden.kernel import Kernel, Program  # noqa: E402
from hwgen.netlist import Netlist  # noqa: E402

IN_DIM, WIDTH, LAYERS, CLASSES = 400, 8000, 6, 10
C_EXPR = ["0", "a & b", "a & ~b", "a", "~a & b", "b", "a ^ b", "a | b", "~(a | b)", "~(a ^ b)", "~b", "a | ~b",
          "~a", "~a | b", "~(a & b)", "~(uint64_t)0"]


def network(seed=0) -> Netlist:
    """The gate network: random ops, each gate reading two nodes of the layer before."""
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


def baseline_source(net: Netlist, part: int = 2000) -> str:
    """difflogic's CompiledLogicNet scheme in C: inputs packed from bools, one statement per gate on one
    64-bit word, class counts in bit-sliced ripple-carry counters. The gates are split into functions of
    `part` statements, which changes nothing in the code that runs but lets gcc compile it in seconds."""
    m, k = net.outputs_per_class, net.num_classes
    planes = max(1, int(m).bit_length())
    lines = ["#include <stdint.h>", "#include <string.h>", f"static uint64_t v[{net.num_nodes}];"]
    gates = list(zip(net.ops.tolist(), net.a.tolist(), net.b.tolist()))
    parts = range(0, len(gates), part)
    for p0 in parts:
        lines.append(f"static void part{p0}(void) {{")
        for g in range(p0, min(p0 + part, len(gates))):
            op, x, y = gates[g]
            expr = C_EXPR[op].replace("a", f"v[{x}]").replace("b", f"v[{y}]") if op not in (0, 15) else C_EXPR[op]
            lines.append(f"  v[{net.num_inputs + g}] = {expr};")
        lines.append("}")
    outputs = ", ".join(str(o) for o in net.outputs.tolist())
    lines += [f"static const int32_t outputs[{len(net.outputs)}] = {{{outputs}}};",
              "void run(const uint8_t *bits, int64_t n, int32_t *scores) {",
              "  for (int64_t s0 = 0; s0 < n; s0 += 64) {",
              f"    memset(v, 0, {net.num_inputs} * 8);",
              "    for (int64_t s = 0; s < 64 && s0 + s < n; s++)",
              f"      for (int i = 0; i < {net.num_inputs}; i++) v[i] |= (uint64_t)bits[(s0 + s) * {net.num_inputs} + i] << s;",
              *[f"    part{p0}();" for p0 in parts],
              f"    for (int c = 0; c < {k}; c++) {{",
              f"      uint64_t plane[{planes}] = {{0}};",
              f"      for (int j = 0; j < {m}; j++) {{",
              f"        uint64_t carry = v[outputs[c * {m} + j]];",
              f"        for (int p = 0; p < {planes}; p++) {{ uint64_t t = plane[p] & carry; plane[p] ^= carry; carry = t; }}",
              "      }",
              "      for (int64_t s = 0; s < 64 && s0 + s < n; s++) {",
              "        int32_t count = 0;",
              f"        for (int p = 0; p < {planes}; p++) count |= (int32_t)((plane[p] >> s) & 1) << p;",
              f"        scores[(s0 + s) * {k} + c] = count;",
              "      }", "    }", "  }", "}"]
    return "\n".join(lines) + "\n"


def lut_network(seed=0, k=4) -> Netlist:
    """LUT nodes with the gate network's node inputs: half as many k=4 nodes per layer, random tables."""
    rng = np.random.default_rng(seed)
    nodes, start, width, node = [], 0, IN_DIM, IN_DIM
    width_lut = WIDTH * 2 // k
    for _ in range(LAYERS):
        for table, fanin in zip(rng.integers(0, 1 << (1 << k), width_lut).tolist(),
                                (start + rng.integers(0, width, (width_lut, k))).tolist()):
            nodes.append(("lut", table, fanin))
        start, width, node = node, width_lut, node + width_lut
    return Netlist.from_nodes(IN_DIM, nodes, list(range(start, start + width_lut)), CLASSES)


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


def timed(function, *args, repeats=5, **kwargs):
    """The best of `repeats` runs, in seconds, and the result."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--samples", type=int, default=100_000)
    args = p.parse_args()
    n = args.samples
    net, lut_net = network(), lut_network()
    bits = np.random.default_rng(1).integers(0, 2, (n, IN_DIM)).astype(bool)

    with tempfile.TemporaryDirectory() as tmp:
        base_lib, base_compile = compile_c(baseline_source(net), ["-O1"], Path(tmp), "baseline")
        limit_lib, _ = compile_c(limit_source(), ["-O3", "-march=native"], Path(tmp), "limit")
        kernel = Kernel()  # builds the C library once per machine, then loads it
        prep, _ = timed(Program, net, kernel)

        def baseline():
            raw = np.ascontiguousarray(bits, dtype=np.uint8)
            out = np.zeros((n, CLASSES), dtype=np.int32)
            base_lib.run(raw.ctypes.data_as(ctypes.c_void_p), ctypes.c_int64(n), out.ctypes.data_as(ctypes.c_void_p))
            return out

        t_base, theirs = timed(baseline)
        t_one, ours = timed(evaluate.scores, net, bits, threads=1)
        t_two, ours_two = timed(evaluate.scores, net, bits, threads=2)
        t_lut, lut_scores = timed(evaluate.scores, lut_net, bits, threads=1)
        assert np.array_equal(theirs, ours), "baseline and hwgen disagree"
        assert np.array_equal(ours, ours_two), "1 and 2 threads disagree"
        check = slice(0, 2000)  # the LUT network against the numpy engine, on a slice
        assert np.array_equal(lut_scores[check], evaluate.scores(lut_net, bits[check], engine="numpy"))

        size = 1 << 15  # 256 KiB per array: the cache-resident bitwise rate
        x, y, z = (np.ones(size, dtype=np.uint64) for _ in range(3))
        reps = 2000
        start = time.perf_counter()
        limit_lib.run(*(v.ctypes.data_as(ctypes.c_void_p) for v in (x, y, z)), ctypes.c_int64(size),
                      ctypes.c_int64(reps))
        words_per_s = size * reps / (time.perf_counter() - start)
        t_limit = (n / 64) * net.num_gates / words_per_s

    inputs = 2 * net.num_gates
    print(f"{net.num_gates:,} gates ({inputs:,} node inputs), {n:,} samples")
    print(f"{'':34s}{'samples/s':>12s}{'vs baseline':>13s}{'node inputs/s':>15s}{'preparation s':>15s}")
    rows = [("C baseline (gcc -O1, 1 thread)", t_base, f"{base_compile:.1f}"),
            ("hwgen evaluate, 1 thread", t_one, f"{prep:.3f}"),
            ("hwgen evaluate, 2 threads", t_two, f"{prep:.3f}"),
            (f"hwgen, {lut_net.num_gates:,} LUT4 nodes, 1 thread", t_lut, "-"),
            ("bitwise limit (1 AND/gate)", t_limit, "-")]
    for name, t, prepared in rows:
        print(f"{name:34s}{n / t:12,.0f}{t_base / t:12.2f}x{inputs * n / t:15.3g}{prepared:>15s}")
    print(f"2 threads against 1: {t_one / t_two:.2f}x")


if __name__ == "__main__":
    main()
