"""Convolutional netlists (v3): the trained model in eval mode, the golden model running the stages
directly, and the flattened netlist agree bit for bit; the file format round-trips and refuses what breaks
it; a conv config builds end to end."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import random_bits, random_lut_netlist, random_netlist

from hwgen.convnet import ConvNetlist, ConvStage, conv_from_json_dict, flatten, load_any
from hwgen.errors import HwgenError
from hwgen.flow.config import from_dict
from hwgen.golden import evaluate
from hwgen.learn.harden import harden_model
from hwgen.learn.nn import build_model
from hwgen.netlist import Netlist

ROOT = Path(__file__).resolve().parents[1]


def run(*args):
    """`hwgen ARGS` in a fresh interpreter."""
    return subprocess.run([sys.executable, "-m", "hwgen.cli", *map(str, args)], capture_output=True, text=True)


# (window, stride, padding, pool, channels) of each stage: strides, paddings and poolings that leave remainders
REMAINDERS = ((3, 1, 1, 2, 3), (2, 2, 1, 1, 4))


def random_conv_netlist(seed: int, shape=(7, 6, 2), luts: bool = False, geometry=REMAINDERS) -> ConvNetlist:
    """Conv stages of random kernels (by default two whose geometry leaves remainders) and a random head:
    the geometry the flattening and the direct evaluation must both get right."""
    rng = np.random.default_rng(seed)
    make = random_lut_netlist if luts else random_netlist
    stages, (h, w, c) = [], shape
    for window, stride, padding, pool, channels in geometry:
        kernel = make(int(rng.integers(1 << 20)), num_inputs=window * window * c, num_gates=40,
                      num_classes=channels, per_class=1, window=20)
        stages.append(ConvStage(kernel, window, stride, padding, pool))
        h, w, c = stages[-1].output_shape((h, w, c))
    head = random_netlist(int(rng.integers(1 << 20)), num_inputs=h * w * c, num_gates=80, num_classes=3, per_class=4)
    net = ConvNetlist(shape, stages, head)
    net.validate()
    return net


@pytest.mark.parametrize("seed, luts", [(0, False), (1, False), (2, True), (3, True)])
def test_the_stages_run_directly_as_the_flattened_netlist_does(seed, luts):
    net = random_conv_netlist(seed, luts=luts)
    bits = random_bits(net.num_inputs, 300, seed)
    flat = flatten(net)
    assert flat.num_inputs == net.num_inputs and flat.num_classes == net.num_classes
    assert np.array_equal(evaluate.scores(net, bits), evaluate.scores(flat, bits))


def _reference_scores(net: ConvNetlist, bits: np.ndarray) -> np.ndarray:
    """The v3 meaning straight from docs/netlist-format.md, one sample, position and channel at a time."""
    out = []
    for row in bits:
        h, w, c = net.input_shape
        fmap = row.reshape(h, w, c)
        for stage in net.stages:
            k, s, p, q = stage.window, stage.stride, stage.padding, stage.pool
            oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
            conv = np.zeros((oh, ow, stage.channels), bool)
            for y in range(oh):
                for x in range(ow):
                    window = [fmap[y * s - p + dy, x * s - p + dx, ch]
                              if 0 <= y * s - p + dy < h and 0 <= x * s - p + dx < w else False
                              for dy in range(k) for dx in range(k) for ch in range(c)]
                    conv[y, x] = evaluate.output_bits(stage.kernel, np.array([window]))[0]
            fmap = np.array([[[conv[y * q:(y + 1) * q, x * q:(x + 1) * q, ch].any() for ch in range(stage.channels)]
                              for x in range(ow // q)] for y in range(oh // q)], bool)
            h, w, c = fmap.shape
        out.append(evaluate.scores(net.head, fmap.reshape(1, -1))[0])
    return np.array(out)


def test_the_definition_one_window_at_a_time_agrees():
    net = random_conv_netlist(5)
    bits = random_bits(net.num_inputs, 12, 5)
    assert np.array_equal(_reference_scores(net, bits), evaluate.scores(net, bits))


LUT_KERNELS = {"node": "lut", "k": 3, "depth": 2}  # each channel 3 + 1 LUT3 nodes over 9 taps


@pytest.mark.parametrize("node, init, kernels", [
    ("gate", "random", {}), ("lut", "random", {}), ("gate", "residual", {}),
    ("lut", "random", LUT_KERNELS), ("lut", "random", {**LUT_KERNELS, "init": "random", "candidates": 6}),
])
def test_the_trained_model_in_eval_mode_is_its_hardened_netlist(node, init, kernels):
    """After a few training steps (weights away from their start), the model in eval mode computes exactly
    the class scores of its v3 netlist and of that netlist flattened: gate-tree and LUT-tree kernels, taps
    fixed or learned."""
    conv = [{"channels": 4, "pool": 2, **kernels},
            {"channels": 3, "padding": 0, "pool": 1, **kernels, "depth": 1 if kernels else 2}]
    cfg = from_dict({"dataset": "digits", "model": {"node": node, "k": 4, "init": init, "layers": [60, 30],
                                                    "conv": conv}})
    model = build_model(128, 10, cfg["model"], 3, (8, 8))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    x = torch.from_numpy(random_bits(128, 64, 3).astype(np.float32))
    for _ in range(5):
        loss = torch.nn.functional.cross_entropy(model(x), torch.randint(0, 10, (64,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        want = (model(x) * cfg["model"]["tau"]).round().long().numpy()
    net = harden_model(model, 128)
    assert isinstance(net, ConvNetlist) and net.input_shape == (8, 8, 2)
    bits = x.numpy().astype(bool)
    assert np.array_equal(evaluate.scores(net, bits), want)
    assert np.array_equal(evaluate.scores(flatten(net), bits), want)


def test_json_round_trip_and_any_version_loads(tmp_path):
    net = random_conv_netlist(7, luts=True)
    net.save(tmp_path / "conv.netlist.json")
    back = load_any(tmp_path / "conv.netlist.json")
    assert isinstance(back, ConvNetlist) and back.to_json_dict() == net.to_json_dict()
    assert json.loads((tmp_path / "conv.netlist.json").read_text())["version"] == 3
    random_netlist(1).save(tmp_path / "plain.json")
    assert load_any(tmp_path / "plain.json").num_inputs == 12


@pytest.mark.parametrize("change, message", [
    (lambda d: d["stages"][0].update(window=4), "kernel reads 18 bits, not the window's 4 x 4 x 2"),
    (lambda d: d["stages"][0].update(padding=3), "padding 3 must be smaller than the window 3"),
    (lambda d: d["stages"][-1]["netlist"].update(num_inputs=500), "not the last feature map's"),
    (lambda d: d.update(input_shape=[7, 6]), "input_shape"),
    (lambda d: d["stages"].pop(0) and d["stages"].pop(0), "conv stages, then the dense head"),
    (lambda d: d["stages"][0].update(stride=0), "\"stride\" must be an integer of at least 1"),
    (lambda d: d.update(num_classes=4), "num_classes"),
    (lambda d: d["stages"][0].update(colour=1), "unknown key \"colour\""),
])
def test_bad_conv_netlists_name_the_problem(change, message):
    d = random_conv_netlist(2).to_json_dict()
    change(d)
    with pytest.raises(HwgenError, match=message.replace("(", r"\(").replace(")", r"\)")):
        conv_from_json_dict(d)


def test_flatten_on_the_command_line_and_every_command_reads_v3(tmp_path):
    net = random_conv_netlist(4)
    net.save(tmp_path / "conv.json")
    result = run("flatten", tmp_path / "conv.json", "--out", tmp_path / "flat.json")
    assert result.returncode == 0, result.stderr
    flat = load_any(tmp_path / "flat.json")
    bits = random_bits(net.num_inputs, 100, 4)
    assert np.array_equal(evaluate.scores(flat, bits), evaluate.scores(net, bits))
    # simplify keeps the sharing: each kernel and the head simplified and proven once
    result = run("simplify", tmp_path / "conv.json", "--out", tmp_path / "small.json", "--verify")
    assert result.returncode == 0 and "equivalence: proven" in result.stdout, result.stderr
    small = load_any(tmp_path / "small.json")
    assert isinstance(small, ConvNetlist) and small.shapes() == net.shapes()
    assert sum(s.kernel.num_gates for s in small.stages) < sum(s.kernel.num_gates for s in net.stages)
    assert np.array_equal(evaluate.scores(small, bits), evaluate.scores(net, bits))
    result = run("simplify", tmp_path / "conv.json", "--out", tmp_path / "x.json", "--data", "digits")
    assert result.returncode == 2 and "hwgen flatten first" in result.stderr


@pytest.mark.parametrize("given, message", [
    ({"dataset": "monk1", "model": {"conv": [{"channels": 4}]}}, "needs an image data set"),
    ({"model": {"conv": [{"window": 3, "padding": 3}]}}, "padding must be smaller than the window"),
    ({"model": {"conv": [{"channel": 3}]}}, "unknown key \"model.conv[0].channel\""),
    ({"model": {"conv": {"channels": 3}}}, "must be a list of mappings"),
    ({"model": {"conv": [{}]}, "simplify": {"data_aware": True}}, "needs \"emit.conv\": unrolled"),
    ({"model": {"conv": [{"node": "xor"}]}}, "node must be gate or lut, got 'xor'"),
    ({"model": {"conv": [{"candidates": 4}]}}, "above 1 only with node: lut"),
    ({"model": {"conv": [{"node": "lut", "k": 7}]}}, "k must be in 1..6"),
    ({"dataset": "digits", "emit": {"pixels_per_clock": 2}}, "for the streaming engine"),
    ({"model": {"conv": [{}]}, "emit": {"pixels_per_clock": 0}}, "must be at least 1"),
])
def test_bad_conv_configs(given, message):
    with pytest.raises(HwgenError, match=message.replace("[", r"\[").replace("]", r"\]")):
        from_dict(given)


@pytest.mark.slow
def test_digits_conv_builds_end_to_end(tmp_path):
    """configs/digits-conv.yaml: trained, hardened to v3, flattened, simplified (proven), simulated on
    Verilator bit-exact and synthesized, at least as accurate as the dense digits-lut.yaml (97.78%)."""
    out = tmp_path / "digits-conv"
    result = subprocess.run([sys.executable, "-m", "hwgen.cli", "build", ROOT / "configs" / "digits-conv.yaml",
                             "--out", out, "--quiet"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert report["accuracy"]["hardened"] >= 0.978 and report["accuracy"]["rtl"] == report["accuracy"]["hardened"]
    assert report["sim"]["mismatches"] == 0 and report["equivalence"] == "proven"
    assert isinstance(load_any(out / "hardened.netlist.json"), ConvNetlist)
    assert isinstance(load_any(out / "simplified.netlist.json"), ConvNetlist)
    assert report["engine"]["kind"] == "conv-stream" and report["engine"]["clocks_per_image"] == 64
    simplified = load_any(out / "simplified.netlist.json")  # the engine builds each kernel once
    assert report["engine"]["gates"] == sum(s.kernel.num_gates for s in simplified.stages) + simplified.head.num_gates
    assert report["synth"]["luts"] > 0 and report["synth"]["routed"]
    assert {"line buffers", "kernels", "head", "encoder"} <= set(report["synth"]["parts"])
    kernels = json.loads((out / "explain" / "kernels.json").read_text())["stages"]  # each kernel read once
    assert len(kernels) == len(simplified.stages) and "first conv layer's kernels" in (out / "report.html").read_text()


def test_explain_reads_each_kernel_over_its_window(tmp_path):
    """A kernel whose channel 0 is the AND of the window's centre and its right neighbour (input channel 0)
    and whose channel 1 is constant: explain names the places, the symmetry, the patterns that turn it on,
    and draws where in the window it reads."""
    from hwgen import ops
    from hwgen.explain.kernels import explain_kernels, kernel_lines

    centre, right = (1 * 3 + 1) * 2, (1 * 3 + 2) * 2  # (dy, dx) = (1, 1) and (1, 2), channel 0 of 2
    kernel = Netlist.from_gates(18, [[ops.AND, centre, right], [ops.TRUE, 0, 0]], [18, 19], 2)
    head = random_netlist(1, num_inputs=4 * 4 * 2, num_gates=30, num_classes=2, per_class=2)
    net = ConvNetlist((4, 4, 2), [ConvStage(kernel, 3, 1, 1, 1)], head)
    stage = explain_kernels(net)[0]
    first, second = stage["channels"]
    assert first["inputs"] == ["(1,1)c0", "(1,2)c0"] and sorted(first["symmetric_in"]) == first["inputs"]
    assert (first["on_patterns"], first["patterns"]) == (1, 4)
    assert first["window"] == [".. .. ..", ".. +. +.", ".. .. .."]
    assert second["constant"] == 1
    assert "reads 2 places" in kernel_lines([stage])[0]
    net.save(tmp_path / "conv.json")
    result = subprocess.run([sys.executable, "-m", "hwgen.cli", "explain", tmp_path / "conv.json", "--out",
                             tmp_path / "x"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "x" / "kernels.json").read_text())["stages"][0]["channels"][0]["on_patterns"] == 1


def test_explain_says_per_class_where_each_channel_s_evidence_lies(tmp_path):
    """The head's evidence over the last feature map, laid out (class, row, column, channel): zero where the
    head reads no bit, the features the head reads giving the golden model's scores, and from the command
    line with --data, a file and a picture."""
    from hwgen.explain.kernels import channel_evidence
    from hwgen.golden import evaluate
    from hwgen.golden.conv import conv_features, conv_scores

    net = random_conv_netlist(5)
    bits = random_bits(net.num_inputs, 300, 5)
    maps = channel_evidence(net, bits)
    h, w, c = net.shapes()[-1]
    assert maps.shape == (net.num_classes, h, w, c)
    read = net.head.reached(net.head.outputs, functional=True)[:net.head.num_inputs].reshape(h, w, c)
    assert np.all(maps[:, ~read] == 0) and np.any(maps[:, read] != 0)
    assert np.array_equal(evaluate.scores(net.head, conv_features(net, bits)), conv_scores(net, bits))

    net.save(tmp_path / "conv.json")
    np.savez(tmp_path / "data.npz", train_x=bits[:10], test_x=bits, test_y=np.zeros(len(bits), np.int64))
    result = subprocess.run([sys.executable, "-m", "hwgen.cli", "explain", tmp_path / "conv.json", "--out",
                             tmp_path / "x", "--data", tmp_path / "data.npz"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert np.allclose(np.load(tmp_path / "x" / "channel-evidence.npy"), maps)
    assert (tmp_path / "x" / "channel-evidence.png").stat().st_size > 1000


def test_a_large_conv_circuit_is_explained_by_its_kernels_and_head(tmp_path, monkeypatch):
    """Beyond MAX_FLAT_NODES unrolled, explain reads the head over the last feature map instead of the
    flattened circuit: its summary is the head's, its inputs are named by map position and channel, and its
    evidence is the channel evidence; below it, the flattened circuit is explained over the pixels."""
    from hwgen.explain import conv as explain_conv_module
    from hwgen.explain.kernels import channel_evidence

    net = random_conv_netlist(6)
    bits = random_bits(net.num_inputs, 200, 6)
    _, small = explain_conv_module.explain_conv(net, tmp_path / "small", data_bits=bits)
    assert small["summary"]["gates"] == flatten(net).num_gates and "explained" not in small

    monkeypatch.setattr(explain_conv_module, "MAX_FLAT_NODES", flatten(net).num_gates - 1)
    kernels, info = explain_conv_module.explain_conv(net, tmp_path / "x", data_bits=bits)
    assert info["explained"] == "head" and info["summary"]["gates"] == net.head.num_gates
    assert len(kernels) == len(net.stages)
    assert all(n.startswith("m[") for r in info["outputs"] for n in r["inputs"])
    assert np.allclose(np.load(tmp_path / "x" / "channel-evidence.npy"), channel_evidence(net, bits))
    saved = json.loads((tmp_path / "x" / "explain.json").read_text())
    assert saved["evidence"]["samples"] == 200 and "kernels.json" in saved["files"]
    assert not (tmp_path / "x" / "evidence.png").exists() and (tmp_path / "x" / "kernels.json").exists()


@pytest.mark.parametrize("backend", ["direct", "amaranth"])
@pytest.mark.parametrize("seed, encoder, gap, stall", [(0, False, 0.0, 0.0), (1, False, 0.3, 0.5),
                                                      (2, True, 0.2, 0.3), (3, True, 0.0, 0.9)])
def test_the_streaming_engine_is_the_golden_model_pixel_by_pixel(tmp_path, seed, encoder, gap, stall, backend):
    """Images streamed a pixel per transfer, back to back, with random input gaps and output backpressure
    (Icarus), through either backend: every class and score is the golden model's, borders (padding,
    strides, pooling remainders) included; back to back, an image takes its pixels' clocks; the first
    result of an idle engine comes the latency NAME.json states after the image's last pixel."""
    from hwgen.emit.verilog import emit
    from hwgen.simulation import simulate

    net = random_conv_netlist(seed, luts=seed % 2 == 1)
    h, w, c = net.input_shape
    rng = np.random.default_rng(seed)
    if encoder:  # raw 4-bit pixels, the same thresholds at every pixel (one of them constant)
        net.encoder = np.tile(np.sort(rng.choice([0, 3, 7, 9, 12, 15], size=c, replace=False)), (h * w, 1))
        inputs = rng.integers(0, 20, size=(40, h * w))  # above 15 saturates at the 4-bit port
    else:
        inputs = random_bits(net.num_inputs, 40, seed)
    info = emit(net, tmp_path / "rtl", backend=backend, pipeline=1 + seed % 2)
    assert info["kind"] == "conv-stream" and info["clocks_per_image"] == h * w and info["core_backend"] == backend
    result = simulate(tmp_path / "rtl", net, inputs, "icarus", gap=gap, stall=stall, seed=seed)
    assert result["mismatches"] == 0 and result["received"] == 40
    assert result["min_latency_cycles"] == info["latency_cycles"]
    if gap == stall == 0:
        assert result["cycles"] <= 40 * h * w + info["latency_cycles"] + 5


