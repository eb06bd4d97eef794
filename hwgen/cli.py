"""The `hwgen` command: one subcommand per stage, and `build` for all of them.

Heavy imports (torch, amaranth, cocotb) happen inside the subcommand that needs them, so that e.g.
`hwgen simplify` starts fast and never loads torch.
"""

import argparse
import os
import sys
from pathlib import Path

from .data import NAMES as DATASETS
from .errors import HwgenError
from .flow.config import CHOICES, DEFAULTS
from .netlist import LUT
from .targets import gates_per_level


def cmd_train(args):
    from .flow import config

    cfg = config.load(args.config)
    if cfg["task"] == "ca":
        from .learn.ca.train import train_ca

        if args.resume:
            raise HwgenError("a cellular automaton's training is short and has no --resume")
        m = train_ca(cfg, args.out, progress=not args.quiet)
        print(f"{'solved' if m['solved'] else 'not solved'}: hardened score {m['hard_score']:.4f} "
              f"(try {m['try']}); checkpoint in {args.out}/checkpoint.pt")
        return
    from .learn.train import CHECKPOINT, load_checkpoint, train

    existing = Path(args.out) / CHECKPOINT
    if existing.exists() and not (args.resume or args.retrain):
        step = load_checkpoint(existing).get("step")
        raise HwgenError(f"{existing} holds a training (at step {step}): give --resume to go on with it, or --retrain "
                         "to replace it")
    metrics = train(cfg, args.out, resume=args.resume, progress=not args.quiet)
    print(f"test accuracy: float {metrics['test_float']:.4f}, hardened {metrics['test_hardened']:.4f}; "
          f"checkpoint in {args.out}/checkpoint.pt")


def cmd_harden(args):
    from .learn.harden import harden_checkpoint, harden_difflogic_file, harden_dwn_file

    if args.from_dwn:
        if args.classes is None:
            raise HwgenError("--from-dwn needs --classes (a torch-dwn state_dict does not hold its GroupSum's k)")
        from .data import read_npy

        perm = read_npy(args.randperm, "permutation") if args.randperm else None
        net = harden_dwn_file(args.checkpoint, args.classes, args.inputs, perm)
    elif args.classes is not None or args.randperm is not None:
        raise HwgenError("--classes and --randperm go with --from-dwn")
    elif args.from_difflogic:
        net = harden_difflogic_file(args.checkpoint, args.inputs, thresholds_list(args.binarize))
    elif args.inputs is not None or args.binarize is not None:
        raise HwgenError("--inputs and --binarize go with --from-difflogic")
    else:
        net = harden_checkpoint(args.checkpoint)
    net.save(args.out)
    print(f"{describe_netlist(net)} -> {args.out}")


def counted(n: int, thing: str, things: str | None = None) -> str:
    """'1 gate', '2 gates'."""
    return f"{n:,} {thing if n == 1 else things or thing + 's'}"


def nodes(net) -> str:
    """A netlist's nodes by what they are: gates, LUT nodes, or both."""
    luts = int((net.ops == LUT).sum()) if net.has_luts else 0
    if luts == 0:
        return counted(net.num_gates, "gate")
    return counted(luts, "LUT node") if luts == net.num_gates else counted(net.num_gates, "node")


def describe_netlist(net) -> str:
    from .convnet import ConvNetlist

    if isinstance(net, ConvNetlist):
        kernels = " + ".join(nodes(s.kernel) for s in net.stages)
        return (f"{counted(len(net.stages), 'conv stage')} ({kernels}, {net.shapes()[-1]} feature map), "
                f"a head of {nodes(net.head)}, {counted(len(net.head.outputs), 'output')}")
    return f"{nodes(net)}, depth {net.depth()}, {counted(len(net.outputs), 'output')}"


def cmd_flatten(args):
    from .convnet import load_flat

    net = load_flat(args.netlist)
    net.save(args.out)
    print(f"{args.out}: {describe_netlist(net)}")


