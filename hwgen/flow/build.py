"""`hwgen build`: every stage from one config, with a report of what each produced and how long it took."""

import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .. import rewrite
from ..convnet import ConvNetlist, as_flat, flatten
from ..errors import HwgenError
from ..files import ensure_dir, write_json
from ..golden import evaluate
from .config import DEFAULTS


@contextlib.contextmanager
def timed(seconds: dict, stage: str):
    start = time.perf_counter()
    yield
    seconds[stage] = round(seconds.get(stage, 0.0) + time.perf_counter() - start, 2)  # a stage run again adds up


TRAINING_KEYS = ("task", "dataset", "data", "seed", "encoding", "model", "train")
# Settings that do not change the weights a run ends with; and those a run may be lengthened by (a
# resumed run takes the new schedule from where it is).
NOT_WEIGHTS = {("train", "threads"), ("train", "eval_every"), ("train", "checkpoint_every")}
LENGTHENS = {("train", "steps"), ("train", "hard_steps"), ("train", "hard_lr")}


def training_differences(cfg: dict, saved: dict) -> list:
    """The settings ("section.key") in which a checkpoint's config differs from cfg in what it trains."""
    differ = []
    for section in TRAINING_KEYS:
        mine, theirs = cfg[section], saved.get(section, DEFAULTS.get(section))  # a section added since: its defaults
        if isinstance(mine, dict) and isinstance(theirs, dict):
            # a key the checkpoint lacks was added since, and its default keeps what it trained
            theirs = {**DEFAULTS[section], **theirs}
            differ += [f"{section}.{k}" for k in sorted(set(mine) | set(theirs))
                       if (section, k) not in NOT_WEIGHTS and mine.get(k) != theirs.get(k)]
        elif mine != theirs:
            differ.append(section)
    return differ


def goes_on_from(cfg: dict, checkpoint: Path, retrain: bool) -> bool:
    """Whether the build resumes OUT/train/checkpoint.pt: when it holds this very training run (finished
    or not, or one this config lengthens). A checkpoint of other training settings is never thrown away
    silently: the build stops and says what differs, unless `retrain`."""
    if not checkpoint.exists() or retrain:
        return False
    from ..learn.train import load_checkpoint

    differ = training_differences(cfg, load_checkpoint(checkpoint).get("config", {}))
    if any(tuple(d.split(".")) not in LENGTHENS for d in differ):
        raise HwgenError(f"{checkpoint} was trained with other settings ({', '.join(differ)}); to train again "
                         "and replace it give --retrain, or build into another --out")
    return True


def pass_params(simplify_section: dict) -> dict:
    """The passes' parameters a config's simplify section sets: {pass: {key: value}} (simplify.cut, ...)."""
    from ..rewrite import PASSES

    return {name: simplify_section[name] for name in PASSES if isinstance(simplify_section.get(name), dict)}


