"""BLIF: export (inputs i<k>, outputs o<j> one per position in `outputs`, gates g<k>) and import.

Ports are named by position, so ABC's `cec` matches two netlists of the same interface by name. Each
gate is written with its smallest cover (a wire as `1- 1`, not `10 1` + `11 1`), so that a tool's
structural hashing sees the function, not a sum of minterms; a k-input LUT node is one k-input `.names`.
Import reads combinational BLIF (any number of inputs per `.names`, on-set or off-set covers, in any
order) into two-input gates, or keeps covers of 3 to 6 inputs as LUT nodes.
"""

import itertools

from .. import ops, tables
from ..builder import FALSE, TRUE, Builder, in_dependency_order
from ..errors import HwgenError
from ..netlist import LUT, MAX_LUT_INPUTS, Netlist

# Larger cubes first, so that the first smallest cover found is made of prime implicants (OR = 1- + -1).
_CUBES = sorted((x + y for x in "01-" for y in "01-"), key=lambda cube: -cube.count("-"))


def _minterms(cube):
    return {(a, b) for a in (0, 1) for b in (0, 1) if cube[0] in (str(a), "-") and cube[1] in (str(b), "-")}


def _smallest_cover(op):
    onset = {(a, b) for a in (0, 1) for b in (0, 1) if ops.apply(op, a, b)}
    for size in range(1, 5):
        for cubes in itertools.combinations(_CUBES, size):
            if all(_minterms(c) <= onset for c in cubes) and set().union(*map(_minterms, cubes)) == onset:
                return cubes


COVERS = {op: _smallest_cover(op) for op in range(16) if op not in (ops.FALSE, ops.TRUE)}


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
        if op == LUT:  # a k-input LUT node: its on-set (or off-set, when smaller) as minterms
            _, table, fanin = net.node(g)
            bits = tables.entries(table, len(fanin))
            if len(set(bits)) == 1:  # constant: no fanins, like a constant gate
                out.append(f".names {name[n + g]}" + ("\n1" if bits[0] else ""))
                continue
            value = int(sum(bits) * 2 <= len(bits))
            out.append(".names " + " ".join(name[x] for x in fanin) + f" {name[n + g]}")
            out.extend("".join(str((m >> j) & 1) for j in range(len(fanin))) + f" {value}"
                       for m, bit in enumerate(bits) if bit == value)
            continue
        if op in (ops.FALSE, ops.TRUE):  # a constant has no fanins in BLIF (an empty 2-input cover is rejected)
            out.append(f".names {name[n + g]}" + ("\n1" if op == ops.TRUE else ""))
            continue
        out.append(f".names {name[a]} {name[b]} {name[n + g]}")
        out.extend(f"{cube} 1" for cube in COVERS[op])
    for j, node in enumerate(net.outputs.tolist()):
        out.append(f".names {name[node]} o{j}\n1 1")
    out.append(".end")
    return "\n".join(out) + "\n"


def _logical_lines(text):
    """Lines without comments, with `\\` continuations joined, numbered from 1."""
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].rstrip()
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        if line.strip():
            yield start, line.split()


def _parse(text, where):
    inputs, outputs, covers, current = [], [], {}, None
    for number, words in _logical_lines(text):
        head = words[0]
        if head in (".model", ".end"):
            current = None
        elif head == ".inputs":
            inputs += words[1:]
        elif head == ".outputs":
            outputs += words[1:]
        elif head == ".names":
            if len(words) < 2:
                raise HwgenError(f"{where}:{number}: .names without an output")
            current = covers[words[-1]] = (words[1:-1], [])
        elif head.startswith("."):
            raise HwgenError(f"{where}:{number}: {head} is not supported (only combinational .names logic)")
        elif current is None:
            raise HwgenError(f"{where}:{number}: a cover row outside .names")
        else:
            fanins, rows = current
            cube, value = (words if len(words) == 2 else ("", words[0]))
            if len(cube) != len(fanins) or set(cube) - set("01-") or value not in ("0", "1"):
                raise HwgenError(f"{where}:{number}: bad cover row {' '.join(words)!r} for {len(fanins)} inputs")
            rows.append((cube, value))
    if not outputs:
        raise HwgenError(f"{where}: no .outputs")
    return inputs, outputs, covers


def _sum_of_products(builder, fanin_lits, rows, where, signal):
    values = {value for _, value in rows}
    if len(values) > 1:
        raise HwgenError(f"{where}: the cover of {signal} mixes on-set and off-set rows")
    total = FALSE
    for cube, _ in rows:
        term = TRUE
        for lit, c in zip(fanin_lits, cube):
            if c != "-":
                term = builder.gate(ops.AND, term, lit ^ (c == "0"))
        total = builder.gate(ops.OR, total, term)
    return total ^ (values == {"0"})


def _cover_table(rows, k: int, where: str, signal: str) -> int:
    """The truth table of a k-input cover (on-set or off-set rows)."""
    values = {value for _, value in rows}
    if len(values) > 1:
        raise HwgenError(f"{where}: the cover of {signal} mixes on-set and off-set rows")
    covered = [any(all(c == "-" or int(c) == (m >> j) & 1 for j, c in enumerate(cube)) for cube, _ in rows)
               for m in range(1 << k)]
    return tables.from_entries(c != (values == {"0"}) for c in covered)


def read_blif(text: str, num_classes: int = 1, where: str = "BLIF", luts: bool = False) -> Netlist:
    """luts: a cover of 3 to 6 inputs becomes one LUT node (netlist v2), not two-input gates."""
    inputs, outputs, covers = _parse(text, where)
    builder = Builder(len(inputs), hashing=True)
    lits = {name: 2 * k for k, name in enumerate(inputs)}
    order = in_dependency_order({name: fanins for name, (fanins, _) in covers.items() if name not in lits},
                                inputs, where)
    for name in order:
        fanins, rows = covers[name]
        fanin_lits = [lits[f] for f in fanins]
        if luts and 3 <= len(fanins) <= MAX_LUT_INPUTS:
            lits[name] = builder.lut(_cover_table(rows, len(fanins), where, name), fanin_lits)
        else:
            lits[name] = _sum_of_products(builder, fanin_lits, rows, where, name)
    missing = [o for o in outputs if o not in lits]
    if missing:
        raise HwgenError(f"{where}: output {missing[0]} is never defined")
    net = finish_import(builder, [lits[o] for o in outputs], num_classes, where)
    net.input_names = list(inputs)  # the BLIF's own names, for explain
    return net


def finish_import(builder: Builder, output_lits, num_classes: int, where: str) -> Netlist:
    if num_classes < 1 or len(output_lits) % num_classes:
        raise HwgenError(f"{where}: {len(output_lits)} outputs do not split into {num_classes} classes")
    net = builder.finish(output_lits, num_classes)
    net.validate(where)
    return net