def thresholds_list(text):
    if text is None:
        return None
    try:
        return [int(t) for t in text.split(",")]
    except ValueError:
        raise HwgenError(f"--binarize takes integer thresholds separated by commas, got {text!r}") from None


def cmd_simplify(args):
    from . import rewrite
    from .rewrite.flow import simplify

    if args.list:
        for name, p in rewrite.PASSES.items():
            params = ", ".join(f"{k}={v}" for k, v in rewrite.default_params(name).items())
            print(f"{name:10s} {'exact' if p.exact else 'lossy'}  {p.doc}" + (f" [{params}]" if params else ""))
        return
    if not args.netlist or not args.out:
        raise HwgenError("simplify needs NETLIST and --out (or --list)")
    names = [n.strip() for n in args.passes.split(",")] if args.passes else rewrite.DEFAULT_PASSES
    rewrite.check_names(names, exact_only=True)
    from .convnet import ConvNetlist, load_any

    net = load_any(args.netlist)
    if isinstance(net, ConvNetlist):
        if args.data:
            raise HwgenError("data-aware folding works on one flat netlist: hwgen flatten first")
        from .rewrite.flow import simplify_conv

        net, stats = simplify_conv(net, names, args.verify)
        for s in stats:
            print(f"{s['stage']:8s} gates {s['passes'][0]['gates_in']} -> {s['passes'][-1]['gates_out']}")
        if args.verify:
            print("equivalence: proven (ABC cec), each kernel once and the head")
        net.save(args.out)
        return
    data = None
    if args.data:
        from .data import user_data

        data = user_data(args.data, net)
    result = simplify(net, names, args.verify, data, args.rare_fraction, args.max_drop)
    for s in result.passes:
        own = "".join(f", {k} {v}" for k, v in s["stats"].items())
        print(f"{s['pass']:8s} gates {s['gates_in']} -> {s['gates_out']}, levels {s['levels_in']} -> "
              f"{s['levels_out']}, {s['seconds']:.3f} s{own}")
    if args.verify:
        print("equivalence: proven (ABC cec)")
    if result.data_aware:
        info = result.data_aware
        print(f"data-aware: {info['near_constant']} near-constant and {info['unobserved']} unobserved gates "
              f"folded; gates {info['gates_exact']} -> {info['gates']}, test accuracy "
              f"{info['test_accuracy_exact']:.4f} -> {info['test_accuracy']:.4f} ({0.0 - info['drop_points']:+.2f} points)")
    result.final.save(args.out)


def cmd_emit(args):
    from .convnet import load_flat as load
    from .emit.verilog import emit

    if not args.name.isidentifier():
        raise HwgenError(f"--name must be a Verilog identifier, got {args.name!r}")
    if args.ca_grid is not None:
        from .ca.rtl import emit_ca

        rule = load(args.netlist)
        if args.ca_grid < 3:
            raise HwgenError("--ca-grid must be at least 3")
        if rule.num_inputs != 9 * rule.num_classes or len(rule.outputs) != rule.num_classes:
            raise HwgenError(f"{args.netlist}: not a cellular automaton rule (9 x S inputs, S outputs in S classes)")
        emit_ca(rule, args.out, args.name, args.ca_grid)
        print(f"{args.out}/{args.name}.v: {args.name}_rule ({rule.num_gates} gates) and {args.name}, a "
              f"{args.ca_grid}x{args.ca_grid} torus (parameters H, W), one step per clock")
        return
    from .convnet import load_any
    from .emit.pipeline import describe_levels

    net = load(args.netlist) if args.unrolled else load_any(args.netlist)
    info = emit(net, args.out, args.name, args.backend, pipeline_levels(args.pipeline), args.freq, args.target,
                source=args.netlist, pixels_per_clock=args.pixels_per_clock)
    if info.get("kind") == "conv-stream":
        per_clock = "a pixel" if info["pixels_per_clock"] == 1 else f"{info['pixels_per_clock']} pixels"
        levels = describe_levels(info["pipeline_levels"])
        print(f"{args.out}/{args.name}.v: the streaming engine {info['name']} ({len(info['conv_stages'])} conv stages "
              f"and the head, stages of {levels}): {per_clock} per clock, "
              f"{info['clocks_per_image']} clocks per image, latency {info['latency_cycles']} cycles")
        return
    print(f"{args.out}/{args.name}.v: modules {info['name']} and {info['core']} ({info['core_backend']} backend), "
          f"{info['stages']} stages of {describe_levels(info['pipeline_levels'])}, "
          f"latency {info['latency_cycles']} cycles, {info['registers']} registers "
          f"({info['skip_registers']} holding values for more than one stage)")


