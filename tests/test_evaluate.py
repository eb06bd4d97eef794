import numpy as np
from hypothesis import given, settings, strategies as st

from hwgen import evaluate
from hwgen.netlist import Netlist

from helpers import random_bits, random_netlist, reference_scores


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 200), inputs=st.integers(1, 20),
       gates=st.integers(0, 150), classes=st.integers(1, 6))
def test_bit_parallel_matches_reference(seed, n, inputs, gates, classes):
    net = random_netlist(seed, num_inputs=inputs, num_gates=gates, num_classes=classes, per_class=3)
    bits = random_bits(inputs, n, seed)
    assert np.array_equal(evaluate.scores(net, bits), reference_scores(net, bits))


def test_ties_go_to_the_lowest_class():
    assert evaluate.predict_from_scores(np.array([[1, 3, 3, 0], [2, 2, 2, 2]])).tolist() == [1, 0]


def test_all_sixteen_ops():
    # Node 2+op computes op(x0, x1); each class c reads gate c.
    net = Netlist.from_gates(2, [[op, 0, 1] for op in range(16)], list(range(2, 18)), 16)
    bits = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=bool)
    scores = evaluate.scores(net, bits)
    for op in range(16):
        assert scores[:, op].tolist() == [(op >> 3) & 1, (op >> 2) & 1, (op >> 1) & 1, op & 1]


def test_pack_unpack_round_trip():
    bits = random_bits(7, 130)
    assert np.array_equal(evaluate.unpack(evaluate.pack(bits), 130), bits)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(0, 3000), inputs=st.integers(1, 300),
       gates=st.integers(0, 2000), classes=st.integers(1, 16), per_class=st.integers(1, 40))
def test_compiled_kernel_matches_numpy(seed, n, inputs, gates, classes, per_class):
    net = random_netlist(seed, num_inputs=inputs, num_gates=gates, num_classes=classes, per_class=per_class)
    bits = random_bits(inputs, n, seed)
    assert np.array_equal(evaluate.scores(net, bits, engine="c"), evaluate.scores(net, bits, engine="numpy"))


def test_kernel_blocks_cover_every_sample(monkeypatch):
    """Blocks smaller than the sample count: every block boundary is exercised."""
    from hwgen import kernel

    monkeypatch.setattr(kernel, "BLOCK_BYTES", 8 * 64)
    net = random_netlist(4, num_inputs=20, num_gates=40, num_classes=3, per_class=4)
    bits = random_bits(20, 1000, 4)
    assert np.array_equal(evaluate.scores(net, bits, engine="c"), reference_scores(net, bits))