@pytest.mark.parametrize("backend", ["direct", "amaranth"])
def test_pooling_over_a_width_that_is_a_power_of_two(tmp_path, backend):
    """A pooled row as wide as its counter can count (8 pixels, a 3-bit x): every image comes out, the
    golden model's."""
    from hwgen.emit.verilog import emit
    from hwgen.simulation import simulate

    net = random_conv_netlist(5, (8, 8, 2), geometry=((3, 1, 1, 2, 3), (3, 1, 1, 2, 4)))
    emit(net, tmp_path / "rtl", backend=backend, pipeline=1)
    result = simulate(tmp_path / "rtl", net, random_bits(net.num_inputs, 12, 5), "icarus", gap=0.2, stall=0.2)
    assert result["mismatches"] == 0 and result["received"] == 12


@pytest.mark.slow
def test_a_long_stream_s_optimised_verilator_model_is_the_golden_model_too(tmp_path, monkeypatch):
    """Verilator's model built for a long stream (-O1, a build of its own beside the -O0 one) streams the
    same images to the same results; a stream of LONG_STREAM pixels picks it by itself."""
    from hwgen import simulation
    from hwgen.emit.verilog import emit

    net = random_conv_netlist(1, luts=True)
    emit(net, tmp_path / "rtl", pipeline=2)
    inputs = random_bits(net.num_inputs, 30, 1)
    monkeypatch.setenv("HWGEN_CACHE_DIR", str(tmp_path / "cache"))

    def builds() -> int:  # the compiled models in the cache
        return len([p for p in (tmp_path / "cache" / "sim" / "verilator").iterdir() if p.name != "runs"])

    runs = {}
    for optimize in (False, True):
        runs[optimize] = simulation.simulate(tmp_path / "rtl", net, inputs, "verilator", gap=0.2, stall=0.2,
                                             optimize=optimize)
        assert runs[optimize]["mismatches"] == 0 and runs[optimize]["received"] == 30
        assert builds() == 1 + optimize
    assert runs[False]["cycles"] == runs[True]["cycles"]  # the same bench, the same draws
    monkeypatch.setattr(simulation, "LONG_STREAM", 30 * net.input_shape[0] * net.input_shape[1])
    simulation.simulate(tmp_path / "rtl", net, inputs, "verilator", gap=0.2, stall=0.2)
    assert builds() == 2  # the -O1 build, reused


