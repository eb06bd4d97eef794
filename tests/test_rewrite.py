import numpy as np
import pytest
from helpers import random_bits, random_netlist
from hypothesis import given, settings
from hypothesis import strategies as st

from hwgen import rewrite
from hwgen.errors import HwgenError
from hwgen.golden import evaluate
from hwgen.interop.abc import prove_equivalent
from hwgen.netlist import Netlist
from hwgen.rewrite import exact4
from hwgen.rewrite.data_aware import accuracy_guard, fold_dont_cares

PIPELINES = [["fold"], ["strash"], ["dce"], ["cut"], ["fold", "strash", "dce"], ["dce", "strash", "fold", "dce"],
             ["fold", "strash", "dce", "cut"], ["cut", "fold", "cut"]]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), inputs=st.integers(1, 16), gates=st.integers(0, 300),
       classes=st.integers(1, 5), pipeline=st.sampled_from(PIPELINES))
def test_passes_keep_every_output_bit(seed, inputs, gates, classes, pipeline):
    net = random_netlist(seed, num_inputs=inputs, num_gates=gates, num_classes=classes, per_class=4)
    out, stats = rewrite.run(net, pipeline)
    out.validate()
    assert out.num_inputs == net.num_inputs and len(out.outputs) == len(net.outputs)
    bits = random_bits(inputs, 256, seed)
    assert np.array_equal(evaluate.output_bits(out, bits), evaluate.output_bits(net, bits))
    assert [s["pass"] for s in stats] == pipeline


@pytest.mark.parametrize("seed", range(8))
def test_abc_proves_every_pipeline_result(seed):
    net = random_netlist(seed, num_inputs=24, num_gates=2000, num_classes=4, per_class=10, window=300)
    out, _ = rewrite.run(net, rewrite.DEFAULT_PASSES)
    assert out.num_gates < net.num_gates
    assert prove_equivalent(net, out)


def test_abc_refutes_a_changed_gate():
    net = random_netlist(3, num_inputs=10, num_gates=300)
    out, _ = rewrite.run(net, ["fold", "strash", "dce"])
    broken = Netlist(out.num_inputs, out.ops.copy(), out.a, out.b, out.outputs, out.num_classes)
    bits = random_bits(10, 1024)
    reference = evaluate.output_bits(net, bits)
    for g in range(broken.num_gates - 1, -1, -1):  # flip gates until the outputs really change
        broken.ops[g] ^= 0b1001
        if not np.array_equal(evaluate.output_bits(broken, bits), reference):
            break
        broken.ops[g] ^= 0b1001
    assert not prove_equivalent(net, broken)


def test_fold_removes_constants_wires_and_inverters():
    # g2 = NOT x0, g3 = A(g2) (a wire), g4 = g3 AND x1 == NOT x0 AND x1, g5 = FALSE, g6 = g4 OR g5.
    net = Netlist.from_gates(2, [[12, 0, 0], [3, 2, 1], [1, 3, 1], [0, 0, 1], [7, 4, 5]], [6], 1)
    out, _ = rewrite.run(net, ["fold", "dce"])
    assert out.num_gates == 1 and out.ops[0] == 4  # NOT A AND B, reading x0 and x1 directly
    assert (out.a[0], out.b[0]) == (0, 1)


def test_strash_merges_twins_and_inverted_twins():
    # AND(x0,x1), AND(x1,x0) and NAND(x0,x1) are one gate up to polarity.
    net = Netlist.from_gates(2, [[1, 0, 1], [1, 1, 0], [14, 0, 1], [6, 2, 3], [6, 2, 4]], [5, 6], 2)
    out, _ = rewrite.run(net, ["strash", "dce"])
    # x AND y XOR x AND y = FALSE, x AND y XOR NAND = TRUE: two constants.
    assert out.num_gates == 2 and sorted(out.ops.tolist()) == [0, 15]
    assert prove_equivalent(net, out)


def test_repeated_outputs_keep_their_weight():
    net = Netlist.from_gates(2, [[6, 0, 1], [6, 1, 0]], [2, 3, 2, 0], 2)
    out, _ = rewrite.run(net, ["strash", "dce"])
    bits = random_bits(2, 64)
    assert np.array_equal(evaluate.scores(out, bits), evaluate.scores(net, bits))
    assert out.outputs[0] == out.outputs[1]


def test_unknown_pass_is_an_error():
    with pytest.raises(HwgenError, match="unknown pass \"magic\""):
        rewrite.run(random_netlist(0), ["fold", "magic"])


def test_exact_table_circuits_compute_their_functions():
    table = exact4.table()
    known = np.flatnonzero(table.cost != exact4.UNKNOWN)
    assert len(known) == 13624  # the 4-input functions of at most 4 two-input gates, complements included
    for tt in known.tolist():
        gates, out, inverted = table.circuit(tt)
        signals = list(exact4.VARS)
        for kind, i, j in gates:
            signals.append(exact4.apply_kind(kind, signals[i], signals[j]))
        assert (0 if out < 0 else signals[out]) ^ (exact4.MASK * inverted) == tt