def pipeline_levels(text: str):
    if text == "auto":
        return text
    try:
        levels = int(text)
        assert levels >= 0
    except (ValueError, AssertionError):
        raise HwgenError(f"--pipeline must be auto or 0 or more LUT levels, got {text!r}") from None
    return levels


def cmd_export(args):
    from .convnet import load_flat as load
    from .files import write_text

    net = load(args.netlist)
    if args.format == "aiger":
        from .files import atomic_path
        from .interop.aiger import to_aiger

        with atomic_path(args.out) as tmp:
            tmp.write_bytes(to_aiger(net))
    elif args.format == "blif":
        from .interop.blif import to_blif
        write_text(args.out, to_blif(net))
    else:
        from .emit.direct import core_verilog
        write_text(args.out, core_verilog(net, args.name))
    print(f"{args.out}: {nodes(net)} as {args.format}")


def cmd_import(args):
    from pathlib import Path

    from .files import read_bytes, read_text

    fmt = args.format or {".blif": "blif", ".aig": "aiger", ".aag": "aiger"}.get(Path(args.file).suffix)
    if fmt is None:
        raise HwgenError(f"{args.file}: cannot tell the format from the name; give --format blif|aiger")
    if fmt == "blif":
        from .interop.blif import read_blif
        net = read_blif(read_text(args.file, "BLIF"), args.classes, args.file, luts=args.luts)
    else:
        from .interop.aiger import read_aiger
        net = read_aiger(read_bytes(args.file, "AIGER"), args.classes, args.file)
    net.save(args.out)
    print(f"{args.out}: {nodes(net)}, {counted(net.num_inputs, 'input')}, {counted(len(net.outputs), 'output')} "
          f"in {counted(net.num_classes, 'class', 'classes')}")


def cmd_explain(args):
    from .convnet import ConvNetlist, load_any
    from .explain import explain, format_summary

    shape = None
    if args.image:
        try:
            shape = tuple(int(v) for v in args.image.lower().split("x"))
            assert len(shape) == 2 and min(shape) > 0
        except (ValueError, AssertionError):
            raise HwgenError(f"--image must look like 28x28, got {args.image!r}") from None
    net = load_any(args.netlist)
    bits = data = None
    if args.data:
        from .data import user_data
        from .golden import evaluate

        data = user_data(args.data, net)
        bits = evaluate.input_bits(net, data.test_x)
        shape = shape or getattr(data, "image_shape", None)
    if isinstance(net, ConvNetlist):  # each kernel read once, then the circuit behind them
        from .explain.conv import explain_conv
        from .explain.kernels import kernel_lines

        kernels, info = explain_conv(net, args.out, outputs=args.output, image_shape=shape, data_bits=bits,
                                     class_names=getattr(data, "class_names", None))
        print("\n".join(kernel_lines(kernels)))
    else:
        info = explain(net, args.out, outputs=args.output, image_shape=shape, data_bits=bits)
    print(format_summary(info))
    if args.out:
        drawn = [info["heatmap"]] if "heatmap" in info else []
        drawn += [info["evidence"][k] for k in ("file", "picture") if k in info.get("evidence", {})]
        print(f"files in {args.out}: " + ", ".join(["explain.json"] + drawn + info.get("files", [])))


