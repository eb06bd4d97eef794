"""BLIF and AIGER out and in: what hwgen writes, ABC reads as the same function, and what ABC writes,
hwgen reads back as the same function."""

import json
import subprocess

import numpy as np
import pytest
from helpers import random_bits, random_netlist
from test_cli import hwgen

from hwgen import ops, rewrite
from hwgen.golden import evaluate
from hwgen.interop.abc import find_abc, prove_equivalent
from hwgen.interop.aiger import read_aiger, to_aiger
from hwgen.interop.blif import COVERS, read_blif, to_blif
from hwgen.netlist import Netlist, load


def abc(*commands):
    return subprocess.run([find_abc(), "-c", "; ".join(commands)], capture_output=True, text=True).stdout


@pytest.mark.parametrize("op", sorted(COVERS))
def test_blif_covers_are_the_ops_and_smallest(op):
    cubes = COVERS[op]
    for a in (0, 1):
        for b in (0, 1):
            hit = any(c[0] in (str(a), "-") and c[1] in (str(b), "-") for c in cubes)
            assert hit == bool(ops.apply(op, a, b))
    ones = sum(ops.apply(op, a, b) for a in (0, 1) for b in (0, 1))
    assert len(cubes) == {1: 1, 2: 1 if op in (ops.A, ops.B, 10, 12) else 2, 3: 2}[ones]


@pytest.mark.parametrize("seed", range(6))
def test_blif_and_aiger_round_trips(seed):
    net = random_netlist(seed, num_inputs=10, num_gates=300, num_classes=3, per_class=4)
    bits = random_bits(10, 512, seed)
    for back in (read_blif(to_blif(net), 3), read_aiger(to_aiger(net), 3)):
        assert (back.num_inputs, len(back.outputs), back.num_classes) == (10, 12, 3)
        assert np.array_equal(evaluate.output_bits(back, bits), evaluate.output_bits(net, bits))
        assert prove_equivalent(net, back)


def test_abc_reads_the_aiger_export_as_the_blif_export(tmp_path):
    net = random_netlist(11, num_inputs=12, num_gates=400)
    (tmp_path / "n.blif").write_text(to_blif(net))
    (tmp_path / "n.aig").write_bytes(to_aiger(net))
    assert "Networks are equivalent" in abc(f"cec {tmp_path / 'n.blif'} {tmp_path / 'n.aig'}")


def test_what_abc_writes_reads_back_equivalent(tmp_path):
    """ABC's optimised AIG (binary AIGER) and its 4-LUT mapping (BLIF with 4-input covers)."""
    net = random_netlist(12, num_inputs=12, num_gates=400)
    (tmp_path / "n.blif").write_text(to_blif(net))
    abc(f"read_blif {tmp_path / 'n.blif'}", "strash", "dc2", f"write_aiger {tmp_path / 'o.aig'}",
        "if -K 4", f"write_blif {tmp_path / 'o.blif'}")
    from_aig = read_aiger((tmp_path / "o.aig").read_bytes(), net.num_classes)
    from_blif = read_blif((tmp_path / "o.blif").read_text(), net.num_classes)
    assert prove_equivalent(net, from_aig) and prove_equivalent(net, from_blif)


def test_ascii_aiger_and_blif_in_any_order():
    # y = x0 AND NOT x1, written as ASCII AIGER; BLIF listing a gate before the gate it reads, with an off-set cover.
    aag = b"aag 3 2 0 1 1\n2\n4\n6\n6 2 5\n"
    net = read_aiger(aag)
    assert net.num_gates == 1 and net.ops[0] == 2  # A AND NOT B
    blif = (".model m\n.inputs a b c\n.outputs y\n.names t c y\n11 1\n"
            ".names a b t\n11 0\n.end\n")  # t = NAND(a, b), y = t AND c
    net = read_blif(blif)
    bits = np.array([[i >> k & 1 for k in range(3)] for i in range(8)], dtype=bool)
    expected = ~(bits[:, 0] & bits[:, 1]) & bits[:, 2]
    assert np.array_equal(evaluate.output_bits(net, bits)[:, 0], expected)
    # the BLIF's names stay with the inputs: through the passes and a netlist file
    assert net.input_names == ["a", "b", "c"]
    small, _ = rewrite.run(net, ["fold", "strash", "dce", "cut"])
    assert small.input_names == ["a", "b", "c"]
    from hwgen.netlist import from_json_dict
    assert from_json_dict(json.loads(small.dumps())).input_names == ["a", "b", "c"]


def test_export_and_import_on_the_command_line(tmp_path):
    net, _ = rewrite.run(random_netlist(13, num_inputs=8, num_gates=200, num_classes=2, per_class=5),
                         ["fold", "strash", "dce"])
    net.save(tmp_path / "n.json")
    for fmt, name in (("aiger", "n.aig"), ("blif", "n.blif")):
        assert hwgen("export", tmp_path / "n.json", "--format", fmt, "--out", tmp_path / name).returncode == 0
        result = hwgen("import", tmp_path / name, "--out", tmp_path / f"{name}.json", "--classes", "2")
        assert result.returncode == 0, result.stderr
        assert prove_equivalent(net, load(tmp_path / f"{name}.json"))


def test_import_refuses_outputs_that_do_not_split(tmp_path):
    (tmp_path / "n.blif").write_text(to_blif(Netlist.from_gates(2, [[1, 0, 1]], [2, 2, 2], 1)))
    result = hwgen("import", tmp_path / "n.blif", "--out", tmp_path / "x.json", "--classes", "2")
    assert result.returncode == 2 and "3 outputs do not split into 2 classes" in result.stderr
    assert not (tmp_path / "x.json").exists()
