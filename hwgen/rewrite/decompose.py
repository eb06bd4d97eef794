"""LUT nodes into two-input gates: each table by Shannon expansion, f = x ? f1 : f0 on its last input,
a multiplexer of three gates, down to cofactors of two inputs (one gate each) or constants. Cofactors that
repeat are built once (structural hashing), and the cut pass then finds smaller circuits. For the
exporters and passes that take two-input gates only (AIGER, explain's expressions)."""

from .. import ops, tables
from ..builder import Builder, add_node
from ..netlist import Netlist


def lut_gates(builder: Builder, table: int, lits: list) -> int:
    """The literal of a k-input table over `lits`, built from two-input gates."""
    k = len(lits)
    if k <= 2:
        return builder.lut(table, lits)
    f0, f1 = (lut_gates(builder, tables.cofactor(table, k, k - 1, v), lits[:-1]) for v in (0, 1))
    x = lits[-1]
    return builder.gate(ops.OR, builder.gate(ops.AND, x, f1), builder.gate(2, f0, x))  # 2: a AND NOT b


def decompose(net: Netlist) -> Netlist:
    if not net.has_luts:
        return net
    builder = Builder(net.num_inputs, hashing=True)
    lits = [2 * i for i in range(net.num_inputs)]
    for g in range(net.num_gates):
        node = net.node(g)
        lits.append(lut_gates(builder, node[1], [lits[x] for x in node[2]]) if node[0] == "lut"
                    else add_node(builder, net, g, lits))
    return builder.finish([lits[o] for o in net.outputs.tolist()], net.num_classes, net.encoder)
