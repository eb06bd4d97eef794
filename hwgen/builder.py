"""Rebuilding a netlist gate by gate through literals, the machinery the exact passes share.

A literal is 2*node + inverted; the constants are FALSE = -2 and TRUE = -1 (node -1).
`Builder.gate` absorbs inverters into the op (any of the 16 functions is one gate), folds constant and
trivial gates, normalises the output polarity (stored gates have f(0,0) = 0), and with `hashing`
orders the inputs canonically and returns an existing gate for a repeated (op, a, b). `Builder.lut`
does the same for a k-input LUT node: inverted inputs go into its table, constant, repeated and unread
inputs leave it, and one with two inputs or fewer becomes a gate.
"""

from . import ops, tables
from .errors import HwgenError
from .netlist import LUT, Netlist

FALSE, TRUE = -2, -1


def _single_input(values, lit):
    """Literal for a one-input function given (f(0), f(1)) of `lit`."""
    f0, f1 = values
    if f0 == f1:
        return TRUE if f0 else FALSE
    return lit ^ f0  # f = x when (0, 1), NOT x when (1, 0)


class Builder:
    def __init__(self, num_inputs: int, hashing: bool):
        self.num_inputs, self.hashing = num_inputs, hashing
        self.ops, self.a, self.b = [], [], []
        self.luts = {}  # gate index -> (table, input nodes) of a LUT node
        self.table = {}

    def _add(self, op, na, nb):
        self.ops.append(op)
        self.a.append(na)
        self.b.append(nb)
        return self.num_inputs + len(self.ops) - 1

    def _add_lut(self, table: int, nodes: list) -> int:
        self.luts[len(self.ops)] = (table, nodes)
        return self._add(LUT, nodes[0], nodes[min(1, len(nodes) - 1)])

    def lut(self, table: int, lits: list) -> int:
        lits = list(lits)
        for j, lit in enumerate(lits):  # inverted inputs into the table
            if lit >= 0 and lit & 1:
                table, lits[j] = tables.invert_input(table, len(lits), j), lit ^ 1
        j = 0
        while j < len(lits):  # constants, unread inputs, repeated inputs leave
            k, lit = len(lits), lits[j]
            if lit < 0:
                table = tables.cofactor(table, k, j, int(lit == TRUE))
            elif not tables.depends_on(table, k, j):
                table = tables.cofactor(table, k, j, 0)
            elif lit in lits[:j]:
                table = tables.merge_inputs(table, k, lits.index(lit), j)
            else:
                j += 1
                continue
            del lits[j]
        k = len(lits)
        if k == 0:
            return TRUE if table & 1 else FALSE
        if k == 1:
            return _single_input((table & 1, table >> 1 & 1), lits[0])
        if k == 2:
            return self.gate(ops.op_of_table(table), lits[0], lits[1])
        inverted = table & 1
        if inverted:
            table = tables.complement(table, k)
        nodes = [lit >> 1 for lit in lits]
        if not self.hashing:
            return 2 * self._add_lut(table, nodes) + inverted
        order = sorted(range(k), key=nodes.__getitem__)
        table, nodes = tables.permute(table, k, order), [nodes[m] for m in order]
        key = ("lut", table, tuple(nodes))
        node = self.table.get(key)
        if node is None:
            node = self.table[key] = self._add_lut(table, nodes)
        return 2 * node + inverted

    def gate(self, op: int, la: int, lb: int) -> int:
        if la & 1:
            op, la = ops.INVERT_A[op], la ^ 1
        if lb & 1:
            op, lb = ops.INVERT_B[op], lb ^ 1
        na, nb = la >> 1, lb >> 1
        if na < 0 or not ops.DEPENDS_ON_A[op]:  # a is FALSE, or unread: a function of b alone
            return _single_input((ops.apply(op, 0, 0), ops.apply(op, 0, 1)), lb)
        if nb < 0 or not ops.DEPENDS_ON_B[op]:
            return _single_input((ops.apply(op, 0, 0), ops.apply(op, 1, 0)), la)
        if na == nb:
            return _single_input((ops.apply(op, 0, 0), ops.apply(op, 1, 1)), la)
        inverted = ops.apply(op, 0, 0)
        if inverted:
            op = ops.complement(op)
        if not self.hashing:
            return 2 * self._add(op, na, nb) + inverted
        if na > nb:
            op, na, nb = ops.SWAP[op], nb, na
        key = (op, na, nb)
        node = self.table.get(key)
        if node is None:
            node = self.table[key] = self._add(op, na, nb)
        return 2 * node + inverted

    def _flip(self, nodes: set):
        """Complement the stored function of these gate nodes in place, and let every reader take the
        inversion into its own op or table, so that each computes what it did."""
        for k in (node - self.num_inputs for node in nodes):
            if k in self.luts:
                table, inputs = self.luts[k]
                self.luts[k] = (tables.complement(table, len(inputs)), inputs)
            else:
                self.ops[k] = ops.complement(self.ops[k])
        for r in range(len(self.ops)):
            if r in self.luts:
                table, inputs = self.luts[r]
                for j, x in enumerate(inputs):
                    if x in nodes:
                        table = tables.invert_input(table, len(inputs), j)
                self.luts[r] = (table, inputs)
                continue
            if self.a[r] in nodes:
                self.ops[r] = ops.INVERT_A[self.ops[r]]
            if self.b[r] in nodes:
                self.ops[r] = ops.INVERT_B[self.ops[r]]

    def finish(self, output_lits, num_classes: int, encoder=None) -> Netlist:
        """Materialise output literals: a constant gate per constant; a gate that the outputs read only
        inverted is complemented in place (its readers absorb it); for a gate read both ways, its
        complement reading the same inputs (no extra level); for an inverted input, a NOT gate. (Stored
        gates keep f(0, 0) = 0 while the netlist is built; the flipped ones no longer do.)"""
        polarity = {}
        for lit in output_lits:
            if lit >= 0 and lit >> 1 >= self.num_inputs:
                polarity.setdefault(lit >> 1, set()).add(lit & 1)
        flipped = {node for node, wanted in polarity.items() if wanted == {1}}
        if flipped:
            self._flip(flipped)
            output_lits = [lit ^ 1 if lit >= 0 and lit >> 1 in flipped else lit for lit in output_lits]
        extra, outputs = {}, []
        for lit in output_lits:
            if lit >= 0 and not lit & 1:
                outputs.append(lit >> 1)
                continue
            if lit not in extra:
                if lit < 0:
                    extra[lit] = self._add(ops.TRUE if lit == TRUE else ops.FALSE, 0, 0)
                elif lit >> 1 >= self.num_inputs and (lit >> 1) - self.num_inputs in self.luts:
                    table, nodes = self.luts[(lit >> 1) - self.num_inputs]
                    extra[lit] = self._add_lut(tables.complement(table, len(nodes)), nodes)
                elif lit >> 1 >= self.num_inputs:
                    k = (lit >> 1) - self.num_inputs
                    extra[lit] = self._add(ops.complement(self.ops[k]), self.a[k], self.b[k])
                else:
                    extra[lit] = self._add(ops.NOT_A, lit >> 1, lit >> 1)
            outputs.append(extra[lit])
        if not self.luts:
            gates = list(zip(self.ops, self.a, self.b))
            return Netlist.from_gates(self.num_inputs, gates, outputs, num_classes, encoder)
        nodes = [("lut", *self.luts[g]) if g in self.luts else gate
                 for g, gate in enumerate(zip(self.ops, self.a, self.b))]
        return Netlist.from_nodes(self.num_inputs, nodes, outputs, num_classes, encoder)


