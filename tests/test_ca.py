"""The cellular automaton pieces: the torch rule, its netlist, the grid golden model and the grid RTL
agree; the Game of Life reference is right."""

import numpy as np
import pytest
import torch
from test_cli import ROOT, hwgen

from hwgen.ca import grid
from hwgen.ca.rtl import simulate_ca
from hwgen.golden import evaluate
from hwgen.learn.ca.harden import harden_rule
from hwgen.learn.ca.model import Rule, neighbourhoods, step
from hwgen.learn.ca.train import life_table
from hwgen.netlist import Netlist


@pytest.mark.parametrize("seed, state_bits, kernels", [(0, 1, 2), (1, 2, 3), (2, 1, 8)])
def test_hardened_rule_is_the_torch_rule(seed, state_bits, kernels):
    rule = Rule(state_bits, kernels, [8, 4], seed).eval()
    net = harden_rule(rule)
    bits = np.random.default_rng(seed).integers(0, 2, (500, 9 * state_bits)).astype(bool)
    with torch.no_grad():
        expected = rule(torch.from_numpy(bits).float()).numpy().astype(bool)
    assert np.array_equal(evaluate.output_bits(net, bits), expected)


def test_grid_golden_model_steps_like_torch():
    rule = Rule(2, 3, [8], 5).eval()
    net = harden_rule(rule)
    state = np.random.default_rng(0).integers(0, 2, (7, 9, 2)).astype(bool)
    with torch.no_grad():
        t = torch.from_numpy(state).float()[None]
        for expected in grid.run(net, state, 4):
            t = step(rule, t)
            assert np.array_equal(t[0].numpy().astype(bool), expected)
    assert neighbourhoods(torch.zeros(1, 3, 3, 2)).shape == (1, 3, 3, 18)


def test_life_reference():
    g = np.zeros((8, 8), dtype=bool)
    for y, x in [(0, 1), (1, 2), (2, 0), (2, 1), (2, 2)]:
        g[y, x] = True
    moved = g
    for _ in range(4):
        moved = grid.life_step(moved)
    assert np.array_equal(moved, np.roll(g, (1, 1), (0, 1)))  # a glider moves one cell diagonally
    inputs, target = life_table()
    assert inputs.shape == (512, 9) and int(target.sum()) == 140  # 56 births + 84 survivals


def test_grid_rtl_follows_the_golden_model(tmp_path):
    # next = nw | ne | c | se (inputs 0, 2, 4, 8): grows a checkerboard from the seed.
    rule = Netlist.from_gates(9, [[7, 0, 2], [7, 4, 8], [7, 9, 10]], [11], 1)
    rtl = tmp_path / "rtl"
    rule.save(tmp_path / "rule.json")
    result = hwgen("emit", tmp_path / "rule.json", "--out", rtl, "--name", "ca", "--ca-grid", "16")
    assert result.returncode == 0, result.stderr
    sim = simulate_ca(rtl, rule, None, 20, "icarus")
    assert sim["mismatched_steps"] == [] and sim["initial_ok"]
    assert np.array_equal(sim["final_state"][:, :, 0], grid.checkerboard(16, 16))
    start = np.random.default_rng(1).random((12, 12, 1)) < 0.3
    sim = simulate_ca(rtl, rule, start, 6, "icarus")
    assert sim["mismatched_steps"] == [] and sim["initial_ok"]


@pytest.mark.slow
def test_game_of_life_build(tmp_path):
    """configs/game-of-life.yaml: the rule is learned exactly (all 512 neighbourhoods), and the RTL grid
    runs Conway's Game of Life: a random soup on 16x16 for 20 steps, a glider on 32x32 for 80."""
    import json

    out = tmp_path / "game-of-life"
    result = hwgen("build", ROOT / "configs" / "game-of-life.yaml", "--out", out, "--quiet")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert report["train"]["solved"] and report["ca"]["neighbourhoods_right"] == 512
    assert report["ca"]["pattern_ok"] is True and report["ca"]["generalizes_ok"] is True
    assert report["equivalence"] == "proven" and report["gates"]["simplified"] < report["gates"]["hardened"]
    # explain recovers the rule of Life from the learned gates: a count of the 8 neighbours, and the cell
    life = json.loads((out / "explain" / "explain.json").read_text())["outputs"][0]
    assert sorted(life["symmetric_in"]) == sorted(["nw", "n", "ne", "w", "e", "sw", "s", "se"])
    assert life["others"] == ["c"] and life["ones_when"] == {"c=0": [3], "c=1": [2, 3]}


def test_prune_keeps_only_what_the_task_needs():
    """A rule whose task only asks for output = x0: the extra gates are tried as constants and wires and
    removed while the task still holds; a task the pruned rule could not do keeps the rule as it was."""
    from hwgen import ops
    from hwgen.ca.prune import prune

    # out = (x0 AND (x1 OR x2)) OR (x0 AND NOT x1 AND NOT x2) = x0, spelled with 5 gates
    net = Netlist.from_gates(3, [[ops.OR, 1, 2], [ops.AND, 0, 3], [ops.NOR, 1, 2], [ops.AND, 0, 5],
                                 [ops.OR, 4, 6]], [7], 1)
    bits = np.array([[(a >> j) & 1 for j in range(3)] for a in range(8)], dtype=bool)
    is_x0 = lambda n: np.array_equal(evaluate.output_bits(n, bits)[:, 0], bits[:, 0])  # noqa: E731
    pruned = prune(net, is_x0, ["fold", "strash", "dce"])
    assert is_x0(pruned) and pruned.num_gates < net.num_gates
    never = prune(net, lambda n: n.num_gates == net.num_gates, ["dce"])
    assert never.num_gates == net.num_gates