def build(cfg: dict, out_dir, progress: bool = True, log=print, retrain: bool = False) -> dict:
    from ..data import from_config
    from ..learn.harden import harden_checkpoint
    from ..learn.train import CHECKPOINT, load_checkpoint, train
    from ..simulation import random_inputs, simulate
    from ..synthesis import add_counts

    out = ensure_dir(out_dir)
    seconds = {}
    checkpoint = out / "train" / CHECKPOINT
    with timed(seconds, "train"):
        metrics = train(cfg, out / "train", resume=goes_on_from(cfg, checkpoint, retrain), progress=progress)
    with timed(seconds, "harden"):
        trained = harden_checkpoint(checkpoint)
        trained.save(out / "hardened.netlist.json")
        hardened = as_flat(trained)  # a conv netlist's stages unrolled: the circuit as one netlist
    stream = isinstance(trained, ConvNetlist) and cfg["emit"]["conv"] == "stream"
    data = from_config(cfg)
    test_bits = evaluate.encode_features(trained, data.test_x)
    acc_hardened = evaluate.accuracy(trained, test_bits, data.test_y)
    log(f"hardened: {hardened.num_gates} gates, test accuracy {acc_hardened:.4f}")

    circuit, simplified, exact_gates, data_aware, pass_stats, equivalence = _simplify(cfg, trained, data, out,
                                                                                      seconds, log)

    # The stages that wait on tools run beside each other (two cores or more): explain, which reads only
    # the netlist, beside synthesis; the part and Xilinx counts beside simulation, which reads the final RTL.
    # Explain's seconds go into `beside` first, so that `seconds` keeps the order of the stages; the counts
    # add theirs to the "synth" that synthesis has already entered.
    scfg, vcfg, beside = cfg["synth"], cfg["sim"], {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        # the summary, per-output symmetry, named functions, evidence maps over the test set, one output's cone;
        # a conv circuit's kernels each read once
        explaining = pool.submit(_timed_call, beside, "explain", _explain, circuit, simplified, out / "explain",
                                 data, log)
        emitted = out / ("data-aware.netlist.json" if data_aware else "simplified.netlist.json")
        info, syn, attempts = _emit_and_synthesize(circuit, out / "rtl", cfg, seconds, log, emitted)
        counting = pool.submit(_timed_call, seconds, "synth", add_counts, out / "rtl", syn, scfg["parts"],
                               scfg["xilinx"]) if scfg["parts"] or scfg["xilinx"] else None

        n_test = vcfg["test_vectors"] or len(data.test_y)
        test_inputs = data.test_x if circuit.encoder is not None else test_bits
        vectors = np.concatenate([test_inputs[:n_test],  # what the RTL's port takes
                                  random_inputs(circuit, vcfg["random_vectors"], cfg["seed"]).astype(test_inputs.dtype)])
        with timed(seconds, "sim"):
            sim = simulate(out / "rtl", circuit, vectors, vcfg["simulator"], seed=cfg["seed"])
        explaining.result()
        if counting:
            syn = counting.result()
    acc_rtl = float(np.mean(np.array(sim["classes"][:n_test]) == data.test_y[:n_test]))
    log(f"sim ({sim['simulator']}): {sim['vectors']} vectors, {sim['mismatches']} mismatches")

    report = {
        "dataset": cfg["dataset"],
        "accuracy": {"float": metrics["test_float"], "hardened": acc_hardened, "rtl": acc_rtl,
                     "rtl_test_vectors": n_test},
        "gates": {"hardened": hardened.num_gates, "simplified": exact_gates, "emitted": simplified.num_gates},
        "depth": {"hardened": hardened.depth(), "simplified": simplified.depth()},
        "passes": pass_stats,
        "equivalence": equivalence,
        "data_aware": data_aware,
        "sim": {k: sim[k] for k in ("simulator", "vectors", "mismatches", "cycles", "vectors_per_second")},
        "synth": {k: syn[k] for k in ("target", "device", "logic_cells", "luts", "carry", "ram", "ffs", "harness_ffs",
                                      "fmax_mhz", "freq_mhz", "met", "routed", "router", "seed", "critical_path", "bitstream", "parts",
                                      "xilinx") if k in syn},
        "latency_cycles": info["latency_cycles"],
        "throughput": throughput(info, syn["fmax_mhz"]),
        **({"engine": {k: info[k] for k in ("kind", "gates", "clocks_per_image", "conv_stages", "head_latency_cycles")}}
           if stream else {}),
        "pipeline": {"levels": info["pipeline_levels"], "stages": info["stages"], "attempts": attempts},
        "seconds": seconds,
    }
    seconds["explain"] = beside["explain"]
    write_json(Path(out) / "report.json", report)
    write_build_html(out, report, hardened, load_checkpoint(checkpoint)["history"])
    check_clock(report, scfg["must_meet"], out / "report.json")
    return report


def _explain(circuit, simplified, out_dir: Path, data, log=print) -> dict:
    """explain's files for a build, with the test set's evidence: a streamed conv circuit kernel by kernel
    (explain/conv.py), any other the netlist it computes."""
    if isinstance(circuit, ConvNetlist):
        from ..explain.conv import explain_conv

        return explain_conv(circuit, out_dir, outputs=[0], image_shape=data.image_shape, log=log,
                            class_names=data.class_names, data_bits=evaluate.input_bits(circuit, data.test_x))[1]
    from ..explain import explain

    return explain(simplified, out_dir, outputs=[0], image_shape=data.image_shape, guess_image=False, log=log,
                   class_names=data.class_names, data_bits=evaluate.input_bits(simplified, data.test_x))


def _simplify(cfg: dict, trained, data, out: Path, seconds: dict, log=print):
    """The config's simplify stage on a hardened netlist, its results saved in OUT. Returns the circuit to
    emit, the netlist it computes (flat: what explain reads), the exact result's gates, the data-aware
    result's summary (None without one), the passes' statistics and the equivalence."""
    from ..rewrite.flow import simplify, simplify_conv

    simp = cfg["simplify"]
    if isinstance(trained, ConvNetlist) and cfg["emit"]["conv"] == "stream":
        # each kernel and the head simplified and proven once; the engine built from them
        with timed(seconds, "simplify"):
            circuit, stage_stats = simplify_conv(trained, simp["passes"], simp["verify"], pass_params(simp))
        circuit.save(out / "simplified.netlist.json")
        simplified = flatten(circuit)  # what explain reads
        pass_stats = [{**p, "pass": f"{st['stage']}: {p['pass']}"} for st in stage_stats for p in st["passes"]]
        equivalence = "proven" if all(st["equivalence"] == "proven" for st in stage_stats) else "not checked"
        exact_gates, data_aware = simplified.num_gates, None
        log(f"simplified: kernels and head {sum(s.kernel.num_gates for s in circuit.stages) + circuit.head.num_gates} "
            f"gates ({exact_gates} unrolled); equivalence {equivalence}")
    else:
        result = simplify(as_flat(trained), simp["passes"], simp["verify"], data if simp["data_aware"] else None,
                          simp["rare_fraction"], simp["max_accuracy_drop"], pass_params(simp))
        seconds.update(result.seconds)
        result.exact.save(out / "simplified.netlist.json")
        log(f"simplified: {result.exact.num_gates} gates, depth {result.exact.depth()}; equivalence {result.equivalence}")
        simplified, data_aware, pass_stats, equivalence = result.final, result.data_aware, result.passes, result.equivalence
        exact_gates, circuit = result.exact.num_gates, result.final
        if data_aware:
            simplified.save(out / "data-aware.netlist.json")
            log(f"data-aware: {data_aware['gates']} gates, test accuracy {data_aware['test_accuracy']:.4f} "
                f"({0.0 - data_aware['drop_points']:+.2f} points; not equivalent by design)")
    return circuit, simplified, exact_gates, data_aware, pass_stats, equivalence


def measure(cfg: dict, out_dir, log=print) -> dict:
    """What a search scores a trial by, at a fraction of a build's cost: train, harden, accuracy on the
    config's test set (its validation share in a search), simplify, emit, and yosys's mapping alone (no
    placement or routing: LUT counts for the target and for Xilinx, no Fmax, no simulation). Written to
    OUT/measure.json."""
    from ..data import from_config
    from ..emit.verilog import emit
    from ..learn.harden import harden_checkpoint
    from ..learn.train import CHECKPOINT, train
    from ..synthesis import map_counts

    out, seconds = ensure_dir(out_dir), {}
    with timed(seconds, "train"):
        metrics = train(cfg, out / "train", progress=False)
    with timed(seconds, "harden"):
        trained = harden_checkpoint(out / "train" / CHECKPOINT)
    data = from_config(cfg)
    accuracy = evaluate.accuracy(trained, evaluate.encode_features(trained, data.test_x), data.test_y)
    circuit, _, exact_gates, data_aware, _, equivalence = _simplify(cfg, trained, data, out, seconds, log)
    e, s = cfg["emit"], cfg["synth"]
    with timed(seconds, "emit"):
        info = emit(circuit, out / "rtl", e["name"], e["backend"], e["pipeline"], s["freq_mhz"], s["target"],
                    pixels_per_clock=e["pixels_per_clock"])
    with timed(seconds, "synth"):
        counts = map_counts(out / "rtl", s["target"], xilinx=True)
    result = {"accuracy": {"float": metrics["test_float"], "hardened": accuracy,
                           "data_aware": data_aware["test_accuracy"] if data_aware else None},
              "scored_on": "validation" if cfg["data"]["validation"] else "test",
              "gates": {"hardened": as_flat(trained).num_gates, "simplified": exact_gates},
              "equivalence": equivalence, "latency_cycles": info["latency_cycles"],
              "luts": {"xilinx": counts["xilinx"]["luts"], "lut_positions": counts["lut_positions"],
                       "target": s["target"]},
              "ffs": counts["ffs"] - counts["harness_ffs"], "seconds": seconds}
    write_json(out / "measure.json", result)
    return result


def throughput(info: dict, fmax_mhz) -> dict:
    """Samples (images, for the streaming engine) per second and latency at the routed clock."""
    clocks = info.get("clocks_per_image", 1)
    if not fmax_mhz:
        return {"clocks_per_sample": clocks}
    return {"clocks_per_sample": clocks, "samples_per_second": round(fmax_mhz * 1e6 / clocks),
            "latency_ns": round(1e3 * info["latency_cycles"] / fmax_mhz, 1)}


def check_clock(report: dict, must_meet: bool, where: Path):
    """A routed clock below the asked one fails the build (its report written), unless it may."""
    syn, attempts = report["synth"], report["pipeline"]["attempts"]
    if must_meet and syn["routed"] and not syn["met"]:
        raise HwgenError(f"the routed clock, {syn['fmax_mhz']} MHz, misses synth.freq_mhz {syn['freq_mhz']} MHz "
                         f"(after {len(attempts)} attempt{'s' if len(attempts) > 1 else ''}; the report is in {where}): "
                         "ask for a slower clock, or set synth.must_meet: false to accept it")


def _timed_call(seconds: dict, stage: str, function, *args, **kwargs):
    """function(*args, **kwargs), timed into seconds[stage] (a worker thread's job)."""
    with timed(seconds, stage):
        return function(*args, **kwargs)


def _emit_and_synthesize(net, rtl_dir, cfg: dict, seconds: dict, log=print, source=None):
    """Emit and synthesize; with emit.pipeline auto, while the routed clock falls short of synth.freq_mhz,
    emit again with a LUT level less per stage (at most twice): the stages' size comes from a delay model,
    and the routing of a given netlist can be slower than the model assumes. Returns the RTL's description, the last
    synthesis summary, and (levels, Fmax) of each attempt."""
    from ..emit.pipeline import describe_levels
    from ..emit.verilog import emit
    from ..synthesis import synthesize

    e, s = cfg["emit"], cfg["synth"]
    levels, attempts = e["pipeline"], []
    while True:
        with timed(seconds, "emit"):
            info = emit(net, rtl_dir, e["name"], e["backend"], levels, s["freq_mhz"], s["target"], source,
                        e["pixels_per_clock"])
        with timed(seconds, "synth"):
            syn = synthesize(rtl_dir, s["target"], s["freq_mhz"], route=s["route"], seed=s["seed"], parts=False,
                             xilinx=False, router=s["router"])
        attempts.append({"levels": info["pipeline_levels"], "fmax_mhz": syn["fmax_mhz"]})
        short = syn["routed"] and syn["fmax_mhz"] is not None and syn["fmax_mhz"] < s["freq_mhz"]
        if e["pipeline"] != "auto" or not short or info["pipeline_levels"] <= 1 or len(attempts) == 3:
            return info, syn, attempts
        levels = info["pipeline_levels"] - 1
        log(f"synth: {syn['fmax_mhz']} MHz < {s['freq_mhz']} MHz; emitting again with {describe_levels(levels)} "
            "per stage")


def write_build_html(out: Path, report: dict, hardened, history: list):
    from .report_html import explain_section, levels_chart, table, training_curves, write_report_html

    acc, syn, sim = report["accuracy"], report["synth"], report["sim"]
    stages = [["relaxed (float)", acc["float"]], ["hardened", acc["hardened"]]]
    if report["data_aware"]:
        stages.append(["data-aware folding", report["data_aware"]["test_accuracy"]])
    stages.append([f"RTL ({sim['simulator']}, {acc['rtl_test_vectors']:,} test vectors)", acc["rtl"]])
    levels = {"hardened": rewrite.gates_per_level(hardened)}
    levels.update({f"after {p['pass']}": p["gates_per_level"] for p in report["passes"]})
    passes = [["hardened", "", hardened.num_gates, hardened.depth(), "", ""]] + \
        [[f"after {p['pass']}", p["gates_in"], p["gates_out"], p["levels_out"], p["seconds"],
          ", ".join(f"{k} {v}" for k, v in {**p["params"], **p["stats"]}.items())] for p in report["passes"]]
    sections = [
        ("Accuracy on the test set", table(["stage", "accuracy"], stages)),
        ("Training", training_curves(history)),
        ("Rewriting", table(["stage", "gates in", "gates out", "levels", "seconds", "parameters, statistics"], passes)
         + f"<p>Equivalence of the exact result: {report['equivalence']}.</p>" + levels_chart(levels)),
        ("Simulation", table(["simulator", "vectors", "mismatches", "vectors/s"],
                             [[sim["simulator"], sim["vectors"], sim["mismatches"], sim["vectors_per_second"]]])),
        ("Synthesis", table(["target", "device", "LUTs", "FFs (harness)", "carry", "Fmax (MHz)", "asked (MHz)",
                             "clock met", "Fmax from"],
                            [[syn["target"], syn["device"], syn["luts"], f"{syn['ffs']} ({syn['harness_ffs']})",
                              syn["carry"], syn["fmax_mhz"] or "-", syn["freq_mhz"], syn["met"],
                              "routing" if syn["routed"] else "placement (estimate)"]])
         + f"<p>Latency {report['latency_cycles']} cycles.</p>"),
        ("", explain_section(out / "explain")),
        ("Stage seconds", table(["stage", "seconds"], list(report["seconds"].items()))),
    ]
    write_report_html(out / "report.html", f"hwgen build: {report['dataset']}", sections)


def summary(report: dict) -> str:
    acc, syn = report["accuracy"], report["synth"]
    return "\n".join([
        f"dataset {report['dataset']}: accuracy float {acc['float']:.4f}, hardened {acc['hardened']:.4f}, "
        f"rtl {acc['rtl']:.4f}",
        f"gates {report['gates']['hardened']} hardened -> {report['gates']['simplified']} simplified "
        f"(equivalence {report['equivalence']})"
        + (f", {report['gates']['emitted']} after data-aware folding" if report["data_aware"] else ""),
        f"sim {report['sim']['simulator']}: {report['sim']['vectors']} vectors, "
        f"{report['sim']['mismatches']} mismatches",
        f"synth {syn['target']}: {syn['luts']} LUTs, {syn['ffs']} FFs ({syn['harness_ffs']} in the input "
        f"harness), Fmax {syn['fmax_mhz']} MHz{'' if syn['routed'] else ' (placed, not routed)'} "
        f"({'meets' if syn['met'] else 'MISSES'} the asked {syn['freq_mhz']} MHz), "
        f"latency {report['latency_cycles']} cycles"
        + (f", {report['throughput']['samples_per_second']:,} samples/s" if "samples_per_second" in
           report.get("throughput", {}) else ""),
        "seconds: " + ", ".join(f"{k} {v}" for k, v in report["seconds"].items()),
    ])
