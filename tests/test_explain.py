"""hwgen explain and report.html: the printed expressions compute what the netlist computes, the
drawings and tables are written, and the HTML page renders in headless Chromium."""

import itertools
import json
import shutil

import numpy as np
import pytest
from helpers import check_report_page, random_netlist, reference_cuts
from test_cli import ROOT, hwgen

from hwgen import ops
from hwgen.explain import explain, format_summary, image_shape_of
from hwgen.golden import evaluate
from hwgen.netlist import Netlist


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


def _named_scope():
    """The named functions as numpy functions, for evaluating named expressions."""
    from hwgen.explain import functions

    def lookup(table):
        return lambda *args: ((table >> sum(np.asarray(x, dtype=np.int64) << j for j, x in enumerate(args))) & 1) == 1

    return {name: lookup(functions._table(f)) for name, f in functions.NAMED}


@pytest.mark.parametrize("seed", range(6))
def test_named_expressions_compute_the_netlist(seed):
    net = random_netlist(seed, num_inputs=5, num_gates=30, num_classes=2, per_class=1)
    names = [f"x{i}" for i in range(5)]
    info = explain(net, None, input_names=names)
    bits = all_inputs(5)
    scope = _named_scope()
    scope.update({name: bits[:, i] for i, name in enumerate(names)})
    for line in info["named_expressions"]:
        target, expr = line.split(" = ", 1)
        scope[target] = np.asarray(eval(expr, {}, scope), dtype=bool)  # noqa: S307 - our own output
    got = np.stack([np.broadcast_to(scope[o], (len(bits),)) for o in ("out0", "out1")], axis=1)
    assert np.array_equal(got, evaluate.output_bits(net, bits))


def _brute_symmetry(f, n):
    """All symmetric pairs of f (a function of n bits given as a table over all_inputs(n) rows)."""
    rows = all_inputs(n)
    index = {tuple(r): k for k, r in enumerate(rows.tolist())}
    pairs = set()
    for i, j in itertools.combinations(range(n), 2):
        swapped = rows.copy()
        swapped[:, [i, j]] = swapped[:, [j, i]]
        if all(f[index[tuple(s)]] == f[k] for k, s in enumerate(swapped.tolist())):
            pairs.add((i, j))
    return pairs


def _check_record(record, f, n, names):
    """record (explain's output entry) against brute force over all inputs of f."""
    position = {name: i for i, name in enumerate(names)}
    rows = all_inputs(n)
    used = [i for i in range(n) if any(f[k] != f[k2] for k, k2 in _flip_pairs(rows, i))]
    assert sorted(position[x] for x in record["inputs"]) == used
    pairs = _brute_symmetry(f, n)
    sym = [position[x] for x in record.get("symmetric_in", [])]
    assert all((min(i, j), max(i, j)) in pairs for i, j in itertools.combinations(sym, 2))
    # the largest class: no class of symmetric inputs (among the used ones) is bigger
    classes = {}
    for i in used:
        classes[i] = {i} | {j for j in used if (min(i, j), max(i, j)) in pairs}
    assert len(sym) == (max(len(c) for c in classes.values()) if len(used) and max(len(c) for c in classes.values()) > 1 else 0)
    if "ones_when" in record:
        others = [position[x] for x in record["others"]]
        for k, row in enumerate(rows.tolist()):
            key = ",".join(f"{names[o]}={int(row[o])}" for o in others)
            count = sum(row[s] for s in sym)
            assert (count in record["ones_when"][key]) == bool(f[k])


def _flip_pairs(rows, i):
    index = {tuple(r): k for k, r in enumerate(rows.tolist())}
    for k, r in enumerate(rows.tolist()):
        if not r[i]:
            r2 = list(r)
            r2[i] = True
            yield k, index[tuple(r2)]


