import numpy as np
import pytest
from helpers import random_bits, random_lut_netlist, random_netlist, reference_scores
from hypothesis import given, settings
from hypothesis import strategies as st

from hwgen import rewrite
from hwgen.errors import HwgenError
from hwgen.golden import evaluate
from hwgen.netlist import Netlist


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


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(0, 3000), inputs=st.integers(1, 40),
       gates=st.integers(1, 600), per_class=st.integers(1, 40))
def test_compiled_kernel_matches_numpy_on_lut_nodes_of_every_size(seed, n, inputs, gates, per_class):
    net = random_lut_netlist(seed, num_inputs=inputs, num_gates=gates, num_classes=3, per_class=per_class)
    bits = random_bits(inputs, n, seed)
    assert np.array_equal(evaluate.scores(net, bits, engine="c"), evaluate.scores(net, bits, engine="numpy"))


def test_scores_are_the_same_at_any_thread_count(monkeypatch):
    """Many small blocks, shared among threads in whatever order they come: the same scores."""
    from hwgen.golden import kernel

    monkeypatch.setattr(kernel, "MAX_BLOCK_WORDS", 1)
    net = random_lut_netlist(5, num_inputs=30, num_gates=400, num_classes=4, per_class=50)
    bits = random_bits(30, 5000, 5)
    expected = reference_scores(net, bits[:300])
    results = [evaluate.scores(net, bits, threads=threads) for threads in (1, 2, 3, 8)]
    assert np.array_equal(results[0][:300], expected)
    assert all(np.array_equal(r, results[0]) for r in results[1:])


def test_kernel_blocks_cover_every_sample(monkeypatch):
    """Blocks smaller than the sample count: every block boundary is exercised."""
    from hwgen.golden import kernel

    monkeypatch.setattr(kernel, "BLOCK_BYTES", 8 * 64)
    net = random_netlist(4, num_inputs=20, num_gates=40, num_classes=3, per_class=4)
    bits = random_bits(20, 1000, 4)
    assert np.array_equal(evaluate.scores(net, bits, engine="c"), reference_scores(net, bits))


@pytest.mark.parametrize("engine", ["c", "numpy"])
def test_an_invalid_netlist_in_memory_is_refused_not_read_past_its_end(engine):
    net = Netlist.from_gates(2, [[6, 0, 10**8]], [2], 1)  # never validated: a gate reads node 100,000,000
    with pytest.raises(HwgenError, match="not an earlier node"):
        evaluate.scores(net, np.zeros((4, 2), dtype=bool), engine=engine)
    with pytest.raises(HwgenError, match="not an earlier node"):
        rewrite.run(net, ["cut"])


def test_negative_or_fractional_raw_features_are_refused():
    """The RTL reads features as unsigned numbers, so x >= 0 is always true there: the golden model must
    not say otherwise for a negative feature."""
    net = Netlist(2, np.array([1], np.uint8), np.array([0]), np.array([1]), np.array([2]), 1,
                  np.array([[0], [5]]))
    with pytest.raises(HwgenError, match="must be 0 or more.*feature 0 of sample 1 is -3"):
        evaluate.encode_features(net, np.array([[1, 6], [-3, 6]]))
    with pytest.raises(HwgenError, match="must be integers"):
        evaluate.encode_features(net, np.array([[1.5, 6.0]]))
