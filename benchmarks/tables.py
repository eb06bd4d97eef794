"""The results tables of README.md and docs/results.md, written from the committed reports in docs/results/.

    python benchmarks/tables.py           # rewrite the tables in place
    python benchmarks/tables.py --check   # exit 1 if a table differs from its reports (tests/test_docs.py)
    python benchmarks/tables.py --from-sweep build/sweep-mnist sweep-mnist "COMMAND" "PROCESSOR"
                                          # first keep a finished sweep as docs/results/sweep-mnist.json

A table sits between `<!-- results:NAME -->` and `<!-- /results:NAME -->` in a Markdown file; NAME is one of
TABLES. A report is a `hwgen build` report.json (docs/results/NAME.json holds it under "report", beside the
config, the command and the processor it was measured on), or a sweep's summary and rows (`--from-sweep`).
"""

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hwgen.targets import TARGETS  # noqa: E402

RESULTS = ROOT / "docs" / "results"
# the order of the designs table
DESIGNS = ["mnist-small", "mnist-lut", "mnist", "mnist-conv", "mnist-conv-deep", "fashion-mnist-conv",
           "digits-lut", "digits-conv", "smoke"]
FILES = [ROOT / "README.md", ROOT / "docs" / "results.md"]


def load(name: str) -> dict:
    return json.loads((RESULTS / f"{name}.json").read_text())


def _int(v) -> str:
    return "–" if v is None else f"{v:,}"


def _pct(v) -> str:
    return f"{100 * v:.2f}%"


def designs_table() -> str:
    lines = ["| config | data set | hardened = RTL | nodes after rewriting | device | logic cells | Xilinx LUTs "
             "(yosys) | FFs | Fmax | latency | processor |", "|" + " --- |" * 11]
    for name in DESIGNS:
        d = load(name)
        r, s = d["report"], d["report"]["synth"]
        acc = r["accuracy"]
        same = "" if acc["rtl"] == acc["hardened"] else f" (RTL {_pct(acc['rtl'])})"
        nodes = _int(r['gates']['emitted'])
        if (r.get("engine") or {}).get("kind") == "conv-stream":  # each kernel built once; gates counts it unrolled
            nodes = f"{_int(r['engine']['gates'])} ({nodes} unrolled)"
        lines.append(f"| `{d['config']}` | {r['dataset']} | **{_pct(acc['hardened'])}**{same} | "
                     f"{nodes} | {TARGETS[s['target']]['part']} | **{_int(s['logic_cells'])}** | "
                     f"{_int((s.get('xilinx') or {}).get('luts'))} | {_int(s['ffs'] - s['harness_ffs'])} | "
                     f"{s['fmax_mhz']:.1f} MHz{'' if s['routed'] else ' placed'} | {r['latency_cycles']} cycles | "
                     f"{d['processor']} |")
    return "\n".join(lines)


def published_table() -> str:
    lines = ["| design | MNIST | LUTs | Fmax | part |", "| --- | --- | --- | --- | --- |"]
    for name in DESIGNS:
        d = load(name)
        r, s = d["report"], d["report"]["synth"]
        if r["dataset"] != "mnist":
            continue
        xilinx = (s.get("xilinx") or {}).get("luts")
        lines.append(f"| **hwgen `{d['config']}`** | {_pct(r['accuracy']['hardened'])} | {_int(s['logic_cells'])} LUT4 "
                     f"on ECP5 / {_int(xilinx)} LUT (yosys `synth_xilinx`) | {s['fmax_mhz']:.0f} MHz | "
                     f"{TARGETS[s['target']]['part']} ({'routed' if s['routed'] else 'placed, not routed'}) |")
    for p in load("published")["rows"]:
        lines.append(f"| {p['name']} | {p['accuracy']}% | {_int(p['luts'])} {p['kind']} | {p['fmax']} | {p['part']} |")
    return "\n".join(lines)


def pareto_table() -> str:
    lines = ["| point | about | nodes | layers | hardened = RTL | nodes after rewriting | ECP5 logic cells | "
             "Xilinx LUTs (yosys) | FFs | Fmax | latency |", "|" + " --- |" * 11]
    for p in load("pareto-mnist")["rows"]:
        lines.append(f"| `{p['name']}` | {p['about']} | {'LUT4' if p['node'] == 'lut' else 'gate'} | "
                     f"{' + '.join(_int(w) for w in p['layers'])} | {_pct(p['hardened'])} | {_int(p['gates'])} | "
                     f"{_int(p['lut4'])} | {_int(p['lut6'])} | {_int(p['ffs'])} | {p['fmax']:.1f} MHz | {p['latency']} |")
    return "\n".join(lines)


def _point(row: dict, keys: list) -> str:
    def show(v):
        return " + ".join(_int(w) for w in v) if isinstance(v, list) else f"{v:.3g}" if isinstance(v, float) else v
    return ", ".join(f"{k.split('.')[-1]} {show(row[k])}" for k in keys)


def sweep_table() -> str:
    """The searched front of docs/results/sweep-mnist.json: each point's validation scores (short training),
    and the full build's test accuracy, logic cells and Fmax where it was built."""
    d = load("sweep-mnist")
    keys = d["space"]
    lines = ["| trial | point | validation (1,000 steps) | Xilinx LUTs | ECP5 LUT positions | built in full: test = RTL | "
             "Xilinx LUTs | ECP5 logic cells | Fmax |", "|" + " --- |" * 9]
    for r in sorted((r for r in d["rows"] if r["front"]), key=lambda r: r["xilinx_luts"]):
        built = r.get("test_accuracy") is not None
        lines.append(f"| {r['trial']} | {_point(r, keys)} | {_pct(r['accuracy'])} | {_int(r['xilinx_luts'])} | "
                     f"{_int(r['lut_positions'])} | " + (f"**{_pct(r['test_accuracy'])}** | {_int(r['built_xilinx_luts'])} | "
                                                          f"{_int(r['logic_cells'])} | {r['fmax_mhz']:.1f} MHz |"
                                                          if built else "– | – | – | – |"))
    return "\n".join(lines)