def cmd_sim(args):
    import numpy as np

    from .convnet import load_any
    from .golden import evaluate
    from .simulation import inputs_for, simulate

    net = load_any(args.netlist)
    inputs, labels = inputs_for(net, args.vectors, args.dataset, args.seed)
    result = simulate(args.rtl_dir, net, inputs, args.simulator, gap=args.gap, stall=args.stall, seed=args.seed,
                      name=args.name, waves=None if args.waves is None else Path(args.waves).resolve())
    print(f"{result['simulator']}: {result['vectors']} vectors, {result['mismatches']} mismatches, "
          f"{result['vectors_per_second']:.0f} vectors/s (build {result['build_seconds']} s)"
          + (f"; waveforms in {result['waves']}" if "waves" in result else ""))
    if labels is not None:
        acc = float(np.mean(np.array(result["classes"][:len(labels)]) == labels))
        print(f"RTL test accuracy on {len(labels)} test vectors: {acc:.4f} "
              f"(evaluator {evaluate.accuracy(net, evaluate.input_bits(net, inputs[:len(labels)]), labels):.4f})")
    if result["mismatches"]:
        raise HwgenError(f"{result['mismatches']} vectors differ from the golden model")


def missed_clock(r: dict) -> str:
    return (f"{r['fmax_mhz']} MHz {'routed' if r['routed'] else 'estimated after placement'} misses the asked "
            f"{r['freq_mhz']} MHz: the design does not meet its clock")


def cmd_synth(args):
    from .synthesis import synthesize

    r = synthesize(args.rtl_dir, args.target, args.freq, route=not args.no_route, seed=args.seed,
                   parts=not args.no_parts, xilinx=not args.no_xilinx, name=args.name, router=args.router)
    print(f"{r['target']} ({r['device']}): {r['luts']} LUTs, {r['ffs']} FFs ({r['harness_ffs']} in the input "
          f"harness), {r['carry']} carry cells, {r['bram']} BRAM, Fmax {r['fmax_mhz']} MHz, seed {r['seed']}"
          f"{', ' + r['router'] if r['routed'] else ' (placed, not routed)'}")
    if not r["met"]:
        print(f"hwgen: warning: {missed_clock(r)}", file=sys.stderr)


def cmd_init(args):
    """hwgen init NAME: the shipped example NAME written out (NAME.yaml here) to start from."""
    args.out = args.out or f"{args.name}.yaml"
    if Path(args.out).exists():
        raise HwgenError(f"{args.out} exists: give another --out")
    cmd_configs(args)


def cmd_configs(args):
    from .flow.config import shipped

    configs = shipped()
    if args.name is None:
        for name, path in configs.items():
            first = next((line[2:].strip() for line in path.read_text().splitlines() if line.startswith("# ")), "")
            print(f"{name:18s} {first}")
        return
    if args.name not in configs:
        raise HwgenError(f"no example config named {args.name} (there: {', '.join(configs)})")
    text = configs[args.name].read_text()
    if args.out is None:
        print(text, end="")
        return
    from .files import write_text

    write_text(args.out, text)
    print(f"{args.out}: the {args.name} example; build it with hwgen build {args.out} --out DIR")


def cmd_build(args):
    from .flow import config

    cfg = config.load(args.config)
    if cfg["task"] == "ca":
        from .flow.ca_build import build_ca, summary_ca

        print(summary_ca(build_ca(cfg, args.out, progress=not args.quiet)))
    else:
        from .flow.build import build, summary

        print(summary(build(cfg, args.out, progress=not args.quiet, retrain=args.retrain)))
    print(f"report: {args.out}/report.json")


def cmd_sweep(args):
    import importlib.util

    missing = [m for m in ("ray", "optuna") if importlib.util.find_spec(m) is None]
    if missing:
        raise HwgenError(f"hwgen sweep needs {' and '.join(missing)}: pip install 'hwgen[sweep]'")
    from .flow.sweep import run

    run(args.sweep, args.out, args.address, args.workers, build_front=not args.no_build)


