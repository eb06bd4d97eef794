"""Netlist -> RTLDIR/NAME.v (modules NAME and NAME_core) and RTLDIR/NAME.json, through either backend.

Both backends print the same plan (`pipeline.plan_core`): `amaranth` elaborates the Amaranth components
and converts them; `direct` writes the core's Verilog in one pass and fills `rtl_templates/stream_top.v`
for the top level, which scales to millions of gates.
"""

import hashlib
from pathlib import Path

from ..convnet import ConvNetlist
from ..errors import HwgenError
from ..files import ensure_dir, write_json, write_text
from ..flow.config import CHOICES, DEFAULTS
from ..netlist import Netlist
from ..targets import family_of
from . import RTL_FORMAT, fill_template
from .direct import pipelined_core_verilog
from .pipeline import CorePlan, fifo_depth_bits, pipeline_levels, plan_core

BACKENDS = CHOICES[("emit", "backend")]
AMARANTH_MAX_WIDTH = 65_535  # bits in one Amaranth signal


def describe(net: Netlist, name: str, plan: CorePlan) -> dict:
    """What a user of the RTL needs: ports, widths, latency, and what the pipeline cost."""
    c, w = net.num_classes, net.score_width
    return {
        "format": RTL_FORMAT, "name": name, "core": f"{name}_core",
        "latency_cycles": plan.latency + 1, "core_latency_cycles": plan.latency,
        "fifo_depth": 1 << fifo_depth_bits(plan.latency),
        "input_port": plan.input_port, "input_width": plan.input_width, "feature_bits": plan.feature_bits,
        "num_inputs": net.num_inputs, "num_outputs": len(net.outputs), "num_classes": c,
        "outputs_per_class": net.outputs_per_class, "score_width": w, "class_width": net.class_width,
        "gates": net.num_gates, "depth": net.depth(), **plan.stats,
        "ports": {"clk": 1, "rst": 1, "in_valid": 1, "in_ready": 1, plan.input_port: plan.input_width,
                  "out_valid": 1, "out_ready": 1, "out_class": net.class_width, "out_scores": c * w},
    }


def core_backend(net: Netlist, backend: str) -> str:
    if backend not in BACKENDS:
        raise HwgenError(f"unknown backend \"{backend}\" (known: {', '.join(BACKENDS)})")
    # The direct writer is far faster and leaner than Amaranth's elaboration at every size
    # (benchmarks/emit_speed.py measures both), so `auto` picks it; the Amaranth backend is there for its
    # components.
    return "direct" if backend == "auto" else backend


def port_layout(inputs: str, feature_bits: int, score_width: int) -> str:
    """The ports' bit layout, as the header of NAME.v says it: `inputs` says where the input port's bits
    go; with raw features (feature_bits > 0), each one's width and saturation."""
    first = f"// {inputs}" + (f", an unsigned {feature_bits}-bit value; every threshold is below 2**{feature_bits}, "
                              f"so saturate a wider value at {(1 << feature_bits) - 1}." if feature_bits else ".")
    return (first + f"\n// out_scores: class c's score (how many of its outputs are 1) at [c*{score_width} +: {score_width}]; "
            "out_class: the class of the highest score, the lowest on a tie.")


# The top level's admission, per sample (dense cores) or per image (the streaming engine).
PER_SAMPLE = {"ADMITTED": "samples", "ADMISSION": "  assign in_ready = ~credits[DEPTH_BITS];\n  wire admit = take;",
              "ADMISSION_RESET": "", "ADMISSION_UPDATE": ""}


def top_verilog(name: str, header: str, layout: str, in_width: int, in_port: str, class_width: int,
                scores_width: int, depth_bits: int, depth_reason: str, admission: dict = PER_SAMPLE) -> str:
    """NAME: rtl_templates/stream_top.v, the flow control around NAME_core that both kinds of core share."""
    return fill_template("stream_top.v", {
        "HEADER": header, "PORT_LAYOUT": layout, "NAME": name, "IN_WIDTH": in_width, "IN_PORT": in_port,
        "CLASS_WIDTH": class_width, "SCORES_WIDTH": scores_width, "DEPTH_BITS": depth_bits,
        "DEPTH_REASON": depth_reason, **admission})


