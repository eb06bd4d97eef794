import json

import numpy as np
import pytest
from helpers import random_netlist

from hwgen import netlist, ops
from hwgen.errors import HwgenError
from hwgen.netlist import Netlist


def test_op_order_matches_the_contract():
    # difflogic's order: 1 AND, 6 XOR, 7 OR, 14 NAND, 3 = A, 5 = B.
    for a in (0, 1):
        for b in (0, 1):
            assert ops.apply(1, a, b) == (a & b)
            assert ops.apply(6, a, b) == (a ^ b)
            assert ops.apply(7, a, b) == (a | b)
            assert ops.apply(14, a, b) == 1 - (a & b)
            assert ops.apply(3, a, b) == a and ops.apply(5, a, b) == b
            assert ops.apply(2, a, b) == (a & (1 - b))


def test_save_load_round_trip(tmp_path):
    net = random_netlist(1)
    path = tmp_path / "n.netlist.json"
    net.save(path)
    again = netlist.load(path)
    assert again.to_json_dict() == net.to_json_dict()
    d = json.loads(path.read_text())  # plain JSON, readable without hwgen
    assert d["format"] == "hwgen-netlist" and d["version"] == 1 and len(d["gates"]) == net.num_gates


def test_encoder_round_trip(tmp_path):
    net = random_netlist(2, num_inputs=6)
    net.encoder = np.array([[3, 9], [1, 2], [0, 5]])
    net.save(tmp_path / "e.json")
    assert np.array_equal(netlist.load(tmp_path / "e.json").encoder, net.encoder)


def _write(tmp_path, d):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(d) if not isinstance(d, str) else d)
    return path


GOOD = {"format": "hwgen-netlist", "version": 1, "num_inputs": 2, "gates": [[1, 0, 1], [6, 2, 0]],
        "outputs": [2, 3], "num_classes": 2, "encoder": None}


@pytest.mark.parametrize("change, message", [
    ({"format": "other"}, "format"),
    ({"version": 3}, "version"),
    ({"gates": [[16, 0, 1]]}, "op 16"),
    ({"gates": [[1, 0, 2]]}, "not an earlier node"),
    ({"gates": [[1, -1, 0]]}, "not an earlier node"),
    ({"outputs": [2]}, "do not split"),
    ({"outputs": [2, 9]}, "is not a node"),
    ({"num_classes": 0}, "num_classes"),
    ({"num_inputs": "2"}, "num_inputs"),
    ({"gates": [[1, 0]]}, "triples"),
    ({"gates": [[1.5, 0, 1]]}, "integers"),
    ({"colour": 1}, "unknown key"),
    ({"outputs": []}, "empty"),
])
def test_bad_netlists_name_the_problem(tmp_path, change, message):
    with pytest.raises(HwgenError, match=message):
        netlist.load(_write(tmp_path, {**GOOD, **change}))


def test_malformed_json_names_line(tmp_path):
    with pytest.raises(HwgenError, match="line 1"):
        netlist.load(_write(tmp_path, '{"format": '))


def test_levels_and_widths():
    net = Netlist.from_gates(2, [[1, 0, 1], [6, 2, 0], [7, 3, 2]], [2, 3, 4, 4], 2)
    assert net.levels().tolist() == [0, 0, 1, 2, 3]
    assert net.score_width == 2 and net.class_width == 1


# The LUT truth-table arithmetic (hwgen.tables), each operation against its definition on every input.
@pytest.mark.parametrize("seed", range(6))
def test_table_operations_follow_their_definitions(seed):
    from hwgen import tables

    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 7))
    table = int(rng.integers(0, 1 << 62)) & ((1 << (1 << k)) - 1)
    f = lambda t, x: (t >> sum(b << j for j, b in enumerate(x))) & 1  # noqa: E731
    rows = [[(a >> j) & 1 for j in range(k)] for a in range(1 << k)]
    j, i = int(rng.integers(k)), int(rng.integers(k - 1))
    for x in rows:
        assert f(tables.invert_input(table, k, j), x) == f(table, x[:j] + [1 - x[j]] + x[j + 1:])
        assert f(tables.complement(table, k), x) == 1 - f(table, x)
        for value in (0, 1):
            assert f(tables.cofactor(table, k, j, value), x[:j] + x[j + 1:]) == f(table, x[:j] + [value] + x[j + 1:])
        order = list(rng.permutation(k))
        assert f(tables.permute(table, k, order), x) == f(table, [x[order.index(m)] for m in range(k)])
    j = int(rng.integers(i + 1, k))
    for x in rows:  # inputs i and j the same signal: a table over the inputs without j
        if x[i] == x[j]:
            assert f(tables.merge_inputs(table, k, i, j), x[:j] + x[j + 1:]) == f(table, x)
    reduced, fanin = tables.drop_unread(table, list(range(k)))
    assert all(tables.depends_on(reduced, len(fanin), m) for m in range(len(fanin)))
    assert tables.entries(tables.from_entries(tables.entries(table, k)), k) == tables.entries(table, k)


def test_builder_hashes_folds_and_keeps_the_function():
    """The hashing builder merges a gate built twice (also with its inputs swapped), folds constants and a
    gate reading one signal twice, absorbs inverted inputs into the op, and what it builds computes what
    was asked, inverted outputs included."""
    from hwgen.builder import FALSE, TRUE, Builder
    from hwgen.golden import evaluate

    b = Builder(3, hashing=True)
    x, y, z = 0, 2, 4  # literals: node * 2 (+1 inverted)
    g1 = b.gate(ops.AND, x, y)
    assert b.gate(ops.AND, y, x) == g1 and b.gate(ops.AND, x, x) == x
    assert b.gate(ops.AND, x, FALSE) == FALSE and b.gate(ops.OR, x, TRUE) == TRUE
    assert b.gate(ops.XOR, x, x) == FALSE and b.gate(ops.NAND, x, y) == g1 ^ 1
    g2 = b.gate(ops.OR, g1, z ^ 1)  # x & y | ~z
    g3 = b.lut(0x96, [x, y, z])     # x ^ y ^ z, a LUT node
    assert b.lut(0x96, [z, x, y]) == g3
    net = b.finish([g2, g2 ^ 1, g3, TRUE], num_classes=4)
    bits = np.array([[(a >> j) & 1 for j in range(3)] for a in range(8)], dtype=bool)
    out = evaluate.output_bits(net, bits).astype(int)
    xv, yv, zv = bits.T.astype(int)
    want = np.stack([(xv & yv) | (1 - zv), 1 - ((xv & yv) | (1 - zv)), xv ^ yv ^ zv, np.ones(8, int)], axis=1)
    assert np.array_equal(out, want)
    assert net.num_gates <= 5
