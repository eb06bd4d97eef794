import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from hwgen import evaluate, rewrite
from hwgen.errors import HwgenError
from hwgen.netlist import Netlist
from hwgen.verify import prove_equivalent

from helpers import random_bits, random_netlist

PIPELINES = [["fold"], ["strash"], ["dce"], ["fold", "strash", "dce"], ["dce", "strash", "fold", "dce"]]


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
    out, _ = rewrite.run(net, ["fold", "strash", "dce"])
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
