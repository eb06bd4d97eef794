"""AIGER (https://fmv.jku.at/aiger/): export as binary `aig`, import `aig` and ASCII `aag`.

An AIG has only AND gates and inverted edges, so an export spells each gate in ANDs: the AND family
(one or three 1s in the truth table) is one AND with inverted edges, XOR and XNOR are three. Inputs and
outputs keep their order. An import becomes a netlist v1 whose gates absorb the inverters.
"""

from .. import ops
from ..builder import FALSE, Builder, in_dependency_order
from ..errors import HwgenError
from ..netlist import Netlist
from .blif import finish_import


class _AigWriter:
    def __init__(self, num_inputs):
        self.next_var, self.ands = num_inputs + 1, []

    def AND(self, x, y):
        if x < y:
            x, y = y, x
        lhs = 2 * self.next_var
        self.next_var += 1
        self.ands.append((lhs, x, y))
        return lhs

    def gate(self, op, x, y):
        """Literal of op(x, y) (x, y: AIGER literals)."""
        ones = [(a, b) for a in (0, 1) for b in (0, 1) if ops.apply(op, a, b)]
        if op == ops.FALSE:
            return 0
        if op == ops.TRUE:
            return 1
        if not ops.DEPENDS_ON_B[op]:
            return x ^ ops.apply(op, 0, 0)  # A or NOT A
        if not ops.DEPENDS_ON_A[op]:
            return y ^ ops.apply(op, 0, 0)  # B or NOT B
        if op in (ops.XOR, ops.XNOR):  # x XOR y = NOT(NOT(x AND NOT y) AND NOT(NOT x AND y))
            xor = self.AND(self.AND(x, y ^ 1) ^ 1, self.AND(x ^ 1, y) ^ 1) ^ 1
            return xor ^ (op == ops.XNOR)
        if len(ones) == 1:  # a minterm: AND of the inputs at the polarity it needs
            (a, b), = ones
            return self.AND(x ^ (1 - a), y ^ (1 - b))
        (a, b), = [(a, b) for a in (0, 1) for b in (0, 1) if not ops.apply(op, a, b)]
        return self.AND(x ^ (1 - a), y ^ (1 - b)) ^ 1  # the complement of the one zero's minterm


def _number(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def to_aiger(net: Netlist) -> bytes:
    """Binary AIGER; LUT nodes go in as the two-input gates they decompose into."""
    from ..rewrite.decompose import decompose

    net = decompose(net)
    writer = _AigWriter(net.num_inputs)
    lits = [2 * (k + 1) for k in range(net.num_inputs)]
    for op, a, b in zip(net.ops.tolist(), net.a.tolist(), net.b.tolist()):
        lits.append(writer.gate(op, lits[a], lits[b]))
    outputs = [lits[o] for o in net.outputs.tolist()]
    i, num_ands = net.num_inputs, len(writer.ands)
    head = f"aig {i + num_ands} {i} 0 {len(outputs)} {num_ands}\n" + "".join(f"{o}\n" for o in outputs)
    body = b"".join(_number(lhs - x) + _number(x - y) for lhs, x, y in writer.ands)
    # Symbols named as in the BLIF export, so that ABC's cec pairs ports across the two formats.
    symbols = "".join(f"i{k} i{k}\n" for k in range(i)) + "".join(f"o{j} o{j}\n" for j in range(len(outputs)))
    return head.encode() + body + symbols.encode()


def _header(line: str, where: str):
    words = line.split()
    if not words or words[0] not in ("aag", "aig") or len(words) < 6 or not all(w.isdigit() for w in words[1:]):
        raise HwgenError(f"{where}: not an AIGER file (the header must be 'aag|aig M I L O A')")
    m, i, latches, o, a, *extra = map(int, words[1:])
    if latches or any(extra):
        raise HwgenError(f"{where}: latches and AIGER 1.9 properties are not supported (combinational only)")
    return words[0], m, i, o, a


def _read_binary_ands(data: bytes, pos: int, first_lhs: int, count: int, where: str):
    ands = []
    for k in range(count):
        deltas = []
        for _ in range(2):
            value, shift = 0, 0
            while True:
                if pos >= len(data):
                    raise HwgenError(f"{where}: the AND section ends early (gate {k} of {count})")
                byte = data[pos]
                pos += 1
                value |= (byte & 0x7F) << shift
                shift += 7
                if byte < 0x80:
                    break
            deltas.append(value)
        lhs = first_lhs + 2 * k
        x = lhs - deltas[0]
        ands.append((lhs, x, x - deltas[1]))
    return ands


def read_aiger(data: bytes, num_classes: int = 1, where: str = "AIGER") -> Netlist:
    end = data.find(b"\n")
    kind, m, i, o, a = _header(data[:end].decode(errors="replace"), where)
    pos = end + 1
    lines, ands = [], []
    count = (i if kind == "aag" else 0) + o + (a if kind == "aag" else 0)
    for _ in range(count):
        end = data.find(b"\n", pos)
        if end < 0:
            raise HwgenError(f"{where}: the file ends before its {count} header-declared lines")
        lines.append(data[pos:end].decode(errors="replace").split())
        pos = end + 1
    expected = [1] * (i + o) + [3] * a if kind == "aag" else [1] * o
    if any(len(w) != n or not all(v.isdigit() for v in w) for w, n in zip(lines, expected)):
        raise HwgenError(f"{where}: a malformed input, output or AND line")
    numbers = [[int(v) for v in w] for w in lines]
    if kind == "aag":
        input_lits = [w[0] for w in numbers[:i]]
        output_lits = [w[0] for w in numbers[i:i + o]]
        ands = [tuple(w) for w in numbers[i + o:]]
    else:
        input_lits = [2 * (k + 1) for k in range(i)]
        output_lits = [w[0] for w in numbers]
        ands = _read_binary_ands(data, pos, 2 * (i + 1), a, where)
    if any(lit & 1 or lit == 0 for lit in input_lits + [lhs for lhs, _, _ in ands]):
        raise HwgenError(f"{where}: an input or AND output is an inverted or constant literal")
    builder = Builder(i, hashing=True)
    base = {0: FALSE}
    base.update({lit >> 1: 2 * k for k, lit in enumerate(input_lits)})
    and_of = {lhs >> 1: (x, y) for lhs, x, y in ands}

    def literal(lit):
        return base[lit >> 1] ^ (lit & 1)

    for var in in_dependency_order({v: (x >> 1, y >> 1) for v, (x, y) in and_of.items()}, base, where):
        x, y = and_of[var]
        base[var] = builder.gate(ops.AND, literal(x), literal(y))
    if any(lit >> 1 > m or lit >> 1 not in base for lit in output_lits):
        raise HwgenError(f"{where}: an output reads an undefined literal")
    return finish_import(builder, [literal(lit) for lit in output_lits], num_classes, where)
