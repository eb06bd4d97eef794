"""Functions by name: every gate's cuts of up to 4 leaves, classified by NPN class (the same function up to
a renaming and inversion of its inputs and an inversion of its output), with the classes people know
named (AND/OR trees, parity, majority, multiplexer, thresholds, comparators, adders), and the blocks that
occur many times up to a renaming of their inputs.

Tables are 16-bit ints over 4 variables in LUT bit order (bit sum_j x_j * 2**j is f(x)); a function of
fewer leaves ignores the rest. Works on two-input gates (LUT nodes are decomposed first by the caller).
"""

import functools
import itertools

import numpy as np

from .. import ops
from ..netlist import Netlist
from ..rewrite.cut_rewrite import MAX_CUT_SIZE, enumerate_cuts

K = MAX_CUT_SIZE  # tables here are over 4 variables, the cut engine's
CUTS_PER_NODE = 12  # more than the cut pass keeps: naming looks for functions over every cut
ALL = 0xFFFF
VAR = [sum(1 << a for a in range(16) if (a >> j) & 1) for j in range(K)]  # the table of x_j
TRANSFORMS = [(perm, flips) for perm in itertools.permutations(range(K)) for flips in range(16)]


def _table(f) -> int:
    return sum(int(bool(f(*((a >> j) & 1 for j in range(K))))) << a for a in range(16))


# Named functions, with a representative of each class; the first name of a class wins, so more telling
# names come first (a full adder's carry is MAJ3, which is also the threshold 2-of-3).
NAMED = [
    ("MAJ3", lambda a, b, c, d: a + b + c >= 2),
    ("XOR3", lambda a, b, c, d: a ^ b ^ c),
    ("XOR4", lambda a, b, c, d: a ^ b ^ c ^ d),
    ("MUX", lambda a, b, c, d: b if a else c),
    ("CMP2", lambda a, b, c, d: 2 * a + b > 2 * c + d),      # 2-bit comparator a1a0 > b1b0
    ("EQ2", lambda a, b, c, d: a == c and b == d),          # 2-bit equality
    ("TH2OF4", lambda a, b, c, d: a + b + c + d >= 2),
    ("EXACTLY2OF4", lambda a, b, c, d: a + b + c + d == 2),
    ("MAJ3_AND", lambda a, b, c, d: (a + b + c >= 2) and d),
    ("AND4", lambda a, b, c, d: a and b and c and d),
    ("AND3", lambda a, b, c, d: a and b and c),
    ("AO22", lambda a, b, c, d: (a and b) or (c and d)),
    ("AO21", lambda a, b, c, d: (a and b) or c),
    ("AO211", lambda a, b, c, d: (a and b) or c or d),
    ("AOA", lambda a, b, c, d: ((a and b) or c) and d),
    ("AND_XOR", lambda a, b, c, d: (a and b) ^ c),
    ("XOR_AND", lambda a, b, c, d: (a ^ b) and c),
    ("XOR2", lambda a, b, c, d: a ^ b),
    ("AND2", lambda a, b, c, d: a and b),
    ("BUF", lambda a, b, c, d: a),
    ("CONST", lambda a, b, c, d: 0),
]
DESCRIPTIONS = {
    "MAJ3": "majority of 3 (a full adder's carry)", "XOR3": "parity of 3 (a full adder's sum)",
    "XOR4": "parity of 4", "MUX": "2:1 multiplexer", "CMP2": "2-bit magnitude comparator",
    "EQ2": "2-bit equality", "TH2OF4": "at least 2 of 4", "EXACTLY2OF4": "exactly 2 of 4",
    "MAJ3_AND": "majority of 3, and a fourth", "AND4": "AND/OR of 4", "AND3": "AND/OR of 3",
    "AO22": "AND-OR: ab + cd", "AO21": "AND-OR: ab + c", "AO211": "AND-OR: ab + c + d",
    "AOA": "(ab + c)d", "AND_XOR": "ab xor c", "XOR_AND": "(a xor b)c", "XOR2": "parity of 2",
    "AND2": "AND/OR of 2", "BUF": "a wire or an inverter", "CONST": "a constant",
}


def _sources(perm, flips: int) -> list:
    """For each entry x of a transformed table, the entry y of the original: y_perm[j] = x_j ^ flip_j."""
    return [sum((((a >> j) & 1) ^ ((flips >> j) & 1)) << perm[j] for j in range(K)) for a in range(16)]