@pytest.mark.slow
def test_both_backends_build_the_engine_alike(tmp_path):
    """The two backends' engines, synthesized for ECP5 with the hierarchy kept, have the same parts
    (Amaranth's submodules NAME_core.kernel0.gates count as kernels as the direct writer's
    NAME_core_kernel0_gates do) at about the same size."""
    net = random_conv_netlist(2, shape=(12, 10, 2))
    net.encoder = np.tile([3, 9], (120, 1))
    net.save(tmp_path / "conv.json")
    parts = {}
    for backend in ("direct", "amaranth"):
        rtl = tmp_path / backend
        assert run("emit", tmp_path / "conv.json", "--out", rtl, "--backend", backend).returncode == 0
        result = run("synth", rtl, "--target", "ecp5-25k", "--no-route", "--no-xilinx")
        assert result.returncode == 0, result.stderr[-2000:]
        parts[backend] = json.loads((rtl / "synth-ecp5-25k.json").read_text())["parts"]
    assert set(parts["direct"]) == set(parts["amaranth"]) >= {"encoder", "line buffers", "kernels", "pooling", "head"}
    for part in ("line buffers", "kernels", "pooling", "head"):
        amaranth, direct = parts["amaranth"][part]["luts"], parts["direct"][part]["luts"]
        assert direct > 0 and abs(amaranth - direct) <= 0.2 * direct + 4, (part, amaranth, direct)