@pytest.mark.parametrize("name, tt, cost", [
    ("x0 AND x1 AND x2 AND x3", 0x8000, 3),
    ("x0 XOR x1 XOR x2 XOR x3", 0x6996, 3),
    ("majority of x0, x1, x2", 0xE8E8, 4),  # known to need 4 gates over all two-input functions
    ("x2 (a projection)", 0xF0F0, 0),
    ("NOT x3", 0x00FF, 0),
])
def test_exact_table_knows_classic_costs(name, tt, cost):
    assert exact4.table().cost[tt] == cost, name


def test_cut_rewriting_finds_a_smaller_cone():
    # (x0 AND x1) OR (x0 AND x2) OR (x0 AND x3): 5 gates, the same as x0 AND (x1 OR x2 OR x3): 3 gates.
    net = Netlist.from_gates(4, [[1, 0, 1], [1, 0, 2], [1, 0, 3], [7, 4, 5], [7, 7, 6]], [8], 1)
    out, _ = rewrite.run(net, ["cut"])
    assert out.num_gates == 3
    assert prove_equivalent(net, out)


def test_cut_rewriting_never_grows_a_netlist():
    for seed in range(20):
        net, _ = rewrite.run(random_netlist(seed, num_inputs=8, num_gates=400), ["fold", "strash", "dce"])
        out, _ = rewrite.run(net, ["cut"])
        assert out.num_gates <= net.num_gates


def test_data_aware_folds_what_the_data_never_changes():
    # g0 = x0 AND x1 is 0 on every sample (x1 is always 0); g1 = x2 XOR x3 varies.
    net = Netlist.from_gates(4, [[1, 0, 1], [6, 2, 3], [7, 4, 5]], [4, 5, 6], 3)
    bits = random_bits(4, 500, 1)
    bits[:, 1] = False
    folded, stats = fold_dont_cares(net, bits, 0.0)
    assert stats["near_constant"] == 1 and folded.ops[0] == 0
    out, _ = rewrite.run(folded, rewrite.DEFAULT_PASSES)
    assert out.num_gates == 2  # the XOR, and the constant output
    assert np.array_equal(evaluate.output_bits(out, bits), evaluate.output_bits(net, bits))


def test_data_aware_folds_a_rare_value_and_the_guard_measures_it():
    net = Netlist.from_gates(2, [[1, 0, 1]], [2], 1)
    bits = np.zeros((1000, 2), dtype=bool)
    bits[:5] = True  # x0 AND x1 is 1 on 0.5% of the samples
    assert fold_dont_cares(net, bits, 0.004)[1]["near_constant"] == 0
    folded, _ = fold_dont_cares(net, bits, 0.005)
    assert folded.ops[0] == 0
    assert accuracy_guard(0.95, 0.949, 0.2) == pytest.approx(0.1)
    with pytest.raises(HwgenError, match="loses 1.00 points"):
        accuracy_guard(0.95, 0.94, 0.2)


def test_pass_parameters_change_what_cut_does_and_stay_exact():
    """The cut pass's parameters reach its kernel: cuts of 2 leaves, or one cut kept per gate, find fewer
    rewrites than the defaults; every setting is proven equivalent; the statistics say so."""
    net = rewrite.run(random_netlist(3, num_inputs=24, num_gates=1500, num_classes=3, per_class=8, window=200),
                      ["fold", "strash", "dce"])[0]
    found = {}
    for size, per_node in ((4, 8), (2, 8), (4, 1)):
        out, stats = rewrite.run(net, ["cut"], {"cut": {"cut_size": size, "cuts_per_node": per_node}})
        assert stats[0]["params"] == {"cut_size": size, "cuts_per_node": per_node}
        assert prove_equivalent(net, out)
        found[size, per_node] = stats[0]["stats"]["rewrites"]
    assert found[2, 8] < found[4, 8] and found[4, 1] < found[4, 8], found
    default, _ = rewrite.run(net, ["cut"])
    assert default.num_gates == rewrite.run(net, ["cut"], {"cut": {"cut_size": 4, "cuts_per_node": 8}})[0].num_gates


def test_the_registry_says_which_passes_are_exact_and_the_lossy_one_needs_data():
    assert [name for name, p in rewrite.PASSES.items() if not p.exact] == ["data_aware"]
    assert rewrite.default_params("cut") == {"cut_size": 4, "cuts_per_node": 8}
    assert set(rewrite.default_params("data_aware")) == {"rare_fraction", "max_accuracy_drop"}
    with pytest.raises(HwgenError, match="not exact"):
        rewrite.run(random_netlist(1), ["fold", "data_aware"])
    with pytest.raises(HwgenError, match="cut_size"):
        rewrite.run(random_netlist(1), ["cut"], {"cut": {"cut_size": 5, "cuts_per_node": 8}})