def transform(table: int, perm, flips: int, out_flip: int = 0) -> int:
    """f'(x) = f(y) ^ out_flip with y_perm[j] = x_j ^ flip_j: the inputs renamed and inverted."""
    return sum((((table >> y) & 1) ^ out_flip) << a for a, y in enumerate(_sources(perm, flips)))


@functools.lru_cache(maxsize=1)
def _canonical_tables() -> tuple:
    """(NPN, P) canonical table of each of the 65,536 tables: the smallest table of its class (NPN: any
    renaming, input and output inversion; P: renaming only)."""
    tables = np.arange(1 << 16, dtype=np.int64)
    npn = tables.copy()
    p_only = tables.copy()
    for perm, flips in TRANSFORMS:
        image = np.zeros_like(tables)
        for a, y in enumerate(_sources(perm, flips)):
            image |= ((tables >> y) & 1) << a
        npn = np.minimum(npn, np.minimum(image, image ^ ALL))
        if flips == 0:
            p_only = np.minimum(p_only, image)
    return npn, p_only


def npn_class(table: int) -> int:
    return int(_canonical_tables()[0][table])


def p_class(table: int) -> int:
    return int(_canonical_tables()[1][table])


@functools.lru_cache(maxsize=1)
def _names() -> dict:
    names = {}
    for name, f in NAMED:
        names.setdefault(npn_class(_table(f)), name)
    return names


def name_of(table: int) -> str | None:
    return _names().get(npn_class(table))


def support(table: int) -> list:
    """The variables the table depends on."""
    return [j for j in range(K) if ((table >> (1 << j)) ^ table) & _low_half(j)]


def _low_half(j: int) -> int:
    """Entries whose bit j is 0 (so entry a and a + 2**j are compared)."""
    return sum(1 << a for a in range(16) if not (a >> j) & 1)


def _gate_table(op: int, ta: int, tb: int) -> int:
    c0, c1, c2, c3 = (c % 2 for c in ops.multilinear(op))
    return (ALL if c0 else 0) ^ (ta if c1 else 0) ^ (tb if c2 else 0) ^ ((ta & tb) if c3 else 0)


def _expand(table: int, leaves: tuple, into: tuple) -> int:
    """A table over `leaves` (variable j = leaves[j]) as a table over `into` (a superset)."""
    return _moved(table, tuple(into.index(leaf) for leaf in leaves))


@functools.lru_cache(maxsize=1 << 16)
def _moved(table: int, position: tuple) -> int:
    """The table with its variable j moved to variable position[j]."""
    result = 0
    for a in range(16):
        b = sum(((a >> position[j]) & 1) << j for j in range(len(position)))
        result |= ((table >> b) & 1) << a
    return result


def cuts(net: Netlist) -> list:
    """Per node, its cuts as (leaves, table): leaves a sorted tuple of up to K node ids, the table over them.
    Every node has the trivial cut (itself); a gate's cuts merge one cut of each input, smallest first.
    The cut pass's engine (rewrite/cut_kernel.c), keeping more cuts per node than the pass does."""
    net.require_gates("naming functions")
    return enumerate_cuts(net, CUTS_PER_NODE, K)


def _reduced(leaves: tuple, table: int) -> tuple:
    """The cut without the leaves its function ignores."""
    used = support(table)
    if len(used) == len(leaves):
        return leaves, table
    kept = tuple(leaves[j] for j in used)
    # re-index: the table over the kept leaves only
    result = 0
    for a in range(16):
        full = sum(((a >> t) & 1) << j for t, j in enumerate(used))
        result |= ((table >> full) & 1) << a
    return kept, result


def named_cuts(net: Netlist, node_cuts=None) -> dict:
    """gate node -> [(name, leaves, table)]: each of its cuts whose function (over the leaves it depends
    on) is named, most leaves first, then in the order of NAMED."""
    node_cuts = node_cuts if node_cuts is not None else cuts(net)
    order = {name: i for i, (name, _) in enumerate(NAMED)}
    result = {}
    for node in range(net.num_inputs, net.num_nodes):
        found = set()
        for leaves, table in node_cuts[node][1:]:
            leaves, table = _reduced(leaves, table)
            name = name_of(table)
            if name:
                found.add((-len(leaves), order[name], leaves, table, name))
        if found:
            result[node] = [(name, leaves, table) for _, _, leaves, table, name in sorted(found)]
    return result


def best_names(named: dict) -> dict:
    """gate node -> (name, leaves, table): its named function over the most leaves (from named_cuts)."""
    return {node: options[0] for node, options in named.items()}


