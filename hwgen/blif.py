"""BLIF export: inputs i<k>, outputs o<j> (one per position in `outputs`), gates g<k>.

Ports are named by position, so ABC's `cec` matches two netlists of the same interface by name.
"""

from . import ops
from .netlist import Netlist


def _names_line(names, per_line=16):
    chunks = [" ".join(names[i:i + per_line]) for i in range(0, len(names), per_line)]
    return " \\\n  ".join(chunks)


def to_blif(net: Netlist, model: str = "hwgen") -> str:
    n = net.num_inputs
    name = [f"i{k}" for k in range(n)] + [f"g{k}" for k in range(net.num_gates)]
    out = [f".model {model}",
           ".inputs " + _names_line(name[:n]),
           ".outputs " + _names_line([f"o{j}" for j in range(len(net.outputs))])]
    for g, (op, a, b) in enumerate(zip(net.ops.tolist(), net.a.tolist(), net.b.tolist())):
        if op in (ops.FALSE, ops.TRUE):  # a constant has no fanins in BLIF (an empty 2-input cover is rejected)
            out.append(f".names {name[n + g]}" + ("\n1" if op == ops.TRUE else ""))
            continue
        out.append(f".names {name[a]} {name[b]} {name[n + g]}")
        out.extend(f"{x}{y} 1" for x in (0, 1) for y in (0, 1) if ops.apply(op, x, y))
    for j, node in enumerate(net.outputs.tolist()):
        out.append(f".names {name[node]} o{j}\n1 1")
    out.append(".end")
    return "\n".join(out) + "\n"
