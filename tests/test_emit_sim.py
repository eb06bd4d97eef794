"""Real simulations: the emitted, pipelined RTL of both backends, driven by cocotb, against the golden model."""

import json
import subprocess

import numpy as np
import pytest

from hwgen.emit.pipeline import plan_core
from hwgen.emit.verilog import emit
from hwgen.netlist import Netlist
from hwgen.sim import _verilator_bin_dir, random_inputs, simulate

from helpers import random_bits, random_netlist, with_encoder


@pytest.fixture(scope="module")
def design(tmp_path_factory):
    net = random_netlist(7, num_inputs=40, num_gates=600, num_classes=5, per_class=7, window=120)
    rtl = tmp_path_factory.mktemp("rtl")
    emit(net, rtl, "dut", backend="amaranth", pipeline=2)
    return net, rtl


def test_ports_and_description(design):
    net, rtl = design
    info = json.loads((rtl / "dut.json").read_text())
    text = (rtl / "dut.v").read_text()
    assert "module dut(" in text and "module dut_core(" in text
    assert f"input [{net.num_inputs - 1}:0] in_bits;" in text
    assert f"output [{5 * net.score_width - 1}:0] out_scores;" in text
    stages = -(-net.depth() // 2)
    # input register, gate stages, popcount stages (7 outputs: 3+3+1, then 3 -> 2 -> 1),
    # argmax levels (5 classes: 3), two stages each
    assert info["core_latency_cycles"] == 1 + stages + 3 + 2 * 3
    assert info["latency_cycles"] == info["core_latency_cycles"] + 1 and info["ports"]["out_class"] == 3


def test_emit_is_deterministic(design, tmp_path):
    net, rtl = design
    emit(net, tmp_path, "dut", backend="amaranth", pipeline=2)
    assert (tmp_path / "dut.v").read_bytes() == (rtl / "dut.v").read_bytes()
    emit(net, tmp_path / "a", "dut", backend="direct", pipeline=3)
    emit(net, tmp_path / "b", "dut", backend="direct", pipeline=3)
    assert (tmp_path / "a" / "dut.v").read_bytes() == (tmp_path / "b" / "dut.v").read_bytes()


def test_pipeline_registers_every_k_levels_and_delays_long_edges():
    net = random_netlist(3, num_inputs=30, num_gates=400, num_classes=2, per_class=4, window=60)
    levels = net.levels()
    for k in (0, 1, 2, 5):
        plan = plan_core(net, k)
        stages = 1 if k == 0 else -(-int(levels.max()) // k)
        assert plan.stats["gate_stages"] == stages
        # Every gate reads its operands at its own stage: from a register d<j> for an earlier stage.
        stage = {f"n{net.num_inputs + g}": 0 if k == 0 else (int(levels[net.num_inputs + g]) - 1) // k
                 for g in range(net.num_gates)}
        for target, expr in plan.comb:
            if expr[0] == "gate":
                for operand in filter(None, expr[2:]):
                    node = int(operand.split("_")[0][1:])
                    source = -1 if node < net.num_inputs else stage[f"n{node}"]
                    delay = int(operand.split("_d")[1]) if "_d" in operand else 0
                    assert source + delay == stage[target]
    assert plan_core(net, 1).stats["skip_registers"] > plan_core(net, 0).stats["skip_registers"] == 0


def test_verilator_stream_with_gaps_and_backpressure(design):
    net, rtl = design
    result = simulate(rtl, net, random_bits(net.num_inputs, 10_000, 1), "verilator", gap=0.3, stall=0.3)
    assert result["vectors"] == 10_000 and result["received"] == 10_000
    assert result["mismatches"] == 0


def test_verilator_one_sample_per_clock_at_full_rate(design):
    net, rtl = design
    latency = json.loads((rtl / "dut.json").read_text())["latency_cycles"]
    result = simulate(rtl, net, random_bits(net.num_inputs, 1000, 2), "verilator", gap=0.0, stall=0.0)
    assert result["mismatches"] == 0
    assert result["cycles"] <= 1000 + latency + 1  # the latency, then one result per clock


def test_icarus_agrees(design):
    net, rtl = design
    result = simulate(rtl, net, random_bits(net.num_inputs, 10_000, 3), "icarus", gap=0.2, stall=0.2)
    assert result["mismatches"] == 0 and result["received"] == 10_000


@pytest.mark.parametrize("pipeline", [0, 1, 3])
def test_both_backends_take_raw_features_and_agree_cycle_for_cycle(tmp_path, pipeline):
    """With an encoder the RTL takes raw 8-bit features on in_data; both backends match the evaluator on
    the same stream, in the same number of clocks."""
    net = with_encoder(random_netlist(pipeline, num_inputs=48, num_gates=500, num_classes=4, per_class=5,
                                      window=90), per_feature=3, seed=pipeline)
    inputs = random_inputs(net, 2000, 5)
    inputs[:100] = 255  # the largest value, and values above it saturate at the port
    inputs[100:200] = 1000
    cycles = set()
    for backend in ("direct", "amaranth"):
        info = emit(net, tmp_path / backend, "dut", backend=backend, pipeline=pipeline)
        assert info["input_port"] == "in_data" and info["input_width"] == 16 * 9  # thresholds up to 299
        result = simulate(tmp_path / backend, net, inputs, "verilator", gap=0.2, stall=0.2)
        assert result["mismatches"] == 0 and result["received"] == 2000
        cycles.add(result["cycles"])
    assert len(cycles) == 1


def test_direct_backend_is_lint_clean(design, tmp_path):
    """verilator --lint-only -Wall: no warnings, with and without an encoder."""
    net, _ = design
    verilator = f"{_verilator_bin_dir()}/verilator"
    for k, candidate in enumerate([net, with_encoder(net, 4, 1)]):
        emit(candidate, tmp_path / str(k), "dut", backend="direct")
        result = subprocess.run([verilator, "--lint-only", "-Wall", "--top-module", "dut", "dut.v"],
                                cwd=tmp_path / str(k), capture_output=True, text=True)
        assert result.returncode == 0 and "%Warning" not in result.stderr, result.stderr[:2000]


def test_a_wrong_golden_model_is_caught(design):
    """The bench really compares: against a netlist with one output gate changed, vectors mismatch."""
    net, rtl = design
    wrong = Netlist(net.num_inputs, net.ops.copy(), net.a, net.b, net.outputs, net.num_classes)
    wrong.ops[net.outputs[0] - net.num_inputs] ^= 0b1111  # complement the gate feeding class 0
    result = simulate(rtl, wrong, random_bits(net.num_inputs, 200, 4), "verilator")
    assert result["mismatches"] > 0