def adders(named: dict) -> dict:
    """Full adders (a XOR3 and a MAJ3 over the same 3 leaves) and half adders (a XOR2 and an AND2 over the
    same 2 leaves), from named_cuts: the first sum and carry found for each set of leaves."""
    by_leaves = {}
    for node, options in sorted(named.items()):
        for name, leaves, _ in options:
            by_leaves.setdefault(leaves, {}).setdefault(name, node)
    full = [(leaves, found["XOR3"], found["MAJ3"]) for leaves, found in by_leaves.items()
            if len(leaves) == 3 and "XOR3" in found and "MAJ3" in found]
    half = [(leaves, found["XOR2"], found["AND2"]) for leaves, found in by_leaves.items()
            if len(leaves) == 2 and "XOR2" in found and "AND2" in found]
    return {"full_adders": [{"leaves": list(l), "sum": s, "carry": c} for l, s, c in full],
            "half_adders": [{"leaves": list(l), "sum": s, "carry": c} for l, s, c in half]}


def _fanout_free(net: Netlist, root: int, leaves: tuple, fanout: np.ndarray) -> int | None:
    """Gates of the cone from root down to leaves when only the root is read from outside; else None."""
    inside, stack = set(), [root]
    while stack:
        v = stack.pop()
        if v in leaves or v in inside:
            continue
        if v < net.num_inputs:
            return None
        inside.add(v)
        g = v - net.num_inputs
        stack += [int(net.a[g]), int(net.b[g])]
    counts = {}
    for v in inside:
        g = v - net.num_inputs
        for x in {int(net.a[g]), int(net.b[g])}:
            counts[x] = counts.get(x, 0) + 1
    if any(fanout[v] != counts.get(v, 0) for v in inside if v != root):
        return None
    return len(inside)


def blocks(net: Netlist, node_cuts=None, min_instances: int = 2) -> list:
    """Sub-circuits of 3 or 4 leaves that only their root leaves (fanout-free), grouped by function up to a
    renaming of the inputs; those with at least min_instances, most frequent first."""
    node_cuts = node_cuts if node_cuts is not None else cuts(net)
    fanout = net.fanout_counts()
    groups = {}
    for node in range(net.num_inputs, net.num_nodes):
        for leaves, table in sorted(node_cuts[node][1:], key=lambda c: -len(c[0])):
            leaves, table = _reduced(leaves, table)
            if len(leaves) < 3:
                break
            gates = _fanout_free(net, node, leaves, fanout)
            if gates is not None and gates >= 2:
                key = p_class(table)
                groups.setdefault(key, {"gates": gates, "leaves": len(leaves), "at": []})["at"].append(node)
                break
    found = [{"function": f"0x{key:04x}", "name": name_of(key), "leaves": g["leaves"], "gates": g["gates"],
              "instances": len(g["at"]), "at": g["at"][:20]}
             for key, g in groups.items() if len(g["at"]) >= min_instances]
    return sorted(found, key=lambda b: (-b["instances"], -b["gates"], b["function"]))


def match(table: int, name: str):
    """(perm, flips, out_flip) that turn the named representative into `table` (same NPN class), or None."""
    reference = dict(NAMED)[name]
    base = _table(reference)
    for (perm, flips), out_flip in itertools.product(TRANSFORMS, (0, 1)):
        if transform(base, perm, flips, out_flip) == table:
            return perm, flips, out_flip
    return None


def call(name: str, table: int, args: list) -> str:
    """`table` over args written as the named function: e.g. ~MAJ3(a, ~b, c)."""
    found = match(table, name)
    if found is None:
        return None
    perm, flips, out_flip = found
    arity = len(support(_table(dict(NAMED)[name])))
    # representative variable perm[j] reads x_j (inverted where flips says): invert the map
    slots = [None] * K
    for j in range(K):
        slots[perm[j]] = (j, (flips >> j) & 1)
    parts = []
    for v in range(arity):
        j, inverted = slots[v]
        parts.append(negate(args[j]) if inverted else args[j])
    written = f"{name}({', '.join(parts)})"
    return negate(written) if out_flip else written


def negate(text: str) -> str:
    """~text, without a double negation."""
    if text.startswith("~") and operand(text[1:]) == text[1:]:
        return text[1:]
    return "~" + operand(text)


def operand(text: str) -> str:
    """text as an operand: in parentheses unless it is one name, call or parenthesised group."""
    depth = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and ch == " ":
            return f"({text})"
    return text
