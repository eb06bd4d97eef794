"""`hwgen explain`: what a netlist computes, in forms a person can read (docs/explain-format.md).

- a summary: gates by op, depth, the gates and inputs each class's outputs depend on;
- per output, exactly: the inputs it is symmetric in and the counts of ones for which it is 1
  (symmetry.py), and the named functions (adders, majorities, comparators, ...) found over its cuts and
  the sub-circuits reused across it (functions.py);
- for inputs that are image pixels, a heat map per class of how often the circuit reads each pixel, and,
  given data, exact evidence maps: where in the image each class's outputs are switched (evidence.py);
- for a small circuit (or one output's cone): boolean expressions after the exact rewriting passes,
  with every gate that feeds more than one place named once (t1, t2, ...); a graphviz drawing
  (circuit.dot, and circuit.svg where `dot` is installed); a DigitalJS circuit for interactive viewing;
  and the truth table when the cone reads at most MAX_TRUTH_TABLE_INPUTS inputs.
"""

import dataclasses
import itertools
import math
import shutil
import subprocess
from collections import Counter

import numpy as np

from .. import encoding, ops, rewrite
from ..errors import HwgenError
from ..files import atomic_path, ensure_dir, write_json, write_npy, write_text
from ..golden import evaluate
from ..netlist import LUT, Netlist
from ..rewrite.dce import dce
from . import evidence, functions, symmetry

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
    return net.reached(net.outputs[list(outputs)])


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


def feature_names(net: Netlist) -> list:
    """Per input bit, what it tests: "f3>=12" (feature 3 at least its threshold 12) with an encoder, else
    "x7" for input bit 7."""
    if net.encoder is None:
        return [f"x{i}" for i in range(net.num_inputs)]
    return encoding.bit_names(net.encoder)


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


def panels_png(maps: np.ndarray, path, class_names=None, diverging: bool = False, label: str = ""):
    """One panel per class; diverging: blue for, red against, on one scale symmetric about 0 (its end at the
    99.5th percentile of the magnitudes, beyond which colours saturate)."""
    from ..flow.report_html import pyplot

    plt = pyplot()
    cols = min(5, len(maps))
    rows = -(-len(maps) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.2 * cols, 2.3 * rows + (0.5 if label else 0)), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    scale = float(np.percentile(np.abs(maps), 99.5)) or float(np.abs(maps).max()) or 1.0  # a few pixels would wash out the rest
    style = {"cmap": "RdBu", "vmin": -scale, "vmax": scale} if diverging else {"cmap": "magma"}
    image = None
    for c, (ax, panel) in enumerate(zip(axes.flat, maps)):
        image = ax.imshow(panel, interpolation="nearest", **style)
        ax.set_title(class_names[c] if class_names else f"class {c}", fontsize=9)
    if label and image is not None:
        fig.colorbar(image, ax=list(axes.flat), shrink=0.6, label=label)
    else:
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
        elif op in (ops.B, ops.NOT_B):
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
        elif op in (ops.A, ops.NOT_A, ops.B, ops.NOT_B):
            source = port_of[a if op in (ops.A, ops.NOT_A) else b]
            devices[device] = {"type": "Not" if op in (ops.NOT_A, ops.NOT_B) else "Repeater", "bits": 1}
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


def node_names(net: Netlist, input_names) -> list:
    """Inputs by their names, gates as n<id>."""
    return list(input_names) + [f"n{v}" for v in range(net.num_inputs, net.num_nodes)]


def named_expressions(net: Netlist, named: dict, input_names, output_names) -> list:
    """Lines `name = expression` in which each gate with a named function of 3 or more leaves is written
    as that function (e.g. MAJ3(a, ~b, c)); values used more than once are named t1, t2, ..."""
    fanins = {v: (named[v][1] if v in named and len(named[v][1]) >= 3 else
                  tuple({int(net.a[v - net.num_inputs]), int(net.b[v - net.num_inputs])}))
              for v in range(net.num_inputs, net.num_nodes)}
    uses, stack, seen = Counter(net.outputs.tolist()), list(set(net.outputs.tolist())), set()
    while stack:  # the cover: the gates the outputs' expressions are made of
        v = stack.pop()
        if v in seen or v < net.num_inputs:
            continue
        seen.add(v)
        for x in fanins[v]:
            uses[x] += 1
            stack.append(x)
    text, lines = list(input_names) + [""] * net.num_gates, []
    for v in sorted(seen):
        g = v - net.num_inputs
        if v in named and len(named[v][1]) >= 3:
            name, leaves, table = named[v]
            expr = functions.call(name, table, [text[x] for x in leaves])
        else:
            op = int(net.ops[g])
            expr = ops.spell(op, functions.operand(text[int(net.a[g])]), functions.operand(text[int(net.b[g])]), "0", "1")
        if uses[v] > 1:
            lines.append(f"t{len(lines) + 1} = {expr}")
            expr = f"t{len(lines)}"
        text[v] = expr
    return lines + [f"{name} = {text[o]}" for name, o in zip(output_names, net.outputs.tolist())]


