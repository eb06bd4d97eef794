"""hwgen explain and report.html: the printed expressions compute what the netlist computes, the
drawings and tables are written, and the HTML page renders in headless Chromium."""

import itertools
import json
import shutil

import numpy as np
import pytest

from hwgen import evaluate
from hwgen.explain import explain, format_summary, image_shape_of
from hwgen.netlist import Netlist

from helpers import check_report_page, random_netlist
from test_cli import ROOT, hwgen


def all_inputs(n):
    return np.array(list(itertools.product([0, 1], repeat=n)), dtype=bool)[:, ::-1]


def evaluate_lines(lines, names, bits):
    """Run `name = expression` lines with numpy bool arrays for the inputs (~, &, |, ^ are elementwise)."""
    scope = {name: bits[:, i] for i, name in enumerate(names)}
    for line in lines:
        target, expr = line.split(" = ", 1)
        scope[target] = np.asarray(eval(expr, {}, scope), dtype=bool)  # noqa: S307 - our own output
    return scope


@pytest.mark.parametrize("seed", range(10))
def test_expressions_compute_the_netlist(seed):
    net = random_netlist(seed, num_inputs=6, num_gates=40, num_classes=2, per_class=2, window=10)
    names = [f"x{i}" for i in range(6)]
    info = explain(net, None, input_names=names)
    bits = all_inputs(6)
    scope = evaluate_lines(info["expressions"], names, bits)
    expected = evaluate.output_bits(net, bits)
    for j in range(len(net.outputs)):
        value = scope[f"out{j}"]
        assert np.array_equal(np.broadcast_to(value, (len(bits),)), expected[:, j]), info["expressions"]


def test_shared_gates_are_named_once_and_the_truth_table_is_right(tmp_path):
    # t = x0 ^ x1 feeds both outputs: out0 = t & x2, out1 = t | x3.
    net = Netlist.from_gates(4, [[6, 0, 1], [1, 4, 2], [7, 4, 3]], [5, 6], 2)
    info = explain(net, tmp_path, input_names=["a", "b", "c", "d"])
    assert info["expressions"] == ["t1 = a ^ b", "out0 = c & t1", "out1 = d | t1"]
    rows = info["truth_table"].splitlines()[2:]
    assert len(rows) == 16
    for row in rows:
        a, b, c, d, o0, o1 = map(int, row.split())
        assert (o0, o1) == (((a ^ b) & c), ((a ^ b) | d))
    circuit = json.loads((tmp_path / "circuit.digitaljs.json").read_text())
    kinds = sorted(d["type"] for d in circuit["devices"].values())
    assert kinds == ["And", "Input", "Input", "Input", "Input", "Or", "Output", "Output", "Xor"]
    assert len(circuit["connectors"]) == 8
    assert (tmp_path / "circuit.dot").read_text().startswith("digraph")
    assert shutil.which("dot") and "<svg" in (tmp_path / "circuit.svg").read_text()


def test_summary_and_heat_map_for_image_inputs(tmp_path):
    net = random_netlist(3, num_inputs=16, num_gates=300, num_classes=2, per_class=5)
    assert image_shape_of(net) == (4, 4)
    info = explain(net, tmp_path)
    s = info["summary"]
    assert s["gates"] == 300 and len(s["gates_per_class"]) == 2 and sum(s["gates_by_op"].values()) == 300
    assert (tmp_path / "heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "gates, depth" in format_summary(info)


def test_explain_on_the_command_line(tmp_path):
    net = random_netlist(4, num_inputs=9, num_gates=200, num_classes=1, per_class=3)
    net.save(tmp_path / "n.json")
    result = hwgen("explain", tmp_path / "n.json", "--out", tmp_path / "x", "--output", "1")
    assert result.returncode == 0, result.stderr
    assert "out1 = " in result.stdout and (tmp_path / "x" / "explain.json").exists()
    bad = hwgen("explain", tmp_path / "n.json", "--image", "5x5")
    assert bad.returncode == 2 and "does not match the 9 input features" in bad.stderr


@pytest.mark.slow
def test_checkerboard_ca_build_and_its_report_page(tmp_path):
    """configs/checkerboard-ca.yaml end to end: a rule of at most 6 gates that grows the checkerboard in
    the RTL (Icarus), 16x16 in 20 steps and 32x32 in 80."""
    out = tmp_path / "checkerboard-ca"
    result = hwgen("build", ROOT / "configs" / "checkerboard-ca.yaml", "--out", out, "--quiet")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert report["gates"]["simplified"] <= 6 and report["equivalence"] == "proven"
    assert report["ca"]["pattern_ok"] is True and report["ca"]["generalizes_ok"] is True
    assert report["rule"] and report["rule"][-1].startswith("next = ")
    check_report_page(out / "report.html", tmp_path)
