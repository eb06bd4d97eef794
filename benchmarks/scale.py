"""Scale: simplify, evaluate and emit Verilog for DLGN-shaped netlists of 10k, 100k and 1M gates.

Each (stage, size) runs in a fresh process, so its peak memory (max RSS) is its own. Prints seconds and
peak MB, the seconds per gate relative to the smallest size (near 1: linear time), and the marginal
memory per 1,000 gates between consecutive sizes (steady: linear memory).

    .venv/bin/python benchmarks/scale.py [--sizes 10000,100000,1000000]
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hwgen.netlist import Netlist  # noqa: E402

INPUTS, CLASSES = 784, 10
# Only ops that read both inputs: with constants and wires among them, random deep networks fold away to
# almost nothing, which trained networks do not.
TWO_INPUT_OPS = np.array([1, 2, 4, 6, 7, 8, 9, 11, 13, 14], dtype=np.uint8)


def dlgn_like(num_gates: int, seed: int = 0) -> Netlist:
    """Random layered DLGN: layers of up to 8,000 gates (difflogic's width), random two-input ops, each
    layer reading the one before; the last layer is the group sum's input."""
    rng = np.random.default_rng(seed)
    width = min(8000, num_gates // 8)
    ops, a, b = [], [], []
    prev_start, prev_width, node = 0, INPUTS, INPUTS
    for _ in range(num_gates // width):
        ops.append(rng.choice(TWO_INPUT_OPS, width))
        a.append(prev_start + rng.integers(0, prev_width, width))
        b.append(prev_start + rng.integers(0, prev_width, width))
        prev_start, prev_width, node = node, width, node + width
    outputs = np.arange(prev_start, prev_start + (width // CLASSES) * CLASSES)
    return Netlist(INPUTS, np.concatenate(ops).astype(np.uint8), np.concatenate(a), np.concatenate(b), outputs,
                   CLASSES)


def worker(stage: str, gates: int):
    net = dlgn_like(gates)
    start = time.perf_counter()
    if stage == "simplify":
        from hwgen import rewrite
        rewrite.run(net, rewrite.DEFAULT_PASSES)
    elif stage == "evaluate":
        from hwgen.golden import evaluate
        evaluate.scores(net, np.random.default_rng(1).integers(0, 2, (10_000, INPUTS)).astype(bool))
    elif stage == "emit":
        from hwgen.emit.verilog import emit
        with tempfile.TemporaryDirectory() as tmp:
            emit(net, tmp, "dlgn", backend="direct")
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="10000,100000,1000000")
    p.add_argument("--worker", nargs=2, metavar=("STAGE", "GATES"))
    args = p.parse_args()
    if args.worker:
        return worker(args.worker[0], int(args.worker[1]))
    sizes = [int(s) for s in args.sizes.split(",")]
    print("stage         gates    seconds   peak MB   s/gate vs smallest   marginal MB per 1k gates")
    for stage in ("simplify", "evaluate", "emit"):
        base, prev = None, None
        for gates in sizes:
            out = subprocess.run([sys.executable, __file__, "--worker", stage, str(gates)], capture_output=True,
                                 text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            base = base or r["seconds"] / gates
            marginal = f"{(r['peak_mb'] - prev[1]) / (gates - prev[0]) * 1000:.3f}" if prev else "-"
            print(f"{stage:9s} {gates:>9,d} {r['seconds']:10.2f} {r['peak_mb']:9.0f} "
                  f"{r['seconds'] / gates / base:19.2f}x {marginal:>26s}")
            prev = (gates, r["peak_mb"])


if __name__ == "__main__":
    main()