def scaling_table() -> str:
    """The law-of-size sweeps: each width of the recipe, its validation accuracy and its cost."""
    lines = ["| data set | layers | validation (1,000 steps) | nodes after rewriting | Xilinx LUTs | ECP5 LUT positions |",
             "|" + " --- |" * 6]
    for name in ("scaling-mnist", "scaling-fashion-mnist"):
        d = load(name)
        for r in sorted(d["rows"], key=lambda r: r["xilinx_luts"] or 0):
            lines.append(f"| {d['dataset']} | {' + '.join(_int(w) for w in r['model.layers'])} | {_pct(r['accuracy'])} | "
                         f"{_int(r['nodes'])} | {_int(r['xilinx_luts'])} | {_int(r['lut_positions'])} |")
    return "\n".join(lines)


def laws_table() -> str:
    """The fitted laws error = a * x^-b of the sweeps in docs/results/ (validation error, short training)."""
    lines = ["| sweep | data set | fitted over | against | a | b | R² | points | range |", "|" + " --- |" * 9]
    for name in ("scaling-mnist", "scaling-fashion-mnist", "sweep-mnist"):
        d = load(name)
        whole_front = len(d["summary"]["front"]) == d["summary"]["complete"]  # the front's fit is the trials' one
        for key, law in d["summary"]["laws"].items():
            if law and not (whole_front and key.startswith("front")):
                over, against = key.split("_", 1)
                lines.append(f"| `{name}` | {d['dataset']} | {'every trial' if over == 'trials' else 'the front'} | "
                             f"{'Xilinx LUTs' if against == 'xilinx_luts' else 'nodes'} | {law['a']} | {law['b']} | "
                             f"{law['r2']} | {law['points']} | {_int(round(law['from']))}–{_int(round(law['to']))} |")
    return "\n".join(lines)


def demo_report() -> str:
    """The default run's report.json, the per-pass statistics, part counts and seconds left out."""
    d = load("mnist-small")
    r = d["report"]
    keep = {k: r[k] for k in ("dataset", "accuracy", "gates", "depth", "equivalence", "sim", "latency_cycles")}
    keep["sim"] = {k: r["sim"][k] for k in ("simulator", "vectors", "mismatches", "cycles")}
    keep["synth"] = {k: r["synth"][k] for k in ("target", "device", "logic_cells", "luts", "carry", "ram", "ffs",
                                                "harness_ffs", "fmax_mhz", "freq_mhz", "routed", "router", "seed")}
    keep["synth"]["xilinx_luts"] = r["synth"]["xilinx"]["luts"]
    keep["pipeline"] = {k: r["pipeline"][k] for k in ("levels", "stages")}
    lines = ["```json", "{"]
    for k, (key, value) in enumerate(keep.items()):
        lines.append(f"  {json.dumps(key)}: {json.dumps(value)}" + ("," if k < len(keep) - 1 else ""))
    return "\n".join(lines + ["}", "```", f"{d['processor']}; {d['note']}."])


TABLES = {"designs": designs_table, "published": published_table, "pareto": pareto_table, "demo": demo_report,
          "sweep": sweep_table, "scaling": scaling_table, "laws": laws_table}


def render(text: str) -> str:
    """The text with every marked table written anew from the reports."""
    def fill(match):
        name = match.group(1)
        if name not in TABLES:
            raise SystemExit(f"unknown table {name!r} (known: {', '.join(TABLES)})")
        return f"<!-- results:{name} -->\n{TABLES[name]()}\n<!-- /results:{name} -->"
    return re.sub(r"<!-- results:([\w-]+) -->\n.*?<!-- /results:\1 -->", fill, text, flags=re.S)


def stale_files() -> list:
    """The files whose tables differ from the reports."""
    return [path for path in FILES if render(path.read_text()) != path.read_text()]


def save_sweep(folder: Path, name: str, command: str, processor: str):
    """docs/results/NAME.json from a finished sweep's folder: its summary and table, with the command, the
    processor and the space it searched."""
    sweep = json.loads((folder / "sweep.json").read_text())
    report = {"command": command, "processor": processor, "dataset": sweep["base"]["dataset"],
              "space": list(sweep["space"]), "trial": sweep["trial"], "validation": sweep["validation"],
              "summary": json.loads((folder / "summary.json").read_text()),
              "rows": json.loads((folder / "trials.json").read_text())}
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 if a table is stale")
    p.add_argument("--from-sweep", nargs=4, metavar=("DIR", "NAME", "COMMAND", "PROCESSOR"),
                   help="first save a finished sweep's results as docs/results/NAME.json")
    args = p.parse_args()
    if args.from_sweep:
        folder, name, command, processor = args.from_sweep
        save_sweep(Path(folder), name, command, processor)
    stale = stale_files()
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)}: a results table differs from docs/results/ (run benchmarks/tables.py)")
        sys.exit(1 if stale else 0)
    for path in stale:
        path.write_text(render(path.read_text()))
        print(f"wrote the tables of {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
