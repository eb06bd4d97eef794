"""Icarus against Verilator on the emitted RTL of DLGN-shaped netlists (10k and 100k gates): build time
and vectors per second through the cocotb stream bench (full rate, every output checked), and
Verilator's speed as a ratio of Icarus's, both measured in this run.

    .venv/bin/python benchmarks/sim_speed.py [--sizes 10000,100000] [--vectors 2000]
"""

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from scale import dlgn_like  # noqa: E402

from hwgen.emit.verilog import emit  # noqa: E402
from hwgen.simulation import random_inputs, simulate  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--vectors", type=int, default=2000)
    args = p.parse_args()
    print("gates      simulator   build s   vectors/s   verilator/icarus")
    # Under build/: the runner keeps its build objects beside the RTL.
    work = Path(tempfile.mkdtemp(prefix="sim_speed_", dir=ROOT / "build"))
    for gates in (int(s) for s in args.sizes.split(",")):
        net = dlgn_like(gates)
        emit(net, work / str(gates), "dlgn", backend="direct", pipeline=2)
        inputs = random_inputs(net, args.vectors, 1)
        rates = {}
        for simulator in ("icarus", "verilator"):
            r = simulate(work / str(gates), net, inputs, simulator, gap=0.0, stall=0.0)
            assert r["mismatches"] == 0, f"{simulator}: {r['mismatches']} mismatches"
            rates[simulator] = r["vectors_per_second"]
            ratio = f"{rates['verilator'] / rates['icarus']:17.1f}x" if simulator == "verilator" else ""
            print(f"{gates:>9,d}   {simulator:9s} {r['build_seconds']:9.1f} {r['vectors_per_second']:11.0f}   {ratio}")


if __name__ == "__main__":
    main()
