"""`hwgen explain`: what a netlist computes, in forms a person can read.

- a summary: gates by op, depth, the gates and inputs each class's outputs depend on;
- for inputs that are image pixels, a heat map per class of how often the circuit reads each pixel;
- for a small circuit (or one output's cone): boolean expressions after the exact rewriting passes,
  with every gate that feeds more than one place named once (t1, t2, ...); a graphviz drawing
  (circuit.dot, and circuit.svg where `dot` is installed); a DigitalJS circuit for interactive viewing;
  and the truth table when the cone reads at most 6 inputs.
"""

import dataclasses
import itertools
import math
import shutil
import subprocess
from collections import Counter

import numpy as np

from . import evaluate, ops, rewrite
from .errors import HwgenError
from .files import atomic_path, ensure_dir, write_json, write_text
from .netlist import LUT, Netlist
from .rewrite.dce import dce, reached_nodes

MAX_GATES = 64
MAX_TRUTH_TABLE_INPUTS = 6
# op -> (connective, a inverted, b inverted, output inverted), for the ops that read both inputs
FORMS = {op: form for op, form in enumerate(ops.FORMS) if form[0] in ("&", "|", "^")}
DIGITALJS = {"&": "And", "|": "Or", "^": "Xor"}


def cone(net: Netlist, outputs) -> Netlist:
    """The netlist restricted to some outputs (one class each, so scores are the output bits)."""
    sub = dataclasses.replace(net, outputs=net.outputs[list(outputs)], num_classes=len(outputs))
    return dce(sub)


def _support(net: Netlist) -> list:
    """Per output, the sorted input ids it depends on (structurally)."""
    deps = [{i} for i in range(net.num_inputs)]
    for fanin, reads in zip(net.fanins().tolist(), net.reads().tolist()):
        deps.append(set().union(*(deps[x] for x, r in zip(fanin, reads) if r)))
    return [sorted(deps[o]) for o in net.outputs.tolist()]


def op_names(net: Netlist) -> list:
    """Every gate's kind: its op's name, or LUT<k> for a k-input LUT node."""
    arity = (net.lut_inputs >= 0).sum(axis=1).tolist() if net.has_luts else None
    return [f"LUT{arity[g]}" if op == LUT else ops.NAMES[op] for g, op in enumerate(net.ops.tolist())]


def _cone_gates(net: Netlist, outputs) -> np.ndarray:
    """Bool mask over nodes: those the given output positions reach."""
    return reached_nodes(net, net.outputs[list(outputs)])


def summary(net: Netlist) -> dict:
    m = net.outputs_per_class
    per_class = [_cone_gates(net, range(c * m, (c + 1) * m)) for c in range(net.num_classes)]
    used = np.any(per_class, axis=0)[:net.num_inputs] if per_class else np.zeros(net.num_inputs, bool)
    return {
        "gates": net.num_gates, "depth": net.depth(), "inputs": net.num_inputs, "inputs_used": int(used.sum()),
        "outputs": len(net.outputs), "classes": net.num_classes,
        "gates_by_op": dict(sorted(Counter(op_names(net)).items(), key=lambda kv: -kv[1])),
        "gates_per_class": [int(live[net.num_inputs:].sum()) for live in per_class],
        "inputs_used_per_class": [int(live[:net.num_inputs].sum()) for live in per_class],
    }


def image_shape_of(net: Netlist, given=None, guess: bool = True):
    """(height, width) of the pixels behind the input bits: given, or (guess) a square number of features."""
    features = net.encoder.shape[0] if net.encoder is not None else net.num_inputs
    if given:
        h, w = given
        if h * w != features:
            raise HwgenError(f"--image {h}x{w} does not match the {features} input features")
        return h, w
    side = math.isqrt(features)
    return (side, side) if guess and side * side == features and side > 2 else None


def pixel_names(net: Netlist, image_shape) -> list:
    """p[row,col] per input bit, with the encoder's threshold when a pixel has several bits."""
    h, w = image_shape
    per_pixel = net.num_inputs // (h * w)
    names = []
    for i in range(net.num_inputs):
        pixel, k = divmod(i, per_pixel)
        name = f"p[{pixel // w},{pixel % w}]"
        if net.encoder is not None and per_pixel > 1:
            name += f">={net.encoder[pixel][k]}"
        names.append(name)
    return names


