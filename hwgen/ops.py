"""The 16 two-input boolean functions, in difflogic's order (the netlist contract's).

An op is its 4-bit truth table: f(a, b) = (op >> (3 - 2*a - b)) & 1. Every spelling of an op (the C
evaluation kernel, both Verilog backends, explain's expressions) is made from FORMS here.
"""

NAMES = [
    "FALSE", "AND", "A_AND_NOT_B", "A", "NOT_A_AND_B", "B", "XOR", "OR",
    "NOR", "XNOR", "NOT_B", "A_OR_NOT_B", "NOT_A", "NOT_A_OR_B", "NAND", "TRUE",
]

(FALSE, AND, A_AND_NOT_B, A, NOT_A_AND_B, B, XOR, OR,
 NOR, XNOR, NOT_B, A_OR_NOT_B, NOT_A, NOT_A_OR_B, NAND, TRUE) = range(16)


def complement(op: int) -> int:
    """The op whose output is op's inverted: its truth table's bits flipped (AND <-> NAND, A <-> NOT_A)."""
    return TRUE - op


def apply(op: int, a: int, b: int) -> int:
    """f(a, b) for single bits."""
    return (op >> (3 - 2 * a - b)) & 1


def from_function(f) -> int:
    """The op whose truth table is f(a, b) for a, b in {0, 1}."""
    return sum(f(a, b) << (3 - 2 * a - b) for a in (0, 1) for b in (0, 1))


def multilinear(op: int):
    """(c0, c1, c2, c3) with f(a, b) = c0 + c1*a + c2*b + c3*a*b, exact for bits and the relaxation for reals."""
    f00, f01, f10, f11 = apply(op, 0, 0), apply(op, 0, 1), apply(op, 1, 0), apply(op, 1, 1)
    return (f00, f10 - f00, f01 - f00, f11 - f10 - f01 + f00)


# Tables used by the rewriting passes: the op seen after inverting or swapping its inputs.
INVERT_A = [from_function(lambda a, b, op=op: apply(op, 1 - a, b)) for op in range(16)]
INVERT_B = [from_function(lambda a, b, op=op: apply(op, a, 1 - b)) for op in range(16)]
SWAP = [from_function(lambda a, b, op=op: apply(op, b, a)) for op in range(16)]
DEPENDS_ON_A = [any(apply(op, 0, b) != apply(op, 1, b) for b in (0, 1)) for op in range(16)]
DEPENDS_ON_B = [any(apply(op, a, 0) != apply(op, a, 1) for a in (0, 1)) for op in range(16)]


def lut_table(op: int) -> int:
    """The op as a 2-input lookup table in LUT bit order (netlist v2): bit a + 2*b is f(a, b)."""
    return sum(apply(op, a, b) << (a + 2 * b) for a in (0, 1) for b in (0, 1))


def op_of_table(table):
    """The op of a 2-input lookup table (the inverse of lut_table); elementwise for an integer array."""
    return from_function(lambda a, b: (table >> (a + 2 * b)) & 1)


def _form(op: int):
    """How op is written with the fewest operators: ("const", value); ("wire", "a" or "b", inverted); or
    (connective, a inverted, b inverted, output inverted) with connective "&", "|" or "^" (the output
    inverted only for XNOR)."""
    table = [apply(op, a, b) for a in (0, 1) for b in (0, 1)]
    if len(set(table)) == 1:
        return ("const", table[0])
    for name, reads in (("a", DEPENDS_ON_A), ("b", DEPENDS_ON_B)):
        other = DEPENDS_ON_B if name == "a" else DEPENDS_ON_A
        if reads[op] and not other[op]:
            return ("wire", name, apply(op, 0, 0))  # inverted when f(0, 0) = 1
    connectives = {"&": lambda x, y: x & y, "|": lambda x, y: x | y, "^": lambda x, y: x ^ y}
    for inv_out in (0, 1):
        for conn, f in connectives.items():
            for inv_a in (0, 1):
                for inv_b in (0, 1):
                    if all(apply(op, a, b) == f(a ^ inv_a, b ^ inv_b) ^ inv_out for a in (0, 1) for b in (0, 1)):
                        return (conn, inv_a, inv_b, inv_out)
    raise AssertionError(op)


FORMS = [_form(op) for op in range(16)]


def spell(op: int, a: str, b: str, false: str, true: str, invert=lambda x: f"~{x}") -> str:
    """op over the operands a and b in a C-like language (&, |, ^ and the given inversion and constants)."""
    form = FORMS[op]
    if form[0] == "const":
        return true if form[1] else false
    if form[0] == "wire":
        x = a if form[1] == "a" else b
        return invert(x) if form[2] else x
    conn, inv_a, inv_b, inv_out = form
    text = f"{invert(a) if inv_a else a} {conn} {invert(b) if inv_b else b}"
    return invert(f"({text})") if inv_out else text