def dense_top_verilog(plan: CorePlan, name: str, score_width: int) -> str:
    header = (f"// {name}: valid/ready stream around the pipelined core {name}_core (latency {plan.latency} clocks).\n"
              "// The core never stalls. A credit counter admits a sample only while the output FIFO is sure to "
              "have room\n// for it, so backpressure on out_ready never has to reach into the pipeline, and "
              "in_ready is a register\n// bit (no combinational path from out_ready to in_ready). With out_ready "
              "high, one sample per clock flows.\n// The same flow control as hwgen/emit/amaranth_rtl.py's "
              "Classifier: the two must agree (tests simulate both).")
    b = plan.feature_bits
    inputs = f"in_data: feature f at [f*{b} +: {b}]" if plan.input_port == "in_data" else "in_bits: input bit i at [i]"
    return top_verilog(name, header, port_layout(inputs, b, score_width), plan.input_width, plan.input_port,
                       plan.class_width, plan.scores_width, fifo_depth_bits(plan.latency),
                       "at least latency + 3, the credits one sample per clock holds")


def emit(net: Netlist, out_dir, name: str = DEFAULTS["emit"]["name"], backend: str = DEFAULTS["emit"]["backend"],
         pipeline=DEFAULTS["emit"]["pipeline"], freq_mhz: float = DEFAULTS["synth"]["freq_mhz"],
         target: str = DEFAULTS["synth"]["target"], source=None,
         pixels_per_clock: int = DEFAULTS["emit"]["pixels_per_clock"]) -> dict:
    """Writes OUT/NAME.v and OUT/NAME.json; `pipeline` LUT levels per stage (0: none), or "auto": as many
    as meet freq_mhz on the target's FPGA family. A conv netlist (v3) becomes the streaming engine
    (stream.py; the direct writer's), taking `pixels_per_clock` pixels a clock; flatten it first for the
    unrolled circuit. NAME.json records which netlist it was (`source`, the file, and its digest), so that
    a simulation can check it is given that one."""
    if isinstance(net, ConvNetlist):
        text, info = _stream(net, name, backend, pipeline, freq_mhz, target, pixels_per_clock)
    else:
        if pixels_per_clock != 1:
            raise HwgenError("pixels a clock other than 1 are for a conv netlist's streaming engine; "
                             "this netlist is dense (one sample a transfer)")
        text, info = _dense(net, name, backend, pipeline, freq_mhz, target)
    info.update(freq_mhz=freq_mhz, target=target, netlist_sha256=netlist_digest(net),
                netlist_file=None if source is None else str(source))
    out_dir = ensure_dir(out_dir)
    write_text(Path(out_dir) / f"{name}.v", text)
    write_json(Path(out_dir) / f"{name}.json", info)
    return info


def _dense(net: Netlist, name: str, backend: str, pipeline, freq_mhz: float, target: str) -> tuple[str, dict]:
    """NAME.v's text and NAME.json's description for a flat netlist, through either backend."""
    backend = core_backend(net, backend)
    plan = plan_core(net, pipeline, freq_mhz, family_of(target))
    if backend == "amaranth":
        from amaranth.back import verilog

        from .amaranth_rtl import FlatClassifier, PipelinedCore

        widest = max(plan.input_width, plan.scores_width)
        if widest > AMARANTH_MAX_WIDTH:
            raise HwgenError(f"a port of {widest:,} bits is wider than Amaranth's limit of {AMARANTH_MAX_WIDTH:,} "
                             "bits (use --backend direct)")
        core = verilog.convert(PipelinedCore(net, plan=plan), name=f"{name}_core", emit_src=False)
        top = verilog.convert(FlatClassifier(net, plan=plan, core_module=f"{name}_core"), name=name,
                              emit_src=False)
    else:
        core, top = pipelined_core_verilog(plan, f"{name}_core"), dense_top_verilog(plan, name, net.score_width)
    return top + "\n" + core, {**describe(net, name, plan), "core_backend": backend}


def netlist_digest(net) -> str:
    """What identifies a netlist: the sha256 of its file's text."""
    return hashlib.sha256(net.dumps().encode()).hexdigest()


def _stream(net: ConvNetlist, name: str, backend: str, pipeline, freq_mhz: float, target: str,
            pixels_per_clock: int) -> tuple[str, dict]:
    """The same for a conv netlist: the streaming engine, through either backend."""
    from .stream import describe_stream, plan_stream, stream_verilog

    backend = core_backend(net, backend)
    plan = plan_stream(net, pipeline_levels(pipeline, freq_mhz, family_of(target)), family_of(target),
                       pixels_per_clock)
    if backend == "amaranth":
        from amaranth.back import verilog

        from .amaranth_stream import ConvEngine, FlatConvClassifier

        core = verilog.convert(ConvEngine(plan), name=f"{name}_core", emit_src=False)
        text = verilog.convert(FlatConvClassifier(plan, core_module=f"{name}_core"), name=name, emit_src=False)
        text += "\n" + core
    else:
        text = stream_verilog(plan, name)
    return text, {**describe_stream(plan, name), "core_backend": backend}
