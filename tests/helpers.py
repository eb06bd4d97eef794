"""Shared test helpers: random netlists, a slow, obviously-correct reference evaluator, and a check that a
report page renders in headless Chromium."""

import dataclasses
import re
import subprocess

import numpy as np

from hwgen import ops
from hwgen.netlist import Netlist


def random_netlist(seed: int, num_inputs: int = 12, num_gates: int = 200, num_classes: int = 3,
                   per_class: int = 5, window: int = 40) -> Netlist:
    """Gates read mostly recent nodes (layer-like) and sometimes any earlier node (skip connections);
    outputs may repeat a node."""
    rng = np.random.default_rng(seed)
    gates = []
    for g in range(num_gates):
        node = num_inputs + g
        lo = 0 if rng.random() < 0.2 else max(0, node - window)
        gates.append([int(rng.integers(16)), int(rng.integers(lo, node)), int(rng.integers(lo, node))])
    outputs = rng.integers(max(0, num_inputs + num_gates - 3 * window), num_inputs + num_gates,
                           size=num_classes * per_class)
    net = Netlist.from_gates(num_inputs, gates, outputs, num_classes)
    net.validate()
    return net


def random_lut_netlist(seed: int, num_inputs: int = 12, num_gates: int = 200, num_classes: int = 3,
                       per_class: int = 5, window: int = 40) -> Netlist:
    """Like random_netlist, with a third of the gates k-input LUT nodes (k from 1 to 6, inputs may repeat)."""
    rng = np.random.default_rng(seed)
    nodes = []
    for g in range(num_gates):
        node = num_inputs + g
        lo = 0 if rng.random() < 0.2 else max(0, node - window)
        if rng.random() < 1 / 3:
            k = int(rng.integers(1, 7))
            table = int.from_bytes(rng.bytes(8), "little") & ((1 << (1 << k)) - 1)
            nodes.append(("lut", table, rng.integers(lo, node, size=k).tolist()))
        else:
            nodes.append((int(rng.integers(16)), int(rng.integers(lo, node)), int(rng.integers(lo, node))))
    outputs = rng.integers(max(0, num_inputs + num_gates - 3 * window), num_inputs + num_gates,
                           size=num_classes * per_class)
    net = Netlist.from_nodes(num_inputs, nodes, outputs, num_classes)
    net.validate()
    return net