def output_records(net: Netlist, flat: Netlist, named: dict, input_names) -> list:
    """Per output: its cone's gates, the inputs it reads, its symmetry and counting (exact), and the named
    functions in its cone."""
    records = []
    supports = _support(net)
    for j in range(len(net.outputs)):
        record = {"output": j, "class": j // net.outputs_per_class}
        live = flat.reached(flat.outputs[[j]])
        record["gates"] = int(live[flat.num_inputs:].sum())
        record.update(symmetry.analyse(net, j, supports[j], input_names))
        counts = Counter(named[v][0] for v in np.flatnonzero(live).tolist() if v in named)
        record["functions"] = [{"name": k, "count": c} for k, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        records.append(record)
    return records


def function_names(all_named: dict, named: dict, names: list) -> dict:
    """Named functions over the whole netlist: how often each occurs, where (first nodes), and adders."""
    where = {}
    for v, (name, leaves, _) in sorted(named.items()):
        where.setdefault(name, []).append(v)
    found = {name: {"count": len(nodes), "meaning": functions.DESCRIPTIONS[name],
                    "at": [names[v] for v in nodes[:10]]}
             for name, nodes in sorted(where.items(), key=lambda kv: (-len(kv[1]), kv[0]))}
    adders = functions.adders(all_named)
    return {"by_name": found, **{kind: [{"leaves": [names[x] for x in a["leaves"]], "sum": names[a["sum"]],
                                          "carry": names[a["carry"]]} for a in found_list]
                                 for kind, found_list in adders.items()}}


def explain(net: Netlist, out_dir=None, outputs=None, image_shape=None, input_names=None, output_names=None,
            class_names=None, guess_image: bool = True, log=print, data_bits=None) -> dict:
    """Summary always; per output its symmetry, counting and named functions; named functions and reused
    blocks over the whole circuit; readable forms for a small circuit or the chosen outputs' cone; with
    data_bits (input bits of samples), exact evidence maps. Writes into out_dir. Without image_shape, a
    square number of input features is taken for an image when guess_image."""
    info = {"format": "hwgen-explain", "version": 1, "summary": summary(net)}
    out = ensure_dir(out_dir) if out_dir else None
    shape = image_shape_of(net, image_shape, guess_image)
    if input_names is None:
        input_names = net.input_names or (pixel_names(net, shape) if shape else feature_names(net))
    chosen = list(range(len(net.outputs))) if outputs is None else list(outputs)
    if any(not 0 <= j < len(net.outputs) for j in chosen):
        raise HwgenError(f"output positions must be in 0..{len(net.outputs) - 1}")
    # LUT nodes are read as the two-input gates they decompose into
    flat = rewrite.run(net, ["decompose"])[0] if net.has_luts else net
    node_cuts = functions.cuts(flat)
    all_named = functions.named_cuts(flat, node_cuts)
    named = functions.best_names(all_named)
    names = node_names(flat, input_names)
    info["outputs"] = output_records(net, flat, named, input_names)
    info["functions"] = function_names(all_named, named, names)
    info["blocks"] = [dict(b, at=[names[v] for v in b["at"]]) for b in functions.blocks(flat, node_cuts)]
    if shape and out:
        panels_png(pixel_reads(net, shape), out / "heatmap.png", class_names)
        info["heatmap"] = "heatmap.png"
    if data_bits is not None:
        maps = evidence.evidence(net, data_bits)
        info["evidence"] = {"samples": len(data_bits), "file": "evidence.npy"}
        if out:
            write_npy(out / "evidence.npy", maps)
            if shape:
                panels_png(evidence.per_pixel(maps, shape), out / "evidence.png", class_names, diverging=True,
                           label="mean score change when the pixel is on")
                info["evidence"]["picture"] = "evidence.png"
    small, _ = rewrite.run(cone(flat, chosen), rewrite.DEFAULT_PASSES)
    names_out = output_names or [f"out{j}" for j in chosen]
    info["cone_gates"] = small.num_gates
    if small.num_gates > MAX_GATES:
        info["note"] = (f"{small.num_gates} gates after simplification: too many to read; "
                        f"choose outputs (--output) whose cone has at most {MAX_GATES}")
        if out:
            write_json(out / "explain.json", info)
        return info
    info["expressions"] = expressions(small, input_names, names_out)
    info["named_expressions"] = named_expressions(small, functions.best_names(functions.named_cuts(small)),
                                                  input_names, names_out)
    table = truth_table(small, input_names, names_out)
    if table:
        info["truth_table"] = table
    if out:
        dot = to_dot(small, input_names, names_out)
        write_text(out / "circuit.dot", dot)
        write_json(out / "circuit.digitaljs.json", to_digitaljs(small, input_names, names_out))
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


MAX_PRINTED_OUTPUTS = 10
MAX_PRINTED_CASES = 4  # of ones_when, per output


def output_line(record: dict, name: str) -> str:
    """One output's symmetry and counting, in words."""
    if "constant" in record:
        return f"{name}: constant {record['constant']}"
    line = f"{name}: {record['gates']} gates, reads {len(record['inputs'])} inputs"
    if record.get("symmetric_in"):
        sym = record["symmetric_in"]
        line += f"; symmetric in {len(sym)}: {', '.join(sym)}"
        cases = record.get("ones_when", {})
        if 0 < len(cases) <= MAX_PRINTED_CASES:
            line += "; 1 when " + "; ".join(f"{key or 'always'}: count in {{{', '.join(map(str, counts))}}}"
                                           if counts else f"{key or 'always'}: never" for key, counts in cases.items())
        elif cases:
            line += f"; when it is 1: {len(cases)} cases of the others in explain.json"
    if "note" in record:
        line += f" ({record['note']})"
    return line


def format_summary(info: dict, output_names=None) -> str:
    s = info["summary"]
    lines = [f"{s['gates']} gates, depth {s['depth']}, {s['inputs_used']} of {s['inputs']} inputs used, "
             f"{s['outputs']} outputs in {s['classes']} classes",
             "gates by op: " + ", ".join(f"{k} {v}" for k, v in s["gates_by_op"].items()),
             "gates per class: " + ", ".join(map(str, s["gates_per_class"]))]
    records = info.get("outputs", [])
    if records:
        symmetric = sum(bool(r.get("symmetric_in")) for r in records)
        noted = sum("note" in r for r in records)
        lines += ["", f"outputs symmetric in 2 or more inputs: {symmetric} of {len(records)}"
                  + (f" ({noted} analysed only in part: see their notes)" if noted else "")]
        names = output_names or [f"out{r['output']}" for r in records]
        lines += [output_line(r, n) for r, n in zip(records[:MAX_PRINTED_OUTPUTS], names)]
        if len(records) > MAX_PRINTED_OUTPUTS:
            lines.append(f"... {len(records) - MAX_PRINTED_OUTPUTS} more outputs in explain.json")
    if "functions" in info:
        f = info["functions"]
        lines += ["", "named functions (the largest named cut of each gate): "
                  + ", ".join(f"{k} {v['count']}" for k, v in f["by_name"].items()),
                  f"full adders: {len(f['full_adders'])}, half adders: {len(f['half_adders'])}"]
    if info.get("blocks"):
        lines.append("reused blocks (same function up to renaming the inputs): " + ", ".join(
            f"{b['instances']} x {b['name'] or b['function']} ({b['gates']} gates, {b['leaves']} leaves)"
            for b in info["blocks"][:8]))
    if "expressions" in info:
        lines += ["", f"after simplification ({info['cone_gates']} gates):"] + info["expressions"]
        if info.get("named_expressions") != info["expressions"]:
            lines += ["", "with named functions:"] + info["named_expressions"]
    elif "note" in info:
        lines += ["", info["note"]]
    if "truth_table" in info:
        lines += ["", info["truth_table"]]
    return "\n".join(lines)
