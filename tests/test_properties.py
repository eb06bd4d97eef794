"""Property tests over generated netlists: the torch modules, the evaluator, the RTL and every rewriting
pass agree bit for bit. CI runs a fixed-seed set; `make test-long` runs many more examples."""

import os

import numpy as np
import pytest
import torch
from helpers import (
    random_bits,
    random_lut_netlist,
    random_netlist,
    reference_scores,
    to_layered_model,
    with_encoder,
    wrapper_verilog,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwgen import encoding, rewrite
from hwgen.emit.verilog import emit
from hwgen.files import ensure_dir
from hwgen.golden import evaluate
from hwgen.interop.abc import prove_equivalent
from hwgen.simulation import run_cocotb

LONG = os.environ.get("HWGEN_LONG_PROPERTIES") == "1"
EXAMPLES = 400 if LONG else 25
CI = settings(max_examples=EXAMPLES, deadline=None, derandomize=not LONG,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def netlists(draw, max_inputs=2000, max_gates=3000, luts=True):
    inputs = draw(st.integers(1, max_inputs))
    classes = draw(st.integers(1, 16))
    make = random_lut_netlist if luts and draw(st.booleans()) else random_netlist
    net = make(draw(st.integers(0, 2**32 - 1)), num_inputs=inputs,
               num_gates=draw(st.integers(0, max_gates)), num_classes=classes,
               per_class=draw(st.integers(1, 8)), window=draw(st.sampled_from([8, 64, 1000])))
    if draw(st.booleans()) and inputs % 2 == 0:  # a thermometer encoder: 2 thresholds per feature
        net.encoder = np.tile(np.array([[3, 9]]), (inputs // 2, 1))
    return net


@CI
@given(net=netlists(max_gates=400), seed=st.integers(0, 1000))
def test_both_evaluator_engines_follow_the_contract(net, seed):
    """The C kernel and numpy, on gates and LUT nodes alike, against one sample and one gate at a time."""
    bits = random_bits(net.num_inputs, 70, seed)
    want = reference_scores(net, bits)
    assert np.array_equal(evaluate.scores(net, bits, engine="c"), want)
    assert np.array_equal(evaluate.scores(net, bits, engine="numpy"), want)


@CI
@given(net=netlists(max_gates=1500, luts=False), seed=st.integers(0, 1000))
def test_torch_modules_and_evaluator_agree(net, seed):
    if net.encoder is not None:
        features = np.random.default_rng(seed).integers(0, 13, size=(100, net.encoder.shape[0]))
        bits = encoding.encode(features, net.encoder)
        assert np.array_equal(bits, evaluate.encode_features(net, features))
    else:
        bits = random_bits(net.num_inputs, 100, seed)
    with torch.no_grad():
        torch_scores = to_layered_model(net)(torch.from_numpy(bits).float())
    assert np.array_equal(torch_scores.round().long().numpy(), evaluate.scores(net, bits))


@settings(max_examples=EXAMPLES // 2, deadline=None, derandomize=not LONG,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(net=netlists(), pipeline=st.permutations([name for name, p in rewrite.PASSES.items() if p.exact]))
def test_every_exact_pass_is_proven_equivalent(net, pipeline):
    current = net
    for name in pipeline:
        simplified, _ = rewrite.run(current, [name])
        assert prove_equivalent(current, simplified), name
        current = simplified


@pytest.mark.slow
def test_rtl_of_many_netlists_in_one_verilator_build(tmp_path):
    """Pipelined cores of 16 generated netlists (both backends, 0 to 3 LUT levels per stage, half with an
    encoder taking raw features, half with LUT nodes) side by side in one Verilator build, one vector per
    clock with gaps."""
    rng = np.random.default_rng(11 if not LONG else None)
    work = ensure_dir(tmp_path / "properties")
    count = 300
    nets, infos, sources = [], [], []
    for k in range(16):
        make = random_lut_netlist if k % 8 >= 4 else random_netlist
        net = make(int(rng.integers(2**32)), num_inputs=int(rng.integers(1, 2000)),
                   num_gates=int(rng.integers(0, 1500)), num_classes=int(rng.integers(1, 17)),
                   per_class=int(rng.integers(1, 6)), window=int(rng.choice([8, 64, 1000])))
        if k % 4 >= 2:
            net = with_encoder(net, int(rng.choice([d for d in (1, 2, 3) if net.num_inputs % d == 0])), k)
        info = emit(net, work / f"c{k}", f"c{k}", backend="amaranth" if k % 2 else "direct",
                    pipeline=int(rng.integers(0, 4)))
        nets.append(net)
        infos.append({**info, "scores_width": info["ports"]["out_scores"]})
        sources.append((work / f"c{k}" / f"c{k}.v").resolve())
    top = work / "prop_top.v"
    top.write_text(wrapper_verilog(infos, "prop_top"))
    wide = random_bits(max(info["input_width"] for info in infos), count, 7)
    expected = {}
    for k, (net, info) in enumerate(zip(nets, infos)):
        port = wide[:, :info["input_width"]].astype(np.int64)
        if net.encoder is None:
            bits = port.astype(bool)
        else:
            fb = info["feature_bits"]
            features = (port.reshape(count, -1, fb) << np.arange(fb)).sum(axis=2)
            bits = evaluate.encode_features(net, features)
        scores = evaluate.scores(net, bits)
        expected[f"expected_class_{k}"] = evaluate.predict_from_scores(scores)
        expected[f"expected_scores_{k}"] = (scores << (np.arange(net.num_classes) * net.score_width)).sum(axis=1)
        expected[f"class_width_{k}"], expected[f"scores_width_{k}"] = info["class_width"], info["scores_width"]
    vectors = {"packed_inputs": np.packbits(wide, axis=1, bitorder="little"), "cores": len(nets), "gap": 0.2,
               "drain": max(info["core_latency_cycles"] for info in infos) + 2, **expected}
    results = run_cocotb([top.resolve(), *sources], "prop_top", "core_tb", "verilator", vectors,
                         strict=False)  # half the cores are Amaranth's
    assert results["received"] == [count] * len(nets) and results["mismatching_cores"] == []