def with_encoder(net: Netlist, per_feature: int, seed: int) -> Netlist:
    """The same gates, reading input bits made by thermometer thresholds from 8-bit features; some
    thresholds are 0 or above 255, so their bits are constant."""
    rng = np.random.default_rng(seed)
    thresholds = np.sort(rng.integers(0, 300, size=(net.num_inputs // per_feature, per_feature)), axis=1)
    return dataclasses.replace(net, encoder=thresholds)


def reference_scores(net: Netlist, bits: np.ndarray) -> np.ndarray:
    """One sample at a time, one gate at a time, straight from the contract."""
    out = []
    nodes = [net.node(g) for g in range(net.num_gates)]
    for row in bits.astype(int):
        values = row.tolist()
        for node in nodes:
            if node[0] == "lut":  # the table's bit at the address of its inputs, input j as bit j
                _, table, fanin = node
                values.append((table >> sum(values[x] << j for j, x in enumerate(fanin))) & 1)
            else:
                op, a, b = node
                values.append(ops.apply(op, values[a], values[b]))
        o = [values[k] for k in net.outputs.tolist()]
        m = net.outputs_per_class
        out.append([sum(o[c * m:(c + 1) * m]) for c in range(net.num_classes)])
    return np.array(out, dtype=np.int64)


def random_bits(num_inputs: int, count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, size=(count, num_inputs)).astype(bool)


def to_layered_model(net: Netlist):
    """The netlist as hwgen.nn LogicLayers (one per logic level; pass-through gates carry values that are
    read later), ending in GroupSum: runs any netlist, skip connections included, through the torch modules."""
    import torch

    from hwgen.learn.nn import GroupSum, LogicLayer

    levels = net.levels()
    depth = max(1, int(levels.max(initial=0)))
    last_use = levels.copy()  # the deepest level that reads each node
    for g in range(net.num_gates):
        node = net.num_inputs + g
        for src in (net.a[g], net.b[g]):
            last_use[src] = max(last_use[src], levels[node])
    last_use[net.outputs] = depth + 1  # outputs are carried to the end

    position = {i: i for i in range(net.num_inputs)}  # node -> index in the previous layer's output
    layers = []
    for k in range(1, depth + 1):
        final = k == depth
        if final:
            nodes = net.outputs.tolist()
        else:
            nodes = [v for v in range(net.num_nodes) if levels[v] <= k and last_use[v] > k]
        ops_, ia, ib = [], [], []
        for v in nodes:
            g = v - net.num_inputs
            if levels[v] == k:  # computed here
                ops_.append(int(net.ops[g]))
                ia.append(position[int(net.a[g])])
                ib.append(position[int(net.b[g])])
            else:  # carried
                ops_.append(3)
                ia.append(position[v])
                ib.append(position[v])
        layer = LogicLayer(len(position), len(nodes))
        with torch.no_grad():
            layer.weights.copy_(torch.nn.functional.one_hot(torch.tensor(ops_, dtype=torch.long), 16).float() * 10)
            layer.indices.copy_(torch.tensor([ia, ib], dtype=torch.long))
        layers.append(layer)
        position = {v: i for i, v in enumerate(nodes)}
    return torch.nn.Sequential(*layers, GroupSum(net.num_classes, tau=1.0)).eval()


def wrapper_verilog(infos, name: str) -> str:
    """Pipelined cores c<k>_core side by side: one shared input port (each core reads its low bits),
    concatenated out_valid, out_class and out_scores."""
    width = max(info["input_width"] for info in infos)
    total = lambda key: sum(info[key] for info in infos)
    lines = [f"module {name} (input wire clk, input wire rst, input wire in_valid, "
             f"input wire [{width - 1}:0] in_bits, output wire [{len(infos) - 1}:0] out_valid, "
             f"output wire [{total('class_width') - 1}:0] out_class, "
             f"output wire [{total('scores_width') - 1}:0] out_scores);"]
    c_at = s_at = 0
    for k, info in enumerate(infos):
        cw, sw = info["class_width"], info["scores_width"]
        lines.append(f"  c{k}_core u{k} (.clk(clk), .rst(rst), .in_valid(in_valid), "
                     f".{info['input_port']}(in_bits[{info['input_width'] - 1}:0]), .out_valid(out_valid[{k}]), "
                     f".out_class(out_class[{c_at + cw - 1}:{c_at}]), .out_scores(out_scores[{s_at + sw - 1}:{s_at}]));")
        c_at, s_at = c_at + cw, s_at + sw
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


def render_in_chromium(page, tmp_path):
    """Screenshot of the page in headless Chromium; the console lines it logged."""
    shot = tmp_path / "shot.png"
    result = subprocess.run(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                             "--window-size=1200,2000", "--enable-logging=stderr", "--v=0",
                             f"--screenshot={shot}", page.resolve().as_uri()],
                            capture_output=True, text=True, timeout=120)
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    return shot, console


def check_report_page(page, tmp_path):
    import matplotlib.image

    text = page.read_text()
    sources = re.findall(r'<img[^>]* src="([^"]*)"', text)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)  # self-contained
    assert "<link" not in text and "<script" not in text
    shot, console = render_in_chromium(page, tmp_path)
    assert console == []
    image = matplotlib.image.imread(shot)
    assert image.shape[0] > 1000 and image.std() > 0.05  # a rendered page, not a blank one


def reference_cuts(net: Netlist, per_node: int = 12, k: int = 4) -> list:
    """Every node's cuts, enumerated in Python straight from their definition (the C engine's reference):
    the node itself, then the distinct sorted unions of one cut of each input of at most k leaves, fewer
    leaves first and then by the leaves, per_node - 1 of them; tables 16-bit over 4 variables."""
    var0 = sum(1 << a for a in range(16) if a & 1)

    def table_over(table, leaves, into):
        position = [into.index(leaf) for leaf in leaves]
        return sum(((table >> sum(((a >> position[j]) & 1) << j for j in range(len(leaves)))) & 1) << a
                   for a in range(16))

    def gate(op, ta, tb):
        return sum(ops.apply(op, (ta >> a) & 1, (tb >> a) & 1) << a for a in range(16))

    result = [[((i,), var0)] for i in range(net.num_inputs)]
    for g, (op, a, b) in enumerate(zip(net.ops.tolist(), net.a.tolist(), net.b.tolist())):
        found = {}
        for la, ta in result[a]:
            for lb, tb in result[b]:
                leaves = tuple(sorted(set(la) | set(lb)))
                if len(leaves) <= k and leaves not in found:
                    found[leaves] = gate(op, table_over(ta, la, leaves), table_over(tb, lb, leaves))
        kept = sorted(found.items(), key=lambda item: (len(item[0]), item[0]))[:per_node - 1]
        result.append([((net.num_inputs + g,), var0)] + kept)
    return result
