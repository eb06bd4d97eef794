"""Accuracy against LUTs: build a grid of models through synthesis and plot them beside published designs.

    python benchmarks/pareto.py benchmarks/pareto-mnist.yaml [--out build/pareto] [--only NAME ...]

The sweep file names a base config and, per point, the keys that differ (`model.layers: [...]`). Each point
is built with `hwgen build` into OUT/NAME (a finished one is reused, so the sweep can be stopped and run
again); then OUT/pareto.md (a table) and OUT/pareto.png (hardened accuracy against ECP5 LUT4 logic cells
and Xilinx LUT6) are written, with the published points of the cost issue on the same axes.
"""

import argparse
import copy
import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Published MNIST designs: (name, test accuracy %, LUTs, kind of LUT, note)
PUBLISHED = [
    ("difflogic, vicharak export", 96.0, 4480, "LUT4", "Efinix Trion, 50 MHz"),
    ("DWN small", 97.1, 692, "LUT6", "xcvu9p, no encoder"),
    ("DWN medium", 97.9, 1413, "LUT6", "xcvu9p, no encoder"),
    ("DWN large", 98.3, 4082, "LUT6", "xcvu9p, no encoder"),
    ("DWN, rebuilt with encoder", 98.26, 6294, "LUT6", "xc7a35t"),
    ("TreeLUT", 97.0, 4478, "LUT6", "xcvu9p"),
]


def merged(base: dict, changes: dict) -> dict:
    cfg = copy.deepcopy(base)
    for dotted, value in changes.items():
        node = cfg
        *path, key = dotted.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[key] = value
    return cfg


def build_point(name: str, cfg: dict, out: Path) -> dict:
    folder = out / name
    report = folder / "report.json"
    if not report.exists():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
        result = subprocess.run([sys.executable, "-m", "hwgen.cli", "build", str(folder / "config.yaml"), "--out",
                                 str(folder), "--quiet"], capture_output=True, text=True)
        if result.returncode != 0:
            print(f"{name}: build failed: {result.stderr.strip().splitlines()[-1:]}", flush=True)
            return {}
    return json.loads(report.read_text())


def row(name: str, cfg: dict, r: dict) -> dict:
    s = r["synth"]
    return {"name": name, "node": cfg["model"].get("node", "gate"), "layers": cfg["model"]["layers"],
            "hardened": r["accuracy"]["hardened"], "rtl": r["accuracy"]["rtl"], "gates": r["gates"]["emitted"],
            "lut4": s.get("logic_cells"), "lut6": s.get("xilinx", {}).get("luts"), "ffs": s["ffs"] - s["harness_ffs"],
            "fmax": s["fmax_mhz"], "latency": r["latency_cycles"]}


def plot(rows: list, path: Path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for node, marker in (("gate", "o"), ("lut", "s")):
        mine = [r for r in rows if r["node"] == node and r["lut4"]]
        if mine:
            ax.plot([r["lut4"] for r in mine], [100 * r["hardened"] for r in mine], marker, color="tab:blue",
                    label=f"hwgen, {node} nodes, ECP5 LUT4 (all included)")
            ax.plot([r["lut6"] for r in mine if r["lut6"]], [100 * r["hardened"] for r in mine if r["lut6"]], marker,
                    mfc="none", color="tab:blue", label=f"hwgen, {node} nodes, Xilinx LUT6 (yosys)")
    for name, acc, luts, kind, _ in PUBLISHED:
        ax.plot([luts], [acc], "^" if kind == "LUT6" else "v", color="tab:red")
        ax.annotate(name, (luts, acc), fontsize=7, xytext=(4, -3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("LUTs (log scale)")
    ax.set_ylabel("MNIST test accuracy, hardened (%)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def table(rows: list) -> str:
    lines = ["| point | nodes | layers | hardened | RTL | nodes after rewriting | ECP5 LUT4 | Xilinx LUT6 | FFs | "
             "Fmax MHz | latency |", "|" + " --- |" * 11]
    for r in rows:
        lines.append(f"| {r['name']} | {r['node']} | {r['layers']} | {100 * r['hardened']:.2f}% | {100 * r['rtl']:.2f}% | "
                     f"{r['gates']:,} | {r['lut4']:,} | {r['lut6'] or '-'} | {r['ffs']:,} | {r['fmax']} | "
                     f"{r['latency']} |")
    lines += ["", "| published | MNIST | LUTs | |", "| --- | --- | --- | --- |"]
    lines += [f"| {name} | {acc}% | {luts:,} {kind} | {note} |" for name, acc, luts, kind, note in PUBLISHED]
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sweep")
    p.add_argument("--out", default=str(ROOT / "build" / "pareto"))
    p.add_argument("--only", nargs="+", help="build only these points")
    args = p.parse_args()
    sweep = yaml.safe_load(Path(args.sweep).read_text())
    base = yaml.safe_load((Path(args.sweep).parent / sweep["base"]).read_text()) if isinstance(sweep["base"], str) \
        else sweep["base"]
    out = Path(args.out)
    rows = []
    for name, changes in sweep["points"].items():
        if args.only and name not in args.only:
            continue
        cfg = merged(base, changes or {})
        r = build_point(name, cfg, out)
        if r:
            rows.append(row(name, cfg, r))
            print(json.dumps(rows[-1]), flush=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "pareto.md").write_text(table(rows))
    plot(rows, out / "pareto.png")
    print(table(rows))


if __name__ == "__main__":
    main()
