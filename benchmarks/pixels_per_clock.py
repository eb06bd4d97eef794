"""What taking P pixels a clock costs and gives: the streaming engine of one conv netlist emitted at each P
(`hwgen emit --pixels-per-clock P`) and synthesized, in this run, on the same target, placement seed and
pipeline: logic cells, flip-flops, EBR, Fmax, images per second and latency, each part's LUTs, and the
ratios to the first P.

    .venv/bin/python benchmarks/pixels_per_clock.py CONV_NETLIST.json [--pixels 1 4] [--pipeline 2]
        [--target ecp5-25k] [--no-route] [--router router1] [--seed 1]

CONV_NETLIST.json: a conv netlist (version 3), e.g. the simplified.netlist.json of `hwgen build
configs/mnist-conv.yaml`. Each P's RTL and synthesis stay under build/pixels_per_clock_*/pP.
"""

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hwgen.convnet import load_any  # noqa: E402
from hwgen.emit.verilog import emit  # noqa: E402
from hwgen.flow.build import throughput  # noqa: E402
from hwgen.synthesis import synthesize  # noqa: E402

PARTS = ("kernels", "line buffers", "pooling", "head")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("netlist")
    p.add_argument("--pixels", type=int, nargs="+", default=[1, 4])
    p.add_argument("--pipeline", type=int, default=2, help="LUT levels per stage (default %(default)s)")
    p.add_argument("--target", default="ecp5-25k")
    p.add_argument("--freq", type=float, default=150.0)
    p.add_argument("--no-route", action="store_true", help="place only: Fmax is nextpnr's placement estimate")
    p.add_argument("--router", default="router1")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    net = load_any(args.netlist)
    work = Path(tempfile.mkdtemp(prefix="pixels_per_clock_", dir=ROOT / "build"))
    rows = []
    for pixels in args.pixels:
        rtl = work / f"p{pixels}"
        info = emit(net, rtl, "dlgn", pipeline=args.pipeline, freq_mhz=args.freq, target=args.target,
                    pixels_per_clock=pixels)
        syn = synthesize(rtl, args.target, args.freq, route=not args.no_route, seed=args.seed, router=args.router,
                         xilinx=False)
        rate = throughput(info, syn["fmax_mhz"])
        rows.append({"P": pixels, "cells": syn["logic_cells"], "ffs": syn["ffs"] - syn["harness_ffs"],
                     "ebr": syn["bram"], "fmax": syn["fmax_mhz"], "clocks": info["clocks_per_image"],
                     "images/s": rate.get("samples_per_second"), "latency": info["latency_cycles"],
                     **{part: syn["parts"].get(part, {}).get("luts", 0) for part in PARTS}})
        print(f"P = {pixels}: {rows[-1]}", flush=True)
    fmax = "Fmax MHz" + ("" if not args.no_route else " (placed)")
    keys = ["P", "cells", "ffs", "ebr", "fmax", "clocks", "images/s", "latency", *PARTS]
    heads = ["P", "logic cells", "FFs", "EBR", fmax, "clocks/image", "images/s", "latency", *PARTS]
    print(f"\n{args.netlist} on {args.target}, {args.pipeline} LUT levels per stage, placement seed {args.seed}"
          + ("" if args.no_route else f", {args.router}"))
    print("| " + " | ".join(heads) + " |")
    print("|" + " --- |" * len(heads))
    for row in rows:
        print("| " + " | ".join(f"{row[k]:,}" if isinstance(row[k], int) else str(row[k]) for k in keys) + " |")
    first = rows[0]
    for row in rows[1:]:
        ratios = {k: row[k] / first[k] for k in ("cells", "ffs", "images/s") if row[k] and first[k]}
        print(f"P = {row['P']} / P = {first['P']}: " + ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items()))


if __name__ == "__main__":
    main()