def parser() -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(prog="hwgen", description="Differentiable logic gate networks to FPGA.")
    p.add_argument("--version", action="version", version=f"hwgen {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("train", help="train a model from a YAML config")
    s.add_argument("config")
    s.add_argument("--out", required=True, help="folder for checkpoint.pt")
    s.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    s.add_argument("--retrain", action="store_true", help="train from the start, replacing OUT/checkpoint.pt")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_train)

    s = sub.add_parser("harden", help="checkpoint -> netlist (argmax gate per neuron)")
    s.add_argument("checkpoint", help="hwgen's checkpoint.pt, or with --from-difflogic a torch.save'd model")
    s.add_argument("--from-difflogic", action="store_true",
                   help="the file is a difflogic model saved whole (torch.save(model)): it is UNPICKLED, which runs "
                        "any code the file holds, so use it only on files you trust; difflogic must be importable. "
                        "hwgen's own checkpoints never run code")
    s.add_argument("--from-dwn", action="store_true",
                   help="the file is the state_dict of a torch-dwn model (DWN's LUT layers), loaded without running "
                        "anything; give --classes")
    s.add_argument("--classes", type=int, help="with --from-dwn: the classes of the model's GroupSum")
    s.add_argument("--randperm", metavar="FILE.npy",
                   help="with --from-dwn: the permutation of a GroupSum(randperm=...) (np.save(FILE, "
                        "group_sum.randperm.numpy())): it is not in the state_dict, and without it the outputs are "
                        "grouped in order")
    s.add_argument("--inputs", type=int, help="with --from-difflogic or --from-dwn: the input count, where the file "
                                              "does not tell it")
    s.add_argument("--binarize", metavar="T1,T2,...",
                   help="with --from-difflogic: the model was trained on bits [x > T1 for every feature, then "
                        "x > T2, ...] of integer features; the netlist then takes the raw features (an encoder)")
    s.add_argument("--out", required=True, help="NET.netlist.json")
    s.set_defaults(func=cmd_harden)

    s = sub.add_parser("flatten", help="a conv netlist (v3) unrolled into one plain netlist (v1/v2), for the tools "
                                       "that want one circuit")
    s.add_argument("netlist")
    s.add_argument("--out", required=True, help="FLAT.netlist.json")
    s.set_defaults(func=cmd_flatten)

    s = sub.add_parser("simplify", help="boolean rewriting passes")
    s.add_argument("netlist", nargs="?")
    s.add_argument("--out")
    s.add_argument("--passes", help="comma-separated pass names, in order")
    s.add_argument("--verify", action="store_true", help="prove the result equivalent with ABC cec")
    s.add_argument("--list", action="store_true", help="list the passes")
    s.add_argument("--data", metavar="NAME|FILE.npz",
                   help="then fold don't-cares seen on these training inputs (lossy, guarded by test accuracy): a "
                        f"data set ({', '.join(DATASETS)}) or your own .npz of train_x, test_x, test_y")
    s.add_argument("--rare-fraction", type=float, default=DEFAULTS["simplify"]["rare_fraction"],
                   help="data-aware: a gate whose rarer value is at most this rare becomes constant")
    s.add_argument("--max-drop", type=float, default=DEFAULTS["simplify"]["max_accuracy_drop"],
                   help="data-aware: refuse a result losing more test accuracy than this (points)")
    s.set_defaults(func=cmd_simplify)

    s = sub.add_parser("emit", help="netlist -> pipelined, streaming Verilog (Amaranth or the direct writer)")
    s.add_argument("netlist")
    s.add_argument("--out", required=True, help="RTL folder")
    s.add_argument("--name", default=DEFAULTS["emit"]["name"], help="top module name (default %(default)s)")
    s.add_argument("--backend", default=DEFAULTS["emit"]["backend"], choices=CHOICES[("emit", "backend")],
                   help="Amaranth components, or the direct writer (auto: the direct writer, the faster)")
    s.add_argument("--pipeline", default=DEFAULTS["emit"]["pipeline"], metavar="K",
                   help=f"K LUT levels per pipeline stage ({gates_per_level()}); "
                        "0: no registers inside the core; auto: as many as meet --freq (default %(default)s)")
    s.add_argument("--freq", type=float, default=DEFAULTS["synth"]["freq_mhz"],
                   help="with --pipeline auto: the target clock in MHz (default %(default)s)")
    s.add_argument("--target", default=DEFAULTS["synth"]["target"], choices=CHOICES[("synth", "target")],
                   help="with --pipeline auto: the FPGA whose delays set the stages")
    s.add_argument("--unrolled", action="store_true",
                   help="a conv netlist (v3) flattened into one dense circuit, not the streaming engine")
    s.add_argument("--pixels-per-clock", type=int, default=DEFAULTS["emit"]["pixels_per_clock"], metavar="P",
                   help="a conv netlist's streaming engine takes P neighbouring pixels of a row a clock, each "
                        "kernel built once per pixel (stride-1 stages whose widths P divides; default %(default)s)")
    s.add_argument("--ca-grid", type=int, metavar="N",
                   help="the netlist is a cellular automaton's rule: emit an N x N grid of cells sharing it")
    s.set_defaults(func=cmd_emit)

    s = sub.add_parser("export", help="netlist -> BLIF or AIGER (for ABC and yosys) or a plain Verilog module")
    s.add_argument("netlist")
    s.add_argument("--format", required=True, choices=["blif", "aiger", "verilog"])
    s.add_argument("--out", required=True)
    s.add_argument("--name", default="dlgn_core", help="Verilog module name (default dlgn_core)")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("import", help="BLIF or AIGER (from ABC, yosys, ...) -> netlist")
    s.add_argument("file")
    s.add_argument("--out", required=True, help="NET.netlist.json")
    s.add_argument("--format", choices=["blif", "aiger"], help="default: from the extension (.blif, .aig, .aag)")
    s.add_argument("--classes", type=int, default=1,
                   help="split the outputs into this many equal class slices (default 1)")
    s.add_argument("--luts", action="store_true",
                   help="BLIF: keep each cover of 3 to 6 inputs as one LUT node (netlist v2), not two-input gates")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("explain", help="a netlist in readable form: summary, heat map, expressions, drawings")
    s.add_argument("netlist")
    s.add_argument("--out", help="folder for explain.json, heatmap.png, circuit.svg/.dot, circuit.digitaljs.json")
    s.add_argument("--output", type=int, nargs="+", help="explain only these output positions (their cone)")
    s.add_argument("--data", metavar="NAME|FILE.npz",
                   help="evidence maps over this data set's test inputs (a data set name, or an .npz of train_x, "
                        "test_x, test_y)")
    s.add_argument("--image", help="pixel grid of the input features, e.g. 28x28 (default: square counts)")
    s.set_defaults(func=cmd_explain)

    s = sub.add_parser("sim", help="cocotb simulation against the golden model")
    s.add_argument("rtl_dir")
    s.add_argument("--netlist", required=True)
    s.add_argument("--simulator", default=DEFAULTS["sim"]["simulator"], choices=CHOICES[("sim", "simulator")])
    s.add_argument("--vectors", default="10000", metavar="N|FILE.npy",
                   help="how many vectors (a --dataset's test set first, then random ones), or a .npy file of your "
                        "own: raw integer features (with an encoder) or 0/1 input bits (default 10000)")
    s.add_argument("--dataset", choices=DATASETS, help="stream this data set's test vectors first")
    s.add_argument("--gap", type=float, default=0.1, help="chance per cycle of no input offered")
    s.add_argument("--stall", type=float, default=0.1, help="chance per cycle of output backpressure")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--name", help="the design to simulate, where RTL_DIR holds several")
    s.add_argument("--waves", metavar="FILE.fst", help="write the run's waveforms to this file (GTKWave, Surfer)")
    s.set_defaults(func=cmd_sim)

    s = sub.add_parser("synth", help="yosys + nextpnr: LUTs, flip-flops, Fmax")
    s.add_argument("rtl_dir")
    s.add_argument("--target", default=DEFAULTS["synth"]["target"], choices=CHOICES[("synth", "target")])
    s.add_argument("--freq", type=float, default=DEFAULTS["synth"]["freq_mhz"],
                   help="target clock in MHz (default %(default)s)")
    s.add_argument("--seed", type=int, default=DEFAULTS["synth"]["seed"],
                   help="nextpnr's placement seed (default %(default)s)")
    s.add_argument("--no-route", action="store_true",
                   help="place only; Fmax is nextpnr's post-placement estimate (for designs too congested to route)")
    s.add_argument("--router", default=DEFAULTS["synth"]["router"], choices=CHOICES[("synth", "router")],
                   help="nextpnr's router; auto (default): on ECP5 router1 and router2 at once, the faster result "
                        "of the first to route and of the other within as long again")
    s.add_argument("--no-parts", action="store_true", help="skip the LUT count of each part (a second yosys run)")
    s.add_argument("--no-xilinx", action="store_true", help="skip the Xilinx LUT6 count (yosys synth_xilinx)")
    s.add_argument("--name", help="the design to synthesize, where RTL_DIR holds several")
    s.set_defaults(func=cmd_synth)

    s = sub.add_parser("configs", help="the example configs that ship with hwgen: list them, or write one out")
    s.add_argument("name", nargs="?", help="an example's name (mnist-small, digits-conv, ...)")
    s.add_argument("--out", help="write it to this file (else to the terminal)")
    s.set_defaults(func=cmd_configs)

    s = sub.add_parser("init", help="write a shipped example config (hwgen configs lists them) to start from")
    s.add_argument("name", help="an example's name (mnist-small, digits-conv, ...)")
    s.add_argument("--out", help="the file to write (default NAME.yaml here)")
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("build", help="all stages from one config; writes OUT/report.json")
    s.add_argument("config", help="a config file, or the name of a shipped example (hwgen configs lists them)")
    s.add_argument("--out", required=True)
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--retrain", action="store_true",
                   help="train from scratch even where OUT/train/checkpoint.pt holds a run of other settings")
    s.set_defaults(func=cmd_build)

    s = sub.add_parser("sweep", help="search config keys for the front of accuracy against LUTs (Optuna, on Ray); "
                                     "run again to go on")
    s.add_argument("sweep", help="a sweep file (docs/sweep.md)")
    s.add_argument("--out", required=True, help="the sweep's folder: its study, table, plot and front")
    s.add_argument("--address", help="a Ray cluster to run the trials on (default: a local Ray of this machine)")
    s.add_argument("--workers", type=int, help="trials at once (default: the cluster's cores / train.threads)")
    s.add_argument("--no-build", action="store_true", help="write the front's configs, do not build them")
    s.set_defaults(func=cmd_sweep)
    return p


def _pin_torch_vector_code():
    """torch picks its vector code by processor (AVX-512 where there is one), and its sums then round
    differently: pin AVX2, which x86-64 processors of the last decade have, so that the one source of
    difference known is removed. Training is repeatable on one kind of processor; across kinds the LUT
    models have still been seen to end with other weights (docs/results.md). (Set ATEN_CPU_CAPABILITY or
    MKL_CBWR yourself to choose otherwise.)"""
    try:
        with open("/proc/cpuinfo") as f:
            avx2 = " avx2 " in f.read(200_000)
    except OSError:
        avx2 = False
    if avx2:
        os.environ.setdefault("ATEN_CPU_CAPABILITY", "avx2")
        os.environ.setdefault("MKL_CBWR", "AVX2,STRICT")  # the same for MKL's matrix products (a teacher's)


def main(argv=None) -> int:
    _pin_torch_vector_code()
    args = parser().parse_args(argv)
    try:
        args.func(args)
    except HwgenError as e:
        print(f"hwgen: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hwgen: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (hwgen configs | head): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
