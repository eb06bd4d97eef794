"""Netlist -> RTLDIR/NAME.v (modules NAME and NAME_core, through amaranth.back.verilog) and NAME.json."""

from pathlib import Path

from amaranth.back import verilog

from ..errors import HwgenError
from ..files import ensure_dir, write_json, write_text
from ..netlist import Netlist
from .amaranth_rtl import LATENCY, Classifier, Core
from . import RTL_FORMAT
from .direct import core_verilog

BACKENDS = ("auto", "amaranth", "direct")
AMARANTH_MAX_WIDTH = 65_535  # bits in one Amaranth signal
AUTO_DIRECT_ABOVE = 20_000  # gates; Amaranth elaboration of the core grows to minutes and GBs past this


def describe(net: Netlist, name: str) -> dict:
    """What a user of the RTL needs: ports, widths, latency."""
    c, w = net.num_classes, net.score_width
    return {
        "format": RTL_FORMAT, "name": name, "core": f"{name}_core", "latency_cycles": LATENCY,
        "num_inputs": net.num_inputs, "num_outputs": len(net.outputs), "num_classes": c,
        "outputs_per_class": net.outputs_per_class, "score_width": w, "class_width": net.class_width,
        "gates": net.num_gates, "depth": net.depth(),
        "ports": {"clk": 1, "rst": 1, "in_valid": 1, "in_ready": 1, "in_bits": net.num_inputs, "out_valid": 1,
                  "out_ready": 1, "out_class": net.class_width, "out_scores": c * w},
    }


def core_backend(net: Netlist, backend: str) -> str:
    if backend not in BACKENDS:
        raise HwgenError(f"unknown backend \"{backend}\" (known: {', '.join(BACKENDS)})")
    if backend == "auto":
        return "direct" if net.num_gates > AUTO_DIRECT_ABOVE else "amaranth"
    return backend


def emit(net: Netlist, out_dir, name: str = "dlgn", backend: str = "auto") -> dict:
    """Writes OUT/NAME.v (the top level through Amaranth, the core through `backend`) and OUT/NAME.json."""
    backend = core_backend(net, backend)
    widest = max(net.num_inputs, len(net.outputs), net.num_classes * net.score_width)
    if widest > AMARANTH_MAX_WIDTH:
        raise HwgenError(f"a port of {widest:,} bits is wider than the top level's limit of "
                         f"{AMARANTH_MAX_WIDTH:,} (an Amaranth signal width)")
    out_dir = ensure_dir(out_dir)
    if backend == "amaranth":
        core = verilog.convert(Core(net), name=f"{name}_core", emit_src=False)
    else:
        core = core_verilog(net, f"{name}_core")
    top = verilog.convert(Classifier(net, f"{name}_core"), name=name, emit_src=False)
    info = {**describe(net, name), "core_backend": backend}
    write_text(Path(out_dir) / f"{name}.v", top + "\n" + core)
    write_json(Path(out_dir) / f"{name}.json", info)
    return info
