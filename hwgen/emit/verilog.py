"""Netlist -> RTLDIR/NAME.v (modules NAME and NAME_core, through amaranth.back.verilog) and NAME.json."""

from pathlib import Path

from amaranth.back import verilog

from ..files import ensure_dir, write_json, write_text
from ..netlist import Netlist
from .amaranth_rtl import LATENCY, Classifier, Core


def describe(net: Netlist, name: str) -> dict:
    """What a user of the RTL needs: ports, widths, latency."""
    c, w = net.num_classes, net.score_width
    return {
        "name": name, "core": f"{name}_core", "latency_cycles": LATENCY,
        "num_inputs": net.num_inputs, "num_outputs": len(net.outputs), "num_classes": c,
        "outputs_per_class": net.outputs_per_class, "score_width": w, "class_width": net.class_width,
        "gates": net.num_gates, "depth": net.depth(),
        "ports": {"clk": 1, "rst": 1, "in_valid": 1, "in_ready": 1, "in_bits": net.num_inputs, "out_valid": 1,
                  "out_ready": 1, "out_class": net.class_width, "out_scores": c * w},
    }


def emit(net: Netlist, out_dir, name: str = "dlgn") -> dict:
    out_dir = ensure_dir(out_dir)
    core = verilog.convert(Core(net), name=f"{name}_core", emit_src=False)
    top = verilog.convert(Classifier(net, f"{name}_core"), name=name, emit_src=False)
    info = describe(net, name)
    write_text(Path(out_dir) / f"{name}.v", top + "\n" + core)
    write_json(Path(out_dir) / f"{name}.json", info)
    return info