@pytest.mark.parametrize("seed", range(8))
def test_symmetry_and_counting_match_brute_force(seed):
    """Random netlists, and a planted one per seed: a threshold of a count mixed with two other inputs."""
    n = 6
    names = [f"x{i}" for i in range(n)]
    net = random_netlist(seed, num_inputs=n, num_gates=25, num_classes=3, per_class=1)
    info = explain(net, None, input_names=names)
    out = evaluate.output_bits(net, all_inputs(n))
    for j, record in enumerate(info["outputs"]):
        _check_record(record, out[:, j], n, names)
    # planted: f = (x_a + x_b + x_c + x_d == t) xor (x_e and x_f): symmetric in the four, t drawn per seed
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n).tolist()
    t = int(rng.integers(0, 5))
    rows = all_inputs(n)
    f = (rows[:, perm[:4]].sum(axis=1) == t) ^ (rows[:, perm[4]] & rows[:, perm[5]])
    planted = _netlist_of_table(f, n)
    record = explain(planted, None, input_names=names)["outputs"][0]
    _check_record(record, f, n, names)
    assert sorted(record["symmetric_in"]) == sorted(names[i] for i in perm[:4])


def _netlist_of_table(f, n):
    """A sum of minterms as two-input gates (a big but plain circuit for any table)."""
    gates, node = [], n
    rows = all_inputs(n)

    def add(op, a, b):
        nonlocal node
        gates.append([op, a, b])
        node += 1
        return node - 1

    terms = []
    for k in np.flatnonzero(f).tolist():
        term = None
        for i in range(n):
            literal = add(3 if rows[k, i] else 12, i, i)  # A or NOT A
            term = literal if term is None else add(1, term, literal)  # AND
        terms.append(term)
    result = add(0, 0, 0) if not terms else terms[0]
    for term in terms[1:]:
        result = add(7, result, term)  # OR
    return Netlist.from_gates(n, gates, [result], 1)


def test_planted_adder_majority_and_mux_are_named():
    """A full adder, a majority and a multiplexer hidden among random gates, each over leaves that are
    XORs of inputs: explain names them, finds the full adder's shared leaves, and counts them."""
    from hwgen.explain import functions

    rng = np.random.default_rng(0)
    n, gates = 12, []
    node = n

    def add(op, a, b):
        nonlocal node
        gates.append([op, a, b])
        node += 1
        return node - 1

    for _ in range(40):
        add(int(rng.integers(16)), int(rng.integers(n)), int(rng.integers(n)))
    leaf = [add(6, 2 * i, 2 * i + 1) for i in range(6)]  # x0^x1, x2^x3, ...
    a, b, c = leaf[:3]
    s = add(6, add(6, a, b), c)                                      # sum = a ^ b ^ c
    carry = add(7, add(1, a, b), add(1, c, add(6, a, b)))            # ab | c(a ^ b)
    majority = add(7, add(7, add(1, leaf[3], leaf[4]), add(1, leaf[4], leaf[5])), add(1, leaf[3], leaf[5]))
    mux = add(7, add(1, leaf[3], leaf[4]), add(2, leaf[5], leaf[3]))  # leaf3 ? leaf4 : leaf5
    noise = [add(int(rng.integers(16)), int(rng.integers(n, node)), int(rng.integers(n, node))) for _ in range(30)]
    net = Netlist.from_gates(n, gates, [s, carry, majority, mux, *noise[:2]], 1)
    named = {node: [option[:2] for option in options] for node, options in functions.named_cuts(net).items()}
    assert ("XOR3", (a, b, c)) in named[s] and ("MAJ3", (a, b, c)) in named[carry]
    assert ("MAJ3", tuple(leaf[3:])) in named[majority] and ("MUX", tuple(leaf[3:])) in named[mux]
    assert ("MAJ3", tuple(leaf[3:])) not in named[mux]
    info = explain(net, None)
    adders = info["functions"]["full_adders"]
    assert {"leaves": [f"n{v}" for v in (a, b, c)], "sum": f"n{s}", "carry": f"n{carry}"} in adders
    assert all(len(a["leaves"]) == 3 for a in adders)


def test_reused_blocks_are_found_up_to_renaming():
    """Eight copies of one 3-leaf block (an AND-OR) over different, permuted inputs: one block, 8 instances."""
    n, gates, node, roots = 24, [], 24, []
    for copy in range(8):
        x, y, z = [(3 * copy + k) for k in ((0, 1, 2), (1, 2, 0), (2, 0, 1))[copy % 3]]
        gates.append([1, x, y])       # x & y
        gates.append([7, node, z])    # | z
        roots.append(node + 1)
        node += 2
    net = Netlist.from_gates(n, gates, roots, 1)
    blocks = explain(net, None)["blocks"]
    assert blocks[0]["instances"] == 8 and blocks[0]["leaves"] == 3 and blocks[0]["name"] == "AO21"


