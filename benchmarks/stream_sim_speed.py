"""Verilator's model of the streaming conv engine built at -O0 (hwgen's choice for short runs) against -O1
(its choice for a stream of hwgen.simulation.LONG_STREAM pixels or more): build seconds and images per
second through the HDL stream bench, every result checked, and the ratios to -O0, all measured in this run.

    .venv/bin/python benchmarks/stream_sim_speed.py CONV_NETLIST.json [--images 50]

CONV_NETLIST.json: a conv netlist (version 3), e.g. the simplified.netlist.json of `hwgen build
configs/digits-conv.yaml` or of `configs/mnist-conv.yaml`. Each level builds into a cache of its own, so
neither reuses the other's build.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hwgen.convnet import load_any  # noqa: E402
from hwgen.emit.verilog import emit  # noqa: E402
from hwgen.simulation import random_inputs, simulate  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("netlist")
    p.add_argument("--images", type=int, default=50)
    args = p.parse_args()
    net = load_any(args.netlist)
    # Under build/: the runner keeps its build objects beside the RTL.
    work = Path(tempfile.mkdtemp(prefix="stream_sim_speed_", dir=ROOT / "build"))
    emit(net, work / "rtl", "dlgn")
    inputs = random_inputs(net, args.images, 1)
    print("C++       build s   images/s   build / -O0   speed / -O0")
    first = None
    for optimize in (False, True):
        os.environ["HWGEN_CACHE_DIR"] = str(work / f"cache-{int(optimize)}")
        r = simulate(work / "rtl", net, inputs, "verilator", optimize=optimize)
        assert r["mismatches"] == 0, f"{r['mismatches']} mismatches"
        first = first or r
        print(f"{'-O1' if optimize else '-O0':6s} {r['build_seconds']:10.1f} {r['vectors_per_second']:10.1f} "
              f"{r['build_seconds'] / first['build_seconds']:13.2f} "
              f"{r['vectors_per_second'] / first['vectors_per_second']:13.2f}")


if __name__ == "__main__":
    main()
