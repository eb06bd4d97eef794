"""Real simulations: the emitted, pipelined RTL of both backends, driven by cocotb, against the golden model."""

import json
import re
import subprocess

import pytest
from helpers import random_bits, random_netlist, with_encoder

from hwgen.emit.expressions import Ge
from hwgen.emit.pipeline import compare_delay, plan_core
from hwgen.emit.verilog import emit
from hwgen.errors import HwgenError
from hwgen.netlist import Netlist
from hwgen.simulation import _verilator_bin_dir, random_inputs, simulate
from hwgen.targets import DELAYS, levels_for


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
    assert re.search(r"^module dut\b", text, re.M) and re.search(r"^module dut_core\b", text, re.M)
    assert info["ports"]["in_bits"] == net.num_inputs and info["ports"]["out_scores"] == 5 * net.score_width
    # the widths as the Verilog declares them, whatever its layout
    widths = {name: int(high) + 1 for kind, high, name in
              re.findall(r"\b(input|output)\s+(?:wire\s+|reg\s+)?\[(\d+):0\]\s*(\w+)", text)}
    assert widths["in_bits"] == net.num_inputs and widths["out_scores"] == 5 * net.score_width
    # the input register, then the stages, each ending in a register; then the FIFO's read
    assert info["core_latency_cycles"] == 1 + info["stages"]
    assert info["latency_cycles"] == info["core_latency_cycles"] + 1 and info["ports"]["out_class"] == 3


def test_emit_is_deterministic(design, tmp_path):
    net, rtl = design
    emit(net, tmp_path, "dut", backend="amaranth", pipeline=2)
    assert (tmp_path / "dut.v").read_bytes() == (rtl / "dut.v").read_bytes()
    emit(net, tmp_path / "a", "dut", backend="direct", pipeline=3)
    emit(net, tmp_path / "b", "dut", backend="direct", pipeline=3)
    assert (tmp_path / "a" / "dut.v").read_bytes() == (tmp_path / "b" / "dut.v").read_bytes()


def _delay(expr, widths):
    if isinstance(expr, Ge):
        return compare_delay(expr.threshold, widths[expr.src])
    return DELAYS[expr.kind]  # the delay model emit schedules by


@pytest.mark.parametrize("levels", [0, 1, 2, 3, 5])
def test_every_stage_holds_at_most_its_levels_and_reads_registers_across_stages(levels):
    """Each signal is computed in one stage from signals of that stage or from the delayed copy (x_dK) of a
    signal K stages earlier; the logic on any path inside a stage adds up to at most `levels` LUT levels."""
    net = with_encoder(random_netlist(3, num_inputs=30, num_gates=400, num_classes=3, per_class=8, window=60), 3, 1)
    plan = plan_core(net, levels)
    stage, arrival = plan.stage_of, {}
    for target, expr in plan.comb:
        if target not in stage:
            continue  # an input slice or a constant
        start = 0.0
        for operand in expr.operands():
            base, _, k = operand.partition("_d")
            if k:
                assert stage[base] + int(k) == stage[target], (target, operand)
            elif base in arrival:
                assert stage[base] == stage[target]
                start = max(start, arrival[base])
        arrival[target] = start + _delay(expr, plan.widths)
        assert levels == 0 or arrival[target] <= max(levels, _delay(expr, plan.widths)) + 1e-9
    assert plan.stats["stages"] == 1 + max(stage.values())
    assert plan.latency == plan.stats["stages"] + 1
    if levels == 0:
        assert plan.stats["stages"] == 1 and plan.stats["skip_registers"] == 0
    else:
        fewer = plan_core(net, levels + 1)
        assert fewer.stats["stages"] <= plan.stats["stages"] and fewer.stats["registers"] <= plan.stats["registers"]


def test_auto_pipeline_follows_the_clock():
    net = random_netlist(4, num_inputs=30, num_gates=400, num_classes=3, per_class=8, window=60)
    assert levels_for(150) > levels_for(250) >= 1 and levels_for(50) > levels_for(150)
    assert plan_core(net, "auto", 150).stats["pipeline_levels"] == levels_for(150)
    assert plan_core(net, "auto", 300).stats["stages"] > plan_core(net, "auto", 100).stats["stages"]


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
    with pytest.raises(HwgenError, match="emitted from another netlist"):
        simulate(rtl, wrong, random_bits(net.num_inputs, 200, 4), "verilator")
    result = simulate(rtl, wrong, random_bits(net.num_inputs, 200, 4), "verilator", check_source=False)
    assert result["mismatches"] > 0


def test_simulations_of_one_design_side_by_side_do_not_collide(design, tmp_path):
    """Two `hwgen sim` runs of the same RTL at once, on different vectors: each checks its own."""
    import sys

    net, rtl = design
    net.save(tmp_path / "net.json")
    runs = [subprocess.Popen([sys.executable, "-m", "hwgen.cli", "sim", str(rtl), "--netlist", str(tmp_path / "net.json"),
                              "--vectors", str(count), "--seed", str(seed)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for seed, count in ((5, 3000), (6, 700))]
    outputs = [run.communicate(timeout=600) for run in runs]
    for (out, err), run, count in zip(outputs, runs, (3000, 700)):
        assert run.returncode == 0, err
        assert f"{count} vectors, 0 mismatches" in out


def test_a_width_bug_in_the_direct_rtl_stops_the_verilator_build(tmp_path):
    net = random_netlist(9, num_inputs=20, num_gates=200, num_classes=3, per_class=6)
    emit(net, tmp_path, "dut", backend="direct")
    text = (tmp_path / "dut.v").read_text()
    wide = next(line for line in text.splitlines() if line.strip().startswith("wire [2:0] pc"))
    (tmp_path / "dut.v").write_text(text.replace(wide, wide.replace("[2:0]", "[1:0]"), 1))
    with pytest.raises(HwgenError, match="failed to build"):
        simulate(tmp_path, net, random_bits(20, 50, 1), "verilator")


def test_a_folder_of_several_designs_asks_which(tmp_path):
    net = random_netlist(10, num_inputs=20, num_gates=100, num_classes=2, per_class=3)
    emit(net, tmp_path, "first")
    emit(net, tmp_path, "second")
    with pytest.raises(HwgenError, match=r"holds several designs \(first, second\): say which with --name"):
        simulate(tmp_path, net, random_bits(20, 30, 1), "icarus")
    assert simulate(tmp_path, net, random_bits(20, 30, 1), "icarus", name="second")["mismatches"] == 0