# Stages a slot of several pixels can take (stride 1, the width kept): a 5x5 window, pooling that drops a
# row, and widths that are powers of two (a pooled row's end compared with a count its register cannot hold)
LANES = ((3, 1, 1, 2, 3), (5, 1, 2, 1, 4))


@pytest.mark.parametrize("backend", ["direct", "amaranth"])
@pytest.mark.parametrize("pixels, shape, encoder, gap, stall", [
    (1, (8, 8, 2), False, 0.2, 0.2), (2, (7, 8, 2), True, 0.0, 0.0), (4, (7, 8, 2), False, 0.3, 0.5),
    (4, (8, 8, 2), True, 0.1, 0.9)])
def test_the_engine_taking_several_pixels_a_clock_is_the_golden_model(tmp_path, pixels, shape, encoder, gap, stall,
                                                                      backend):
    """P neighbouring pixels of a row a transfer (the kernel built P times; after a 2x2 pooling a slot
    carries P / 2): every class and score is the golden model's, borders included, an image takes
    H * W / P clocks back to back, and the first result comes the latency NAME.json states."""
    from hwgen.emit.verilog import emit
    from hwgen.simulation import simulate

    net = random_conv_netlist(pixels, shape, luts=True, geometry=LANES)
    h, w, c = net.input_shape
    if encoder:
        net.encoder = np.tile([2, 11], (h * w, 1))
        inputs = np.random.default_rng(pixels).integers(0, 16, size=(30, h * w))
    else:
        inputs = random_bits(net.num_inputs, 30, pixels)
    info = emit(net, tmp_path / "rtl", backend=backend, pipeline=1, pixels_per_clock=pixels)
    assert info["clocks_per_image"] == h * w // pixels and info["pixels_per_clock"] == pixels
    assert [s["pixels_per_slot"] for s in info["conv_stages"]] == [pixels, max(1, pixels // 2)]
    assert info["input_width"] == pixels * (4 if encoder else c)
    result = simulate(tmp_path / "rtl", net, inputs, "icarus", gap=gap, stall=stall, seed=pixels)
    assert result["mismatches"] == 0 and result["received"] == 30
    assert result["min_latency_cycles"] == info["latency_cycles"]
    if gap == stall == 0:
        assert result["cycles"] <= 30 * h * w // pixels + info["latency_cycles"] + 5


@pytest.mark.parametrize("shape, geometry, pixels, message", [
    ((7, 6, 2), ((3, 2, 1, 1, 3),), 2, "stride 1"),
    ((6, 6, 2), ((3, 1, 1, 2, 3),), 3, "cannot be pooled 2 x 2"),
    ((6, 6, 2), ((3, 1, 1, 1, 3),), 4, "that 4 divides"),
    ((6, 4, 2), ((3, 1, 1, 1, 3),), 4, "single slot"),
    ((6, 4, 2), ((3, 1, 1, 1, 3),), 0, "at least 1")])
def test_pixels_a_clock_the_geometry_cannot_take_are_refused(tmp_path, shape, geometry, pixels, message):
    net = random_conv_netlist(0, shape, geometry=geometry)
    net.save(tmp_path / "conv.json")
    result = run("emit", tmp_path / "conv.json", "--out", tmp_path / "rtl", "--pixels-per-clock", pixels)
    assert result.returncode != 0 and message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "rtl").exists()
    random_netlist(0, num_inputs=8, num_gates=10).save(tmp_path / "dense.json")
    result = run("emit", tmp_path / "dense.json", "--out", tmp_path / "rtl", "--pixels-per-clock", 2)
    assert result.returncode != 0 and "dense" in result.stderr and not (tmp_path / "rtl").exists()


def test_the_parts_count_each_copy_of_a_kernel(tmp_path):
    """At 4 pixels a clock the first kernel is one module built 4 times and the second 2 times: the
    breakdown (synthesized with the hierarchy kept) counts each copy, as the flat total does."""
    net = random_conv_netlist(4, (8, 8, 2), luts=True, geometry=LANES)
    net.save(tmp_path / "conv.json")
    kernels = {}
    for pixels in (1, 4):
        rtl = tmp_path / f"p{pixels}"
        assert run("emit", tmp_path / "conv.json", "--out", rtl, "--pixels-per-clock", pixels).returncode == 0
        result = run("synth", rtl, "--target", "ecp5-25k", "--no-route", "--no-xilinx")
        assert result.returncode == 0, result.stderr[-2000:]
        kernels[pixels] = json.loads((rtl / "synth-ecp5-25k.json").read_text())["parts"]["kernels"]["ffs"]
    assert kernels[1] > 0 and kernels[4] > 2 * kernels[1]


def test_the_streaming_engine_refuses_thresholds_that_differ_by_pixel(tmp_path):
    from hwgen.emit.verilog import emit

    net = random_conv_netlist(0)
    h, w, c = net.input_shape
    net.encoder = np.arange(h * w * c).reshape(h * w, c) % 16
    with pytest.raises(HwgenError, match="same thresholds"):
        emit(net, tmp_path / "rtl", backend="amaranth")
    assert not (tmp_path / "rtl").exists()
