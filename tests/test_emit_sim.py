"""Real simulations: the emitted RTL, driven by cocotb, against the golden model."""

import json

import pytest

from hwgen.emit.verilog import emit
from hwgen.netlist import Netlist
from hwgen.sim import simulate

from helpers import random_bits, random_netlist


@pytest.fixture(scope="module")
def design(tmp_path_factory):
    net = random_netlist(7, num_inputs=40, num_gates=600, num_classes=5, per_class=7, window=120)
    rtl = tmp_path_factory.mktemp("rtl")
    emit(net, rtl, "dut", backend="amaranth")
    return net, rtl


def test_ports_and_description(design):
    net, rtl = design
    info = json.loads((rtl / "dut.json").read_text())
    text = (rtl / "dut.v").read_text()
    assert "module dut(" in text and "module dut_core(" in text
    assert f"input [{net.num_inputs - 1}:0] in_bits;" in text
    assert f"output [{5 * net.score_width - 1}:0] out_scores;" in text
    assert info["latency_cycles"] == 2 and info["ports"]["out_class"] == 3


def test_emit_is_deterministic(design, tmp_path):
    net, rtl = design
    emit(net, tmp_path, "dut", backend="amaranth")
    assert (tmp_path / "dut.v").read_bytes() == (rtl / "dut.v").read_bytes()


def test_verilator_stream_with_gaps_and_backpressure(design):
    net, rtl = design
    result = simulate(rtl, net, random_bits(net.num_inputs, 3000, 1), "verilator", gap=0.3, stall=0.3)
    assert result["vectors"] == 3000 and result["received"] == 3000
    assert result["mismatches"] == 0


def test_verilator_one_sample_per_clock_at_full_rate(design):
    net, rtl = design
    result = simulate(rtl, net, random_bits(net.num_inputs, 1000, 2), "verilator", gap=0.0, stall=0.0)
    assert result["mismatches"] == 0
    assert result["cycles"] <= 1000 + 2 + 1  # latency 2, then one result per clock


def test_icarus_agrees(design):
    net, rtl = design
    result = simulate(rtl, net, random_bits(net.num_inputs, 300, 3), "icarus", gap=0.2, stall=0.2)
    assert result["mismatches"] == 0 and result["received"] == 300


def test_direct_backend_simulates_identically(design, tmp_path):
    net, _ = design
    info = emit(net, tmp_path, "dut", backend="direct")
    assert info["core_backend"] == "direct"
    result = simulate(tmp_path, net, random_bits(net.num_inputs, 2000, 5), "verilator", gap=0.2, stall=0.2)
    assert result["mismatches"] == 0 and result["received"] == 2000


def test_a_wrong_golden_model_is_caught(design):
    """The bench really compares: against a netlist with one output gate changed, vectors mismatch."""
    net, rtl = design
    wrong = Netlist(net.num_inputs, net.ops.copy(), net.a, net.b, net.outputs, net.num_classes)
    wrong.ops[net.outputs[0] - net.num_inputs] ^= 0b1111  # complement the gate feeding class 0
    result = simulate(rtl, wrong, random_bits(net.num_inputs, 200, 4), "verilator")
    assert result["mismatches"] > 0
