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