def test_evidence_maps_match_a_brute_force_evaluation(tmp_path):
    from helpers import random_bits, reference_scores

    from hwgen.explain.evidence import evidence

    net = random_netlist(7, num_inputs=16, num_gates=120, num_classes=3, per_class=4)
    bits = random_bits(16, 50, 7)
    maps = evidence(net, bits)
    expected = np.zeros((3, 16))
    for i in range(16):
        on, off = bits.copy(), bits.copy()
        on[:, i], off[:, i] = True, False
        expected[:, i] = (reference_scores(net, on) - reference_scores(net, off)).mean(axis=0)
    assert np.allclose(maps, expected)
    info = explain(net, tmp_path, data_bits=bits, image_shape=(4, 4))
    assert np.allclose(np.load(tmp_path / "evidence.npy"), expected)
    assert (tmp_path / "evidence.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and info["evidence"]["samples"] == 50


def test_explain_takes_data_on_the_command_line(tmp_path):
    net = random_netlist(4, num_inputs=9, num_gates=200, num_classes=3, per_class=3)
    net.save(tmp_path / "n.json")
    bits = np.random.default_rng(0).integers(0, 2, (40, 9)).astype(np.uint8)
    np.savez(tmp_path / "d.npz", train_x=bits, test_x=bits, test_y=np.zeros(40, np.int64))
    result = hwgen("explain", tmp_path / "n.json", "--out", tmp_path / "x", "--data", tmp_path / "d.npz")
    assert result.returncode == 0, result.stderr
    assert np.load(tmp_path / "x" / "evidence.npy").shape == (3, 9) and "evidence.png" in result.stdout
    written = json.loads((tmp_path / "x" / "explain.json").read_text())
    assert len(written["outputs"]) == 9 and "blocks" in written and "by_name" in written["functions"]


@pytest.mark.parametrize("seed", range(4))
def test_the_cut_engine_gives_every_cut_the_definition_does(seed):
    """explain's cuts come from the cut pass's C engine; a Python enumeration straight from the definition
    gives the same cuts, in the same order, with the same tables."""
    from hwgen.explain import functions

    net = random_netlist(seed, num_inputs=10, num_gates=150, num_classes=2, per_class=4, window=30)
    assert functions.cuts(net) == reference_cuts(net, functions.CUTS_PER_NODE, functions.K)


def test_symmetry_finds_the_counting_functions_exactly():
    """Majority of 3 depends only on the count of ones (1 when 2 or 3); x0 AND (x1 XOR x2) is symmetric in
    x1 and x2 only, 1 when x0 = 1 and exactly one of them is; a constant output is named so, with its
    value."""
    from hwgen.builder import TRUE, Builder
    from hwgen.explain import symmetry

    b = Builder(3, hashing=True)
    maj = b.lut(0xE8, [0, 2, 4])
    mixed = b.gate(ops.AND, 0, b.gate(ops.XOR, 2, 4))
    net = b.finish([maj, mixed, TRUE], num_classes=3)
    names = ["x0", "x1", "x2"]
    assert symmetry.analyse(net, 2, [], names) == {"inputs": [], "constant": 1}
    record = symmetry.analyse(net, 0, [0, 1, 2], names)
    assert sorted(record["symmetric_in"]) == names and record["others"] == [] and record["ones_when"] == {"": [2, 3]}
    record = symmetry.analyse(net, 1, [0, 1, 2], names)
    assert sorted(record["symmetric_in"]) == ["x1", "x2"] and record["others"] == ["x0"]
    assert record["ones_when"] == {"x0=0": [], "x0=1": [1]}
    table = symmetry.truth_table(net, 1, [0, 1, 2])
    assert symmetry.symmetric_sets(table) == [[1, 2], [0]] and not symmetry.depends(np.take(table, 0, axis=0), 0)


def test_tabular_inputs_are_named_by_the_thresholds_they_test():
    from helpers import with_encoder

    from hwgen.explain import feature_names

    net = with_encoder(random_netlist(2, num_inputs=6, num_gates=20), 2, 3)  # 3 features, 2 thresholds each
    names = feature_names(net)
    assert names[0] == f"f0>={net.encoder[0][0]}" and names[5] == f"f2>={net.encoder[2][1]}"
    assert feature_names(random_netlist(2, num_inputs=4, num_gates=10)) == ["x0", "x1", "x2", "x3"]