def pixel_reads(net: Netlist, image_shape) -> np.ndarray:
    """(classes, h, w): per class, how many of its gates' inputs come from each pixel's bits."""
    h, w = image_shape
    bits_per_pixel = net.num_inputs // (h * w)
    m = net.outputs_per_class
    maps = np.zeros((net.num_classes, h * w))
    fanins = net.fanins()
    for c in range(net.num_classes):
        live = _cone_gates(net, range(c * m, (c + 1) * m))[net.num_inputs:]
        src = fanins[live]
        src = src[(src >= 0) & (src < net.num_inputs)]
        np.add.at(maps[c], src // bits_per_pixel, 1)
    return maps.reshape(net.num_classes, h, w)


def heatmap_png(maps: np.ndarray, path, class_names=None):
    from .report_html import pyplot

    plt = pyplot()
    cols = min(5, len(maps))
    rows = -(-len(maps) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.2 * cols, 2.3 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for c, (ax, image) in enumerate(zip(axes.flat, maps)):
        ax.imshow(image, cmap="magma", interpolation="nearest")
        ax.set_title(class_names[c] if class_names else f"class {c}", fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)


class _Expr:
    """An expression tree node: an atom (name), a negation, or a connective over parts."""

    def __init__(self, kind, parts=(), text=""):
        self.kind, self.parts, self.text = kind, list(parts), text

    def negated(self):
        if self.kind == "not":
            return self.parts[0]
        if self.kind == "const":
            return _Expr("const", text="1" if self.text == "0" else "0")
        return _Expr("not", [self])

    def render(self) -> str:
        if self.kind in ("atom", "const"):
            return self.text
        if self.kind == "not":
            inner = self.parts[0]
            return "~" + (inner.render() if inner.kind in ("atom", "const") else f"({inner.render()})")
        rendered = []
        for p in self.parts:
            flat = p.kind in ("atom", "const", "not") or p.kind == self.kind
            rendered.append(p.render() if flat else f"({p.render()})")
        return f" {self.kind} ".join(rendered)


def expressions(net: Netlist, input_names, output_names) -> list:
    """Lines `name = expression`: shared gates first (t1, t2, ... in order), then one per output."""
    fanout = Counter(net.a.tolist() + net.b.tolist() + net.outputs.tolist())
    exprs = [_Expr("atom", text=name) for name in input_names]
    lines, shared = [], 0
    for g, (op, a, b) in enumerate(zip(net.ops.tolist(), net.a.tolist(), net.b.tolist())):
        node = net.num_inputs + g
        if op in (ops.FALSE, ops.TRUE):
            e = _Expr("const", text=str(int(op == ops.TRUE)))
        elif op in (ops.A, ops.NOT_A):
            e = exprs[a] if op == ops.A else exprs[a].negated()
        elif op in (ops.B, 10):
            e = exprs[b] if op == ops.B else exprs[b].negated()
        else:
            conn, na, nb, nout = FORMS[op]
            ea, eb = (exprs[a].negated() if na else exprs[a]), (exprs[b].negated() if nb else exprs[b])
            parts = [p for e_ in (ea, eb) for p in (e_.parts if e_.kind == conn else [e_])]
            e = _Expr(conn, parts)
            e = e.negated() if nout else e
        if fanout[node] > 1 and e.kind not in ("atom", "const"):
            shared += 1
            lines.append(f"t{shared} = {e.render()}")
            e = _Expr("atom", text=f"t{shared}")
        exprs.append(e)
    lines += [f"{name} = {exprs[o].render()}" for name, o in zip(output_names, net.outputs.tolist())]
    return lines


def truth_table(net: Netlist, input_names, output_names) -> str | None:
    support = sorted(set().union(*map(set, _support(net)))) if len(net.outputs) else []
    if len(support) > MAX_TRUTH_TABLE_INPUTS:
        return None
    rows = np.array(list(itertools.product([0, 1], repeat=len(support))), dtype=bool).reshape(2 ** len(support), -1)
    bits = np.zeros((len(rows), net.num_inputs), dtype=bool)
    bits[:, support] = rows
    out = evaluate.output_bits(net, bits)
    header = [input_names[i] for i in support] + list(output_names)
    lines = [" ".join(header), " ".join("-" * len(h) for h in header)]
    for r, o in zip(rows, out):
        cells = [str(int(v)) for v in list(r) + list(o)]
        lines.append(" ".join(c.rjust(len(h)) for c, h in zip(cells, header)))
    return "\n".join(lines)


def to_dot(net: Netlist, input_names, output_names) -> str:
    live = _cone_gates(net, range(len(net.outputs)))
    out = ["digraph circuit {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=11];']
    for i in range(net.num_inputs):
        if live[i]:
            out.append(f'  n{i} [shape=box, label="{input_names[i]}"];')
    for g, (op, a, b) in enumerate(zip(net.ops.tolist(), net.a.tolist(), net.b.tolist())):
        node = net.num_inputs + g
        out.append(f'  n{node} [shape=ellipse, label="{ops.NAMES[op]}"];')
        if ops.DEPENDS_ON_A[op]:
            out.append(f"  n{a} -> n{node};")
        if ops.DEPENDS_ON_B[op] and (b != a or not ops.DEPENDS_ON_A[op]):
            out.append(f'  n{b} -> n{node} [style=dashed];')
    for j, (name, node) in enumerate(zip(output_names, net.outputs.tolist())):
        out.append(f'  o{j} [shape=doubleoctagon, label="{name}"];')
        out.append(f"  n{node} -> o{j};")
    out.append("}")
    return "\n".join(out) + "\n"


def to_digitaljs(net: Netlist, input_names, output_names) -> dict:
    """A DigitalJS circuit (devices and connectors); inverted gate inputs become Not devices."""
    devices, connectors = {}, []
    port_of = {}

    def connect(source, device, port):
        connectors.append({"from": {"id": source, "port": "out"}, "to": {"id": device, "port": port}})

    def inverted(source):
        device = f"not_{source}"
        if device not in devices:
            devices[device] = {"type": "Not", "bits": 1}
            connect(source, device, "in")
        return device

    live = _cone_gates(net, range(len(net.outputs)))
    for i in range(net.num_inputs):
        if live[i]:
            devices[f"in{i}"] = {"type": "Input", "net": input_names[i], "order": i, "bits": 1}
            port_of[i] = f"in{i}"
    for g, (op, a, b) in enumerate(zip(net.ops.tolist(), net.a.tolist(), net.b.tolist())):
        node, device = net.num_inputs + g, f"g{g}"
        if op in (ops.FALSE, ops.TRUE):
            devices[device] = {"type": "Constant", "constant": str(int(op == ops.TRUE))}
        elif op in (ops.A, ops.NOT_A, ops.B, 10):
            source = port_of[a if op in (ops.A, ops.NOT_A) else b]
            devices[device] = {"type": "Not" if op in (ops.NOT_A, 10) else "Repeater", "bits": 1}
            connect(source, device, "in")
        else:
            conn, na, nb, nout = FORMS[op]
            devices[device] = {"type": ("Xnor" if nout else DIGITALJS[conn]), "bits": 1, "label": ops.NAMES[op]}
            connect(inverted(port_of[a]) if na else port_of[a], device, "in1")
            connect(inverted(port_of[b]) if nb else port_of[b], device, "in2")
        port_of[node] = device
    for j, (name, node) in enumerate(zip(output_names, net.outputs.tolist())):
        devices[f"out{j}"] = {"type": "Output", "net": name, "order": net.num_inputs + j, "bits": 1}
        connect(port_of[node], f"out{j}", "in")
    return {"devices": devices, "connectors": connectors, "subcircuits": {}}


def explain(net: Netlist, out_dir=None, outputs=None, image_shape=None, input_names=None, output_names=None,
            class_names=None, guess_image: bool = True, log=print) -> dict:
    """Summary always; readable forms for a small circuit or the chosen outputs' cone. Writes into out_dir.
    Without image_shape, a square number of input features is taken for an image when guess_image."""
    info = {"summary": summary(net)}
    out = ensure_dir(out_dir) if out_dir else None
    shape = image_shape_of(net, image_shape, guess_image)
    if input_names is None:
        input_names = pixel_names(net, shape) if shape else [f"x{i}" for i in range(net.num_inputs)]
    if shape and out:
        heatmap_png(pixel_reads(net, shape), out / "heatmap.png", class_names)
        info["heatmap"] = "heatmap.png"
    chosen = list(range(len(net.outputs))) if outputs is None else list(outputs)
    if any(not 0 <= j < len(net.outputs) for j in chosen):
        raise HwgenError(f"output positions must be in 0..{len(net.outputs) - 1}")
    # LUT nodes are read as the two-input gates they decompose into
    small, _ = rewrite.run(cone(net, chosen), ["decompose"] + rewrite.DEFAULT_PIPELINE)
    names = output_names or [f"out{j}" for j in chosen]
    info["cone_gates"] = small.num_gates
    if small.num_gates > MAX_GATES:
        info["note"] = (f"{small.num_gates} gates after simplification: too many to read; "
                        f"choose outputs (--output) whose cone has at most {MAX_GATES}")
        if out:
            write_json(out / "explain.json", info)
        return info
    info["expressions"] = expressions(small, input_names, names)
    table = truth_table(small, input_names, names)
    if table:
        info["truth_table"] = table
    if out:
        dot = to_dot(small, input_names, names)
        write_text(out / "circuit.dot", dot)
        write_json(out / "circuit.digitaljs.json", to_digitaljs(small, input_names, names))
        info["files"] = ["circuit.dot", "circuit.digitaljs.json"]
        if shutil.which("dot"):
            svg = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True)
            if svg.returncode == 0:
                write_text(out / "circuit.svg", svg.stdout)
                info["files"].append("circuit.svg")
        else:
            log("note: graphviz's dot is not installed, so circuit.svg is not drawn (apt install graphviz)")
        if table:
            write_text(out / "truth_table.txt", table + "\n")
        write_json(out / "explain.json", info)
    return info


def format_summary(info: dict) -> str:
    s = info["summary"]
    lines = [f"{s['gates']} gates, depth {s['depth']}, {s['inputs_used']} of {s['inputs']} inputs used, "
             f"{s['outputs']} outputs in {s['classes']} classes",
             "gates by op: " + ", ".join(f"{k} {v}" for k, v in s["gates_by_op"].items()),
             "gates per class: " + ", ".join(map(str, s["gates_per_class"]))]
    if "expressions" in info:
        lines += ["", f"after simplification ({info['cone_gates']} gates):"] + info["expressions"]
    elif "note" in info:
        lines += ["", info["note"]]
    if "truth_table" in info:
        lines += ["", info["truth_table"]]
    return "\n".join(lines)