def add_node(builder: Builder, net: Netlist, g: int, lits: list) -> int:
    """Gate g of `net` through the builder, its inputs the literals `lits` (by node id)."""
    node = net.node(g)
    if node[0] == "lut":
        return builder.lut(node[1], [lits[x] for x in node[2]])
    op, a, b = node
    return builder.gate(op, lits[a], lits[b])


def rebuild(net: Netlist, hashing: bool) -> Netlist:
    builder = Builder(net.num_inputs, hashing)
    lits = [2 * i for i in range(net.num_inputs)]
    if not net.has_luts:
        for op, a, b in zip(net.ops.tolist(), net.a.tolist(), net.b.tolist()):
            lits.append(builder.gate(op, lits[a], lits[b]))
    else:
        for g in range(net.num_gates):
            lits.append(add_node(builder, net, g, lits))
    return builder.finish([lits[o] for o in net.outputs.tolist()], net.num_classes, net.encoder)


def in_dependency_order(definitions: dict, sources, what: str) -> list:
    """Names defined in `definitions` (name -> names it reads), each after what it reads; `sources` are
    given. For imported files, which may list their gates in any order."""
    done, on_path, order = set(sources), set(), []
    for root in definitions:
        stack = [(root, False)]
        while stack:
            name, expanded = stack.pop()
            if expanded:
                on_path.discard(name)
                done.add(name)
                order.append(name)
                continue
            if name in done:
                continue
            if name not in definitions:
                raise HwgenError(f"{what}: signal {name} is read but never defined")
            on_path.add(name)
            stack.append((name, True))
            for dep in definitions[name]:
                if dep in on_path:
                    raise HwgenError(f"{what}: combinational loop through {dep}")
                if dep not in done:
                    stack.append((dep, False))
    return order
