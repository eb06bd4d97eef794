"""The two RTL backends on DLGN-shaped netlists of 10k, 100k and 1M gates: seconds and peak memory of
`emit` (pipelined, 2 levels per stage), each run in a fresh process, and Amaranth's cost as a ratio of
the direct writer's measured in the same run. This is what `emit.backend: auto` picks by.

    .venv/bin/python benchmarks/emit_speed.py [--sizes 10000,100000,1000000] [--timeout 600]
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from scale import dlgn_like  # noqa: E402


def worker(backend: str, gates: int):
    from hwgen.emit.verilog import emit

    net = dlgn_like(gates)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        info = emit(net, tmp, "dlgn", backend=backend, pipeline=2)
        size = (Path(tmp) / "dlgn.v").stat().st_size
    print(json.dumps({"seconds": time.perf_counter() - start, "mb_verilog": size / 1e6,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "registers": info["registers"]}))


def measure(backend: str, gates: int, timeout: int):
    try:
        out = subprocess.run([sys.executable, __file__, "--worker", backend, str(gates)], capture_output=True,
                             text=True, check=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="10000,100000,1000000")
    p.add_argument("--timeout", type=int, default=600, help="seconds per run before it counts as too slow")
    p.add_argument("--worker", nargs=2, metavar=("BACKEND", "GATES"))
    args = p.parse_args()
    if args.worker:
        return worker(args.worker[0], int(args.worker[1]))
    measure("amaranth", 1000, args.timeout)  # Amaranth's one-off set-up (its yosys is compiled on first use)
    print("gates       backend    seconds   peak MB   Verilog MB   amaranth/direct: time   memory")
    for gates in (int(s) for s in args.sizes.split(",")):
        direct = measure("direct", gates, args.timeout)
        amaranth = measure("amaranth", gates, args.timeout)
        for name, r in (("direct", direct), ("amaranth", amaranth)):
            if r is None:
                print(f"{gates:>9,d}   {name:9s} over {args.timeout} s")
                continue
            line = f"{gates:>9,d}   {name:9s} {r['seconds']:8.2f} {r['peak_mb']:9.0f} {r['mb_verilog']:12.1f}"
            if name == "amaranth" and direct:
                line += f"   {r['seconds'] / direct['seconds']:21.1f}x {r['peak_mb'] / direct['peak_mb']:7.1f}x"
            print(line)


if __name__ == "__main__":
    main()
